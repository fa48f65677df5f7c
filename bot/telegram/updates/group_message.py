"""A message in a group: the owners' group gets a ticket number and a private chat; work groups a reply."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from backend.catalogue import render
from bot.telegram import groups, media, send
from bot.telegram import inbound as tg_inbound
from bot.telegram.channel import TelegramChannel, Turn


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a resident who mentions or replies to the bot; leave other group chatter alone."""
    channel = TelegramChannel.of(context)
    message = update.effective_message
    if message is None:
        return
    me = channel.me(context.bot)
    if not tg_inbound.addressed(message, me):
        await asyncio.to_thread(channel.first_time, update.update_id)
        return  # not for us: nothing downloaded, nothing stored but the update id
    attachments = await media.attachments_of(message, context.bot, channel.settings.media_dir)
    inbound = tg_inbound.from_message(update, me, attachments)
    if inbound is None:
        return
    turn = await asyncio.to_thread(channel.converse, update.update_id, inbound)
    if turn is None or not turn.replies:
        return
    if turn.group_purpose == groups.OWNERS:
        await _continue_in_private(context, channel, turn, message.chat.id, int(inbound.sender_id),
                                   message.message_id, me.username)
        return
    for reply in turn.replies:  # a work group: staff commands are answered where they were typed
        await send.send(context.bot, channel.limiter, message.chat.id, reply, channel.settings.media_dir)


async def _continue_in_private(context: ContextTypes.DEFAULT_TYPE, channel: TelegramChannel, turn: Turn,
                               group_id: int, user_id: int, message_id: int, username: str) -> None:
    """Everything personal goes to the private chat; the group sees only the ticket number."""
    reached = True
    try:
        for reply in turn.replies:
            await send.send(context.bot, channel.limiter, user_id, reply, channel.settings.media_dir)
    except (Forbidden, BadRequest):  # the resident never started the bot (or blocked it)
        reached = False
    if turn.new_tickets:
        text = render("tg.group_ticket", number=turn.new_tickets[-1])
    else:
        text = render("tg.group_private" if reached else "tg.group_start_private")
    markup = None
    if not reached:
        link = f"https://t.me/{username}?start={turn.community_code}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(render("tg.button_private"), url=link)]])
    await send.call(channel.limiter, group_id, lambda: context.bot.send_message(
        chat_id=group_id, text=text, reply_markup=markup, reply_to_message_id=message_id,
        allow_sending_without_reply=True))
