"""A local Telegram Bot API for tests: the methods Jamie uses and file downloads, served by
aiohttp on an ephemeral 127.0.0.1 port, with long polling for getUpdates.

It keeps chats (private, groups, supergroups with or without topics), messages with their
parse mode and keyboards, forum topics, files, the command menus and a queue of updates,
and answers like Telegram: 400 for a message over 4096 characters or HTML it cannot parse,
400 with `migrate_to_chat_id` for a group upgraded to a supergroup, 403 for a chat that
removed the bot, 400 for a file over 20 MB. `fail(method, status, description, ...)`
makes a method fail the next times it is called (429 with `retry_after` for flood
control). A method it does not know is recorded in `unexpected` and answered 404, so a
test notices calls it did not plan for.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_ID = 7000
BOT_USERNAME = "JamieTestBot"
DOWNLOAD_LIMIT = 20 * 1024 * 1024
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
         "tg-spoiler", "span", "blockquote"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z-]*)([^<>]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_JSON_FIELDS = {"reply_markup", "reply_parameters", "commands", "scope", "allowed_updates",
                "link_preview_options", "entities"}  # fmt: skip


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Failure:
    status: int
    description: str
    times: int
    parameters: dict[str, Any] | None = None
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Chat:
    id: int
    type: str  # private, group, supergroup
    title: str = ""
    is_forum: bool = False
    kicked: bool = False
    migrated_to: int | None = None
    topics: dict[int, str] = field(default_factory=dict)


@dataclass
class Sent:
    """A message Jamie sent, as Telegram holds it now (edits change it in place)."""

    chat: int
    message_id: int
    text: str
    parse_mode: str | None
    thread: int | None
    reply_markup: dict[str, Any] | None
    reply_to: int | None = None
    document: bytes | None = None
    file_name: str | None = None
    edits: int = 0

    @property
    def plain(self) -> str:
        return _plain(self.text) if self.parse_mode == "HTML" else self.text

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    @property
    def force_reply(self) -> bool:
        return bool((self.reply_markup or {}).get("force_reply"))


class TelegramDouble:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.unexpected: list[str] = []
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], Sent] = {}
        self.files: dict[str, tuple[bytes, int]] = {}
        self.commands: dict[str | None, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._failures: dict[str, list[Failure]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._new_update = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post(r"/bot{token}/{method}", self._api)
        app.router.add_get(r"/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests set up ----------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str, language_code: str = "pt-br") -> None:
        self.users[user_id] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": first_name.lower(),
            "language_code": language_code,
        }
        self.chats[user_id] = Chat(user_id, "private")  # fmt: skip

    def add_group(self, chat_id: int, title: str, *, forum: bool = False) -> Chat:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        self.chats[chat_id] = Chat(chat_id, kind, title, is_forum=forum)
        return self.chats[chat_id]

    def add_file(self, file_id: str, data: bytes, *, size: int | None = None) -> None:
        self.files[file_id] = (data, len(data) if size is None else size)

    def fail(
        self, method: str, status: int, description: str, *, times: int = 1,
        parameters: dict[str, Any] | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:  # fmt: skip
        self._failures.setdefault(method, []).append(
            Failure(status, description, times, parameters, when)
        )

    def upgrade(self, group: int, supergroup: int) -> None:
        """The group becomes a supergroup with a new id; the old id answers 400."""
        old = self.chats[group]
        old.migrated_to = supergroup
        self.add_group(supergroup, old.title)

    # -- updates (what people do) ---------------------------------------------------------

    async def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        async with self._new_update:
            self._updates.append(update)
            self._new_update.notify_all()
        return update

    def message_payload(
        self, chat: int, user: int, *, text: str | None = None, thread: int | None = None,
        reply_to: int | None = None, **extra: Any,
    ) -> dict[str, Any]:  # fmt: skip
        message_id = next(self._message_ids)
        payload: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()), "chat": self._chat_json(chat),
            "from": self.users[user], **extra,
        }  # fmt: skip
        if text is not None:
            payload["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                payload["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if thread is not None:
            payload.update(message_thread_id=thread, is_topic_message=True)
        if reply_to is not None:
            payload["reply_to_message"] = self._message_json(self.messages[(chat, reply_to)])
        return payload

    async def say(self, chat: int, user: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return await self.push("message", self.message_payload(chat, user, text=text, **kwargs))

    async def voice(
        self, chat: int, user: int, file_id: str, *, duration: int = 5, size: int | None = None,
        caption: str | None = None, thread: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        _data, stored = self.files[file_id]
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": size if size is not None else stored,
        }
        extra: dict[str, Any] = {"voice": voice}  # fmt: skip
        if caption:
            extra["caption"] = caption
        return await self.push("message", self.message_payload(chat, user, thread=thread, **extra))

    async def press(self, sent: Sent, user: int, data: str) -> dict[str, Any]:
        query = {
            "id": f"cb{next(self._update_ids)}",
            "from": self.users[user],
            "message": self._message_json(sent),
            "chat_instance": "ci-1",
            "data": data,
        }
        return await self.push("callback_query", query)  # fmt: skip

    async def remove_bot(self, chat: int, by: int) -> None:
        self.chats[chat].kicked = True
        member = {
            "chat": self._chat_json(chat),
            "from": self.users[by],
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": self._bot()},
            "new_chat_member": {"status": "kicked", "user": self._bot(), "until_date": 0},
        }
        await self.push("my_chat_member", member)  # fmt: skip

    # -- reading what Jamie did -----------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def sent_to(
        self,
        chat: int,
        thread: int | None = ...,  # type: ignore[assignment]
    ) -> list[Sent]:
        return [
            m for m in self.messages.values()
            if m.chat == chat and (thread is ... or m.thread == thread)
        ]  # fmt: skip

    def texts(self, chat: int, thread: int | None = ...) -> list[str]:  # type: ignore[assignment]
        return [m.plain for m in self.sent_to(chat, thread)]

    def pending_updates(self) -> int:
        return len(self._updates)

    # -- the Bot API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        failure = self._failure(method, params)
        if failure is not None:
            return _error(failure.status, failure.description, failure.parameters)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self.unexpected.append(method)
            return _error(404, "Not Found")
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response({"ok": True, "result": result})

    def _failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self._failures.get(method, []):
            if failure.times > 0 and (failure.when is None or failure.when(params)):
                failure.times -= 1
                return failure
        return None

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands[params.get("language_code")] = params["commands"]
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._new_update:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
            return list(self._updates)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        refused = self._refuse(chat_id, params)
        if refused is not None:
            return refused
        text, parse_mode = str(params["text"]), params.get("parse_mode")
        problem = _check_text(text, parse_mode)
        if problem is not None:
            return _error(400, problem)
        reply = (params.get("reply_parameters") or {}).get("message_id")
        sent = self._store(chat_id, params, text=text, parse_mode=parse_mode, reply_to=reply)
        return self._message_json(sent)

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        refused = self._refuse(chat_id, params)
        if refused is not None:
            return refused
        document = params["document"]
        sent = self._store(
            chat_id, params, text=str(params.get("caption") or ""), parse_mode=None,
            document=document.file.read(), file_name=document.filename,
        )  # fmt: skip
        return self._message_json(sent)

    def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        refused = self._refuse(chat_id, {})
        if refused is not None:
            return refused
        sent = self.messages.get((chat_id, message_id))
        if sent is None:
            return _error(400, "Bad Request: message to edit not found")
        text, parse_mode = str(params["text"]), params.get("parse_mode")
        problem = _check_text(text, parse_mode)
        if problem is not None:
            return _error(400, problem)
        markup = params.get("reply_markup")
        if (text, parse_mode, markup) == (sent.text, sent.parse_mode, sent.reply_markup):
            return _error(400, "Bad Request: message is not modified: specified new message "
                          "content and reply markup are exactly the same")  # fmt: skip
        sent.text, sent.parse_mode, sent.reply_markup = text, parse_mode, markup
        sent.edits += 1
        return self._message_json(sent)

    def _m_createForumTopic(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        refused = self._refuse(chat_id, {})
        if refused is not None:
            return refused
        chat = self.chats[chat_id]
        if not chat.is_forum:
            return _error(400, "Bad Request: the chat is not a forum")
        thread = next(self._message_ids)
        chat.topics[thread] = str(params["name"])
        return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        _data, size = self.files[file_id]
        if size > DOWNLOAD_LIMIT:
            return _error(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": size,
                "file_path": f"voice/{file_id}.oga"}  # fmt: skip

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        name = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".oga")
        self.calls.append(Call("download", {"path": request.match_info["path"]},
                               time.monotonic()))  # fmt: skip
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name][0], content_type="audio/ogg")

    # -- internals ------------------------------------------------------------------------

    def _refuse(self, chat_id: int, params: dict[str, Any]) -> web.Response | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return _error(400, "Bad Request: chat not found")
        if chat.kicked:
            kind = "user" if chat.type == "private" else "group chat"
            verb = "blocked by the user" if chat.type == "private" else "kicked from the " + kind
            return _error(403, f"Forbidden: bot was {verb}")
        if chat.migrated_to is not None:
            return _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": chat.migrated_to})  # fmt: skip
        thread = params.get("message_thread_id")
        if thread is not None and int(thread) not in chat.topics:
            return _error(400, "Bad Request: message thread not found")
        return None

    def _store(self, chat_id: int, params: dict[str, Any], **values: Any) -> Sent:
        thread = params.get("message_thread_id")
        sent = Sent(
            chat=chat_id, message_id=next(self._message_ids),
            thread=int(thread) if thread is not None else None,
            reply_markup=params.get("reply_markup"), **values,
        )  # fmt: skip
        self.messages[(chat_id, sent.message_id)] = sent
        return sent

    def _bot(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Jamie", "username": BOT_USERNAME}

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        chat = self.chats[chat_id]
        found: dict[str, Any] = {"id": chat.id, "type": chat.type}
        if chat.type == "private":
            found["first_name"] = self.users[chat.id]["first_name"]
        else:
            found["title"] = chat.title
        if chat.is_forum:
            found["is_forum"] = True
        return found

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        found: dict[str, Any] = {
            "message_id": sent.message_id, "date": int(time.time()),
            "chat": self._chat_json(sent.chat), "from": self._bot(),
        }  # fmt: skip
        if sent.document is not None:
            found["document"] = {"file_id": f"doc{sent.message_id}", "file_unique_id": "d",
                                 "file_name": sent.file_name}  # fmt: skip
            if sent.text:
                found["caption"] = sent.text
        else:
            found["text"] = sent.plain
        if sent.thread is not None:
            found.update(message_thread_id=sent.thread, is_topic_message=True)
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            found["reply_markup"] = sent.reply_markup  # Telegram shows only inline keyboards
        return found


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data: dict[str, Any] = await request.json()
        return data
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, str) and key in _JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _check_text(text: str, parse_mode: str | None) -> str | None:
    """Telegram's refusal for a text, or None: bad HTML first, then the length."""
    if parse_mode == "HTML":
        problem = _check_html(text)
        if problem:
            return f"Bad Request: can't parse entities: {problem}"
    plain = _plain(text) if parse_mode == "HTML" else text
    if not plain.strip():
        return "Bad Request: message text is empty"
    if len(plain.encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    return None


def _check_html(text: str) -> str | None:
    open_tags: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        stray = text[position : match.start()]
        if "<" in stray or ">" in stray or _bad_ampersand(stray):
            return f"Unexpected character at byte offset {position}"
        closing, name = match.group(1), match.group(2).lower()
        if name not in _TAGS:
            return f'Unsupported start tag "{name}" at byte offset {match.start()}'
        if closing:
            if not open_tags or open_tags.pop() != name:
                return f'Unmatched end tag at byte offset {match.start()}, expected "</{name}>"'
        else:
            open_tags.append(name)
        position = match.end()
    rest = text[position:]
    if "<" in rest or ">" in rest or _bad_ampersand(rest):
        return f"Unexpected character at byte offset {position}"
    if open_tags:
        return f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"'
    return None


def _bad_ampersand(text: str) -> bool:
    return any(not _ENTITY.match(text, i) for i, ch in enumerate(text) if ch == "&")
