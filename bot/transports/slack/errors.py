"""Slack's failures, translated once in `client.py` from slack_sdk's and aiohttp's errors.

SlackError               a Slack call failed; `code` is Slack's error string (or ours)
 ├─ NameTaken            conversations.create: a channel has that name; try another
 ├─ InvalidBlocks        Slack refused the Block Kit payload; post plain text instead
 ├─ ChannelNotFound      the channel is gone or Jamie cannot see it
 ├─ RateLimited          still `ratelimited` after the bounded retries (transient)
 └─ SlackUnavailable     network failure, timeout or a 5xx (transient)

`transient` says whether trying again later can help; the outbox retries those.
"""

from __future__ import annotations


class SlackError(Exception):
    transient = False

    def __init__(self, code: str, method: str = "") -> None:
        self.code = code
        self.method = method
        super().__init__(f"{method}: {code}" if method else code)


class NameTaken(SlackError):
    pass


class InvalidBlocks(SlackError):
    pass


class ChannelNotFound(SlackError):
    pass


class RateLimited(SlackError):
    transient = True

    def __init__(self, code: str, method: str = "", retry_after: float = 0.0) -> None:
        super().__init__(code, method)
        self.retry_after = retry_after


class SlackUnavailable(SlackError):
    transient = True


_BY_CODE: dict[str, type[SlackError]] = {
    "name_taken": NameTaken,
    "invalid_blocks": InvalidBlocks,
    "invalid_blocks_format": InvalidBlocks,
    "channel_not_found": ChannelNotFound,
    "is_archived": ChannelNotFound,
    "not_in_channel": ChannelNotFound,
}


def from_code(code: str, method: str) -> SlackError:
    """The error for a Slack `error` string that retrying cannot fix."""
    return _BY_CODE.get(code, SlackError)(code, method)
