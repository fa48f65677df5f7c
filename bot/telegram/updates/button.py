"""A pressed inline button: the conversation acts, the card is edited in place, the presser told privately."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from backend.catalogue import render
from bot.telegram import inbound as tg_inbound
from bot.telegram import limits, send
from bot.telegram.channel import TelegramChannel
from handlers.messages import Outbound

log = logging.getLogger("guanjia.telegram")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a callback query; an old, forged or foreign button is answered, never left spinning."""
    channel = TelegramChannel.of(context)
    query = update.callback_query
    inbound = tg_inbound.from_callback(update)
    if query is None or inbound is None:
        return
    turn = await asyncio.to_thread(channel.converse, update.update_id, inbound)
    if turn is None:
        await _answer(query)
        return
    edits = [r for r in turn.replies if r.meta.get("edit_of")]
    others = [r for r in turn.replies if not r.meta.get("edit_of")]
    message = query.message
    edited = False
    if edits and message is not None:
        card = edits[-1]
        holder = turn.holders.get(card.meta["edit_of"])
        if holder and inbound.is_group:
            card = Outbound(f"{card.text}\n{render('tg.taken_by', name=holder)}", card.buttons, meta=card.meta)
        edited = await send.edit(context.bot, channel.limiter, message.chat.id, message.message_id, card)
        if not edited:
            others.append(card)
    if inbound.is_group:
        notice = next((r.text for r in others if r.text), "")
        await _answer(query, notice, alert=True)
        for reply in others[1:] if notice else others:
            if reply.buttons or reply.private:  # a follow-up only the presser needs: to them, in private
                await _to_private(context, channel, int(inbound.sender_id), reply)
        return
    await _answer(query)
    for reply in others:
        await send.send(context.bot, channel.limiter, inbound.chat_id, reply, channel.settings.media_dir)


async def _answer(query, text: str = "", alert: bool = False) -> None:  # type: ignore[no-untyped-def]
    try:
        await query.answer(text[: limits.MAX_CALLBACK_ANSWER_LENGTH] or None, show_alert=alert and bool(text))
    except BadRequest as err:  # too old to answer (Telegram allows a few minutes)
        log.info("callback query not answered: %s", err.message)


async def _to_private(context: ContextTypes.DEFAULT_TYPE, channel: TelegramChannel, user_id: int,
                      reply: Outbound) -> None:
    try:
        await send.send(context.bot, channel.limiter, user_id, reply, channel.settings.media_dir)
    except (Forbidden, BadRequest):
        log.info("staff member has no private chat with the bot; follow-up not sent")
