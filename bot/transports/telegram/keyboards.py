"""Inline keyboards and what their buttons' callback data mean.

Callback data (at most 64 bytes, https://core.telegram.org/bots/api#inlinekeyboardbutton):
  i:<action>:<incident>:<revision>  a card button; the revision (a hash of what the card
                                    shows) makes a press on an outdated card, or a second
                                    press on the same card, do nothing
  v:<action>:<note>                 a voice-note draft button
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.enums import Status
from bot.domain.incident import Incident
from bot.i18n import Catalog


class CardAction(StrEnum):
    ACK = "ack"
    ESCALATE = "esc"
    MITIGATE = "mit"
    RESOLVE = "res"


class NoteAction(StrEnum):
    CONFIRM = "ok"
    EDIT = "edit"
    DISCARD = "drop"
    RETRY = "retry"


_CARD_BUTTONS = {
    Status.DECLARED: (
        CardAction.ACK,
        CardAction.ESCALATE,
        CardAction.MITIGATE,
        CardAction.RESOLVE,
    ),
    Status.ACKNOWLEDGED: (CardAction.ESCALATE, CardAction.MITIGATE, CardAction.RESOLVE),
    Status.MITIGATED: (CardAction.ESCALATE, CardAction.RESOLVE),
    Status.RESOLVED: (),
}


@dataclass(frozen=True, slots=True)
class CardPress:
    action: CardAction
    incident: int
    revision: str


@dataclass(frozen=True, slots=True)
class NotePress:
    action: NoteAction
    note: int


def revision(incident: Incident) -> str:
    """Changes whenever anything a card shows changes."""
    seen = (
        incident.status, incident.severity, incident.severity_since, incident.commander,
        incident.last_update_at, incident.reopen_count,
    )  # fmt: skip
    return hashlib.sha256("|".join(map(str, seen)).encode()).hexdigest()[:10]


def card_keyboard(incident: Incident, language: str) -> InlineKeyboardMarkup | None:
    t = Catalog(language)
    buttons = [
        InlineKeyboardButton(
            t(f"telegram.button.{action.value}"),
            callback_data=f"i:{action.value}:{incident.number}:{revision(incident)}",
        )
        for action in _CARD_BUTTONS[incident.status]
    ]
    if not buttons:
        return None
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]] if len(buttons) > 2 else [buttons])


def note_keyboard(
    note: int, actions: tuple[NoteAction, ...], language: str
) -> InlineKeyboardMarkup:
    t = Catalog(language)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(f"voice.button.{a.value}"), callback_data=f"v:{a.value}:{note}")
          for a in actions]]
    )  # fmt: skip


def parse(data: str | None) -> CardPress | NotePress | None:
    parts = (data or "").split(":")
    try:
        if parts[0] == "i" and len(parts) == 4:
            return CardPress(CardAction(parts[1]), int(parts[2]), parts[3])
        if parts[0] == "v" and len(parts) == 3:
            return NotePress(NoteAction(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None
