"""Alerts in, incidents out: Prometheus Alertmanager's webhook, a durable spool, and the
processor that turns each alert (by its own status and fingerprint) into incident changes.

    intake.py      the HTTP route: token, size, validation, spool, 200
    payload.py     the version-4 webhook payload and its validation
    spool.py       notifications stored on disk before the 200, until processed
    processor.py   drains the spool, retrying while the database is busy
    tracker.py     per-alert state: open, join, refresh, resolve, reopen, recur
    policy.py      the plan's `alerts:` section: severity mapping, conversations, reopening
    notes.py       timeline entries and their posts for things Jamie observes
"""
