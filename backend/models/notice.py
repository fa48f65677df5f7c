"""Notices and event invitations the office pushes, and their delivery record per recipient and chat.

A notice is composed once (title, body, category, targets, timing) and fanned out, in batches, into
one `notice_delivery` row per (notice, recipient, channel chat). The broadcast engine claims those rows
under a fencing token, sends them within each platform's limits and records the outcome; a resident
nobody can reach gets a row too (`unreachable`, with the reason), so the report shows everyone.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


def new_page_token() -> str:
    """The unguessable name of a notice's public page (/n/<token>): 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


class Notice(Base):
    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_due", "status", "scheduled_at"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    # notice | invitation | event_update | event_reminder | disclosure
    kind: Mapped[str] = mapped_column(String(16), default="notice")
    # outage (停水停电/设施维护) | safety (安全提示) | fee (费用) | event (社区活动) | tip (温馨提示)
    category: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    image_path: Mapped[str] = mapped_column(String(300), default="")  # under settings.media_dir
    attachment_path: Mapped[str] = mapped_column(String(300), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    # Who it is for, as composed: {"community": true} | {"buildings": [...], "units": [...], "floors": [...],
    # "arrears": true, "event_id": n, "departments": [...], "groups": true}
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("community_event.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # draft | scheduled | fanning | sending | sent | cancelled
    status: Mapped[str] = mapped_column(String(12), default="draft")
    scheduled_at: Mapped[datetime | None]  # when to send; None while a draft
    expires_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # fan-out finished
    recipients: Mapped[int] = mapped_column(default=0)  # delivery rows made by the fan-out
    # Fan-out progress, so a crashed fan-out resumes where it stopped (last resident id done).
    fanout_cursor: Mapped[int] = mapped_column(BigId, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # Its public read-only page /n/<page_token> (the WeChat template's link), made with the notice.
    page_token: Mapped[str] = mapped_column(String(48), unique=True, default=new_page_token)


OPEN_ROWS = "status IN ('queued', 'sending')"


class NoticeDelivery(Base):
    """One notice to one chat of one recipient (a resident, a staff member or a group)."""

    __tablename__ = "notice_delivery"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", "chat_id", name="uq_notice_delivery_notice_chat"),
        # Only the open rows (a broadcast's rows leave it when they are final): the engine claims from it.
        # Few indexes, because every row is updated three times on its way (claimed, marked, recorded); the
        # engine renews and releases a claim by its rows' ids, and the unique index serves `notice_id`.
        Index("ix_notice_delivery_due", "status", "priority", "next_attempt_at",
              postgresql_where=text(OPEN_ROWS), sqlite_where=text(OPEN_ROWS)),
    )

    id: Mapped[int] = pk()
    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("notice.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("resident.id", ondelete="CASCADE"), nullable=True, index=True
    )
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), nullable=True)
    group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("group_chat.id", ondelete="CASCADE"), nullable=True)
    identity_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("chat_identity.id", ondelete="SET NULL"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(20))  # telegram | wechat | wecom | web | none
    chat_id: Mapped[str] = mapped_column(String(200))  # "resident:<id>" when channel is none
    # queued | sending | sent | failed | unreachable
    status: Mapped[str] = mapped_column(String(12), default="queued")
    priority: Mapped[int] = mapped_column(default=5)  # lower goes first: urgent notices are 0
    attempts: Mapped[int] = mapped_column(default=0)
    in_doubt: Mapped[int] = mapped_column(default=0)  # sends that may have left before a worker died
    next_attempt_at: Mapped[datetime]
    claim: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]  # the resident pressed "收到"
    via: Mapped[str] = mapped_column(String(20), default="")  # e.g. customer_service | template | private | group
    external_id: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(String(300), default="")
    # WeChat: a notice too long for one customer-service message goes as parts_total numbered parts; parts_sent
    # of them reached the platform (written by bot/wechat/notice_sender.py after each part), so a retry never
    # sends one twice.
    parts_sent: Mapped[int] = mapped_column(default=0)
    parts_total: Mapped[int] = mapped_column(default=0)


class NoticeMute(Base):
    """A resident's choice not to receive a category of notices (never safety)."""

    __tablename__ = "notice_mute"
    __table_args__ = (UniqueConstraint("resident_id", "category", name="uq_notice_mute_resident_category"),)

    id: Mapped[int] = pk()
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
