"""Real speech for tests and the benchmark: espeak-ng voices encoded to OGG/Opus by ffmpeg
the way a phone's messenger records a voice note (48 kHz mono Opus, ~24 kbit/s, VoIP).

Portuguese uses espeak-ng's slow rate (`-s 120`): its robotic Portuguese transcribes
poorly at normal speed with Whisper base (shared/MODELS.md), so tests check key words.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    language: str  # pt or en
    text: str
    key_words: tuple[str, ...]
    voice: str
    speed: int


CLIPS = (
    Clip("en", "en", "The database server is down. Failover to the cloud is active. "
         "Next update in five minutes.", ("database", "server", "down", "cloud"), "en-us", 150),
    Clip("pt", "pt", "O banco de dados caiu. O plano de contingência na nuvem está ativo.",
         ("banco", "dados", "nuvem", "ativo"), "pt-br", 120),
    Clip("en10", "en", "The primary database is down since ten past nine. Radiology now "
         "uses the backup server in the cloud. The next update is in five minutes.",
         ("database", "radiology", "backup", "cloud", "update"), "en-us", 150),
    Clip("pt10", "pt", "O banco de dados principal caiu às nove horas. A radiologia usa "
         "o servidor reserva na nuvem.",
         ("banco", "dados", "radiologia", "nuvem"), "pt-br", 120),
)  # fmt: skip
BY_NAME = {clip.name: clip for clip in CLIPS}


def to_opus(source: Path, target: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-ac", "1",
         "-ar", "48000", "-c:a", "libopus", "-b:a", "24k", "-application", "voip", str(target)],
        check=True,
    )  # fmt: skip
    return target


def speak(clip: Clip, folder: Path) -> Path:
    """The clip as an OGG/Opus voice note (made once per folder)."""
    target = folder / f"{clip.name}.ogg"
    if not target.exists():
        wav = folder / f"{clip.name}.wav"
        subprocess.run(
            ["espeak-ng", "-v", clip.voice, "-s", str(clip.speed), "-w", str(wav), clip.text],
            check=True,
        )
        to_opus(wav, target)
    return target


def noise(folder: Path, seconds: int = 4) -> Path:
    """Pink noise, no speech: what a note recorded in a pocket sounds like."""
    target = folder / "noise.ogg"
    if not target.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"anoisesrc=d={seconds}:c=pink:a=0.3", "-ac", "1", "-ar", "48000", "-c:a",
             "libopus", "-b:a", "24k", str(target)],
            check=True,
        )  # fmt: skip
    return target


def corrupt(folder: Path) -> Path:
    """An OGG header followed by garbage: what a truncated upload looks like."""
    target = folder / "corrupt.ogg"
    target.write_bytes(b"OggS\x00\x02" + bytes(range(256)) * 8)
    return target
