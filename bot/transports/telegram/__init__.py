"""Jamie on Telegram: python-telegram-bot, incident topics, cards, and voice notes (app.py)."""
