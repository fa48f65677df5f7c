"""A message in a private chat: through the conversation, the replies back to the same chat."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram import inbound as tg_inbound
from bot.telegram import media, send
from bot.telegram.channel import TelegramChannel

MENU_COMMANDS = ("/menu", "/start")  # their replies show the menu as a reply keyboard


async def on_private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Converse with a resident or staff member in private and send the replies."""
    channel = TelegramChannel.of(context)
    message = update.effective_message
    if message is None:
        return
    attachments = await media.attachments_of(message, context.bot, channel.settings.media_dir)
    inbound = tg_inbound.from_message(update, channel.me(context.bot), attachments)
    if inbound is None:
        return
    turn = await asyncio.to_thread(channel.converse, update.update_id, inbound)
    if turn is None:
        return
    menu = inbound.text.split("@", 1)[0].split(" ", 1)[0].lower() in MENU_COMMANDS
    for reply in turn.replies:
        await send.send(context.bot, channel.limiter, message.chat.id, reply, channel.settings.media_dir,
                        reply_menu=menu and bool(reply.buttons))
