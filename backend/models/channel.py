"""Platform-neutral channel bookkeeping: delivered messages, processed updates, cached tokens, quotas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, pk


class ChannelMessage(Base):
    """A message sent to a chat (replies and pushed notifications); the web chat polls these."""

    __tablename__ = "channel_message"
    __table_args__ = (
        Index("ix_channel_message_chat", "channel", "chat_id", "id"),
        # One pushed copy of a notification per chat: an inbox send retried after a crash finds its row.
        UniqueConstraint("notification_id", "channel", "chat_id", name="uq_channel_message_notification_chat"),
        # One pushed copy of a notice per chat (the broadcast engine's web chat push).
        UniqueConstraint("notice_id", "channel", "chat_id", name="uq_channel_message_notice_chat"),
    )

    id: Mapped[int] = pk()
    community_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("community.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    pushed: Mapped[bool] = mapped_column(default=True)  # False for in-request replies
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"text", "buttons", "image_url"}
    notification_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notification.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(String(100), default="")  # platform message id (for edits)
    notice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notice.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """A platform update already handled (Telegram update_id, WeChat MsgId): processed once."""

    __tablename__ = "processed_update"
    __table_args__ = (UniqueConstraint("channel", "key"),)

    id: Mapped[int] = pk()
    channel: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(index=True)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)  # cached reply for retries


class ChannelToken(Base):
    """A platform access token shared by all workers (WeChat, WeCom)."""

    __tablename__ = "channel_token"
    __table_args__ = (UniqueConstraint("channel", "app_id"),)

    id: Mapped[int] = pk()
    channel: Mapped[str] = mapped_column(String(20))
    app_id: Mapped[str] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChannelQuota(Base):
    """Counters of a platform's per-recipient sending windows (e.g. WeChat's 48-hour window)."""

    __tablename__ = "channel_quota"
    __table_args__ = (UniqueConstraint("channel", "recipient", "window"),)

    id: Mapped[int] = pk()
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200))
    window: Mapped[str] = mapped_column(String(20))  # e.g. "message", "event", "minute"
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    remaining: Mapped[int]


class GroupChat(Base):
    """A group on a platform registered to a community: a department's work group or the owners' group."""

    __tablename__ = "group_chat"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(12))  # department | owners
    department: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200), default="")
    # The group's owner on the platform, where sends go through the owner: a WeCom customer group's
    # owner (群主) userid, who confirms each group send (channel 'wecom_customer').
    owner_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
