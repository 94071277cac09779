"""Local doubles for the people's channels: an HTTP webhook receiver (the SMS gateway and
paging system), an SMTP server (aiosmtpd), and an in-process recording channel. All bind
to 127.0.0.1 on ephemeral ports, record what they receive, and fail on request."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.notify.channels.base import DeliveryError, Notification
from bot.notify.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.plan.model import Channel

SECRET = "test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    signed: bool


class WebhookReceiver:
    """The hospital's gateway as a double: checks the HMAC, keeps the Idempotency-Keys it
    has seen (a repeat is answered 200 and not delivered again), answers `fail_with` to the
    next `failures` requests, or always to messages for `refuse` addresses."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.requests: list[Received] = []
        self.delivered: list[dict[str, Any]] = []
        self.failures = 0
        self.fail_with = 503
        self.refuse: set[str] = set()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver._receive(self, raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.request_queue_size = 128  # the dispatcher sends 16 at a time
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/notify"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _receive(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        stamp = handler.headers.get(TIMESTAMP_HEADER, "")
        signed = handler.headers.get(SIGNATURE_HEADER) == sign(self.secret, stamp, raw)
        body = json.loads(raw)
        with self._lock:
            self.requests.append(Received(dict(handler.headers.items()), body, signed))
            status = 200
            if not signed:
                status = 401
            elif body["to"] in self.refuse:
                status = 400
            elif self.failures > 0:
                self.failures -= 1
                status = self.fail_with
            else:
                key = handler.headers.get("Idempotency-Key", "")
                if key not in self._seen:
                    self._seen.add(key)
                    self.delivered.append(body)
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, address: str) -> list[dict[str, Any]]:
        with self._lock:
            return [b for b in self.delivered if b["to"] == address]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content, policy=policy.default))
        self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1: every message it accepts, parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self._mailbox = _Mailbox()
        self._controller = Controller(self._mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self._mailbox.messages

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class RecordingChannel:
    """Every channel at once, in process; `down` contacts fail transiently, `refused`
    contacts permanently."""

    serves: frozenset[Channel] = frozenset(
        {Channel.SMS, Channel.CALL, Channel.PAGING, Channel.BROADCAST, Channel.EMAIL}
    )
    idempotent: bool = True
    sent: list[Notification] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)

    async def send(self, notification: Notification) -> None:
        if notification.contact in self.refused:
            raise DeliveryError("address refused", permanent=True)
        if notification.contact in self.down:
            raise DeliveryError("gateway unreachable")
        self.sent.append(notification)

    def to(self, contact: str, kind: str | None = None) -> list[Notification]:
        return [n for n in self.sent if n.contact == contact and kind in (None, n.kind)]

    def kinds(self) -> list[str]:
        return [n.kind for n in self.sent]
