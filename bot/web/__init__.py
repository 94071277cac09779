"""The HTTP side: one ASGI app for health, metrics and the transports' webhooks."""
