"""An edited message: we do not re-run it (it may already have opened a ticket); in private we say so."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from backend.catalogue import render
from bot.telegram import send
from bot.telegram.channel import TelegramChannel
from bot.telegram.inbound import is_private


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for a new message instead of an edit (private chats only)."""
    channel = TelegramChannel.of(context)
    message = update.effective_message
    if message is None or not await asyncio.to_thread(channel.first_time, update.update_id):
        return
    if is_private(update):
        await send.call(channel.limiter, message.chat.id, lambda: context.bot.send_message(
            chat_id=message.chat.id, text=render("tg.edited_ignored"), reply_to_message_id=message.message_id,
            allow_sending_without_reply=True))
