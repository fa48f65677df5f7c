"""Per-chat dialogue state, kept in the database so a restart mid-form loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class DialogueState(Base):
    __tablename__ = "dialogue_state"
    __table_args__ = (UniqueConstraint("community_id", "channel", "chat_key"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    channel: Mapped[str] = mapped_column(String(20))
    chat_key: Mapped[str] = mapped_column(String(200))  # chat id, plus sender id in group chats
    identity_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("chat_identity.id", ondelete="CASCADE"), nullable=True, index=True
    )
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40), default="")
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stack: Mapped[list[Any]] = mapped_column(default=list)  # suspended flows: [{flow, step, slots}]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
