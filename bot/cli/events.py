"""`guanjia event`: create, list, edit, cancel community events; attendee lists; check-in at the door.

Times are the community's local time ("2026-12-20 14:00"). With `--as LOGIN` the command acts as that staff
member and the permission matrix applies; without it, as the operator.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from backend.clock import SystemClock
from backend.errors import DomainError
from backend.models import Community, Staff
from backend.services import event_admin
from backend.services.event_admin import EventInput
from backend.services.ticket_format import local_time
from backend.services.visitors import to_utc
from backend.settings import Settings
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, staff_by_login, unit_of_work

app = typer.Typer(help="Community events: invitations, sign-ups, waiting list, check-in.", no_args_is_help=True)

AS_OPTION = typer.Option(None, "--as", help="Act as this staff login (the permission matrix applies).")
WHEN_HELP = "local time, e.g. '2026-12-20 14:00'"


def _when(text: str | None, settings: Settings) -> datetime | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return to_utc(datetime.strptime(text.strip(), fmt), settings.timezone)
        except ValueError:
            continue
    raise fail(f"bad time {text!r} ({WHEN_HELP})")


def _fee(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise fail(f"bad fee {text!r}") from None


def _audience(buildings: str) -> dict[str, object] | None:
    codes = [b.strip() for b in buildings.replace("，", ",").split(",") if b.strip()]
    return {"buildings": codes} if codes else None


def _context(session: Session, settings: Settings, community: str | None, login: str | None
             ) -> tuple[Community, Staff | None]:
    target = community_by_code(session, community, settings)
    return target, staff_by_login(session, target, login) if login else None


def _domain(exc: DomainError) -> typer.Exit:
    return fail(f"{exc.text('zh')} / {exc}")


@app.command()
def create(
    title: str = typer.Option(..., help="标题"),
    starts: str = typer.Option(..., help=f"开始时间, {WHEN_HELP}"),
    place: str = typer.Option("", "--place", help="地点"),
    ends: str = typer.Option("", help="结束时间"),
    deadline: str = typer.Option("", help="报名截止"),
    capacity: int | None = typer.Option(None, help="名额 (people)"),
    fee: str | None = typer.Option(None, help="费用 per person, yuan"),
    household_limit: int | None = typer.Option(None, help="每户最多人数"),
    buildings: str = typer.Option("", help="invite only these buildings, e.g. '1,2,3' (default: everyone)"),
    description: str = typer.Option("", help="说明"),
    community: str | None = COMMUNITY_OPTION,
    login: str | None = AS_OPTION,
) -> None:
    """Create an event and push its invitation (with a 报名 button) to the targets."""
    settings = load_settings()
    clock = SystemClock()
    with unit_of_work(settings) as session:
        target, staff = _context(session, settings, community, login)
        data = EventInput(title=title, starts_at=_when(starts, settings), location=place,  # type: ignore[arg-type]
                          description=description, ends_at=_when(ends, settings),
                          signup_deadline=_when(deadline, settings), capacity=capacity, fee=_fee(fee),
                          household_limit=household_limit, audience=_audience(buildings))
        try:
            event, notice = event_admin.create(session, clock, settings, staff, target.id, data)
        except DomainError as exc:
            raise _domain(exc) from None
        typer.echo(f"event {event.id}: {event.title} at {local_time(event.starts_at, settings.timezone)}; "
                   f"invitation notice {notice.id} queued for {notice.audience}")


@app.command("list")
def list_(include_past: bool = typer.Option(False, help="also events that are over"),
          community: str | None = COMMUNITY_OPTION) -> None:
    """Events with places taken, the waiting list and check-ins."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        target = community_by_code(session, community, settings)
        rows = event_admin.list_events(session, target.id, include_past=include_past, now=SystemClock().now())
        for event, signed, waiting, checked in rows:
            places = f"{signed}/{event.capacity}" if event.capacity else f"{signed}"
            typer.echo(f"{event.id}\t{event.status}\t{local_time(event.starts_at, settings.timezone)}\t"
                       f"{event.title}\t{event.location}\tsigned {places}\twaiting {waiting}\tchecked in {checked}")
        if not rows:
            typer.echo("no events")


@app.command()
def edit(
    event_id: int,
    title: str | None = typer.Option(None), starts: str | None = typer.Option(None, help=WHEN_HELP),
    place: str | None = typer.Option(None, "--place"), ends: str | None = typer.Option(None),
    deadline: str | None = typer.Option(None), capacity: int | None = typer.Option(None),
    fee: str | None = typer.Option(None), household_limit: int | None = typer.Option(None),
    description: str | None = typer.Option(None),
    community: str | None = COMMUNITY_OPTION, login: str | None = AS_OPTION,
) -> None:
    """Change an event; a new time, place or title is pushed to everyone signed up or waiting."""
    settings = load_settings()
    given = {"title": title, "starts_at": _when(starts, settings), "location": place, "ends_at": _when(ends, settings),
             "signup_deadline": _when(deadline, settings), "capacity": capacity, "fee": _fee(fee),
             "household_limit": household_limit, "description": description}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise fail("nothing to change")
    with unit_of_work(settings) as session:
        target, staff = _context(session, settings, community, login)
        try:
            event = event_admin.get_for(session, staff, event_id, target.id)
            news = event_admin.to_tell(event, changes)
            event, notice = event_admin.edit(session, SystemClock(), settings, staff, event, changes)
        except DomainError as exc:
            raise _domain(exc) from None
        told = f"; change notice {notice.id} queued" if notice else (
            "; nobody signed up or waiting to tell, no notice" if news else "")
        typer.echo(f"event {event.id} changed{told}")


@app.command()
def cancel(event_id: int, reason: str = typer.Option("", help="原因, told to those signed up or waiting"),
           community: str | None = COMMUNITY_OPTION, login: str | None = AS_OPTION) -> None:
    """Cancel an event; everyone signed up or waiting is told."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        target, staff = _context(session, settings, community, login)
        try:
            event = event_admin.get_for(session, staff, event_id, target.id)
            event, notice = event_admin.cancel(session, SystemClock(), settings, staff, event, reason)
        except DomainError as exc:
            raise _domain(exc) from None
        typer.echo(f"event {event.id} cancelled" + (f"; notice {notice.id} queued" if notice else
                                                    "; nobody signed up or waiting to tell, no notice"))


@app.command()
def attendees(event_id: int, output: Path | None = typer.Option(None, "--output", "-o",
                                                                  help="write .csv or .xlsx"),
              community: str | None = COMMUNITY_OPTION, login: str | None = AS_OPTION) -> None:
    """The attendee list (signed up, then waiting), printed or written to CSV/XLSX."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        target, staff = _context(session, settings, community, login)
        try:
            event = event_admin.get_for(session, staff, event_id, target.id)
            rows = event_admin.attendees(session, staff, event)
        except DomainError as exc:
            raise _domain(exc) from None
        if output is not None:
            fmt = output.suffix.lower().lstrip(".")
            if fmt not in ("csv", "xlsx"):
                raise fail("--output must end in .csv or .xlsx")
            output.write_bytes(event_admin.export(rows, fmt, settings.timezone))
            typer.echo(f"{len(rows)} row(s) written to {output}")
            return
        for a in rows:
            typer.echo(f"{a.household}\t{a.name}\t{a.people}\t{a.status}\t{a.code}\t"
                       f"{local_time(a.checked_in_at, settings.timezone) if a.checked_in_at else ''}")
        typer.echo(f"{len(rows)} sign-up(s)")


@app.command()
def checkin(code: str, community: str | None = COMMUNITY_OPTION, login: str | None = AS_OPTION) -> None:
    """Check a resident in by the code on their invitation (or read from its QR)."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        target, staff = _context(session, settings, community, login)
        try:
            signup, event = event_admin.check_in(session, SystemClock(), settings, staff, target.id, code)
        except DomainError as exc:
            raise _domain(exc) from None
        typer.echo(f"✅ {event.title}: code {signup.checkin_code}, {signup.people} people, checked in")
