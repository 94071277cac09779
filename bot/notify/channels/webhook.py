"""Signed JSON over HTTP for SMS gateways and the hospital's paging system.

The payload and the signature are documented in deploy/paging/README.md. Every attempt at
one notification carries the same `id` and `Idempotency-Key`, so a gateway that keeps the
keys it has seen delivers a message once even when Jamie sends it twice (a crash after the
gateway answered but before Jamie recorded the answer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import httpx

from bot.notify.channels.base import DeliveryError, Notification
from bot.plan.model import Channel

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Jamie-Signature"
TIMESTAMP_HEADER = "X-Jamie-Timestamp"
_TRANSIENT_STATUS = {408, 425, 429}
_MAX_RETRY_AFTER = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def payload(notification: Notification) -> dict[str, object]:
    return {
        "id": notification.key,
        "channel": notification.channel.value,
        "to": notification.address,
        "contact": notification.contact,
        "name": notification.name,
        "language": notification.language,
        "kind": notification.kind,
        "incident": notification.incident_ref,
        "subject": notification.subject,
        "text": notification.text,
        "ack_url": notification.payload.get("ack_url"),
        "severity": notification.payload.get("severity"),
    }


class WebhookChannel:
    """POSTs each notification to one URL; the gateway routes by `channel`."""

    idempotent = True

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        serves: frozenset[Channel] | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._secret = secret
        self._serves = serves or frozenset(
            {Channel.SMS, Channel.CALL, Channel.PAGING, Channel.BROADCAST}
        )
        self._client = client or httpx.AsyncClient(timeout=timeout)

    @property
    def serves(self) -> frozenset[Channel]:
        return self._serves

    async def send(self, notification: Notification) -> None:
        body = json.dumps(payload(notification), ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notification.key,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self._secret, stamp, body),
        }
        started = time.monotonic()
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from exc
        log.info(
            "webhook POST notification=%d channel=%s status=%d in %.0fms",
            notification.id,
            notification.channel,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        _raise_for(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    transient = status >= 500 or status in _TRANSIENT_STATUS
    raise DeliveryError(
        f"webhook answered {status}",
        permanent=not transient,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _retry_after(value: str | None) -> timedelta | None:
    if value is None or not value.strip().isdigit():
        return None
    return timedelta(seconds=min(int(value), _MAX_RETRY_AFTER))
