"""Telegram channel on python-telegram-bot v22: updates in (polling or webhook), replies and the outbox out."""

import os

# Opt in to PTB's future behaviour (durations as timedelta, e.g. RetryAfter.retry_after) instead of a
# deprecation warning on every 429; our code reads both forms (bot.telegram.send.retry_seconds).
os.environ.setdefault("PTB_TIMEDELTA", "true")
