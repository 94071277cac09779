"""Durations written the way people write them in a plan: 30s, 2m, 4h, 72h, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str | int | float) -> timedelta:
    """Parse `text`; a bare number means seconds. ValueError names the accepted forms."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    compact = text.strip().replace(" ", "").lower()
    if compact.isdigit():
        return timedelta(seconds=int(compact))
    parts = _PART.findall(compact)
    if not compact or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration: write it like 30s, 15m, 4h or 1h30m")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit.lower()]: int(number)})
    return total


def format_duration(delta: timedelta) -> str:
    """Compact, e.g. 2m, 1h05m, 3d4h; never negative (the caller says late or early)."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs and minutes < 10 else f"{minutes}m"
    return f"{secs}s"
