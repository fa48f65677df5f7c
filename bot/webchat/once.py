"""A web chat message that carries a client `message_id` is handled once, however often it is sent.

The key (user + message id) is inserted in the same transaction as the conversation turn and holds
the replies. A client that lost the answer (a dropped connection, a server killed mid-request) sends
the message again, to the same or another server process: if the first turn committed, the retry
gets its replies back and nothing happens twice; if it did not, nothing of it remains and the retry
is the turn. Concurrent copies wait on the key's unique index and then read the winner's replies.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import ProcessedUpdate
from bot.reply_cache import dump, load
from bot.webchat import CHANNEL
from handlers.conversation import Conversation
from handlers.messages import Inbound, Outbound

RETENTION = timedelta(days=2)  # a client retries within seconds; two days covers a phone left offline


def key_of(user: str, message_id: str) -> str:
    return f"{user}:{message_id}"[:200]


def handle(conversation: Conversation, session_factory: sessionmaker[Session], clock: Clock, inbound: Inbound,
           message_id: str) -> list[Outbound]:
    key = key_of(inbound.sender_id, message_id)
    with transaction(session_factory) as session:
        try:
            with session.begin_nested():
                session.add(ProcessedUpdate(channel=CHANNEL, key=key, created_at=clock.now(),
                                            response={"state": "processing"}))
                session.flush()
        except IntegrityError:  # handled before (or just now, by a copy that won the race)
            response = session.scalar(select(ProcessedUpdate.response).where(
                ProcessedUpdate.channel == CHANNEL, ProcessedUpdate.key == key)) or {}
            return load(response.get("replies") or [])
        replies = conversation.handle_in(session, inbound)
        session.execute(update(ProcessedUpdate)
                        .where(ProcessedUpdate.channel == CHANNEL, ProcessedUpdate.key == key)
                        .values(response={"state": "done", "replies": dump(replies)}))
        return replies


def prune(session: Session, clock: Clock) -> int:
    """Forget message ids past the retention window."""
    return session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.channel == CHANNEL,
                                                         ProcessedUpdate.created_at < clock.now() - RETENTION)
                           ).rowcount  # type: ignore[attr-defined]
