"""Building the python-telegram-bot Application: Bot API base URL from settings, our handlers, bot commands."""

from __future__ import annotations

import asyncio

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder

from backend.catalogue import render
from backend.settings import Settings
from bot.telegram import logs
from bot.telegram.api import api_urls
from bot.telegram.channel import BOT_DATA_KEY, TelegramChannel
from bot.telegram.limiter import RateLimiter
from bot.telegram.updates import register
from handlers.conversation import Conversation

COMMANDS = ("start", "menu", "bind", "status", "cancel", "help")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def builder(settings: Settings) -> ApplicationBuilder:  # type: ignore[type-arg]
    if not settings.telegram_token:
        raise ValueError("GUANJIA_TELEGRAM_TOKEN is not set")
    logs.protect(settings.telegram_token)
    base_url, base_file_url = api_urls(settings)
    return Application.builder().token(settings.telegram_token).base_url(base_url).base_file_url(base_file_url)


def build_application(settings: Settings, conversation: Conversation, *, polling: bool = True,
                      limiter: RateLimiter | None = None) -> Application:  # type: ignore[type-arg]
    """The Application with every handler; `polling=False` for the webhook (no Updater)."""
    app_builder = builder(settings).post_init(set_commands)
    if not polling:
        app_builder = app_builder.updater(None)
    application = app_builder.build()
    application.bot_data[BOT_DATA_KEY] = TelegramChannel(conversation, settings, limiter)
    register(application)
    return application


def bot_commands(lang: str = "zh") -> list[BotCommand]:
    return [BotCommand(c, render(f"tg.cmd.{c}", lang)) for c in COMMANDS]


async def set_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Start-up: forget old update ids; the command menu next to the input field (Chinese, English for en)."""
    channel: TelegramChannel = application.bot_data[BOT_DATA_KEY]
    await asyncio.to_thread(channel.prune)
    await application.bot.set_my_commands(bot_commands("zh"))
    await application.bot.set_my_commands(bot_commands("en"), language_code="en")
