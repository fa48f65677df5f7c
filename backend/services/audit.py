"""The audit trail: who changed office data, or saw what is kept private, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import AuditEntry, Staff


def record(session: Session, clock: Clock, community_id: int, staff: Staff | None, action: str, target: str = "",
           **detail: Any) -> AuditEntry:
    entry = AuditEntry(community_id=community_id, staff_id=staff.id if staff else None, at=clock.now(),
                       action=action, target=target[:60], detail=detail)
    session.add(entry)
    return entry


def recent(session: Session, community_id: int, *, target: str | None = None, prefix: str | None = None,
           limit: int = 50) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.community_id == community_id)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if prefix is not None:
        query = query.where(AuditEntry.target.startswith(prefix, autoescape=True))
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
