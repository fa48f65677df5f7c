"""Request dependencies: one session per request, the clock, settings, and who is calling."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.access import Principal
from backend.api.schemas.common import MAX_ID
from backend.clock import Clock
from backend.errors import DomainError, NotFound
from backend.models import Community
from backend.services.api_tokens import staff_for_token
from backend.settings import Settings


class Unauthorized(DomainError):
    http_status = 401

    def __init__(self) -> None:
        super().__init__("api.unauthorized")


class StaffOnly(DomainError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__("api.staff_only")


class CommunityRequired(DomainError):
    http_status = 422

    def __init__(self) -> None:
        super().__init__("api.community_required")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises.

    Async on purpose: the commit runs on the event loop, not on a worker thread. A request holding a row
    lock (or SQLite's write lock) must never wait for a free thread while the threads are all taken by
    requests waiting for that lock; that deadlock ended in pool timeouts and 500s under a burst.
    """
    with request.app.state.session_factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
# scope="function": commit before the response is sent, so a 200 means the change is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    token = _bearer(request)
    if hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return Principal()
    staff = staff_for_token(session, token)
    if staff is None or not staff.active:
        raise Unauthorized()
    return Principal(staff=staff)


def get_current_staff(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.staff is None:
        raise StaffOnly()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
CurrentStaff = Annotated[Principal, Depends(get_current_staff)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
CommunityQuery = Annotated[
    str | None, Query(alias="community", max_length=32, description="Community code (admin only; staff: their own)")
]


def community_filter(session: Session, principal: Principal, code: str | None) -> int | None:
    """The community a list is limited to: staff always their own; admin the one named, or all (None)."""
    if code is None:
        return None if principal.is_admin else principal.staff.community_id  # type: ignore[union-attr]
    community_id = session.scalar(select(Community.id).where(Community.code == code))
    if community_id is None or not principal.sees(community_id):
        raise NotFound("小区")
    return community_id


def community_target(session: Session, principal: Principal, code: str | None) -> int:
    """The community a new record belongs to: the staff member's own, or the one admin names."""
    community_id = community_filter(session, principal, code)
    if community_id is None:
        raise CommunityRequired()
    return community_id
