"""Block Kit for incidents: the live card, and posts split to fit Slack's limits.

Limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks a message, 3000
characters a section text, 2000 a field, 150 a header, 75 a button label. Every text goes
through `text.clip` or `text.chunks` after escaping, so a long update or timeline never
turns into `invalid_blocks`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from bot.domain.enums import Severity, Status
from bot.domain.incident import Incident
from bot.i18n import Catalog
from bot.render.text import Renderer
from bot.transports.slack.text import chunks, clip, mrkdwn, plain

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_CHARS = 3000
FIELD_CHARS = 2000
HEADER_CHARS = 150
BUTTON_CHARS = 75
FALLBACK_CHARS = 3000

ACK, ESCALATE, UPDATE, MITIGATE, RESOLVE = (
    "jamie_ack", "jamie_escalate", "jamie_update", "jamie_mitigate", "jamie_resolve",
)  # fmt: skip
CARD_ACTIONS = "jamie_card"


def revision(incident: Incident) -> str:
    """Changes whenever anything the card shows changes: a click carries the revision it
    saw, so a double click on one revision is one click."""
    seen = (
        incident.status, incident.severity, incident.severity_since, incident.commander,
        incident.last_update_at, incident.mitigated_at, incident.resolved_at,
        incident.reopen_count,
    )  # fmt: skip
    return hashlib.sha256("|".join(map(str, seen)).encode()).hexdigest()[:12]


def button_value(incident: Incident) -> str:
    return f"{incident.number}:{revision(incident)}"


def parse_button_value(value: str) -> tuple[int, str] | None:
    number, _, rev = value.partition(":")
    return (int(number), rev) if number.isdigit() and rev else None


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def titled_sections(title: str, body: str) -> list[Block]:
    """`*title*` then `body`, escaped and split into sections of at most 3000 characters."""
    heading = f"*{mrkdwn(title)}*\n"
    pieces = chunks(body, SECTION_CHARS - len(heading))
    return [section((heading if i == 0 else "") + p) for i, p in enumerate(pieces)]


def message_blocks(text: str) -> tuple[str, list[Block]]:
    """A post of Jamie's text: the notification fallback and the sections carrying it."""
    blocks = [section(piece) for piece in chunks(text, SECTION_CHARS)]
    return clip(text, FALLBACK_CHARS), fit(blocks)


def fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: the rest is replaced by an ellipsis (never silently cut)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], {"type": "context", "elements": [_mrkdwn("…")]}]


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _field(label: str, value: str) -> Block:
    heading = f"*{mrkdwn(label)}*\n"
    return _mrkdwn(heading + clip(value, FIELD_CHARS - len(heading)))


class CardRenderer:
    """The incident card in one language; the same renderer words as the status updates."""

    def __init__(self, renderer: Renderer, language: str) -> None:
        self.renderer = renderer
        self.language = language

    def card(self, incident: Incident, now: datetime) -> tuple[str, list[Block]]:
        """The fallback text and the blocks of the incident's card."""
        t = Catalog(self.language)
        headline = self.renderer.headline(incident, self.language)
        title = {"type": "plain_text", "text": clip(headline, HEADER_CHARS, plain)}
        blocks: list[Block] = [
            {"type": "header", "text": title},
            {"type": "section", "fields": self._facts(incident, now)},
        ]
        clocks = self.renderer.clocks(incident, now)
        lines = [self.renderer.clock_line(c, now, self.language) for c in clocks]
        blocks += titled_sections(t("slack.card.sla"), "\n".join(lines))
        blocks += self._last_update(incident, now)
        if incident.root_cause:
            blocks += titled_sections(t("slack.card.root_cause"), incident.root_cause)
        time = self.renderer.time
        footer = t("slack.card.footer", at=time.clock(now), zone=time.zone_name)
        blocks.append({"type": "context", "elements": [_mrkdwn(mrkdwn(footer))]})
        buttons = self._buttons(incident)
        blocks = fit(blocks[: MAX_BLOCKS - 1] if buttons else blocks)
        if buttons:
            blocks.append({"type": "actions", "block_id": CARD_ACTIONS, "elements": buttons})
        return clip(headline, FALLBACK_CHARS), blocks

    def _facts(self, incident: Incident, now: datetime) -> list[Block]:
        t = Catalog(self.language)
        time = self.renderer.time
        declared = t(
            "slack.card.declared_value",
            at=time.short(incident.declared_at, now, self.language), name=incident.declared_by,
        )  # fmt: skip
        departments = self.renderer.departments(incident, self.language)
        return [
            _field(
                t("slack.card.severity"), self.renderer.severity_label(incident, self.language)
            ),
            _field(t("slack.card.state"), t(f"state.{incident.status.value}")),
            _field(t("slack.card.commander"), incident.commander or t("status.nobody")),
            _field(t("slack.card.departments"), departments or t("slack.card.none")),
            _field(
                t("slack.card.patient_impact"),
                t("slack.card.yes") if incident.patient_impact else t("slack.card.no"),
            ),
            _field(t("slack.card.declared"), declared),
        ]

    def _last_update(self, incident: Incident, now: datetime) -> list[Block]:
        t = Catalog(self.language)
        if not (incident.last_update and incident.last_update_at):
            return [section(mrkdwn(t("status.no_update")))]
        at = self.renderer.time.short(incident.last_update_at, now, self.language)
        return titled_sections(f"{t('slack.card.last_update')} ({at})", incident.last_update)

    def _buttons(self, incident: Incident) -> list[Block]:
        if incident.status is Status.RESOLVED:
            return []
        value = button_value(incident)
        wanted = [
            (ACK, incident.status is Status.DECLARED, None),
            (ESCALATE, incident.severity is not Severity.P0, "danger"),
            (UPDATE, True, None),
            (MITIGATE, incident.status in (Status.DECLARED, Status.ACKNOWLEDGED), None),
            (RESOLVE, True, "primary"),
        ]
        return [self._button(action, value, style) for action, show, style in wanted if show]

    def _button(self, action: str, value: str, style: str | None) -> Block:
        label = Catalog(self.language)(f"slack.button.{action.removeprefix('jamie_')}")
        button: Block = {
            "type": "button",
            "action_id": action,
            "text": {"type": "plain_text", "text": clip(label, BUTTON_CHARS, plain)},
            "value": value,
        }
        if style:
            button["style"] = style
        return button
