"""Time the incident core on this machine: command handling, cold start, resident memory.

    .venv/bin/python bench/bench_core.py

1. Command handling: 600 commands (open, ack, update, status, escalate, resolve, list)
   through the real CommandHandler on a SQLite file, in process; p50/p95/max in ms.
2. Cold start to ready: `jamie chat` as a subprocess, from spawn to the welcome line
   (database migrated, plan validated, scheduler running), five runs; no model loaded.
3. Resident memory of that process when ready, and after its first `ask` (embedding
   model and Chroma index loaded; needs `jamie index` to have run into JAMIE_INDEX_DIR).
Prints numbers only; it asserts nothing about speed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.app import Jamie
from bot.commands.handler import Context
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def command_latency(home: Path) -> None:
    settings = Settings.from_env({"JAMIE_HOME": str(home), "JAMIE_SWEEP_SECONDS": "3600"})
    app = Jamie(settings, assistant=None)
    ctx = Context(Transport.CONSOLE, "bench", "bench", ConversationRef(Transport.CONSOLE, "b"))
    timings: list[float] = []
    async with app:
        for n in range(1, 101):
            ref = f"INC-{n:04d}"
            script = [
                f"open P1 Bench incident {n} dept=icu impact=no",
                f"ack {ref}",
                f"update {ref} still investigating the model server",
                f"status {ref}",
                f"escalate {ref} P0 wider impact",
                f"resolve {ref} bench root cause",
            ]
            for line in script:
                started = time.perf_counter()
                reply = await app.commands.handle_text(line, ctx)
                timings.append((time.perf_counter() - started) * 1000)
                assert reply.ok, reply.text
        for _ in range(20):
            started = time.perf_counter()
            await app.commands.handle_text("list all", ctx)
            timings.append((time.perf_counter() - started) * 1000)
    print(
        f"command handling ({len(timings)} commands, SQLite): p50 {pct(timings, 0.5):.1f} ms, "
        f"p95 {pct(timings, 0.95):.1f} ms, max {max(timings):.1f} ms (target p95 < 50 ms)"
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read_until(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            return
    raise RuntimeError(f"jamie exited before {marker!r}")


def cold_start(home: Path) -> None:
    env = {**os.environ, "JAMIE_HOME": str(home)}
    env.setdefault("JAMIE_INDEX_DIR", str(REPO / "var" / "chroma"))
    times: list[float] = []
    ready_rss = asked_rss = float("nan")
    for run in range(5):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat"], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        read_until(proc, "Jamie")
        times.append(time.perf_counter() - started)
        if run == 0:
            ready_rss = rss_mb(proc.pid)
            assert proc.stdin is not None
            proc.stdin.write("ask what happens in the first 2 minutes of a P0?\n")
            proc.stdin.flush()
            read_until(proc, "1. [")
            asked_rss = rss_mb(proc.pid)
        proc.communicate("", timeout=30)
    print(
        f"cold start to ready (no model): median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s (target < 5 s)"
    )
    print(
        f"resident memory: {ready_rss:.0f} MB ready, {asked_rss:.0f} MB after the first ask "
        "(embeddings + index loaded; target < 400 MB without an LLM)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(command_latency(Path(tmp) / "latency"))
        cold_start(Path(tmp) / "cold")


if __name__ == "__main__":
    main()
