"""The notification outbox: written in the same transaction as the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
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


class Delivery(Base):
    """One notification to one chat: claimed under the notification's fencing token, sent once.

    `sending` is written before the platform call and `sent` (with the platform's message id) after
    it, both only while `claim` is still the notification's claim; a row found `sending` by a later
    claim is a send that may have left before its worker died (counted in `in_doubt`).
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("notification_id", "target", name="uq_delivery_notification_target"),)

    id: Mapped[int] = pk()
    notification_id: Mapped[int] = mapped_column(BigId, ForeignKey("notification.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(230))  # "<channel>:<chat id>"
    status: Mapped[str] = mapped_column(String(12))  # sending | sent | retry | unreachable
    claim: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=1)
    in_doubt: Mapped[int] = mapped_column(default=0)
    external_id: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime]
