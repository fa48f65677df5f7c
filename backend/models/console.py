"""The office console: signed-in browser sessions and the audit trail of office-data edits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class ConsoleSession(Base):
    """A browser's session: anonymous (only a CSRF token and maybe a saved form) until a staff member signs in.

    Only the SHA-256 of the cookie value is stored. `stash` keeps a form posted after the session expired,
    so it can be sent again after signing in.
    """

    __tablename__ = "console_session"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True,
                                                 nullable=True)
    community_id: Mapped[int | None] = mapped_column(  # the community shown (a company admin may switch)
        BigId, ForeignKey("community.id", ondelete="CASCADE"), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64))
    stash: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    """Who changed office data (categories, duty, stewards, FAQ, imports, bindings) or saw a full phone number."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "community_id", "target"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(40))  # category.edit, staff.duty, phone.reveal, ...
    target: Mapped[str] = mapped_column(String(60), default="")  # category:plumbing, ticket:12, staff:cs1
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
