"""The bot side of Jamie's advice: `rca`/`causa`, the suggestion posted in the background
after `open` and `escalate`, translated updates, and follow-up memory per incident."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.commands.advice import AdviceDesk
from bot.commands.handler import CommandHandler, Context
from bot.commands.ports import (
    Answer,
    AssistantUnavailable,
    Citation,
    Hypothesis,
    IncidentBrief,
    PlaybookRef,
    Suggestion,
    Translation,
)
from bot.domain.enums import Transport
from bot.domain.people import ConversationRef
from bot.storage.alert_models import AlertGroupRow, AlertRow
from bot.storage.models import ConversationRow, OutboxRow
from tests.conftest import App

PLAN_CITATION = "deploy/plan.yaml#playbooks.database_connection_issues"
CONSOLE = ConversationRef(Transport.CONSOLE, "local")
SLACK_EN = ConversationRef(Transport.SLACK, "C0ENGLISH")
BOOK = PlaybookRef("database_connection_issues", "Database connection pool exhaustion", "P1",
                   ("Connection pool expansion", "Database health diagnostics"))  # fmt: skip


class FakeAdvisor:
    """An advisor without a model: records what it is asked and answers from a script."""

    def __init__(self) -> None:
        self.briefs: list[IncidentBrief] = []
        self.threads: list[str] = []
        self.fail = False

    def models_available(self) -> bool:
        return True

    async def ask(self, question: str, *, language: str) -> Answer:
        return Answer((Citation("a.md#x", "X", "text", "en"),))

    async def ask_in_thread(self, question: str, *, language: str, thread: str) -> Answer:
        self.threads.append(thread)
        return Answer((Citation("a.md#x", "X", "text", "en"),), "Expand the pool [1].", "fake")

    async def suggest(self, brief: IncidentBrief, *, language: str) -> Suggestion:
        if self.fail:
            raise AssistantUnavailable("not_ready", "index")
        self.briefs.append(brief)
        sources = ("automated-playbooks.md#pool", PLAN_CITATION)
        hypothesis = Hypothesis(
            "Database connection pool exhaustion", "Database health diagnostics", sources
        )
        return Suggestion(brief.ref, (hypothesis,), BOOK, served_by="fake")

    async def translate(
        self, text: str, *, target_language: str, source_language: str | None = None
    ) -> Translation:
        return Translation(f"(en) {text}", target_language, True, source_language, "fake")

    async def run_health_checks(self, stop: asyncio.Event) -> None:
        await stop.wait()

    async def close(self) -> None:
        pass


def wire(app: App, advisor: FakeAdvisor) -> tuple[CommandHandler, AdviceDesk]:
    desk = AdviceDesk(
        app.sessions, app.plan, advisor, clock=app.clock.now,
        get_incident=lambda n: app.service.get(n, with_timeline=True),
    )  # fmt: skip
    handler = CommandHandler(
        app.service, app.plan, app.renderer, app.directory, clock=app.clock.now,
        assistant=advisor, advice=desk,
    )  # fmt: skip
    return handler, desk


CTX = Context(Transport.CONSOLE, "ana", "ana", conversation=CONSOLE)


async def outbox(app: App, kind: str) -> list[tuple[str, str]]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(ConversationRow.address, OutboxRow.text)
            .join(ConversationRow, ConversationRow.id == OutboxRow.conversation_id)
            .where(OutboxRow.kind == kind)
            .order_by(OutboxRow.id)
        )
        return [(address, text) for address, text in rows.all()]


async def test_rca_replies_with_ranked_hypotheses_marked_as_a_suggestion(sqlite_app: App) -> None:
    handler, _ = wire(sqlite_app, FakeAdvisor())
    await handler.handle_text("open P1 Database connection pool exhausted", CTX)

    reply = await handler.handle_text("rca INC-0001", CTX)

    assert reply.ok
    assert reply.text.splitlines() == [
        "🧠 Suggestion for INC-0001 — Jamie takes no action; a person decides.",
        "Matching playbook: database_connection_issues — "
        + "Database connection pool exhaustion (P1)",
        "Possible causes, most likely first:",
        "1. Database connection pool exhaustion",
        "   Next diagnostic step: Database health diagnostics",
        "   Sources: [automated-playbooks.md#pool], "
        "[deploy/plan.yaml#playbooks.database_connection_issues]",
        "(written with fake)",
    ]


async def test_causa_answers_in_portuguese(sqlite_app: App) -> None:
    handler, _ = wire(sqlite_app, FakeAdvisor())
    await handler.handle_text("abrir P1 Pool de conexões esgotado", CTX)

    reply = await handler.handle_text("causa", CTX)

    assert reply.text.startswith("🧠 Sugestão para INC-0001")
    assert "Próximo passo de diagnóstico: Database health diagnostics" in reply.text


async def test_open_posts_a_suggestion_in_the_background(sqlite_app: App) -> None:
    advisor = FakeAdvisor()
    handler, desk = wire(sqlite_app, advisor)

    reply = await handler.handle_text("open P1 Database connection pool exhausted dept=icu", CTX)
    posted_before_waiting = await outbox(sqlite_app, "ai.rca")
    await desk.wait()

    assert reply.ok and posted_before_waiting == []
    posted = await outbox(sqlite_app, "ai.rca")
    assert [address for address, _ in posted] == ["local"]
    assert posted[0][1].startswith("🧠 Sugestão para INC-0001")
    assert advisor.briefs[0].departments == ("icu",)
    assert advisor.briefs[0].timeline[0].endswith("declared: Database connection pool exhausted")


async def test_escalate_posts_a_fresh_suggestion(sqlite_app: App) -> None:
    advisor = FakeAdvisor()
    handler, desk = wire(sqlite_app, advisor)
    await handler.handle_text("open P2 Database slow", CTX)
    await desk.wait()

    await handler.handle_text("escalate INC-0001 P1 pool exhausted", CTX)
    await desk.wait()

    assert len(await outbox(sqlite_app, "ai.rca")) == 2
    assert advisor.briefs[-1].severity == "P1"


async def test_a_failing_suggestion_never_touches_the_command(sqlite_app: App) -> None:
    advisor = FakeAdvisor()
    advisor.fail = True
    handler, desk = wire(sqlite_app, advisor)

    reply = await handler.handle_text("open P1 Database connection pool exhausted", CTX)
    await desk.wait()

    assert reply.ok and await outbox(sqlite_app, "ai.rca") == []


async def test_alert_labels_and_their_playbooks_reach_the_brief(sqlite_app: App) -> None:
    advisor = FakeAdvisor()
    handler, desk = wire(sqlite_app, advisor)
    await handler.handle_text("open P1 Alerts firing", CTX)
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    async with sqlite_app.sessions.begin() as session:
        group = AlertGroupRow(group_hash="h", group_key="k", receiver="jamie", group_labels={},
                              incident_id=1, first_seen_at=now, last_seen_at=now)  # fmt: skip
        session.add(group)
        await session.flush()
        labels = {"alertname": "PoolExhausted", "jamie_playbook": "database_connection_issues"}
        session.add(AlertRow(
            group_id=group.id, incident_id=1, fingerprint="f1", alertname="PoolExhausted",
            status="firing", severity="P1", labels=labels, annotations={}, starts_at=now,
            first_seen_at=now, last_seen_at=now,
        ))  # fmt: skip

    brief = await desk.brief(1)

    assert brief.alert_labels == (labels,)
    assert brief.playbooks == ("database_connection_issues",)


async def test_an_update_in_portuguese_is_translated_for_english_conversations(
    sqlite_app: App,
) -> None:
    handler, desk = wire(sqlite_app, FakeAdvisor())
    await handler.handle_text("open P1 Pool exhausted", CTX)
    await sqlite_app.service.bind(1, SLACK_EN, language="en")

    await handler.handle_text("atualizar INC-0001 o fallback no GCP está ativo na UTI", CTX)
    await desk.wait()

    assert await outbox(sqlite_app, "ai.translation") == [
        ("C0ENGLISH", "🌐 INC-0001 · English translation (fake): "
                      "(en) o fallback no GCP está ativo na UTI"),
    ]  # fmt: skip


async def test_follow_up_questions_share_memory_per_conversation_and_incident(
    sqlite_app: App,
) -> None:
    advisor = FakeAdvisor()
    handler, _ = wire(sqlite_app, advisor)
    await handler.handle_text("ask what is a P0?", CTX)
    await handler.handle_text("open P1 Pool exhausted", CTX)

    reply = await handler.handle_text("ask and then what?", CTX)

    assert advisor.threads == ["console:local:-", "console:local:INC-0001"]
    assert reply.text.startswith("Expand the pool [1].")
    assert reply.text.endswith("(written with fake)")


async def test_an_incident_opened_by_alertmanager_gets_a_suggestion_too(tmp_path) -> None:
    from bot.app import Jamie
    from bot.domain.enums import Severity
    from bot.domain.people import Actor
    from bot.settings import Settings
    from bot.storage.db import migrate

    settings = Settings.from_env({"JAMIE_HOME": str(tmp_path), "JAMIE_MODELS": "none"})
    migrate(settings.database_url)
    advisor = FakeAdvisor()
    jamie = Jamie(settings, assistant=advisor)
    try:
        assert jamie.advice is not None
        alertmanager = Actor("Alertmanager", Transport.ALERTMANAGER, "alertmanager")
        console = Actor("Ana", Transport.CONSOLE, "ana")
        await jamie.service.open(alertmanager, severity=Severity.P1, title="DB pool exhausted")
        await jamie.service.open(console, severity=Severity.P2, title="Slow UI")
        await jamie.advice.wait()
    finally:
        await jamie.engine.dispose()

    # The alert's incident got its brief; the console one waits for its command handler.
    assert [brief.title for brief in advisor.briefs] == ["DB pool exhausted"]
