"""The Bot API endpoint from settings (GUANJIA_TELEGRAM_API_URL: api.telegram.org or a local Bot API server)."""

from __future__ import annotations

from telegram import Bot

from backend.settings import Settings
from bot.telegram import logs


def api_urls(settings: Settings) -> tuple[str, str]:
    """(base_url, base_file_url) as PTB wants them: the token is appended to each."""
    api = settings.telegram_api_url.rstrip("/")
    return f"{api}/bot", f"{api}/file/bot"


def make_bot(settings: Settings) -> Bot:
    """A bare Bot (not initialised) for the configured token and endpoint; the token is kept out of logs."""
    if not settings.telegram_token:
        raise ValueError("GUANJIA_TELEGRAM_TOKEN is not set")
    logs.protect(settings.telegram_token)
    base_url, base_file_url = api_urls(settings)
    return Bot(settings.telegram_token, base_url=base_url, base_file_url=base_file_url)
