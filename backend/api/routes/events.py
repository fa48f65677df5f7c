"""Community events for staff: create (pushes an invitation), edit, cancel, attendees (JSON, CSV, XLSX), check-in.

Times: ISO 8601; with an offset they are taken as given, without one as the community's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import Field
from sqlalchemy.orm import Session

from backend.api.access import Principal, shown_phone
from backend.api.deps import (
    ClockDep,
    CommunityQuery,
    IdPath,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    community_target,
)
from backend.api.schemas.common import Id, Input, Output, UtcDatetime, text
from backend.models import CommunityEvent
from backend.services import event_admin, events
from backend.services.event_admin import EventInput
from backend.services.visitors import to_utc
from backend.settings import Settings

router = APIRouter(prefix="/events", tags=["events"])

Capacity = Annotated[int, Field(ge=1, le=event_admin.MAX_CAPACITY)]
Limit = Annotated[int, Field(ge=1, le=events.MAX_PEOPLE)]
Fee = Annotated[Decimal, Field(ge=0, le=event_admin.MAX_FEE, decimal_places=2)]
Code = Annotated[str, Field(min_length=1, max_length=32)]


class Audience(Input):
    community: bool | None = None
    buildings: list[Annotated[str, Field(min_length=1, max_length=16)]] | None = Field(None, max_length=500)
    units: list[Annotated[str, Field(min_length=1, max_length=33)]] | None = Field(None, max_length=500)
    floors: list[Annotated[int, Field(ge=-10, le=200)]] | None = Field(None, max_length=300)


class EventCreate(Input):
    title: text(100, 1)  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime | None = None
    location: text(100) = ""  # type: ignore[valid-type]
    description: text(2000) = ""  # type: ignore[valid-type]
    signup_deadline: datetime | None = None
    capacity: Capacity | None = None
    fee: Fee | None = None
    household_limit: Limit | None = None
    audience: Audience | None = Field(None, description='whole community when left out; or {"buildings": ["3"]}')


class EventUpdate(Input):
    title: text(100, 1) | None = None  # type: ignore[valid-type]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: text(100) | None = None  # type: ignore[valid-type]
    description: text(2000) | None = None  # type: ignore[valid-type]
    signup_deadline: datetime | None = None
    capacity: Capacity | None = None
    fee: Fee | None = None
    household_limit: Limit | None = None


class EventCancel(Input):
    reason: text(200) = ""  # type: ignore[valid-type]


class CheckIn(Input):
    code: Code = Field(description="the 6-digit code, typed or read from the QR")


class EventPublic(Output):
    id: Id
    community_id: Id
    title: str
    description: str
    location: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None
    signup_deadline: UtcDatetime | None
    capacity: int | None
    fee: Decimal | None
    household_limit: int | None
    audience: dict[str, Any]
    status: str
    signed: int = 0  # people
    waiting: int = 0
    checked_in: int = 0  # sign-ups
    notice_id: int | None = Field(None, description="the notice this call pushed (invitation, change, cancellation)")


class EventList(Output):
    items: list[EventPublic]


class AttendeePublic(Output):
    signup_id: Id
    household: str
    name: str
    phone: str
    people: int
    status: str
    code: str
    checked_in_at: UtcDatetime | None


class CheckedIn(Output):
    signup_id: Id
    event_id: Id
    title: str
    household: str
    name: str
    people: int
    checked_in_at: UtcDatetime


def _utc(value: datetime | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return to_utc(value, settings.timezone)
    return value.astimezone(UTC).replace(tzinfo=None)


def _public(session: Session, event: CommunityEvent, notice_id: int | None = None) -> EventPublic:
    counts = {e.id: (s, w, c) for e, s, w, c in event_admin.list_events(session, event.community_id,
                                                                         event_id=event.id)}
    signed, waiting, checked = counts.get(event.id, (0, 0, 0))
    return EventPublic.model_validate(
        {**{k: getattr(event, k) for k in EventPublic.model_fields if hasattr(event, k)},
         "signed": signed, "waiting": waiting, "checked_in": checked, "notice_id": notice_id})


@router.get("", response_model=EventList)
def list_events(session: SessionDep, principal: PrincipalDep, clock: ClockDep, community: CommunityQuery = None,
                include_past: bool = False) -> EventList:
    community_id = community_target(session, principal, community)
    rows = event_admin.list_events(session, community_id, include_past=include_past, now=clock.now())
    return EventList(items=[EventPublic.model_validate(
        {**{k: getattr(e, k) for k in EventPublic.model_fields if hasattr(e, k)},
         "signed": s, "waiting": w, "checked_in": c}) for e, s, w, c in rows])


@router.post("", response_model=EventPublic, status_code=status.HTTP_201_CREATED)
def create_event(body: EventCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                 settings: SettingsDep, community: CommunityQuery = None) -> EventPublic:
    """Create an event and push its invitation (a notice with a 报名 button) to the targets."""
    community_id = community_target(session, principal, community)
    values = body.model_dump(exclude={"audience"})
    for key in ("starts_at", "ends_at", "signup_deadline"):
        values[key] = _utc(values[key], settings)
    audience = body.audience.model_dump(exclude_none=True) if body.audience is not None else None
    event, notice = event_admin.create(session, clock, settings, principal.staff, community_id,
                                       EventInput(**values, audience=audience))
    return _public(session, event, notice.id)


def _load(session: Session, principal: Principal, event_id: int) -> CommunityEvent:
    return principal.visible(session.get(CommunityEvent, event_id), "活动")


@router.get("/{event_id}", response_model=EventPublic)
def get_event(event_id: IdPath, session: SessionDep, principal: PrincipalDep) -> EventPublic:
    return _public(session, _load(session, principal, event_id))


@router.patch("/{event_id}", response_model=EventPublic)
def edit_event(event_id: IdPath, body: EventUpdate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
               settings: SettingsDep) -> EventPublic:
    """Change an open event; a new time, place or title is pushed to everyone signed up or waiting."""
    changes = body.model_dump(exclude_unset=True)
    for key in ("starts_at", "ends_at", "signup_deadline"):
        if key in changes:
            changes[key] = _utc(changes[key], settings)
    if changes.get("title") is None:
        changes.pop("title", None)
    if changes.get("starts_at") is None:
        changes.pop("starts_at", None)
    event, notice = event_admin.edit(session, clock, settings, principal.staff, _load(session, principal, event_id),
                                     changes)
    return _public(session, event, notice.id if notice else None)


@router.post("/{event_id}/cancel", response_model=EventPublic)
def cancel_event(event_id: IdPath, body: EventCancel, session: SessionDep, principal: PrincipalDep,
                 clock: ClockDep, settings: SettingsDep) -> EventPublic:
    """Cancel the event; everyone signed up or waiting is told."""
    event, notice = event_admin.cancel(session, clock, settings, principal.staff,
                                       _load(session, principal, event_id), body.reason)
    return _public(session, event, notice.id if notice else None)


@router.get("/{event_id}/attendees", response_model=list[AttendeePublic],
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                     "spreadsheetml.sheet": {}}}})
def attendees(event_id: IdPath, session: SessionDep, principal: PrincipalDep, settings: SettingsDep,
              format: Literal["json", "csv", "xlsx"] = "json",
              include_withdrawn: bool = False) -> Any:
    """Signed up, then the waiting list in order; `format=csv|xlsx` downloads it."""
    event = _load(session, principal, event_id)
    rows = event_admin.attendees(session, principal.staff, event, include_withdrawn=include_withdrawn)
    if format == "json":
        return [AttendeePublic.model_validate({**a.__dict__, "phone": shown_phone(principal, a.phone)})
                for a in rows]
    data = event_admin.export(rows, format, settings.timezone, mask=not principal.sees_phones)
    media = "text/csv; charset=utf-8" if format == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="event-{event.id}-attendees.{format}"'})


@router.post("/checkin", response_model=CheckedIn)
def check_in(body: CheckIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
             community: CommunityQuery = None) -> CheckedIn:
    """Check a resident in at the door by the code on their invitation (typed, or scanned from the QR)."""
    community_id = community_target(session, principal, community)
    signup, event = event_admin.check_in(session, clock, settings, principal.staff, community_id, body.code)
    who = event_admin.attendees(session, None, event)
    mine = next((a for a in who if a.signup_id == signup.id), None)
    assert signup.checked_in_at is not None
    return CheckedIn(signup_id=signup.id, event_id=event.id, title=event.title,
                     household=mine.household if mine else "", name=mine.name if mine else "",
                     people=signup.people, checked_in_at=signup.checked_in_at)


__all__ = ["router"]
