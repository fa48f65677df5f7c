"""People: residents, staff, their chat identities, API tokens and invite codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class Resident(Base):
    __tablename__ = "resident"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("household.id", ondelete="SET NULL"), index=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    relation: Mapped[str] = mapped_column(String(20), default="")  # owner, tenant, family
    language: Mapped[str] = mapped_column(String(8), default="zh")
    bound_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("community_id", "login"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    login: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))  # manager | supervisor | agent
    department: Mapped[str] = mapped_column(String(30))  # see backend.domain.DEPARTMENTS
    phone: Mapped[str] = mapped_column(String(20), default="")
    on_duty: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Console sign-in (backend.services.console_auth): scrypt hash, "" = no password set yet.
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    password_set_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class ChatIdentity(Base):
    """A person's account on one channel: resident or staff, never both at once."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("community_id", "channel", "external_id"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    channel: Mapped[str] = mapped_column(String(20))  # web, terminal, telegram, wechat, wecom
    external_id: Mapped[str] = mapped_column(String(128))
    resident_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("resident.id", ondelete="CASCADE"), index=True, nullable=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True, nullable=True
    )
    display_name: Mapped[str] = mapped_column(String(100), default="")
    unreachable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A per-staff REST API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class InviteCode(Base):
    """One-time code: sent to the bot as /bind CODE, or in a console link to set a password (or, demo, sign in)."""

    __tablename__ = "invite_code"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10), default="bind")  # bind | password | signin (demo)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
