"""Fixtures for end-to-end tests: a real runbook index and the real `jamie` CLI."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JAMIE = [sys.executable, "-m", "bot.cli"]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real knowledge/ folder indexed once per session with `jamie index`."""
    target = tmp_path_factory.mktemp("chroma")
    env = {**os.environ, "JAMIE_HOME": str(target.parent), "JAMIE_INDEX_DIR": str(target)}
    done = subprocess.run(
        [*JAMIE, "index"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "indexed" in done.stdout
    return target


class JamieProcess:
    """`jamie chat` as a subprocess: write lines, wait for text to appear on stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*JAMIE, "chat"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.output = ""
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Wait until `text` appears after what earlier expects consumed; return the new part."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} did not appear; output so far:\n{self.output}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"jamie exited before {text!r}:\n{self.output}")
            self.output += line
        head, _, tail = self.output.partition(text)
        self.output = tail
        return head + text

    def close(self, timeout: float = 30.0) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        while (line := self._lines.get(timeout=5)) is not None:
            self.output += line
        return code


@pytest.fixture
def jamie_env(tmp_path: Path, index_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JAMIE_HOME": str(tmp_path / "home"),
        "JAMIE_INDEX_DIR": str(index_dir),
        "JAMIE_STATUS_INTERVAL": "3s",
        "JAMIE_SWEEP_SECONDS": "0.5",
        "JAMIE_CONSOLE_USER": "ana.sre",
        "JAMIE_TIMEZONE": "America/Sao_Paulo",
    }


@pytest.fixture
def start_jamie(jamie_env: dict[str, str]) -> Iterator[type[JamieProcess]]:
    started: list[JamieProcess] = []

    class Tracked(JamieProcess):
        def __init__(self, env: dict[str, str] | None = None) -> None:
            super().__init__(env or jamie_env)
            started.append(self)

    yield Tracked
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(timeout=10)
