"""Names of Slack users as people know them (profile display name, else real name)."""

from __future__ import annotations

import logging

from bot.transports.slack.client import SlackClient
from bot.transports.slack.errors import SlackError

log = logging.getLogger(__name__)

_CACHE_LIMIT = 5000


class People:
    def __init__(self, client: SlackClient) -> None:
        self._client = client
        self._names: dict[str, str] = {}

    async def name(self, user_id: str, fallback: str = "") -> str:
        known = self._names.get(user_id)
        if known:
            return known
        try:
            user = await self._client.user_info(user_id)
        except SlackError as exc:
            log.info("users.info for %s failed (%s); using the name Slack sent", user_id, exc.code)
            return fallback or user_id
        profile = user.get("profile") or {}
        found = str(
            profile.get("display_name") or profile.get("real_name") or user.get("name")
            or fallback or user_id
        )  # fmt: skip
        if len(self._names) >= _CACHE_LIMIT:
            self._names.clear()
        self._names[user_id] = found
        return found
