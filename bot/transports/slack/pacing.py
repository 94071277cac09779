"""Spacing of Slack calls, so a burst of work becomes a steady trickle Slack accepts.

Two limits, both from Slack's rate-limit documentation
(https://api.slack.com/apis/rate-limits): about one message per second per channel, and a
per-method budget by tier (conversations.create is Tier 2, about 20 a minute; chat.update
Tier 3, about 50 a minute). Each call reserves the earliest slot both limits allow and
sleeps until then, so fifteen status updates due in the same second go out spread over
several seconds instead of tripping `ratelimited`. A `Retry-After` pushes the method's
next slot out for every caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

# Calls per second; a method not listed is not paced (reads, views.open whose trigger_id
# expires in 3 seconds, ephemeral replies).
TIER_RATES: dict[str, float] = {
    "conversations.create": 20 / 60,
    "conversations.invite": 50 / 60,
    "conversations.join": 50 / 60,
    "pins.add": 20 / 60,
    "chat.update": 50 / 60,
    "chat.postMessage": 4.0,
}
CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.update"})


@dataclass(frozen=True, slots=True)
class PaceSettings:
    per_channel: float = 1.0
    rates: Mapping[str, float] = field(default_factory=lambda: dict(TIER_RATES))

    def faster(self, factor: float) -> PaceSettings:
        """The same shape `factor` times faster (tests and benchmarks against a double)."""
        return PaceSettings(
            self.per_channel / factor, {m: r * factor for m, r in self.rates.items()}
        )


class PaceTooSlow(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"next slot in {seconds:.1f}s")


class Pacer:
    def __init__(
        self,
        settings: PaceSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings or PaceSettings()
        self._clock = clock
        self._sleep = sleep
        self._method_next: dict[str, float] = {}
        self._channel_next: dict[str, float] = {}

    async def wait(
        self, method: str, channel: str | None = None, *, at_most: float | None = None
    ) -> float:
        """Sleep until `method` may run for `channel`; returns the seconds waited. With
        `at_most`, a wait longer than that raises PaceTooSlow and reserves nothing."""
        now = self._clock()
        slot = self._method_next.get(method, now)
        per_channel = channel is not None and method in CHANNEL_METHODS
        if per_channel:
            slot = max(slot, self._channel_next.get(channel or "", now))
        slot = max(slot, now)
        if at_most is not None and slot - now > at_most:
            raise PaceTooSlow(slot - now)
        rate = self.settings.rates.get(method)
        if rate:
            self._method_next[method] = slot + 1 / rate
        if per_channel:
            self._channel_next[channel or ""] = slot + self.settings.per_channel
        waited = slot - now
        if waited > 0:
            await self._sleep(waited)
        return waited

    def hold(self, method: str, seconds: float) -> None:
        """Slack said `Retry-After: seconds` for `method`: nobody calls it before then."""
        until = self._clock() + seconds
        self._method_next[method] = max(self._method_next.get(method, until), until)
