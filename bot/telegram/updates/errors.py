"""The one place handler errors end up: logged with context, the user answered politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from backend.catalogue import render

log = logging.getLogger("guanjia.telegram")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (no message text, no token) and apologise in private chats."""
    err = context.error
    update_id = getattr(update, "update_id", None)
    log.error("telegram update %s failed: %s", update_id, type(err).__name__, exc_info=err)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_chat.type != "private":
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.info("could not answer the failed callback query")
    channel = context.application.bot_data.get("guanjia")
    hotline = channel.settings.hotline if channel is not None else ""
    try:
        await context.bot.send_message(chat_id=update.effective_chat.id,
                                       text=render("chat.internal_error", hotline=hotline))
    except TelegramError:
        log.info("could not apologise to chat after a failure")
