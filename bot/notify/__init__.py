"""Outgoing messages: the transactional outbox and the dispatcher that delivers it."""
