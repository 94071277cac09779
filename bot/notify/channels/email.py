"""E-mail over SMTP (aiosmtplib). The Message-ID is derived from the notification's key, so
every attempt at one message carries the same id; SMTP itself has no way to refuse a
repeat, so a crash after the server accepted a message but before Jamie recorded it sends
it again (at-least-once). Mail clients show such a repeat as the same message."""

from __future__ import annotations

import hashlib
import logging
import time
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from bot.notify.channels.base import DeliveryError, Notification
from bot.plan.model import Channel

log = logging.getLogger(__name__)


class EmailChannel:
    idempotent = False
    serves = frozenset({Channel.EMAIL})

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def message(self, notification: Notification) -> EmailMessage:
        domain = self._sender.rpartition("@")[2] or "jamie.local"
        digest = hashlib.sha256(notification.key.encode()).hexdigest()[:32]
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = notification.address
        message["Subject"] = notification.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<jamie.{digest}@{domain}>"
        message["X-Jamie-Notification"] = notification.key
        message.set_content(notification.text)  # replaces any Content-* header set before
        message["Content-Language"] = notification.language
        return message

    async def send(self, notification: Notification) -> None:
        started = time.monotonic()
        try:
            await aiosmtplib.send(
                self.message(notification),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("recipient refused", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.code}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP unreachable ({type(exc).__name__})") from exc
        log.info(
            "smtp send notification=%d to %s:%d in %.0fms",
            notification.id,
            self._host,
            self._port,
            (time.monotonic() - started) * 1000,
        )
