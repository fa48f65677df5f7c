"""Channels whose client fetches its messages (web chat, terminal): delivery writes them to channel_message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
        """Idempotent per (notification, chat): a send retried after a crash finds the row it wrote."""
        chat_id = target.chat_id[:200]
        if notification_id is not None:
            existing = self._existing(chat_id, notification_id)
            if existing is not None:
                return SendResult.sent(str(existing))
        try:
            with transaction(self.session_factory) as session:
                row = ChannelMessage(channel=self.channel, chat_id=chat_id, pushed=True, body=message.as_json(),
                                     notification_id=notification_id, created_at=self.clock.now())
                session.add(row)
                session.flush()
                return SendResult.sent(str(row.id))
        except IntegrityError:  # the unique (notification, channel, chat) row exists: written once already
            existing = self._existing(chat_id, notification_id) if notification_id is not None else None
            if existing is None:
                raise
            return SendResult.sent(str(existing))

    def _existing(self, chat_id: str, notification_id: int) -> int | None:
        with self.session_factory() as session:
            return session.scalar(select(ChannelMessage.id).where(
                ChannelMessage.notification_id == notification_id, ChannelMessage.channel == self.channel,
                ChannelMessage.chat_id == chat_id))


def fetch(session: Session, channel: str, chat_id: str, after: int = 0, limit: int = MAX_FETCH) -> list[ChannelMessage]:
    """Messages pushed to a chat after the cursor (a message id), oldest first."""
    return list(session.scalars(
        select(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.chat_id == chat_id, ChannelMessage.id > after,
               ChannelMessage.pushed.is_(True))
        .order_by(ChannelMessage.id).limit(limit)
    ))
