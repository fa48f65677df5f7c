"""Events in the console: the community's events with places taken, a form to create one (its invitation is a
notice the broadcast engine sends), and each event's sign-ups and waiting list with their downloads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.errors import DomainError, Invalid, NotFound
from backend.models import CommunityEvent
from backend.services import event_admin, notice_targets
from backend.services.audit import record
from backend.services.binding import mask_phone
from backend.services.permissions import Perm
from bot.console.deps import Console, ConsoleDep, render
from bot.console.notices_pages import XLSX_TYPE, to_utc
from bot.console.tickets_pages import local

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=300)]
Time = Annotated[str, Form(max_length=40)]
Number = Annotated[str, Form(max_length=20)]
PLACE_KEYS = ("community", "buildings", "units", "floors")
BLANK = {"title": "", "starts_at": "", "ends_at": "", "signup_deadline": "", "location": "", "description": "",
         "capacity": "", "fee": "", "household_limit": "", "targets": "全小区"}


def _page(request: Request, console: Console, *, past: bool = False, form: dict[str, str] | None = None,
          status_code: int = 200, **context: Any) -> HTMLResponse:
    console.require(Perm.EVENT_MANAGE)
    rows = event_admin.list_events(console.session, console.community.id, include_past=past,
                                   now=console.clock.now())
    return render(request, "console/events.html", status_code=status_code, rows=rows, past=past,
                  form={**BLANK, **(form or {})}, local=lambda d: local(d, console.settings.timezone), **context)


@router.get("/events")
def events_page(request: Request, console: ConsoleDep, past: str = "") -> HTMLResponse:
    return _page(request, console, past=bool(past))


def _number(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise Invalid(what, key="console.events.bad_number", what=what)
    return int(value)


def _fee(value: str) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise Invalid("fee", key="console.events.bad_number", what="费用 fee") from exc


@router.post("/events")
def create_event(request: Request, console: ConsoleDep, title: Short = "", starts_at: Time = "", ends_at: Time = "",
                 signup_deadline: Time = "", location: Short = "",
                 description: Annotated[str, Form(max_length=4000)] = "", capacity: Number = "", fee: Number = "",
                 household_limit: Number = "", targets: Short = "") -> Response:
    console.require(Perm.EVENT_MANAGE)
    form = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "signup_deadline": signup_deadline,
            "location": location, "description": description, "capacity": capacity, "fee": fee,
            "household_limit": household_limit, "targets": targets}
    s, tz, cid = console.session, console.settings.timezone, console.community.id
    try:
        audience = notice_targets.parse(targets or "全小区")
        if set(audience) - set(PLACE_KEYS):
            raise Invalid("audience", key="console.events.bad_target")
        data = event_admin.EventInput(
            title=title, starts_at=to_utc(starts_at, tz, "starts_at"),  # type: ignore[arg-type]  (None refused)
            ends_at=to_utc(ends_at, tz, "ends_at"), signup_deadline=to_utc(signup_deadline, tz, "signup_deadline"),
            location=location, description=description, capacity=_number(capacity, "名额 places"),
            fee=_fee(fee), household_limit=_number(household_limit, "每户人数 per household"), audience=audience)
        with s.begin_nested():
            event, notice = event_admin.create(s, console.clock, console.settings, console.staff, cid, data)
            record(s, console.clock, cid, console.staff, "event.create", f"event:{event.id}", title=event.title[:60],
                   starts_at=event.starts_at.isoformat(timespec="minutes"), invitation=notice.id)
    except DomainError as exc:
        return _page(request, console, form=form, status_code=exc.http_status,
                     refusal=(exc.text("zh"), exc.text("en")))
    return RedirectResponse(f"/console/events/{event.id}?invited={notice.id}", status_code=303)


def _event(console: Console, event_id: int) -> CommunityEvent:
    console.require(Perm.EVENT_MANAGE)
    if not 0 < event_id < 2**63:
        raise NotFound("活动")
    return event_admin.get_for(console.session, None, event_id, console.community.id)


@router.get("/events/{event_id}")
def event_page(request: Request, console: ConsoleDep, event_id: int, invited: str = "") -> HTMLResponse:
    event = _event(console, event_id)
    counts = event_admin.list_events(console.session, console.community.id, include_past=True, event_id=event.id)
    _, signed, waiting, checked = counts[0] if counts else (event, 0, 0, 0)
    people = event_admin.attendees(console.session, console.staff, event)
    return render(request, "console/event.html", event=event, signed=signed, waiting=waiting, checked=checked,
                  attendees=people, mask=mask_phone, local=lambda d: local(d, console.settings.timezone),
                  invited=int(invited) if invited.isdigit() and len(invited) < 12 else None)


@router.get("/events/{event_id}/attendees.{fmt}")
def download(console: ConsoleDep, event_id: int, fmt: str) -> Response:
    event = _event(console, event_id)
    if fmt not in ("csv", "xlsx"):
        raise NotFound("文件")
    rows = event_admin.attendees(console.session, console.staff, event)
    masked = not console.may(Perm.PHONES_SEE)
    data = event_admin.export(rows, fmt, console.settings.timezone, mask=masked)
    record(console.session, console.clock, console.community.id, console.staff, "event.export", f"event:{event.id}",
           format=fmt, rows=len(rows), masked=masked)
    return Response(data, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="event-{event.id}-attendees.{fmt}"',
        "Cache-Control": "no-store"})
