"""Telegram's failures, translated once in `client.py` from python-telegram-bot's errors.

TelegramFailure          a Bot API call failed; `transient` says whether a later try can help
 ├─ MessageRefused       400 about the content: `kind` is too_long, bad_entities,
 │                       not_modified, not_found (the message to edit is gone), or other
 ├─ NotAForum            createForumTopic in a group whose topics are off
 ├─ FileTooBig           getFile on a file above the Bot API's 20 MB download limit
 ├─ ChatGone             403: Jamie was removed from the chat or blocked by the person
 ├─ FloodWait            flood control asked for a longer wait than one call may take
 └─ TelegramUnavailable  network failure, timeout, or a 5xx

A group upgraded to a supergroup is not an error here: the client follows it (ChatMigrated)
and retries at the new id.
"""

from __future__ import annotations


class TelegramFailure(Exception):
    transient = False

    def __init__(self, detail: str, method: str = "") -> None:
        self.detail = detail
        self.method = method
        super().__init__(f"{method}: {detail}" if method else detail)


class MessageRefused(TelegramFailure):
    def __init__(self, kind: str, detail: str, method: str = "") -> None:
        super().__init__(detail, method)
        self.kind = kind


class NotAForum(TelegramFailure):
    pass


class FileTooBig(TelegramFailure):
    pass


class ChatGone(TelegramFailure):
    def __init__(self, chat: int, detail: str, method: str = "") -> None:
        super().__init__(detail, method)
        self.chat = chat


class FloodWait(TelegramFailure):
    transient = True

    def __init__(self, seconds: float, method: str = "") -> None:
        super().__init__(f"flood control: retry in {seconds:.0f}s", method)
        self.seconds = seconds


class TelegramUnavailable(TelegramFailure):
    transient = True


_CONTENT = (
    ("message is too long", "too_long"),
    ("text is too long", "too_long"),
    ("can't parse entities", "bad_entities"),
    ("message is not modified", "not_modified"),
    ("message to edit not found", "not_found"),
    ("message can't be edited", "not_found"),
)


def refusal(detail: str, method: str) -> TelegramFailure:
    """Our error for a 400 Bad Request, by Telegram's description."""
    lowered = detail.lower()
    if "not a forum" in lowered or "topics are disabled" in lowered:
        return NotAForum(detail, method)
    if "file is too big" in lowered:
        return FileTooBig(detail, method)
    for needle, kind in _CONTENT:
        if needle in lowered:
            return MessageRefused(kind, detail, method)
    return MessageRefused("other", detail, method)
