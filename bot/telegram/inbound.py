"""A python-telegram-bot Update -> the channel-neutral Inbound (attachments downloaded by media.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.telegram import keyboards
from handlers.messages import Inbound, InboundAttachment

CHANNEL = "telegram"
_DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str  # without "@"


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def addressed(message: Message, me: BotIdentity) -> bool:
    """In a group: the bot was @mentioned, replied to, or given a /command@bot."""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == me.id:
        return True
    mention = f"@{me.username}".lower()
    try:
        entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.BOT_COMMAND]) if message.text else \
            message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.BOT_COMMAND])
    except UnicodeDecodeError:  # offsets that split a character: no mention we can read
        return False
    return any(value.lower() == mention or value.lower().endswith(mention) for value in entities.values())


def strip_mention(text: str, me: BotIdentity) -> str:
    return re.sub(rf"@{re.escape(me.username)}\b", "", text, flags=re.IGNORECASE).strip()


def location_of(message: Message) -> InboundAttachment | None:
    if message.venue is not None:
        venue = message.venue
        return InboundAttachment("location", latitude=venue.location.latitude, longitude=venue.location.longitude,
                                 label=" ".join(p for p in (venue.title, venue.address) if p))
    if message.location is not None:
        return InboundAttachment("location", latitude=message.location.latitude,
                                 longitude=message.location.longitude)
    return None


def from_message(update: Update, me: BotIdentity, attachments: tuple[InboundAttachment, ...] = ()) -> Inbound | None:
    """A new message (private or group); None for service messages and anonymous senders."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.is_bot:
        return None
    private = is_private(update)
    text = message.text or message.caption or ""
    payload, community = None, None
    if private and text.startswith("/start"):
        argument = text.partition(" ")[2].strip()
        community = argument.lower() if _DEEP_LINK.match(argument) else None
    elif private and text:
        payload = keyboards.payload_of_title(text)  # a reply-keyboard button was pressed
    is_addressed = True if private else addressed(message, me)
    if not private:
        text = strip_mention(text, me)
    return Inbound(
        channel=CHANNEL, chat_id=str(message.chat.id), sender_id=str(user.id),
        text="" if payload else text, payload=payload, attachments=attachments,
        received_at=message.date.replace(tzinfo=None) if message.date else None,
        message_id=str(message.message_id), display_name=(user.full_name or "")[:100], is_group=not private,
        addressed=is_addressed, community_code=community,
    )


def from_callback(update: Update) -> Inbound | None:
    """A pressed inline button: its callback_data is our payload (already ≤ 64 bytes)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return None
    message = query.message
    chat_id = str(message.chat.id) if message is not None else str(user.id)
    private = message is None or message.chat.type == ChatType.PRIVATE
    return Inbound(
        channel=CHANNEL, chat_id=chat_id, sender_id=str(user.id), payload=query.data or "",
        message_id=str(message.message_id) if message is not None else "", display_name=(user.full_name or "")[:100],
        is_group=not private, addressed=True,
    )
