"""Time the runbook index: build, re-index, and warm hybrid searches.

    .venv/bin/python bench/bench_ask.py [KNOWLEDGE_DIR]

Builds into a temporary folder (the real index is left alone), then runs 50 searches, English
and Portuguese, after one warm-up. Prints numbers only; it asserts nothing about speed.
"""

import argparse
import logging
import resource
import statistics
import tempfile
import time
from pathlib import Path

from jamie.knowledge import KnowledgeIndex

QUESTIONS = (
    "What do we do in the first 2 minutes of a P0?",
    "O que fazer nos primeiros dois minutos de um P0?",
    "Who must be notified when patient data leaks?",
    "Qual o prazo para notificar a ANPD sobre vazamento de dados?",
    "Both production Mac Studios are down, what now?",
    "O Mac Studio de produção caiu, como fazer o failover?",
    "What are the RTO and RPO for disaster recovery?",
    "Como classificar a severidade de um incidente?",
    "How often do we send status updates during a P1?",
    "ANVISA",
)
SEARCHES = 50


def main() -> None:
    default = Path(__file__).resolve().parents[1] / "knowledge"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("knowledge_dir", nargs="?", type=Path, default=default)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="jamie-bench-") as persist_dir:
        index = KnowledgeIndex(Path(persist_dir))
        stats = index.build(args.knowledge_dir)
        print(
            f"build: {stats.files} files, {stats.chunks} chunks, {stats.suspicious} suspicious "
            f"in {stats.seconds:.2f} s ({stats.seconds / max(stats.chunks, 1) * 1000:.0f} ms "
            "per chunk)"
        )
        again = index.build(args.knowledge_dir)
        print(f"re-index, nothing changed: {again.seconds * 1000:.0f} ms")

        started = time.perf_counter()
        index.search(QUESTIONS[0])
        first_ms = (time.perf_counter() - started) * 1000
        print(f"first search (loads the chunks for BM25): {first_ms:.0f} ms")

        timings = []
        for n in range(SEARCHES):
            question = QUESTIONS[n % len(QUESTIONS)]
            started = time.perf_counter()
            passages = index.search(question)
            timings.append((time.perf_counter() - started) * 1000)
            if n < len(QUESTIONS):
                print(f"  {question[:58]:<58} -> {passages[0].citation}")

    percentiles = statistics.quantiles(timings, n=100)
    print(f"search x{SEARCHES}: p50 {percentiles[49]:.1f} ms, p95 {percentiles[94]:.1f} ms")
    print(f"resident memory: {_rss_mib():.0f} MiB now, {_peak_rss_mib():.0f} MiB peak")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
