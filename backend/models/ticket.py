"""Tickets, their categories, append-only history and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, BigId, community_fk, pk


class TicketCategory(Base):
    __tablename__ = "ticket_category"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    code: Mapped[str] = mapped_column(String(30))  # plumbing, electrical, lift, noise, ...
    name_zh: Mapped[str] = mapped_column(String(30))
    name_en: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))  # default kind this category belongs to
    department: Mapped[str] = mapped_column(String(30))
    respond_minutes: Mapped[int]
    resolve_minutes: Mapped[int]
    satisfaction_area: Mapped[str] = mapped_column(String(20))  # safety | environment | community
    version: Mapped[int] = mapped_column(default=1)  # optimistic concurrency of console edits


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        # Open work is a small slice of all tickets: partial indexes keep the task lists fast.
        Index("ix_ticket_assignee_open", "assignee_id", "created_at", postgresql_where=text("is_open"),
              sqlite_where=text("is_open")),
        Index("ix_ticket_owner_open", "owner_id", "created_at", postgresql_where=text("is_open"),
              sqlite_where=text("is_open")),
        Index("ix_ticket_next_check", "next_check_at", postgresql_where=text("next_check_at IS NOT NULL"),
              sqlite_where=text("next_check_at IS NOT NULL")),
        Index("ix_ticket_dept_open", "community_id", "department", "is_open"),
        Index("ix_ticket_reporter", "reporter_id", "is_open"),
        Index("ix_ticket_community_created", "community_id", "created_at"),  # KPI dashboard: a period's tickets
    )

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    number: Mapped[int]  # per-community sequence, shown as #1024
    kind: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket_category.id"))
    department: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    is_open: Mapped[bool] = mapped_column(default=True)
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # normal | high | urgent
    household_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("household.id", ondelete="SET NULL"), nullable=True, index=True
    )
    building_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("building.id", ondelete="SET NULL"), nullable=True
    )
    reporter_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("resident.id", ondelete="SET NULL"), nullable=True
    )
    reporter_channel: Mapped[str] = mapped_column(String(20), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    preferred_time: Mapped[str] = mapped_column(String(50), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), nullable=True)
    respond_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Escalation ladder: 0 none, 1 owner reminded, 2 supervisor, 3 project manager.
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalation_deadline: Mapped[str] = mapped_column(String(10), default="respond")  # respond | resolve
    next_check_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    last_chased_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    category: Mapped[TicketCategory] = relationship(lazy="selectin")


class TicketEvent(Base):
    """Append-only history: who did what to a ticket, when, with what note."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20))
    actor_type: Mapped[str] = mapped_column(String(10))  # resident | staff | system
    actor_staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), nullable=True)
    actor_resident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("resident.id", ondelete="SET NULL"), nullable=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Attachment(Base):
    """A photo or document kept on a ticket (stored under the media directory)."""

    __tablename__ = "attachment"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ticket_event.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(10), default="photo")
    url: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(50), default="image/jpeg")
    created_at: Mapped[datetime]
