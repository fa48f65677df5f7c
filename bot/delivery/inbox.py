"""Channels whose client fetches its messages (web chat, terminal): delivery writes them to channel_message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import ChannelMessage
from bot.delivery.sender import SendResult, Target
from handlers.messages import Outbound

MAX_FETCH = 100


class InboxSender:
    def __init__(self, channel: str, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.channel = channel
        self.session_factory = session_factory
        self.clock = clock

    def send(self, target: Target, message: Outbound, notification_id: int | None = None) -> SendResult:
        with transaction(self.session_factory) as session:
            row = ChannelMessage(channel=self.channel, chat_id=target.chat_id[:200], pushed=True,
                                 body=message.as_json(), notification_id=notification_id, created_at=self.clock.now())
            session.add(row)
            session.flush()
            return SendResult.sent(str(row.id))


def fetch(session: Session, channel: str, chat_id: str, after: int = 0, limit: int = MAX_FETCH) -> list[ChannelMessage]:
    """Messages pushed to a chat after the cursor (a message id), oldest first."""
    return list(session.scalars(
        select(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.chat_id == chat_id, ChannelMessage.id > after,
               ChannelMessage.pushed.is_(True))
        .order_by(ChannelMessage.id).limit(limit)
    ))
