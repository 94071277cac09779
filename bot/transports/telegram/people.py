"""People as Telegram knows them: display names, and the plan's people's Telegram ids."""

from __future__ import annotations

from telegram import User

from bot.plan import Plan


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


def app_language(user: User | None) -> str | None:
    """The person's Telegram app language when Jamie speaks it (pt-BR or en)."""
    code = (user.language_code or "").lower() if user else ""
    if code.startswith("pt"):
        return "pt-BR"
    return "en" if code.startswith("en") else None


def telegram_id_of(plan: Plan, name: str | None) -> int | None:
    """The Telegram user id the plan lists for the person called `name`, if any."""
    if not name:
        return None
    for person in plan.responders.values():
        ids = person.identities.get("telegram") or []
        if person.name.casefold() == name.casefold() and ids and str(ids[0]).lstrip("-").isdigit():
            return int(ids[0])
    return None
