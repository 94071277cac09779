"""Root-cause suggestions: playbook matching from words and alerts, structure-first
hypotheses, the model only ranking, and "I don't know" when nothing matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commands.ports import IncidentBrief, PlaybookRef
from bot.plan import load_plan
from jamie.knowledge import Passage
from jamie.models import ChainPolicy, ModelChain
from jamie.playbook_match import PlaybookMatcher
from jamie.rca import RootCauseAdvisor
from tests.jamie.doubles_models import ScriptedBackend

PLAN = load_plan(Path(__file__).resolve().parents[2] / "deploy" / "plan.yaml")
PLAYBOOKS = [
    PlaybookRef(key, book.trigger, book.severity.value, tuple(s.text for s in book.actions))
    for key, book in PLAN.playbooks.items()
]
POOL_SECTION = Passage(
    source="automated-playbooks.md",
    heading="Playbook: Database connection issues (database_connection_issues)",
    anchor="playbook-database-connection-issues-database_connection_issues",
    text="Trigger: the database connection pool is exhausted. Actions: expand the connection "
    "pool; analyse the queries; run database health diagnostics.",
    score=0.03,
)
L2 = Passage(
    source="monitoring.md",
    heading="Detection layer L2: application monitoring",
    anchor="detection-layer-l2-application-monitoring",
    text="L2 watches database query performance and connection errors. Check the database "
    "query latency panel and the connection pool saturation graph.",
    score=0.02,
)


def brief(title: str, **fields: object) -> IncidentBrief:
    return IncidentBrief("INC-0009", title, str(fields.pop("severity", "P1")), "declared",
                         **fields)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("MVP Mac Studio health check fails", "mac_studio_failure_mvp"),
        ("Production Mac Studio failed its health check; load balancer failover",
         "mac_studio_failure_production"),
        ("AI response time above 5 s", "ai_model_degradation"),
        ("Database connection pool exhausted", "database_connection_issues"),
        ("Network latency above 100 ms in the ICU", "network_latency_spike"),
        ("Unusual access pattern on the clinician accounts", "security_anomaly"),
        ("Pool de conexões do banco esgotado", "database_connection_issues"),
        ("Latência de rede acima de 100 ms", "network_latency_spike"),
        ("Padrão de acesso incomum detectado", "security_anomaly"),
    ],
)  # fmt: skip
def test_incident_words_match_the_plan_playbook(title: str, expected: str) -> None:
    matches = PlaybookMatcher(PLAYBOOKS).rank(brief(title))

    assert matches and matches[0].playbook.key == expected


def test_alert_labels_name_the_playbook_for_certain() -> None:
    alerted = brief(
        "Something is wrong",
        alert_labels=({"alertname": "PoolSaturated", "jamie_playbook": "security_anomaly"},),
        playbooks=("security_anomaly",),
    )

    top = PlaybookMatcher(PLAYBOOKS).rank(alerted)[0]

    assert (top.playbook.key, top.confirmed) == ("security_anomaly", True)


def test_camel_case_alert_names_count_as_words() -> None:
    alerted = brief(
        "Alert firing", alert_labels=({"alertname": "DatabaseConnectionPoolExhausted"},)
    )

    assert PlaybookMatcher(PLAYBOOKS).rank(alerted)[0].playbook.key == "database_connection_issues"


def test_an_unrelated_incident_matches_no_playbook() -> None:
    assert PlaybookMatcher(PLAYBOOKS).rank(brief("Printer on floor 3 out of paper")) == []


def advisor(chain: ModelChain | None) -> RootCauseAdvisor:
    async def search(query: str, k: int) -> list[Passage]:
        return [POOL_SECTION, L2][:k]

    return RootCauseAdvisor(search, PLAYBOOKS, chain)


async def test_without_a_model_hypotheses_come_from_playbook_and_runbook() -> None:
    suggestion = await advisor(None).suggest(brief("Database connection pool exhausted"),
                                             [POOL_SECTION, L2])  # fmt: skip

    first, second = suggestion.hypotheses
    assert (first.cause, first.next_step) == (
        "Database connection pool exhaustion", "Database health diagnostics",
    )  # fmt: skip
    assert first.citations == (
        POOL_SECTION.citation, "deploy/plan.yaml#playbooks.database_connection_issues",
    )  # fmt: skip
    assert second.citations == (L2.citation,)
    assert second.next_step.startswith("Check the database query latency panel")
    assert suggestion.served_by is None


async def test_nothing_matching_means_i_dont_know() -> None:
    suggestion = await advisor(None).suggest(brief("Printer out of paper"), [])

    assert not suggestion.known and suggestion.hypotheses == ()


async def test_the_model_ranks_and_its_reasons_are_checked() -> None:
    model = ScriptedBackend(
        "embedded",
        ["2: the L2 layer watches database query performance\n"
         "1: run `sudo rm -rf /var/lib/postgresql` to free connections"],
    )  # fmt: skip
    chain = ModelChain([model], policy=ChainPolicy(call_timeout=2))

    suggestion = await advisor(chain).suggest(brief("Database connection pool exhausted"),
                                              [POOL_SECTION, L2])  # fmt: skip

    causes = [h.cause for h in suggestion.hypotheses]
    assert causes == [L2.heading, "Database connection pool exhaustion"]
    assert suggestion.hypotheses[0].reason == "the L2 layer watches database query performance"
    assert suggestion.hypotheses[1].reason is None
    assert suggestion.removed == 1 and suggestion.served_by == "embedded"


async def test_a_playbook_confirmed_by_alerts_stays_first_whatever_the_model_says() -> None:
    chain = ModelChain([ScriptedBackend("embedded", ["2: because\n1: because"])])
    alerted = brief(
        "Database connection pool exhausted", playbooks=("database_connection_issues",)
    )

    suggestion = await advisor(chain).suggest(alerted, [POOL_SECTION, L2])

    assert suggestion.hypotheses[0].confirmed_by_alerts
    assert suggestion.hypotheses[0].cause == "Database connection pool exhaustion"


async def test_garbage_from_the_model_keeps_the_structural_order() -> None:
    chain = ModelChain([ScriptedBackend("embedded", ["I am a helpful assistant!!!"])])

    suggestion = await advisor(chain).suggest(brief("Database connection pool exhausted"),
                                              [POOL_SECTION, L2])  # fmt: skip

    assert suggestion.hypotheses[0].cause == "Database connection pool exhaustion"
    assert all(h.reason is None for h in suggestion.hypotheses)
