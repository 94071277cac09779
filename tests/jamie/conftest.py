"""Fixtures for Jamie's library tests: no network, and runbook files written on the spot."""

import ipaddress
import socket
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteRunbook = Callable[..., Path]


@pytest.fixture(autouse=True)
def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside loopback (or a Unix socket) fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: object) -> None:
        if isinstance(address, tuple):
            host = str(address[0])
            if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
                raise AssertionError(f"test tried to reach {host}: only loopback is allowed")

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


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
