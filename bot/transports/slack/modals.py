"""The modals: declare an incident, post an update, resolve with a root cause.

Each view carries what its submission needs in `private_metadata` (the channel the
declare form was opened from, the incident number of an update or resolve), and each
reading function returns either the form's values or the per-field errors Slack shows.
Values typed into a modal arrive as typed: no entities or mention markup to decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.parser import LIMITS
from bot.domain.enums import Severity
from bot.domain.incident import Incident
from bot.i18n import Catalog
from bot.plan import Plan
from bot.transports.slack.text import clip, plain

View = dict[str, Any]

DECLARE, UPDATE, RESOLVE = "jamie_declare", "jamie_update", "jamie_resolve"
TITLE_CHARS = 24
OPTION_CHARS = 75
VALUE = "value"


@dataclass(frozen=True, slots=True)
class Declaration:
    severity: Severity
    title: str
    departments: tuple[str, ...]
    patient_impact: bool


def _text(value: str, limit: int = TITLE_CHARS) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(value, limit, plain)}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label, OPTION_CHARS), "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _text(label, 2000),
        "element": {"action_id": VALUE, **element},
    }


def _modal(callback: str, title: str, metadata: str, blocks: list[Any], language: str) -> View:
    t = Catalog(language)
    return {
        "type": "modal",
        "callback_id": callback,
        "private_metadata": metadata,
        "title": _text(title),
        "submit": _text(t("slack.modal.submit")),
        "close": _text(t("slack.modal.cancel")),
        "blocks": blocks,
    }


def declare_view(plan: Plan, language: str, origin_channel: str) -> View:
    t = Catalog(language)
    severities = [
        _option(plan.policy(s).label.get(language) or s.value, s.value) for s in Severity
    ]
    departments = [
        _option(dept.name.get(language, key), key) for key, dept in plan.departments.items()
    ]
    blocks = [
        _input("severity", t("slack.modal.severity"), {
            "type": "static_select", "options": severities,
            "placeholder": _text(t("slack.modal.severity_placeholder"), 150),
        }),
        _input("title", t("slack.modal.title"), {
            "type": "plain_text_input", "max_length": LIMITS["title"],
            "placeholder": _text(t("slack.modal.title_placeholder"), 150),
        }),
    ]  # fmt: skip
    if departments:
        blocks.append(
            _input("departments", t("slack.modal.departments"), {
                "type": "multi_static_select", "options": departments,
                "placeholder": _text(t("slack.modal.departments_placeholder"), 150),
            }, optional=True)
        )  # fmt: skip
    yes = _option(t("slack.modal.impact_yes"), "yes")
    blocks.append(
        _input("impact", t("slack.modal.impact"), {"type": "checkboxes", "options": [yes]},
               optional=True)
    )  # fmt: skip
    return _modal(DECLARE, t("slack.modal.declare_title"), origin_channel, blocks, language)


def text_view(callback: str, incident: Incident, language: str, channel: str = "") -> View:
    """The update form (callback UPDATE) or the root-cause form (callback RESOLVE), opened
    from a card in `channel`."""
    t = Catalog(language)
    if callback == RESOLVE:
        title, label = (
            t("slack.modal.resolve_title", ref=incident.ref),
            t("slack.modal.root_cause"),
        )
    else:
        title, label = (
            t("slack.modal.update_title", ref=incident.ref),
            t("slack.modal.update_text"),
        )
    element = {"type": "plain_text_input", "multiline": True, "max_length": LIMITS["text"]}
    blocks = [_input("text", label, element)]
    return _modal(callback, title, f"{incident.number}:{channel}", blocks, language)


def _state(view: View) -> dict[str, Any]:
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    return {block: fields.get(VALUE, {}) for block, fields in values.items()}


def read_declaration(view: View, language: str) -> Declaration | dict[str, str]:
    """The declaration typed, or errors by block id for Slack to show beside the fields."""
    state = _state(view)
    t = Catalog(language)
    title = (state.get("title", {}).get("value") or "").strip()
    chosen = (state.get("severity", {}).get("selected_option") or {}).get("value", "")
    severity = Severity.parse(chosen)
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = t("error.missing_text", field=t("slack.modal.title"))
    elif len(title) > LIMITS["title"]:
        limit, length = str(LIMITS["title"]), str(len(title))
        errors["title"] = t(
            "error.too_long", field=t("slack.modal.title"), limit=limit, length=length
        )
    if severity is None:
        errors["severity"] = t("error.missing_severity")
    if errors or severity is None:
        return errors
    departments = tuple(
        option["value"] for option in state.get("departments", {}).get("selected_options") or []
    )
    impact = bool(state.get("impact", {}).get("selected_options"))
    return Declaration(severity, title, departments, impact)


def read_text(view: View, language: str) -> tuple[int, str, str] | dict[str, str]:
    """The incident number, the card's channel and the text typed, or the field's error."""
    text = (_state(view).get("text", {}).get("value") or "").strip()
    number, _, channel = str(view.get("private_metadata", "")).partition(":")
    if not text or not number.isdigit():
        t = Catalog(language)
        field = "root_cause" if view.get("callback_id") == RESOLVE else "update_text"
        return {"text": t("error.missing_text", field=t(f"slack.modal.{field}"))}
    return int(number), channel, text[: LIMITS["text"]]
