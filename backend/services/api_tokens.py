"""Per-staff REST API tokens: shown once when issued, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import ApiToken, Staff

TOKEN_PREFIX = "gj_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, staff: Staff, clock: Clock, label: str = "") -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            community_id=staff.community_id,
            staff_id=staff.id,
            token_hash=hash_token(token),
            label=label[:50],
            created_at=clock.now(),
        )
    )
    session.flush()
    return token


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The active staff member a live token belongs to, or None."""
    if not token:
        return None
    digest = hash_token(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    staff = session.get(Staff, row.staff_id)
    return staff if staff is not None and staff.active else None


def revoke_token(session: Session, token: str, clock: Clock) -> bool:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    session.flush()
    return True
