"""The tickets board (filters, search, live rows) and a ticket's page with the actions the role allows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend.catalogue import name
from backend.domain import OPEN_STATUSES, TRANSITIONS, Action, Department, Kind, Status
from backend.errors import DomainError, Forbidden, NotFound
from backend.models import Attachment, Building, Household, Resident, Staff, Ticket, TicketCategory
from backend.services import permissions, ticket_board
from backend.services.audit import record
from backend.services.binding import mask_phone
from backend.services.permissions import Perm
from backend.services.tickets import TicketService
from bot.console.deps import Console, ConsoleDep, both, render

router = APIRouter(include_in_schema=False)
Note = Annotated[str, Form(max_length=2000)]
ACTIONS = ("accept", "transfer", "resolve", "reopen", "note")


def local(dt: datetime | None, tz: str) -> str:
    if dt is None:
        return ""
    return dt.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def _day(value: str, tz: str) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def _filter(request: Request, tz: str) -> tuple[ticket_board.BoardFilter, dict[str, str]]:
    q = {key: request.query_params.get(key, "")[:100] for key in
         ("status", "kind", "category", "building", "owner", "handler", "overdue", "from", "to", "q", "page")}
    until = _day(q["to"], tz)
    f = ticket_board.BoardFilter(
        status=q["status"] if q["status"] in {"open", *(s.value for s in Status)} else "",
        kind=q["kind"] if q["kind"] in {k.value for k in Kind} else "", category=q["category"],
        building=q["building"], owner_id=_int(q["owner"]), handler_id=_int(q["handler"]),
        overdue=q["overdue"] in ("1", "on", "true"), since=_day(q["from"], tz),
        until=until + timedelta(days=1) if until else None, q=q["q"])
    return f, {k: v for k, v in q.items() if v}


def _page_number(query: dict[str, str]) -> int:
    return min(int(query["page"]), 10_000) if query.get("page", "").isdigit() and int(query["page"]) > 0 else 1


def _rows(console: Console, f: ticket_board.BoardFilter, page: int = 1) -> list[dict[str, Any]]:
    s, tz, now = console.session, console.settings.timezone, console.clock.now()
    tickets = ticket_board.search(s, console.clock, console.staff, console.community.id, f,
                                  offset=(page - 1) * ticket_board.PAGE)
    staff_ids = {i for t in tickets for i in (t.owner_id, t.assignee_id) if i}
    names = dict(s.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all()) \
        if staff_ids else {}
    building_ids = {t.building_id for t in tickets if t.building_id}
    buildings = dict(s.execute(select(Building.id, Building.name).where(Building.id.in_(building_ids)))
                     .all()) if building_ids else {}
    return [{"t": t, "created": local(t.created_at, tz), "late": ticket_board.is_late(t, now),
             "owner": names.get(t.owner_id or 0, ""), "handler": names.get(t.assignee_id or 0, ""),
             "building": buildings.get(t.building_id or 0, ""), "due": local(t.resolve_due_at, tz)}
            for t in tickets]


def _choices(console: Console) -> dict[str, Any]:
    s, cid = console.session, console.community.id
    return {
        "statuses": [("open", name("console.tickets.open")), *((st.value, name(f"status.{st.value}")) for st in Status)],
        "kinds": [(k.value, name(f"kind.{k.value}")) for k in Kind],
        "categories": list(s.scalars(select(TicketCategory).where(TicketCategory.community_id == cid)
                                     .order_by(TicketCategory.kind, TicketCategory.code))),
        "buildings": list(s.scalars(select(Building).where(Building.community_id == cid).order_by(Building.id))),
        "staff": list(s.scalars(select(Staff).where(Staff.community_id == cid, Staff.active.is_(True))
                                .order_by(Staff.department, Staff.login))),
    }


def _board_allowed(console: Console) -> None:
    if not permissions.scopes(console.staff, Perm.TICKETS_BOARD):
        console.require(Perm.TICKETS_BOARD)  # raises Forbidden


@router.get("/tickets")
def board(request: Request, console: ConsoleDep) -> HTMLResponse:
    _board_allowed(console)
    f, query = _filter(request, console.settings.timezone)
    page = _page_number(query)
    rows = _rows(console, f, page)
    pages = {"prev": urlencode({**query, "page": page - 1}) if page > 1 else "",
             "next": urlencode({**query, "page": page + 1}) if len(rows) == ticket_board.PAGE else ""}
    return render(request, "console/tickets.html", rows=rows, query=query, qs=urlencode(query), pages=pages,
                  **_choices(console))


@router.get("/tickets/rows")
def board_rows(request: Request, console: ConsoleDep) -> HTMLResponse:
    """The board's rows alone: htmx polls this every console_poll_seconds."""
    _board_allowed(console)
    f, query = _filter(request, console.settings.timezone)
    return render(request, "console/ticket_rows.html", rows=_rows(console, f, _page_number(query)))


def _ticket(console: Console, number: int) -> Ticket:
    service = TicketService(console.session, console.clock, console.settings)
    ticket = service.by_number(console.actor, number)
    target = permissions.of_ticket(console.session, ticket)
    if not (console.may(Perm.TICKETS_BOARD, target) or console.may(Perm.TICKET_ACCEPT, permissions.of_ticket(
            console.session, ticket, paged=True))):
        raise NotFound("工单")
    return ticket


def allowed_actions(console: Console, ticket: Ticket) -> list[str]:
    s, staff = console.session, console.staff
    status = Status(ticket.status)
    handle = permissions.allowed(staff, Perm.TICKET_HANDLE, permissions.of_ticket(None, ticket))
    out = []
    if (ticket.assignee_id is None and status in TRANSITIONS[Action.ACCEPT][0]
            and permissions.allowed(staff, Perm.TICKET_ACCEPT, permissions.of_ticket(s, ticket, paged=True))):
        out.append("accept")
    if handle and status in TRANSITIONS[Action.TRANSFER][0]:
        out.append("transfer")
    if handle and status in TRANSITIONS[Action.RESOLVE][0]:
        out.append("resolve")
    if handle and status in TRANSITIONS[Action.REOPEN][0]:
        out.append("reopen")
    if (handle or console.may(Perm.TICKETS_BOARD, permissions.of_ticket(s, ticket))) \
            and status in TRANSITIONS[Action.NOTE][0]:
        out.append("note")
    return out


def _history(console: Console, ticket: Ticket, people: dict[int, Staff]) -> list[dict[str, Any]]:
    tz = console.settings.timezone
    events = TicketService(console.session, console.clock, console.settings).history(console.actor, ticket.id)
    return [{"e": e, "at": local(e.at, tz), "who": people[e.actor_staff_id].name if e.actor_staff_id in people
             else both("console.actor.resident" if e.actor_type == "resident" else "console.actor.system")}
            for e in events]


def _people(console: Console, ticket: Ticket) -> dict[int, Staff]:
    return {st.id: st for st in console.session.scalars(select(Staff).where(Staff.community_id == ticket.community_id))}


def _page(request: Request, console: Console, ticket: Ticket, *, done: str = "", error: tuple[str, str] | None = None,
          phone: str | None = None, status_code: int = 200) -> HTMLResponse:
    s, tz = console.session, console.settings.timezone
    people = _people(console, ticket)
    resident = s.get(Resident, ticket.reporter_id) if ticket.reporter_id else None
    household = s.get(Household, ticket.household_id) if ticket.household_id else None
    photos = list(s.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)))
    may_phone = console.may(Perm.TICKET_PHONE, permissions.of_ticket(s, ticket)) or console.may(Perm.PHONES_SEE)
    return render(
        request, "console/ticket.html", status_code=status_code, ticket=ticket, people=people,
        history=_history(console, ticket, people),
        resident=None if ticket.anonymous else resident, household=household, photos=photos,
        masked=mask_phone(resident.phone) if resident and resident.phone else "", phone=phone, may_phone=may_phone,
        actions=allowed_actions(console, ticket), done=done, error=error, local=lambda d: local(d, tz),
        departments=[d.value for d in Department], open_statuses={st.value for st in OPEN_STATUSES},
        transfer_staff=[p for p in people.values() if p.active])


@router.get("/tickets/{number}")
def ticket_page(request: Request, console: ConsoleDep, number: int,
                done: str = Query("", max_length=20)) -> HTMLResponse:
    return _page(request, console, _ticket(console, number), done=done if done in ACTIONS else "")


@router.get("/tickets/{number}/live")
def ticket_live(request: Request, console: ConsoleDep, number: int) -> HTMLResponse:
    """The history (and, out of band, the status) alone: the ticket page polls this."""
    ticket = _ticket(console, number)
    return render(request, "console/ticket_history.html", ticket=ticket, oob=True,
                  history=_history(console, ticket, _people(console, ticket)))


@router.post("/tickets/{number}/reveal")
def reveal(request: Request, console: ConsoleDep, number: int) -> HTMLResponse:
    """The full phone number, for whom the matrix allows it; every reveal is written to the audit trail."""
    ticket = _ticket(console, number)
    s = console.session
    if not (console.may(Perm.TICKET_PHONE, permissions.of_ticket(s, ticket)) or console.may(Perm.PHONES_SEE)):
        raise Forbidden()
    resident = s.get(Resident, ticket.reporter_id) if ticket.reporter_id and not ticket.anonymous else None
    if resident is None:
        raise NotFound("住户")
    record(s, console.clock, ticket.community_id, console.staff, "phone.reveal", f"ticket:{ticket.number}",
           resident_id=resident.id)
    return _page(request, console, ticket, phone=resident.phone)


@router.post("/tickets/{number}/{action}")
def act(request: Request, console: ConsoleDep, number: int, action: str, note: Note = "",
        to_staff: Annotated[str, Form(max_length=20)] = "",
        to_department: Annotated[str, Form(max_length=30)] = "") -> Response:
    if action not in ACTIONS:
        raise NotFound("操作")
    ticket = _ticket(console, number)
    service = TicketService(console.session, console.clock, console.settings)
    actor = console.actor
    try:
        with console.session.begin_nested():  # a refused move leaves nothing half-done
            if action == "accept":
                service.accept(actor, ticket.id)
            elif action == "transfer":
                service.transfer(actor, ticket.id, to_staff_id=_int(to_staff) if to_staff else None,
                                 to_department=to_department or None if not to_staff else None, note=note)
            elif action == "resolve":
                service.resolve(actor, ticket.id, note=note)
            elif action == "reopen":
                service.reopen(actor, ticket.id, note=note)
            else:
                service.add_note(actor, ticket.id, note)
    except DomainError as exc:
        console.session.refresh(ticket)
        return _page(request, console, ticket, error=(exc.text("zh"), exc.text("en")), status_code=exc.http_status)
    return RedirectResponse(f"/console/tickets/{number}?done={action}", status_code=303)
