"""/register_group [department] in a group, by a bound manager or supervisor."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram import send
from bot.telegram.channel import TelegramChannel


async def on_register_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register the group as a department's work group, or (no argument, the manager) the owners' group."""
    channel = TelegramChannel.of(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    argument = " ".join(context.args or [])
    reply = await asyncio.to_thread(channel.register_group, update.update_id, str(user.id), str(message.chat.id),
                                    message.chat.title or "", argument)
    if reply:
        await send.call(channel.limiter, message.chat.id, lambda: context.bot.send_message(
            chat_id=message.chat.id, text=reply, reply_to_message_id=message.message_id,
            allow_sending_without_reply=True))
