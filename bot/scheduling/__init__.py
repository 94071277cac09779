"""Scheduled work: the status-update sweep, run by APScheduler behind a small facade."""
