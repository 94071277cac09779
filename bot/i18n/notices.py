"""The plan's notification templates (P0 initial alert, P1 notification, resolution notice)
in the reader's language.

The fixed text comes from the catalogs (`templates.*`). Free text (impact, mitigation,
root cause, ...) is written by people in one language: with a translator it is translated
(ids, severities and service names kept as they are); without one, or when translation
fails, the original is kept and marked with its language, e.g. "[Portuguese] ...".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.commands.ports import Translation
from bot.i18n.catalog import Catalog
from bot.i18n.detect import guess_language

Translate = Callable[[str, str], Awaitable[Translation]]
"""(text, target language) -> Translation; `Advisor.translate` with its keywords bound."""


class NoticeKind(StrEnum):
    P0_ALERT = "p0_alert"
    P1_NOTIFICATION = "p1_notification"
    RESOLUTION = "resolution"


# Fields people write; the others (ids, times, durations, contacts) are never translated.
FREE_TEXT = frozenset(
    {
        "impact", "primary", "backup", "patient_care", "actions", "systems", "degradation",
        "mitigation", "workarounds", "root_cause", "summary", "prevention", "subject",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    body: str
    language: str


async def compose_notice(
    kind: NoticeKind,
    language: str,
    fields: Mapping[str, str],
    translate: Translate | None = None,
) -> Notice:
    """The notice in `language`; `fields` fill the template's placeholders."""
    t = Catalog(language)
    values: dict[str, str] = {}
    for name, text in fields.items():
        values[name] = await _localised(text, language, translate) if name in FREE_TEXT else text
    return Notice(
        subject=t(f"templates.{kind.value}.subject", **values),
        body=t(f"templates.{kind.value}.body", **values),
        language=language,
    )


async def _localised(text: str, language: str, translate: Translate | None) -> str:
    if not text.strip():
        return text
    if translate is not None:
        result = await translate(text, language)
        source = result.language
        text = result.text
    else:
        source = guess_language(text) or language
    if source == language:
        return text
    t = Catalog(language)
    return t("ai.marked", language=t(f"ai.language.{source}"), text=text)
