"""Alertmanager load on loopback: Jamie's webhook under a steady stream of alerts.

    .venv/bin/python bench/bench_alerts.py              # 1,000 alerts a minute for 5 minutes
    .venv/bin/python bench/bench_alerts.py --minutes 1  # a shorter run

Jamie runs in this process as `jamie serve` would (real app, uvicorn on 127.0.0.1, SQLite
file unless DATABASE_URL says otherwise); a second process plays Alertmanager. Every
second it posts one notification per group that has a new alert, as Alertmanager sends
a group: the new alert, the group's three previous alerts again (repeats), and the alert
before those resolved. Across `--groups` groups, `--rate` new alerts a minute.

Reported: webhook latency as the sender saw it (target p99 < 200 ms); time from posting an
alert to the post in Jamie's incident conversation that names it, the opening post for a
group's first alert, a "firing" post for later ones (target p99 < 2 s); lost alerts (sent,
answered 200, but not on an incident) and duplicate incidents (a group with more than one),
both targets zero. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.alerts.spool import SpoolEntry  # noqa: E402
from bot.alerts.tracker import Outcome  # noqa: E402
from bot.app import Jamie  # noqa: E402
from bot.commands.ports import Answer, AssistantUnavailable  # noqa: E402
from bot.domain.enums import Transport  # noqa: E402
from bot.notify.outbox import OutboundMessage  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.alert_models import AlertNotificationRow, AlertRow  # noqa: E402
from bot.storage.models import IncidentRow  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
REPEATS = 3


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def summary(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 0.5):.0f} ms, p95 {pct(values, 0.95):.0f} ms, "
        f"p99 {pct(values, 0.99):.0f} ms, max {max(values, default=float('nan')):.0f} ms "
        f"(n={len(values)})"
    )


# -- the Alertmanager side (a separate process) ----------------------------------------------


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def alert(group: int, index: int, started: float, status: str = "firing") -> dict[str, Any]:
    labels = {
        "alertname": f"BenchAlert{group:02d}",
        "instance": f"b{group:02d}-{index:05d}",
        "environment": "bench",
        "severity": "warning",
    }
    fingerprint = hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"bench alert {index} of group {group}"},
        "startsAt": stamp(started),
        "endsAt": stamp(time.time()) if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.invalid/graph",
        "fingerprint": fingerprint,
    }


def notification(group: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": "jamie",
        "status": "firing" if firing else "resolved",
        "alerts": alerts,
        "groupLabels": {"alertname": f"BenchAlert{group:02d}"},
        "commonLabels": {"environment": "bench"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="BenchAlert{group:02d}"}}',
        "truncatedAlerts": 0,
    }


async def play_alertmanager(port: int, minutes: float, rate: int, groups: int, out: Path) -> None:
    """Post the load; write one JSON line per request: sent, latency, status, new alerts."""
    per_second = rate / 60
    seconds = int(minutes * 60)
    started_at: dict[int, list[float]] = defaultdict(list)  # group -> startsAt of its alerts
    results: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:  # fmt: skip

        async def send(group: int, body: dict[str, Any], new: str) -> None:
            sent = time.time()
            try:
                response = await client.post("/alerts/alertmanager", json=body)
                status = response.status_code
            except httpx.HTTPError as exc:
                status = f"error {type(exc).__name__}"
            results.append({"sent": sent, "ms": (time.time() - sent) * 1000,
                            "status": status, "new": new, "group": group})  # fmt: skip

        tasks: list[asyncio.Task[None]] = []
        begin = time.monotonic()
        made = 0
        for second in range(seconds):
            await asyncio.sleep(max(0.0, begin + second - time.monotonic()))
            due = int(per_second * (second + 1)) - made
            for _ in range(due):
                group = made % groups
                starts = started_at[group]
                starts.append(time.time())
                index = len(starts) - 1
                alerts = [alert(group, index, starts[index])]
                alerts += [
                    alert(group, i, starts[i]) for i in range(max(0, index - REPEATS), index)
                ]
                gone = index - REPEATS - 1
                if gone >= 0:
                    alerts.append(alert(group, gone, starts[gone], status="resolved"))
                new = alerts[0]["fingerprint"]
                tasks.append(asyncio.create_task(send(group, notification(group, alerts), new)))
                made += 1
        await asyncio.gather(*tasks)
    lines = "\n".join(json.dumps(r) for r in results) + "\n"
    await asyncio.to_thread(out.write_text, lines, encoding="utf-8")


# -- Jamie's side (this process) -------------------------------------------------------------


class NoAssistant:
    async def ask(self, question: str, *, language: str) -> Answer:
        raise AssistantUnavailable("not_ready")


class Stopwatch:
    """The console transport: records when each alert was first named in a post."""

    transport = Transport.CONSOLE

    def __init__(self) -> None:
        self.first_post: dict[str, tuple[float, str]] = {}
        self.processed: dict[str, float] = {}

    def on_processed(self, entry: SpoolEntry, outcome: Outcome) -> None:
        now = time.time()
        for key in outcome.changes.get("new", []):
            self.processed.setdefault(key, now)

    async def send(self, address: str, message: OutboundMessage) -> None:
        now = time.time()
        for key in message.payload.get("alerts", []):
            self.first_post.setdefault(key, (now, message.kind))


def bench_plan(folder: Path) -> Path:
    data = yaml.safe_load((REPO / "deploy" / "plan.yaml").read_text(encoding="utf-8"))
    data["alerts"]["conversations"] = ["console:bench"]
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def serve_and_measure(args: argparse.Namespace, home: Path) -> int:
    env = {
        "JAMIE_HOME": str(home),
        "JAMIE_PLAN": str(bench_plan(home)),
        "JAMIE_HTTP_PORT": "0",
        "JAMIE_ALERTMANAGER_TOKEN": TOKEN,
        "JAMIE_LOG_LEVEL": "WARNING",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    jamie = Jamie(Settings.from_env(env), assistant=NoAssistant())
    stopwatch = Stopwatch()
    jamie.add_sender(stopwatch)
    jamie.alerts.processor.on_processed = stopwatch.on_processed
    results = home / "requests.jsonl"
    async with jamie:
        web = await jamie.start_web()
        print(f"jamie on 127.0.0.1:{web.port} ({jamie.engine.dialect.name}); "
              f"{args.rate} alerts/min, {args.groups} groups, {args.minutes:g} min")  # fmt: skip
        client = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", "--port", str(web.port),
            "--minutes", str(args.minutes), "--rate", str(args.rate),
            "--groups", str(args.groups), "--out", str(results),
        )  # fmt: skip
        if await client.wait() != 0:
            print("the Alertmanager process failed")
            return 1
        drained = await drain(jamie, stopwatch)
        return await report(jamie, stopwatch, results, drained)


async def drain(jamie: Jamie, stopwatch: Stopwatch) -> float:
    """Wait (two minutes at most) for the spool to empty and the posts to go out; returns
    the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < 120:
        if not await asyncio.to_thread(jamie.alerts.spool.pending):
            await jamie.dispatcher.deliver_pending()
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def report(jamie: Jamie, stopwatch: Stopwatch, results: Path, drained: float) -> int:
    text = await asyncio.to_thread(results.read_text, encoding="utf-8")
    requests = [json.loads(line) for line in text.splitlines() if line]
    ok = [r for r in requests if r["status"] == 200]
    latency = [r["ms"] for r in requests]
    sent_at = {r["new"]: r["sent"] for r in ok}
    async with jamie.sessions() as session:
        on_incidents = set((await session.scalars(select(AlertRow.fingerprint))).all())
        per_group = (
            await session.execute(
                select(
                    AlertRow.group_id, func.count(func.distinct(AlertRow.incident_id))
                ).group_by(AlertRow.group_id)
            )
        ).all()
        incidents = await session.scalar(select(func.count()).select_from(IncidentRow))
        logged = await session.scalar(select(func.count()).select_from(AlertNotificationRow))
    lost = sorted(set(sent_at) - on_incidents)
    duplicates = sum(count - 1 for _, count in per_group if count > 1)
    opened, joined = [], []
    for key, sent in sent_at.items():
        if key in stopwatch.first_post:
            at, kind = stopwatch.first_post[key]
            (opened if kind == "alerts.opened" else joined).append((at - sent) * 1000)
    unposted = len(sent_at) - len(opened) - len(joined)
    processing = [(stopwatch.processed[k] - sent) * 1000 for k, sent in sent_at.items()
                  if k in stopwatch.processed]  # fmt: skip
    failed = len(requests) - len(ok)
    print(f"webhook latency: {summary(latency)}; non-200: {failed}")
    print(f"alert -> processed (on its incident): {summary(processing)}")
    print(f"alert -> incident opened, posted: {summary(opened)}")
    print(f"alert -> joined its incident, posted: {summary(joined)}")
    print(f"alerts sent {len(sent_at)}, on an incident {len(on_incidents & set(sent_at))}, "
          f"lost {len(lost)}, never posted {unposted}; notifications logged {logged} "
          f"of {len(ok)}; incidents {incidents}, duplicates {duplicates}; "
          f"drained {drained:.1f}s after the last post")  # fmt: skip
    by_minute(requests, stopwatch, sent_at)
    posted = opened + joined
    missed = [
        name
        for name, bad in (
            ("webhook p99 < 200 ms", pct(latency, 0.99) >= 200),
            ("alert-to-post p99 < 2 s", pct(posted, 0.99) >= 2000),
            ("zero lost", bool(lost) or failed > 0 or unposted > 0),
            ("zero duplicate incidents", duplicates > 0),
        )
        if bad
    ]
    print("targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)))
    return 1 if missed else 0


def by_minute(
    requests: list[dict[str, Any]], stopwatch: Stopwatch, sent_at: dict[str, float]
) -> None:
    """p99s minute by minute, to tell a steady state from a slow drift."""
    if not requests:
        return
    first = min(r["sent"] for r in requests)
    webhook: dict[int, list[float]] = defaultdict(list)
    posts: dict[int, list[float]] = defaultdict(list)
    for r in requests:
        webhook[int((r["sent"] - first) // 60)].append(r["ms"])
    for key, sent in sent_at.items():
        if key in stopwatch.first_post:
            posts[int((sent - first) // 60)].append((stopwatch.first_post[key][0] - sent) * 1000)
    for minute in sorted(webhook):
        print(f"  minute {minute + 1}: webhook p99 {pct(webhook[minute], 0.99):.0f} ms, "
              f"alert-to-post p99 {pct(posts[minute], 0.99):.0f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=1000, help="new alerts a minute")
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(play_alertmanager(args.port, args.minutes, args.rate, args.groups, args.out))
        return 0
    logging.basicConfig(
        level=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        filename=os.environ.get("BENCH_LOG_FILE"),
    )
    with tempfile.TemporaryDirectory(prefix="jamie-bench-alerts-") as folder:
        return asyncio.run(serve_and_measure(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
