"""Notifications to people, one interface for every way of reaching them.

    base.py        Notification, the NotificationChannel protocol, DeliveryError
    queue.py       writing notifications in the caller's transaction; who is reachable how
    email.py       e-mail over SMTP
    webhook.py     signed JSON over HTTP: SMS gateways and the hospital's paging system
    chat.py        a direct message in a chat transport, through the conversation outbox
    dispatcher.py  claims and delivers queued notifications; records failures on the timeline

A channel translates its library's errors into DeliveryError once, at its boundary:
`permanent` when retrying cannot help (a refused address, a 4xx from the gateway),
otherwise transient, optionally with the `retry_after` the far end asked for.
"""

from bot.notify.channels.base import DeliveryError, Notification, NotificationChannel

__all__ = ["DeliveryError", "Notification", "NotificationChannel"]
