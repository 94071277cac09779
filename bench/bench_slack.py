"""Load Jamie's Slack endpoint on loopback: 200 simulated people for 60 seconds.

    .venv/bin/python bench/bench_slack.py [--seconds 60] [--users 200]

Three processes on 127.0.0.1: the local Slack double (tests/slack/double.py), the real
`jamie serve --no-console` on SQLite with Slack on (HTTP mode, Slack's real pacing), and
this load generator. Fifteen incidents are opened first; then each simulated person, with
a think time of 1-2 s, sends signed requests: `/incident update INC-n <token>` (a fifth of
them delivered twice, the second as Slack's retry with X-Slack-Retry-Num), the Update
modal submitted twice (a double submit), Acknowledge and Escalate clicks sent twice (a
double click), `/incident status`, `/incident list` and `/incident help`.

Prints the acknowledgement latency (request sent -> HTTP 200) p50/p95/p99, sustained
requests per second, and checks, from the database once the work has drained, that every
update token is on its incident's timeline exactly once (no duplicates, none lost) and that
exactly fifteen incidents and fifteen channels exist. Targets: p99 < 300 ms, > 100 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bot.cli  # noqa: E402, F401  (imports bot.plan before bot.app, as the CLI does)
from tests.slack.double import TEAM, TOKEN, SlackDouble  # noqa: E402
from tests.slack.harness import SECRET, sign, write_plan  # noqa: E402

INCIDENTS = 15
DIGEST, GENERAL = "C0DIGEST", "C0GENERAL"
RESPONDERS = [f"UR{n:04d}" for n in range(20)]
_IDS = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- the double, in its own process ---------------------------------------------------------


async def serve_double() -> None:
    """The double's process: prints its URL, serves until its standard input closes."""
    double = SlackDouble()
    print(await double.start(), flush=True)
    double.add_channel(DIGEST, "incidentes")
    double.add_channel(GENERAL, "geral")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await double.stop()


# -- the load generator ---------------------------------------------------------------------


class Load:
    def __init__(self, http: aiohttp.ClientSession, double_url: str, deadline: float) -> None:
        self.http = http
        self.double_url = double_url
        self.deadline = deadline
        self.latencies: list[float] = []
        self.server_latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.tokens: dict[str, int] = {}  # update text -> incident number

    def next_id(self) -> int:
        return next(_IDS)  # shared by every Load: Slack's trigger ids never repeat

    async def post(
        self, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> int:
        headers = {"Content-Type": content_type, **sign(body), **(extra or {})}
        started = time.perf_counter()
        async with self.http.post("/slack/events", data=body, headers=headers) as response:
            await response.read()
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.statuses[response.status] += 1
        timing = response.headers.get("server-timing", "")
        if timing.startswith("ack;dur="):
            self.server_latencies.append(float(timing.removeprefix("ack;dur=")))
        return response.status

    def slash(self, user: str, text: str) -> dict[str, str]:
        n = self.next_id()
        return {
            "team_id": TEAM, "channel_id": GENERAL, "user_id": user, "user_name": user.lower(),
            "command": "/incident", "text": text, "trigger_id": f"{n}.bench",
            "response_url": f"{self.double_url}/respond/b{n}",
        }  # fmt: skip

    async def send_slash(self, form: dict[str, str], retry: bool = False) -> None:
        body = urlencode(form).encode()
        await self.post(body, "application/x-www-form-urlencoded")
        if retry:
            retry_headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            await self.post(body, "application/x-www-form-urlencoded", retry_headers)

    async def send_twice(self, payload: dict[str, Any]) -> None:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        await asyncio.gather(*(self.post(body, "application/x-www-form-urlencoded")
                               for _ in range(2)))  # fmt: skip

    def interaction(self, user: str, kind: str, **fields: Any) -> dict[str, Any]:
        n = self.next_id()
        return {
            "type": kind, "team": {"id": TEAM}, "api_app_id": "A0JAMIE",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "trigger_id": f"{n}.bench", "response_url": f"{self.double_url}/respond/c{n}",
            **fields,
        }  # fmt: skip

    async def person(self, user: str, rng: random.Random) -> None:
        while time.monotonic() < self.deadline:
            await asyncio.sleep(rng.uniform(1.0, 2.0))
            incident = rng.randint(1, INCIDENTS)
            roll = rng.random()
            if roll < 0.35:
                token = f"tok-{user}-{self.next_id()}"
                self.tokens[token] = incident
                form = self.slash(user, f"update INC-{incident:04d} {token}")
                await self.send_slash(form, retry=rng.random() < 0.2)
            elif roll < 0.55:
                token = f"tok-{user}-{self.next_id()}"
                self.tokens[token] = incident
                typed = {"text": {"value": {"type": "plain_text_input", "value": token}}}
                view = {"id": f"V{self.next_id()}", "type": "modal",
                        "callback_id": "jamie_update", "private_metadata": f"{incident}:",
                        "state": {"values": typed}}  # fmt: skip
                await self.send_twice(self.interaction(user, "view_submission", view=view))
            elif roll < 0.65:
                action = rng.choice(["jamie_ack", "jamie_escalate"])
                value = f"{incident}:{rng.getrandbits(40):010x}"
                click = {"action_id": action, "value": value, "type": "button"}
                fields = {"channel": {"id": GENERAL}, "container": {"type": "message"},
                          "actions": [click]}  # fmt: skip
                await self.send_twice(self.interaction(user, "block_actions", **fields))
            elif roll < 0.85:
                await self.send_slash(self.slash(user, f"status INC-{incident:04d}"))
            elif roll < 0.93:
                await self.send_slash(self.slash(user, "list"))
            else:
                await self.send_slash(self.slash(user, "help"))


def timeline_tokens(database: Path) -> Counter[tuple[int, str]]:
    with sqlite3.connect(database, timeout=30) as db:
        rows = db.execute(
            "select incident_id, text from timeline_entries "
            "where kind = 'update' and text like 'tok-%'"
        ).fetchall()
    return Counter((int(incident), str(text)) for incident, text in rows)


async def wait_for_health(http: aiohttp.ClientSession) -> None:
    for _ in range(300):
        try:
            async with http.get("/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("jamie did not become healthy")


class Servers:
    """The double and `jamie serve` as child processes, started and stopped in order."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.double = subprocess.Popen(
            [sys.executable, __file__, "--double"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.double.stdout is not None
        self.double_url = self.double.stdout.readline().strip()
        self.port = free_port()
        plan = write_plan(home / "plan.yaml", tuple(RESPONDERS))
        env = {
            **os.environ, "JAMIE_HOME": str(home), "JAMIE_PLAN": str(plan),
            "JAMIE_HTTP_PORT": str(self.port), "JAMIE_LOG_LEVEL": "WARNING",
            "JAMIE_STATUS_INTERVAL": "20s", "JAMIE_SWEEP_SECONDS": "1",
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_DIGEST_CHANNEL": DIGEST, "SLACK_API_URL": f"{self.double_url}/api/",
            "SLACK_RESPONSE_URL_PREFIX": f"{self.double_url}/respond/",
        }  # fmt: skip
        self._log = (home / "jamie.stderr").open("w")
        # BENCH_PROFILE=<file>: run Jamie under cProfile, written to <file> when it stops.
        out = os.environ.get("BENCH_PROFILE")
        profile = ["-m", "cProfile", "-o", out] if out else []
        self.jamie = subprocess.Popen(
            [sys.executable, *profile, "-m", "bot.cli", "serve", "--no-console"], cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL, stderr=self._log,
        )  # fmt: skip

    def stop(self) -> None:
        self.jamie.terminate()
        self.jamie.wait(timeout=60)
        self._log.close()
        if self.double.stdin is not None:
            self.double.stdin.close()
        self.double.wait(timeout=30)


async def run(servers: Servers, seconds: float, users: int) -> int:
    database = servers.home / "jamie.db"
    # aiohttp, not httpx: httpx's pool costs the generator more CPU than Jamie's acks take.
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{servers.port}",
        connector=aiohttp.TCPConnector(limit=users + 50),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as http:
        await wait_for_health(http)
        setup = Load(http, servers.double_url, 0)
        for n in range(INCIDENTS):
            await setup.send_slash(setup.slash(RESPONDERS[0], f"open P2 Bench incident {n}"))
        await _until(lambda: _count(database, "incidents") >= INCIDENTS)
        # Slack lets Jamie create about 20 channels a minute: the crowd comes after them.
        await _until_channels(http, servers.double_url)
        started = time.monotonic()
        load = Load(http, servers.double_url, started + seconds)
        people = [f"UB{n:04d}" for n in range(users - len(RESPONDERS))] + RESPONDERS
        await asyncio.gather(*(load.person(u, random.Random(u)) for u in people))
        elapsed = time.monotonic() - started
        drained = await _drain(database, load.tokens)
        stats = await _stats(http, servers.double_url)
    return report(load, elapsed, drained, stats, database)


async def _until(check: Callable[[], bool], within: float = 60) -> None:
    """Poll `check` (it reads another process's database: there is nothing to await)."""
    deadline = time.monotonic() + within
    done = check()
    while not done and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        done = check()


async def _stats(http: aiohttp.ClientSession, double_url: str) -> dict[str, Any]:
    async with http.get(f"{double_url}/_stats") as response:
        stats: dict[str, Any] = await response.json()
        return stats


async def _until_channels(http: aiohttp.ClientSession, double_url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = await _stats(http, double_url)
        if stats["pins"] >= INCIDENTS:
            return
        await asyncio.sleep(0.5)


def _count(database: Path, table: str) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database, timeout=30) as db:
            return int(db.execute(f"select count(*) from {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


async def _drain(database: Path, tokens: dict[str, int]) -> float:
    """Seconds until every acknowledged request finished its work (at most 60 s)."""
    started = time.monotonic()
    await _until(lambda: sum(timeline_tokens(database).values()) >= len(tokens))
    await asyncio.sleep(1)  # a duplicate, if any, would land just after
    return time.monotonic() - started


def report(load: Load, elapsed: float, drained: float, stats: dict[str, Any], db: Path) -> int:
    seen = timeline_tokens(db)
    by_token = Counter(text for (_, text) in seen.elements())
    lost = [t for t in load.tokens if by_token[t] == 0]
    duplicated = [t for t in load.tokens if by_token[t] > 1]
    misplaced = [t for t, n in load.tokens.items() if by_token[t] and seen[(n, t)] != 1]
    requests = sum(load.statuses.values())
    print(f"requests: {requests} in {elapsed:.1f}s = {requests / elapsed:.1f} req/s "
          f"(statuses {dict(load.statuses)})")  # fmt: skip
    print(f"ack latency ms: p50 {statistics.median(load.latencies):.1f}  "
          f"p95 {pct(load.latencies, 0.95):.1f}  p99 {pct(load.latencies, 0.99):.1f}  "
          f"max {max(load.latencies):.1f}")  # fmt: skip
    inside = load.server_latencies
    print(f"  of which inside Jamie (Server-Timing): p50 {statistics.median(inside):.1f}  "
          f"p95 {pct(inside, 0.95):.1f}  p99 {pct(inside, 0.99):.1f}")  # fmt: skip
    print(f"updates sent: {len(load.tokens)}; lost {len(lost)}, "
          f"duplicated {len(duplicated)}, misplaced {len(misplaced)}; "
          f"work drained {drained:.1f}s after the load stopped")  # fmt: skip
    print(f"incidents {_count(db, 'incidents')}, incident channels "
          f"{stats['incident_channels']}, pinned cards {stats['pins']}")  # fmt: skip
    print(f"Slack calls: {stats['methods']}")
    if lost or duplicated:
        print(f"  e.g. lost {lost[:3]}, duplicated {duplicated[:3]}")
    ok = not lost and not duplicated and not misplaced and _count(db, "incidents") == INCIDENTS
    ok = ok and stats["incident_channels"] == INCIDENTS and not stats["unexpected"]
    print("exactly once: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--double", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.double:
        asyncio.run(serve_double())
        return 0
    servers = Servers(Path(tempfile.mkdtemp(prefix="jamie-bench-slack-")))
    try:
        return asyncio.run(run(servers, args.seconds, args.users))
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
