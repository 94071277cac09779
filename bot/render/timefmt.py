"""Times shown to people: stored in UTC, shown in the configured zone (America/Sao_Paulo)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.plan.durations import format_duration


class TimeFormat:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.zone_name = timezone

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def clock(self, moment: datetime) -> str:
        """13:05"""
        return self.local(moment).strftime("%H:%M")

    def stamp(self, moment: datetime, language: str) -> str:
        """04/12/2026 13:05 (pt-BR) or 2026-12-04 13:05 (en), in the configured zone."""
        local = self.local(moment)
        pattern = "%d/%m/%Y %H:%M" if language == "pt-BR" else "%Y-%m-%d %H:%M"
        return local.strftime(pattern)

    def short(self, moment: datetime, now: datetime, language: str) -> str:
        """The clock time alone when it is today here, the date too otherwise."""
        if self.local(moment).date() == self.local(now).date():
            return self.clock(moment)
        return self.stamp(moment, language)


def duration(delta: timedelta) -> str:
    return format_duration(delta)
