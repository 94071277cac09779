"""Use cases: each is one transaction (state change, timeline entry, outbox rows)."""
