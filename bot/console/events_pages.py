"""Events in the console: the community's events with places taken, a form to create one (its invitation is a
notice the broadcast engine sends), and each event's page: its sign-ups and waiting list with their downloads,
an edit form and a cancel action (a reason, then a confirmation step).

Edits and cancellations go through event_admin.edit / cancel, which check everything and push the change to
those signed up or waiting (nothing when there is nobody to tell, which the page then says). The edit form is
filled with the event's values; only the fields whose text differs from what the form showed are sent as
changes (an empty field clears it: no limit, free, no deadline).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.errors import DomainError, Invalid, NotFound
from backend.models import CommunityEvent
from backend.services import audience as audiences
from backend.services import event_admin, notice_targets
from backend.services.audit import record
from backend.services.binding import mask_phone
from backend.services.events import CANCELLED, OPEN
from backend.services.permissions import Perm
from bot.console.deps import Console, ConsoleDep, render
from bot.console.notices_pages import XLSX_TYPE, to_utc
from bot.console.tickets_pages import local

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=300)]
Time = Annotated[str, Form(max_length=40)]
Number = Annotated[str, Form(max_length=20)]
PLACE_KEYS = ("community", "buildings", "units", "floors")
Reason = Annotated[str, Form(max_length=1000)]
Description = Annotated[str, Form(max_length=4000)]
BLANK = {"title": "", "starts_at": "", "ends_at": "", "signup_deadline": "", "location": "", "description": "",
         "capacity": "", "fee": "", "household_limit": "", "targets": "全小区"}
EDIT_FIELDS = ("title", "starts_at", "ends_at", "signup_deadline", "location", "description", "capacity", "fee",
               "household_limit")
TIMES = ("starts_at", "ends_at", "signup_deadline")
MAX_REASON = 200  # event_admin.cancel keeps this much


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
                 signup_deadline: Time = "", location: Short = "", description: Description = "",
                 capacity: Number = "", fee: Number = "", household_limit: Number = "", targets: Short = ""
                 ) -> Response:
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


def _local_input(moment: datetime | None, tz: str) -> str:
    """A naive-UTC time as a datetime-local value in the community's time (what to_utc reads back)."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def _fee_text(fee: Decimal | None) -> str:
    return "" if fee is None else f"{fee.normalize():f}"


def _shown(event: CommunityEvent, tz: str) -> dict[str, str]:
    """The event's editable values as the edit form shows them."""
    shown = {key: _local_input(getattr(event, key), tz) for key in TIMES}
    return {**shown, "title": event.title, "location": event.location or "", "description": event.description or "",
            "capacity": str(event.capacity or ""), "fee": _fee_text(event.fee),
            "household_limit": str(event.household_limit or "")}


def _same(key: str, typed: str, shown: str) -> bool:
    if key == "title":
        return " ".join(typed.split()) == shown
    if key == "description":
        return typed.replace("\r\n", "\n").strip() == shown.strip()
    return typed.strip() == shown.strip()


def _changes(form: dict[str, str], shown: dict[str, str], tz: str) -> dict[str, Any]:
    """The fields the staff member changed, parsed as event_admin.edit takes them."""
    changes: dict[str, Any] = {}
    for key in EDIT_FIELDS:
        if _same(key, form[key], shown[key]):
            continue
        value = form[key]
        if key in TIMES:
            changes[key] = to_utc(value, tz, key)
        elif key in ("capacity", "household_limit"):
            changes[key] = _number(value, "名额 places" if key == "capacity" else "每户人数 per household")
        elif key == "fee":
            changes[key] = _fee(value)
        else:
            changes[key] = value
    return changes


def _event_page(request: Request, console: Console, event: CommunityEvent, *, status_code: int = 200,
                **context: Any) -> HTMLResponse:
    tz = console.settings.timezone
    counts = event_admin.list_events(console.session, console.community.id, include_past=True, event_id=event.id)
    _, signed, waiting, checked = counts[0] if counts else (event, 0, 0, 0)
    people = event_admin.attendees(console.session, console.staff, event)
    context.setdefault("edit_form", _shown(event, tz))
    if context.get("confirm_cancel"):  # who the cancellation would reach, resolved as the engine will
        context["told"] = audiences.count(console.session, event.community_id,
                                          audiences.event_signed_or_waiting(event.id), event_admin.CATEGORY,
                                          console.clock.now()).residents
    return render(request, "console/event.html", status_code=status_code, event=event, signed=signed,
                  waiting=waiting, checked=checked, attendees=people, mask=mask_phone, local=lambda d: local(d, tz),
                  may_edit=event.status == OPEN, may_cancel=event.status != CANCELLED,
                  fee_text=_fee_text(event.fee), **context)


def _id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


@router.get("/events/{event_id}")
def event_page(request: Request, console: ConsoleDep, event_id: int, invited: str = "", edited: str = "",
               cancelled: str = "", notified: str = "", nobody: str = "") -> HTMLResponse:
    event = _event(console, event_id)
    return _event_page(request, console, event, invited=_id(invited), edited=bool(edited),
                       cancelled=bool(cancelled), notified=_id(notified), nobody=bool(nobody))


def _refusal(exc: DomainError) -> tuple[str, str]:
    return exc.text("zh"), exc.text("en")


@router.post("/events/{event_id}/edit")
def edit_event(request: Request, console: ConsoleDep, event_id: int, title: Short = "", starts_at: Time = "",
               ends_at: Time = "", signup_deadline: Time = "", location: Short = "", description: Description = "",
               capacity: Number = "", fee: Number = "", household_limit: Number = "") -> Response:
    """Save the fields that differ from the event's; a new title, time or place is pushed to those signed up
    or waiting (the page says so, or that there was nobody to tell)."""
    event = _event(console, event_id)
    form = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "signup_deadline": signup_deadline,
            "location": location, "description": description, "capacity": capacity, "fee": fee,
            "household_limit": household_limit}
    s, tz = console.session, console.settings.timezone
    try:
        changes = _changes(form, _shown(event, tz), tz)
        if not changes:
            return RedirectResponse(f"/console/events/{event.id}", status_code=303)
        with s.begin_nested():
            news = event_admin.to_tell(event, changes)
            event, notice = event_admin.edit(s, console.clock, console.settings, console.staff, event, changes)
            record(s, console.clock, console.community.id, console.staff, "event.edit", f"event:{event.id}",
                   title=event.title[:60], changed={k: form[k][:60] for k in sorted(changes)},
                   notice=notice.id if notice else None)
    except DomainError as exc:
        return _event_page(request, console, event, status_code=exc.http_status, edit_form=form,
                           edit_refusal=_refusal(exc))
    told = f"&notified={notice.id}" if notice else "&nobody=1" if news else ""
    return RedirectResponse(f"/console/events/{event.id}?edited=1{told}", status_code=303)


@router.post("/events/{event_id}/cancel")
def cancel_event(request: Request, console: ConsoleDep, event_id: int, reason: Reason = "",
                 confirm: Short = "") -> Response:
    """A reason first, then a confirmation naming who will be told; then event_admin.cancel."""
    event = _event(console, event_id)
    s = console.session
    reason = " ".join(reason.split())
    try:
        if event.status != CANCELLED:  # (a cancelled one: the service's refusal below says so)
            if not reason:
                raise Invalid("reason", key="console.event.reason_required")
            if len(reason) > MAX_REASON:
                raise Invalid("reason", key="console.event.reason_long", most=MAX_REASON)
            if confirm != "yes":
                return _event_page(request, console, event, reason=reason, confirm_cancel=True)
        with s.begin_nested():
            event, notice = event_admin.cancel(s, console.clock, console.settings, console.staff, event, reason)
            record(s, console.clock, console.community.id, console.staff, "event.cancel", f"event:{event.id}",
                   title=event.title[:60], reason=reason, notice=notice.id if notice else None)
    except DomainError as exc:
        return _event_page(request, console, event, status_code=exc.http_status, reason=reason,
                           cancel_refusal=_refusal(exc))
    told = f"&notified={notice.id}" if notice else "&nobody=1"
    return RedirectResponse(f"/console/events/{event.id}?cancelled=1{told}", status_code=303)


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
