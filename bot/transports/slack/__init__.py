"""Slack: incident channels, slash commands and live incident cards (see app.py)."""
