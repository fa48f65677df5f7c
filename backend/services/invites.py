"""One-time invite codes that bind a staff member's chat account (sent to the bot as /bind CODE)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import ChatIdentity, InviteCode, Staff
from backend.settings import Settings

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class InviteError(ValueError):
    """The code cannot be redeemed; `reason` is unknown, expired or used (a message catalogue key suffix)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalize_code(code: str) -> str:
    """Accept what people type: lower case, spaces and dashes ("abcd-2345")."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def create_invite(session: Session, staff: Staff, clock: Clock, settings: Settings) -> str:
    """Make a one-time code for `staff`, valid settings.invite_code_ttl_hours; only its hash is stored."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = clock.now()
    session.add(
        InviteCode(
            community_id=staff.community_id,
            staff_id=staff.id,
            code_hash=hash_code(code),
            expires_at=now + timedelta(hours=settings.invite_code_ttl_hours),
            created_at=now,
        )
    )
    session.flush()
    return code


def redeem_invite(
    session: Session, code: str, channel: str, external_id: str, clock: Clock, display_name: str = ""
) -> Staff:
    """Use the code once: the chat account (channel, external_id) becomes the staff member's identity."""
    digest = hash_code(code)
    invite = session.scalar(select(InviteCode).where(InviteCode.code_hash == digest))
    if invite is None or not hmac.compare_digest(invite.code_hash, digest):
        raise InviteError("unknown", "unknown invite code")
    now = clock.now()
    if invite.used_at is not None:
        raise InviteError("used", "invite code already used")
    if invite.expires_at <= now:
        raise InviteError("expired", "invite code expired")
    staff = session.get(Staff, invite.staff_id)
    if staff is None or not staff.active:
        raise InviteError("unknown", "invite code belongs to no active staff member")
    # Claim atomically: of two simultaneous redeems only one sees the code unused.
    claimed = session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InviteError("used", "invite code already used")

    identity = session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.community_id == staff.community_id,
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == external_id,
        )
    )
    if identity is None:
        identity = ChatIdentity(
            community_id=staff.community_id, channel=channel, external_id=external_id, created_at=now
        )
        session.add(identity)
    # One account is a resident or a staff member, never both.
    identity.staff_id, identity.resident_id = staff.id, None
    identity.unreachable = False
    if display_name:
        identity.display_name = display_name
    session.flush()
    session.refresh(invite)
    return staff
