"""Events in the console: the community's events with places taken, and each event's sign-ups and waiting list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend.errors import NotFound
from backend.services import event_admin
from backend.services.audit import record
from backend.services.binding import mask_phone
from backend.services.permissions import Perm
from bot.console.deps import ConsoleDep, render
from bot.console.notices_pages import XLSX_TYPE
from bot.console.tickets_pages import local

router = APIRouter(include_in_schema=False)


@router.get("/events")
def events_page(request: Request, console: ConsoleDep, past: str = "") -> HTMLResponse:
    console.require(Perm.EVENT_MANAGE)
    rows = event_admin.list_events(console.session, console.community.id, include_past=bool(past),
                                   now=console.clock.now())
    return render(request, "console/events.html", rows=rows, past=bool(past),
                  local=lambda d: local(d, console.settings.timezone))


def _event(console: ConsoleDep, event_id: int):  # type: ignore[no-untyped-def]
    console.require(Perm.EVENT_MANAGE)
    if not 0 < event_id < 2**63:
        raise NotFound("活动")
    return event_admin.get_for(console.session, None, event_id, console.community.id)


@router.get("/events/{event_id}")
def event_page(request: Request, console: ConsoleDep, event_id: int) -> HTMLResponse:
    event = _event(console, event_id)
    counts = event_admin.list_events(console.session, console.community.id, include_past=True, event_id=event.id)
    _, signed, waiting, checked = counts[0] if counts else (event, 0, 0, 0)
    people = event_admin.attendees(console.session, console.staff, event)
    return render(request, "console/event.html", event=event, signed=signed, waiting=waiting, checked=checked,
                  attendees=people, mask=mask_phone, local=lambda d: local(d, console.settings.timezone))


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
