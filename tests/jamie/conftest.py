"""Fixtures for Jamie's library tests: runbook files written on the spot (the network ban
is the suite-wide `forbid_network` in tests/conftest.py)."""

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteRunbook = Callable[..., Path]


@pytest.fixture
def write_runbook(tmp_path: Path) -> WriteRunbook:
    """Write ``<tmp>/knowledge/<name>`` with YAML front matter and return its path."""
    folder = tmp_path / "knowledge"
    folder.mkdir(exist_ok=True)

    def write(name: str, title: str, body: str, *, language: str = "en") -> Path:
        front = f"---\ntitle: {title}\ntags: [test]\nlanguage: {language}\n---\n"
        path = folder / name
        path.write_text(front + textwrap.dedent(body).lstrip(), encoding="utf-8")
        return path

    return write
