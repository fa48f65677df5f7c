"""The bot's own membership changed: removed from a group -> the group is deactivated; added -> a hello."""

from __future__ import annotations

import asyncio

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.telegram import send
from bot.telegram.channel import TelegramChannel

GONE = (ChatMember.LEFT, ChatMember.BANNED)
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


async def on_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Track my_chat_member updates for groups and channels."""
    channel = TelegramChannel.of(context)
    change = update.my_chat_member
    if change is None or change.chat.type == "private":
        if change is not None:
            await asyncio.to_thread(channel.first_time, update.update_id)
        return
    chat_id = str(change.chat.id)
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if new in GONE:
        await asyncio.to_thread(channel.left_group, update.update_id, chat_id)
        return
    if new in PRESENT and old in GONE and change.chat.type != "channel":
        hello = await asyncio.to_thread(channel.joined_group, update.update_id, chat_id)
        if hello:
            await send.call(channel.limiter, chat_id, lambda: context.bot.send_message(chat_id=chat_id, text=hello))
        return
    await asyncio.to_thread(channel.first_time, update.update_id)
