"""The card and the modals within Block Kit's limits, whatever people type."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.enums import Severity, Status, Transport
from bot.domain.incident import Incident
from bot.plan import Plan, load_plan
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.transports.slack import blocks, modals
from bot.transports.slack.blocks import CardRenderer, message_blocks
from tests.slack.double import block_problem
from tests.slack.harness import REPO

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(REPO / "deploy" / "plan.yaml")


@pytest.fixture(scope="module")
def cards(plan: Plan) -> CardRenderer:
    return CardRenderer(Renderer(plan, TimeFormat("America/Sao_Paulo")), "pt-BR")


def incident(**changes: object) -> Incident:
    base = Incident(
        number=1, title="Falha total do Mac Studio", severity=Severity.P1,
        status=Status.DECLARED, departments=("icu",), patient_impact=True, commander=None,
        declared_by="Ana", source=Transport.SLACK, started_at=NOW, detected_at=NOW,
        declared_at=NOW, acknowledged_at=None, acknowledged_by=None, mitigated_at=None,
        resolved_at=None, root_cause=None, severity_since=NOW, last_update=None,
        last_update_at=None, next_status_at=NOW + timedelta(minutes=5), reopen_count=0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_huge_update_and_root_cause_still_fit_block_kit(cards: CardRenderer) -> None:
    huge = "\n".join(f"linha {n}: fila <parada> & reiniciada " * 3 for n in range(2000))
    big = incident(last_update=huge, last_update_at=NOW, root_cause=huge, title="T" * 200)

    _, card = cards.card(big, NOW)

    assert block_problem(card) is None
    assert card[-1]["type"] == "actions"  # the buttons survive the trimming


def test_a_long_post_is_split_into_sections_within_limits() -> None:
    fallback, sections = message_blocks("📢 atualização\n" + "x & y " * 3000)

    assert block_problem(sections) is None and len(sections) > 1
    assert len(fallback) <= 3000


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, [blocks.ACK, blocks.ESCALATE, blocks.UPDATE, blocks.MITIGATE, blocks.RESOLVE]),
        ({"severity": Severity.P0}, [blocks.ACK, blocks.UPDATE, blocks.MITIGATE, blocks.RESOLVE]),
        ({"status": Status.ACKNOWLEDGED},
         [blocks.ESCALATE, blocks.UPDATE, blocks.MITIGATE, blocks.RESOLVE]),
        ({"status": Status.MITIGATED}, [blocks.ESCALATE, blocks.UPDATE, blocks.RESOLVE]),
        ({"status": Status.RESOLVED}, []),
    ],
)  # fmt: skip
def test_the_card_offers_only_the_moves_the_lifecycle_allows(
    cards: CardRenderer, changes: dict[str, object], expected: list[str]
) -> None:
    _, card = cards.card(incident(**changes), NOW)

    shown = [e["action_id"] for b in card if b["type"] == "actions" for e in b["elements"]]
    assert shown == expected


def test_a_click_carries_the_revision_it_saw() -> None:
    before, after = incident(), incident(status=Status.ACKNOWLEDGED)

    assert blocks.revision(before) != blocks.revision(after)
    assert blocks.parse_button_value(blocks.button_value(before)) == (1, blocks.revision(before))
    assert blocks.parse_button_value("nonsense") is None


def test_user_text_on_the_card_is_escaped_and_quiet(cards: CardRenderer) -> None:
    loud = incident(
        title="<!channel> @here caiu", last_update="a < b @everyone", last_update_at=NOW
    )

    _, card = cards.card(loud, NOW)

    text = str(card)
    assert "<!channel>" not in text and "@here" not in text and "@everyone" not in text
    assert "a &lt; b" in text


def test_declare_form_reads_back_what_was_chosen(plan: Plan) -> None:
    view = modals.declare_view(plan, "pt-BR", "C0GENERAL")
    view["state"] = {"values": {
        "severity": {"value": {"selected_option": {"value": "P0"}}},
        "title": {"value": {"value": "  Falha na UTI  "}},
        "departments": {"value": {"selected_options": [{"value": "icu"}]}},
        "impact": {"value": {"selected_options": [{"value": "yes"}]}},
    }}  # fmt: skip

    read = modals.read_declaration(view, "pt-BR")

    assert read == modals.Declaration(Severity.P0, "Falha na UTI", ("icu",), True)
    assert block_problem(view["blocks"], limit=100) is None
    assert len(view["title"]["text"]) <= 24


def test_declare_form_with_a_blank_title_names_the_field(plan: Plan) -> None:
    view = modals.declare_view(plan, "en", "C0GENERAL")
    view["state"] = {"values": {
        "severity": {"value": {"selected_option": {"value": "P2"}}},
        "title": {"value": {"value": "   "}},
    }}  # fmt: skip

    assert modals.read_declaration(view, "en") == {"title": "The text is missing (Title)."}
