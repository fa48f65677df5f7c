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


def create_invite(session: Session, staff: Staff, clock: Clock, settings: Settings, purpose: str = "bind") -> str:
    """Make a one-time code for `staff`, valid settings.invite_code_ttl_hours; only its hash is stored.

    `purpose`: bind (a chat account, /bind CODE), password (the console's set-password link) or signin
    (the demo's sign-in link); a code is redeemed only for its own purpose."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = clock.now()
    session.add(
        InviteCode(
            community_id=staff.community_id,
            staff_id=staff.id,
            code_hash=hash_code(code),
            purpose=purpose,
            expires_at=now + timedelta(hours=settings.invite_code_ttl_hours),
            created_at=now,
        )
    )
    session.flush()
    return code


def peek_code(session: Session, code: str, clock: Clock, purpose: str) -> Staff:
    """The staff member a code (still usable, for `purpose`) belongs to, without using it."""
    return _check_code(session, code, clock, purpose)[0]


def _check_code(session: Session, code: str, clock: Clock, purpose: str) -> tuple[Staff, InviteCode]:
    digest = hash_code(code)
    invite = session.scalar(select(InviteCode).where(InviteCode.code_hash == digest))
    if invite is None or not hmac.compare_digest(invite.code_hash, digest) or invite.purpose != purpose:
        raise InviteError("unknown", "unknown invite code")
    if invite.used_at is not None:
        raise InviteError("used", "invite code already used")
    if invite.expires_at <= clock.now():
        raise InviteError("expired", "invite code expired")
    staff = session.get(Staff, invite.staff_id)
    if staff is None or not staff.active:
        raise InviteError("unknown", "invite code belongs to no active staff member")
    return staff, invite


def claim_code(session: Session, code: str, clock: Clock, purpose: str) -> tuple[Staff, InviteCode]:
    """Use a one-time code for `purpose`: the staff member it was made for, or InviteError."""
    staff, invite = _check_code(session, code, clock, purpose)
    # Claim atomically: of two simultaneous redeems only one sees the code unused.
    claimed = session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InviteError("used", "invite code already used")
    return staff, invite


def redeem_invite(
    session: Session, code: str, channel: str, external_id: str, clock: Clock, display_name: str = ""
) -> Staff:
    """Use the code once: the chat account (channel, external_id) becomes the staff member's identity."""
    staff, invite = claim_code(session, code, clock, "bind")
    now = clock.now()

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


def password_url(settings: Settings, code: str) -> str:
    """The console page where the code's staff member sets their password."""
    return f"{settings.base_url}/console/password?code={code}"
