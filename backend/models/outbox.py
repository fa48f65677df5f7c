"""The notification outbox: written in the same transaction as the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    created_at: Mapped[datetime]
    # Recipient: a resident, a staff member, or a whole department of the community.
    recipient_type: Mapped[str] = mapped_column(String(12))  # resident | staff | department
    resident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("resident.id", ondelete="CASCADE"), nullable=True, index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), nullable=True, index=True
    )
    department: Mapped[str | None] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(40))  # message catalogue key, e.g. ticket.accepted
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed|unreachable
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
