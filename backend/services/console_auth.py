"""Signing in to the office console: passwords, lock-out, server-side sessions.

Passwords are hashed with scrypt from the standard library (hashlib.scrypt): memory-hard, so a stolen
table is expensive to guess at, and no extra dependency to build or audit. Each hash carries its own
parameters and salt, so they can be raised later without invalidating stored hashes.

A session is a random cookie value; only its SHA-256 is stored (a database dump signs nobody in). It
starts anonymous (it carries the CSRF token of the sign-in form and any form saved after an expiry)
and holds a staff member once they sign in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.errors import DomainError, Invalid
from backend.models import Community, ConsoleSession, Staff
from backend.services.audit import record
from backend.settings import Settings

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MB and ~50 ms per hash
MIN_PASSWORD, MAX_PASSWORD = 8, 200
PURGE_EVERY = 600.0  # seconds between clean-ups of expired sessions, per process
_last_purge = 0.0


class SignInRefused(DomainError):
    http_status = 401


class LockedOut(DomainError):
    http_status = 429


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_new_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"{MIN_PASSWORD}-{MAX_PASSWORD} characters", key="console.password_length",
                      min=MIN_PASSWORD, max=MAX_PASSWORD)
    return password


def set_password(session: Session, clock: Clock, staff: Staff, password: str) -> None:
    """Set (or replace) the staff member's console password; their other sessions end."""
    staff.password_hash = hash_password(check_new_password(password))
    staff.password_set_at = clock.now()
    staff.failed_logins, staff.locked_until = 0, None
    session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == staff.id))
    record(session, clock, staff.community_id, staff, "password.set", f"staff:{staff.login}")


def find_staff(session: Session, settings: Settings, login: str, community_code: str = "") -> Staff | None:
    """`login`, or `login@community`; without a community, the default one."""
    login = login.strip()
    if "@" in login:
        login, _, community_code = login.partition("@")
    code = community_code.strip() or settings.default_community
    return session.scalar(select(Staff).join(Community, Community.id == Staff.community_id)
                          .where(Community.code == code, Staff.login == login, Staff.active.is_(True)))


def sign_in(session: Session, clock: Clock, settings: Settings, login: str, password: str,
            community_code: str = "") -> Staff:
    """The staff member, or SignInRefused (one message for unknown login and wrong password) or LockedOut."""
    if not login.strip() or not password or len(password) > MAX_PASSWORD or len(login) > 120:
        raise SignInRefused("console.bad_login")
    staff = find_staff(session, settings, login, community_code)
    if staff is None or not staff.password_hash:
        hash_password(password)  # the same time as a real check: no login enumeration by timing
        raise SignInRefused("console.bad_login")
    now = clock.now()
    if staff.locked_until is not None and staff.locked_until > now:
        raise LockedOut("console.locked", minutes=_minutes_left(staff.locked_until - now))
    if not verify_password(password, staff.password_hash):
        staff.failed_logins += 1
        if staff.failed_logins >= settings.console_lockout_failures:
            staff.failed_logins = 0
            staff.locked_until = now + timedelta(minutes=settings.console_lockout_minutes)
            record(session, clock, staff.community_id, None, "signin.locked", f"staff:{staff.login}")
            raise LockedOut("console.locked", minutes=settings.console_lockout_minutes)
        raise SignInRefused("console.bad_login")
    staff.failed_logins, staff.locked_until = 0, None
    return staff


def _minutes_left(left: timedelta) -> int:
    return max(1, -(-int(left.total_seconds()) // 60))


# ---- sessions -------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Loaded:
    row: ConsoleSession
    expired: bool = False  # it held a staff member, and was idle too long


def open_session(session: Session, clock: Clock, settings: Settings, stash: dict[str, Any] | None = None
                 ) -> tuple[str, ConsoleSession]:
    """A new anonymous session: its cookie value and row. Now and then (PURGE_EVERY) the expired ones go."""
    global _last_purge
    if time.monotonic() - _last_purge > PURGE_EVERY:
        _last_purge = time.monotonic()
        purge_expired(session, clock)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = ConsoleSession(token_hash=_digest(token), csrf=secrets.token_urlsafe(24), stash=stash or {},
                         created_at=now, seen_at=now, expires_at=_expiry(clock, settings))
    session.add(row)
    session.flush()
    return token, row


def _expiry(clock: Clock, settings: Settings) -> Any:
    return clock.now() + timedelta(minutes=settings.console_session_idle_minutes)


def load_session(session: Session, clock: Clock, settings: Settings, token: str | None, *,
                 touch: bool = True) -> Loaded | None:
    """The session of a cookie value; an expired one is signed out (kept anonymous, with its saved form).

    `touch`: the request counts as activity and extends the session; the board's automatic refreshes do
    not, so a board left open still signs out after the idle time."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))
    if row is None:
        return None
    now = clock.now()
    expired = row.expires_at <= now
    if expired and row.staff_id is not None:
        row.staff_id = None
        row.csrf = secrets.token_urlsafe(24)
        row.expires_at = _expiry(clock, settings)
        return Loaded(row, expired=True)
    if expired:
        row.expires_at = _expiry(clock, settings)
    elif touch and (now - row.seen_at) > timedelta(minutes=1):  # sliding expiry, written at most once a minute
        row.seen_at, row.expires_at = now, _expiry(clock, settings)
    return Loaded(row)


def attach_staff(session: Session, clock: Clock, settings: Settings, row: ConsoleSession | None,
                 staff: Staff) -> tuple[str, ConsoleSession]:
    """Sign `staff` in: a fresh session (new cookie value, new CSRF token: no fixation) keeping the saved form."""
    stash = dict(row.stash) if row is not None else {}
    if row is not None:
        session.delete(row)
    token, fresh = open_session(session, clock, settings, stash)
    fresh.staff_id, fresh.community_id = staff.id, staff.community_id
    record(session, clock, staff.community_id, staff, "signin", f"staff:{staff.login}")
    return token, fresh


def end_session(session: Session, row: ConsoleSession) -> None:
    session.delete(row)


def purge_expired(session: Session, clock: Clock) -> int:
    """Forget sessions: anonymous ones once expired, signed-in ones a day after (until then a returning
    browser is told its session expired, and keeps the form it posted)."""
    now = clock.now()
    gone = (ConsoleSession.staff_id.is_(None) & (ConsoleSession.expires_at < now)) | (
        ConsoleSession.expires_at < now - timedelta(days=1))
    return session.execute(delete(ConsoleSession).where(gone)).rowcount or 0
