"""Telegram channel on python-telegram-bot v22: updates in (polling or webhook), replies and the outbox out."""
