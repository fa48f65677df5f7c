"""What residents use besides tickets: binding requests, visitor passes, FAQ, events and sign-ups."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class BindRequest(Base):
    """A resident's request to be bound to a household whose registered phone did not match."""

    __tablename__ = "bind_request"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | approved | rejected
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class VisitorPass(Base):
    __tablename__ = "visitor_pass"
    __table_args__ = (Index("ix_visitor_pass_code", "community_id", "code"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("resident.id", ondelete="SET NULL"))
    visitor_name: Mapped[str] = mapped_column(String(50))
    people: Mapped[int] = mapped_column(default=1)
    plate: Mapped[str] = mapped_column(String(12), default="")
    code: Mapped[str] = mapped_column(String(6))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | cancelled | arrived
    arrived_at: Mapped[datetime | None]
    verified_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime]
    # The QR image's unguessable name (/media/pass/<token>.png), served only while the pass is live.
    image_token: Mapped[str] = mapped_column(String(48), default="", index=True)


class FaqEntry(Base):
    __tablename__ = "faq_entry"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(300), default="")  # space-separated extra match words
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class CommunityEvent(Base):
    __tablename__ = "community_event"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    signup_deadline: Mapped[datetime | None]
    capacity: Mapped[int | None]  # people, not households
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed | cancelled
    created_at: Mapped[datetime]
    fee: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # per person, paid on the day; None = free
    household_limit: Mapped[int | None]  # at most this many people per household (signed and waiting)
    # Who is invited, as for notices: {"community": true} | {"buildings": [...], "units": [...], "floors": [...]}
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the day-before reminder was queued (exactly once)


class EventSignup(Base):
    __tablename__ = "event_signup"
    __table_args__ = (UniqueConstraint("event_id", "resident_id"),
                      Index("ix_event_signup_checkin_code", "community_id", "checkin_code"))

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("community_event.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    people: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="signed")  # signed | waiting | withdrawn
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]  # also the place in the waiting list (earliest first)
    household_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("household.id", ondelete="SET NULL"), nullable=True, index=True)
    checkin_code: Mapped[str] = mapped_column(String(8), default="")  # shown at the door, typed or scanned
    # The QR image's unguessable name (/media/event/<token>.png), served only while the sign-up is live.
    image_token: Mapped[str] = mapped_column(String(48), default="", index=True)
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="SET NULL"),
                                                      nullable=True)


class ArrearsReminder(Base):
    """Per household: when it was last reminded of unpaid bills (催缴), and whether a resident opted out."""

    __tablename__ = "arrears_reminder"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"), unique=True)
    last_sent_at: Mapped[datetime | None]
    sent_count: Mapped[int] = mapped_column(default=0)
    opted_out_at: Mapped[datetime | None]
    opted_out_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("resident.id", ondelete="SET NULL"),
                                                     nullable=True)
