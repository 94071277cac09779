"""Where a Telegram message goes: a chat, and in a forum supergroup, a topic (thread).

Jamie stores a Telegram conversation's address as `"<chat_id>"` or
`"<chat_id>:<thread_id>"`; `Place` converts between that and the Bot API's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message

from bot.domain.enums import Transport
from bot.domain.people import ConversationRef


@dataclass(frozen=True, slots=True)
class Place:
    chat: int
    thread: int | None = None

    @property
    def address(self) -> str:
        return str(self.chat) if self.thread is None else f"{self.chat}:{self.thread}"

    @property
    def conversation(self) -> ConversationRef:
        return ConversationRef(Transport.TELEGRAM, self.address)

    def moved(self, chat: int) -> Place:
        return Place(chat, self.thread)

    @property
    def link(self) -> str | None:
        """A t.me link to the topic, for supergroups (ids -100…); None otherwise."""
        text = str(self.chat)
        if not text.startswith("-100") or self.thread is None:
            return None
        return f"https://t.me/c/{text[4:]}/{self.thread}"

    @classmethod
    def parse(cls, address: str) -> Place:
        chat, _, thread = address.partition(":")
        return cls(int(chat), int(thread) if thread else None)

    @classmethod
    def of(cls, message: Message) -> Place:
        """The message's chat, and its topic when it was sent in one. (Replies in groups
        without topics carry a message_thread_id too; only `is_topic_message` means a topic.)"""
        thread = message.message_thread_id if message.is_topic_message else None
        return cls(message.chat_id, thread)
