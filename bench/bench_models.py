"""Evaluate Jamie's mind: root-cause suggestions over the plan's incident scenarios, speed per
model backend, and translation samples.

    .venv/bin/python bench/bench_models.py [--quick] [--no-server]

Builds the runbook index into a temporary folder, then for each backend, the no-model path,
the embedded llama.cpp model in-process and the same model behind `llama_cpp.server` on a
loopback port (the OpenAI-compatible path that mlx_lm.server takes on the Mac Studio):

- playbook accuracy: the share of scenarios whose suggestion cites the right plan playbook
  (or, for scenarios that match none, cites none);
- time to the first token and to the full answer of a runbook synthesis (streamed);
- time of a whole root-cause suggestion (retrieval, matching, model ranking).

It prints numbers and samples; it asserts nothing. The load average is printed too: on a
shared 2-core machine it moves every timing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.commands.ports import IncidentBrief, PlaybookRef
from bot.plan import load_plan
from jamie.assistant import RunbookAssistant
from jamie.knowledge import KnowledgeIndex
from jamie.models import ChainPolicy, Message, ModelChain
from jamie.models.base import Backend
from jamie.models.llamacpp import LlamaCppBackend, packaged_model_path
from jamie.models.openai_compat import OpenAICompatibleBackend
from jamie.prompting import clip, fit
from jamie.translate import mask

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Scenario:
    title: str
    expected: str | None  # the plan playbook that should be cited; None: no playbook fits
    severity: str = "P1"
    labels: tuple[tuple[str, str], ...] = ()


# From the plan: the six playbook triggers, the severity scenarios they cover, Portuguese
# phrasings as clinicians and the SRE team write them, alert-only openings and two
# incidents no playbook covers.
SCENARIOS = (
    Scenario("MVP Mac Studio health check fails", "mac_studio_failure_mvp", "P0"),
    Scenario("Mac Studio M3 Ultra complete failure (MVP)", "mac_studio_failure_mvp", "P0"),
    Scenario("Health check do Mac Studio falhou no MVP", "mac_studio_failure_mvp", "P0"),
    Scenario("Single Mac Studio failure in production before failover completes",
             "mac_studio_failure_production"),
    Scenario("Production Mac Studio down; load balancer still routing to it",
             "mac_studio_failure_production"),
    Scenario("AI response time above 5 s", "ai_model_degradation", "P2"),
    Scenario("AI accuracy dropped below 90% on radiology triage", "ai_model_degradation", "P2"),
    Scenario("Respostas da IA acima de 5 segundos", "ai_model_degradation", "P2"),
    Scenario("Database connection pool exhausted", "database_connection_issues"),
    Scenario("App cannot get new database connections, pool at maximum",
             "database_connection_issues"),
    Scenario("Pool de conexões do banco esgotado", "database_connection_issues"),
    Scenario("Latency above 100 ms", "network_latency_spike", "P2"),
    Scenario("Network latency hurting clinicians on the ICU WiFi", "network_latency_spike", "P2"),
    Scenario("Latência de rede acima de 100 ms no pronto-socorro", "network_latency_spike", "P2"),
    Scenario("Unusual access pattern detected", "security_anomaly"),
    Scenario("Padrão de acesso incomum nas contas dos médicos", "security_anomaly"),
    Scenario("Alerts firing", "database_connection_issues",
             labels=(("alertname", "PostgresPoolExhausted"),
                     ("jamie_playbook", "database_connection_issues"))),
    Scenario("Alerts firing", "mac_studio_failure_mvp", "P0",
             labels=(("alertname", "MacStudioHealthCheckFailed"), ("environment", "mvp"))),
    Scenario("Cosmetic glitch in the mobile app's dark mode", None, "P3"),
    Scenario("Training slides for new residents have a typo", None, "P3"),
)  # fmt: skip

TRANSLATIONS = (
    ("O INC-0003 continua P0: o fallback no GCP está ativo e a UTI voltou a usar o assistente.",
     "en"),
    ("Latência acima de 100 ms no pronto-socorro desde 14:32; estamos verificando o WiFi.", "en"),
    ("Database pool expanded; INC-0007 stays P1 until query times are back under 2 s.", "pt-BR"),
)  # fmt: skip


def brief(number: int, scenario: Scenario, playbooks: Sequence[PlaybookRef]) -> IncidentBrief:
    labels = dict(scenario.labels)
    named = tuple(
        p.key for p in playbooks if labels.get("jamie_playbook") == p.key
    )  # as bot/playbooks/checklists.triggered does for the label
    return IncidentBrief(
        ref=f"INC-{number:04d}",
        title=scenario.title,
        severity=scenario.severity,
        status="declared",
        timeline=(f"14:0{number % 10} declared: {scenario.title}",),
        alert_labels=(labels,) if labels else (),
        playbooks=named,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(gguf: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
         "smollm2", "--host", "127.0.0.1", "--port", str(port), "--chat_format", "chatml",
         "--n_ctx", "2048", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("llama_cpp.server did not start within 60 s")


async def raw_translation(chain: ModelChain, text: str, target: str) -> str:
    """What the model wrote before Jamie's checks, to show why a translation was refused."""
    names = {"pt-BR": "Brazilian Portuguese", "en": "English"}
    source = names["en" if target == "pt-BR" else "pt-BR"]
    values = {"text": mask(text).text, "source_name": source, "target_name": names[target]}

    def prompt(backend: Backend) -> list[Message]:
        return fit("translate", values, backend, max_tokens=96)

    return (await chain.complete(prompt, max_tokens=96)).text.strip()[:240]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def synthesis_timing(
    assistant: RunbookAssistant, chain: ModelChain, question: str
) -> tuple[float, float]:
    """First token and full answer of a streamed runbook synthesis."""
    found = await asyncio.to_thread(assistant._passages, question, 3)
    values = {
        "history": [],
        "passages": [{"citation": p.citation, "text": clip(p.text)} for p in found],
        "question": question,
        "language_name": "English",
    }

    def prompt(backend: Backend) -> list[Message]:
        return fit("ask", values, backend, max_tokens=96)

    started = time.perf_counter()
    stream = await chain.stream(prompt, max_tokens=96)
    first = time.perf_counter() - started
    async for _ in stream:
        pass
    return first, time.perf_counter() - started


async def run_backend(
    name: str, assistant: RunbookAssistant, playbooks: Sequence[PlaybookRef], quick: bool
) -> dict[str, object]:
    scenarios = SCENARIOS[::3] if quick else SCENARIOS
    right = 0
    rca_seconds: list[float] = []
    firsts: list[float] = []
    totals: list[float] = []
    misses: list[str] = []
    for number, scenario in enumerate(scenarios, start=1):
        started = time.perf_counter()
        suggestion = await assistant.suggest(brief(number, scenario, playbooks), language="en")
        rca_seconds.append(time.perf_counter() - started)
        cited = suggestion.playbook.key if suggestion.playbook else None
        if cited == scenario.expected:
            right += 1
        else:
            misses.append(f"{scenario.title!r}: cited {cited}, expected {scenario.expected}")
        if assistant.chain is not None and assistant.chain.backends:
            first, total = await synthesis_timing(
                assistant, assistant.chain, f"What should we check first: {scenario.title}?"
            )
            firsts.append(first)
            totals.append(total)
    return {
        "backend": name,
        "scenarios": len(scenarios),
        "right": right,
        "misses": misses,
        "rca_median": statistics.median(rca_seconds),
        "rca_p90": pct(rca_seconds, 0.9),
        "first_median": statistics.median(firsts) if firsts else None,
        "first_p90": pct(firsts, 0.9) if firsts else None,
        "total_median": statistics.median(totals) if totals else None,
        "total_p90": pct(totals, 0.9) if totals else None,
    }


def show(result: dict[str, object]) -> None:
    def ms(value: object) -> str:
        return f"{float(value):6.2f}s" if isinstance(value, float) else "     - "

    share = int(str(result["right"])) / int(str(result["scenarios"]))
    print(
        f"{result['backend']:<24} playbook {result['right']}/{result['scenarios']} "
        f"({share:.0%})  first token p50 {ms(result['first_median'])} "
        f"p90 {ms(result['first_p90'])}  full answer p50 {ms(result['total_median'])} "
        f"p90 {ms(result['total_p90'])}  whole rca p50 {ms(result['rca_median'])} "
        f"p90 {ms(result['rca_p90'])}"
    )
    for miss in result["misses"]:  # type: ignore[attr-defined]
        print(f"    miss: {miss}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every third scenario only")
    parser.add_argument("--no-server", action="store_true", help="skip llama_cpp.server")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    plan = load_plan(REPO / "deploy" / "plan.yaml")
    playbooks = [
        PlaybookRef(k, b.trigger, b.severity.value, tuple(s.text for s in b.actions))
        for k, b in plan.playbooks.items()
    ]
    gguf = packaged_model_path()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; model {gguf}")
    with tempfile.TemporaryDirectory(prefix="jamie-bench-models-") as folder:
        index = KnowledgeIndex(Path(folder) / "chroma")
        started = time.perf_counter()
        index.build(REPO / "knowledge")
        print(f"index built in {time.perf_counter() - started:.1f}s")
        policy = ChainPolicy(call_timeout=60)
        chains: list[tuple[str, ModelChain]] = [("no model", ModelChain([]))]
        server: subprocess.Popen[bytes] | None = None
        if gguf is not None:
            embedded = LlamaCppBackend("embedded llama.cpp", gguf)
            await asyncio.to_thread(embedded.warm)
            chains.append(("embedded llama.cpp", ModelChain([embedded], policy=policy)))
            if not args.no_server:
                server, url = start_server(gguf)
                remote = OpenAICompatibleBackend(
                    "openai-compatible server", base_url=url, model="smollm2", remote=False
                )
                chains.append(("openai-compatible server", ModelChain([remote], policy=policy)))
        try:
            for name, chain in chains:
                assistant = RunbookAssistant(index, chain=chain, playbooks=playbooks)
                show(await run_backend(name, assistant, playbooks, args.quick))
            if gguf is not None:
                assistant = RunbookAssistant(index, chain=chains[1][1], playbooks=playbooks)
                print("\ntranslation samples (embedded llama.cpp):")
                for text, target in TRANSLATIONS:
                    started = time.perf_counter()
                    result = await assistant.translate(text, target_language=target)
                    took = time.perf_counter() - started
                    state = "translated" if result.translated else "kept original"
                    print(f"  [{target}] {text}\n    -> ({state}, {took:.1f}s) {result.text}")
                    raw = await raw_translation(chains[1][1], text, target)
                    print(f"    model's raw attempt (masked terms as ⟦n⟧): {raw!r}")
        finally:
            if server is not None:
                server.kill()
                server.wait(timeout=10)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
