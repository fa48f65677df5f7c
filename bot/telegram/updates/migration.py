"""A group became a supergroup (new chat id): its registration moves with it."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.channel import TelegramChannel


async def on_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move the GroupChat row to the supergroup's id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    channel = TelegramChannel.of(context)
    await asyncio.to_thread(channel.migrated, update.update_id, str(message.chat.id), str(message.migrate_to_chat_id))
