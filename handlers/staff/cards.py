"""The task card: one ticket as a staff member sees it, with the buttons its status and the viewer allow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from backend.catalogue import MESSAGES, name, render
from backend.domain import Action
from backend.models import Attachment, Resident, Staff, Ticket, TicketEvent
from backend.services.binding import mask_phone
from backend.services.ticket_format import local_time
from backend.settings import get_settings
from handlers import payloads
from handlers.messages import Button, Outbound
from handlers.staff import texts as _texts  # noqa: F401  (registers the card texts)
from handlers.staff.access import can_accept, can_handle, can_see_phone, is_open, may

# verb -> catalogue suffix of its button and of its text-command fallback
VERBS = {"a": "accept", "s": "start", "d": "resolve", "x": "transfer", "c": "close", "p": "phone", "v": "view"}
HISTORY_LINES = 15


def lang_of(lang: str) -> str:
    """Cards are one language: English when asked, otherwise Chinese (also for "both")."""
    return "en" if lang == "en" else "zh"


def verbs_for(ticket: Ticket, viewer: Staff | None, *, group: bool = False, details: bool = False) -> list[str]:
    """The actions this viewer may take on the ticket now, in button order."""
    verbs = []
    if ticket.assignee_id is None and may(Action.ACCEPT, ticket) and (viewer is None or can_accept(viewer, ticket)):
        verbs.append("a")
    if viewer is not None:
        if ticket.assignee_id == viewer.id and may(Action.START, ticket):
            verbs.append("s")
        handles = can_handle(viewer, ticket)
        if handles and ticket.assignee_id is not None and may(Action.RESOLVE, ticket):
            verbs.append("d")
        if handles and is_open(ticket):
            verbs.append("x")
        if handles and may(Action.CLOSE, ticket):
            verbs.append("c")
        if not group and not ticket.anonymous and can_see_phone(viewer, ticket) and _reporter_phone(ticket):
            verbs.append("p")
    if not details:
        verbs.append("v")
    return verbs


def buttons_for(ticket_id: int, number: int | None, verbs: list[str], lang: str) -> tuple[list[Button], list[str]]:
    """Buttons and, for channels without buttons, the text command each one stands for."""
    lang = lang_of(lang)
    buttons = [Button(render(f"card.btn.{VERBS[v]}", lang), payloads.make("t", v, ticket_id)) for v in verbs]
    commands = [render(f"card.cmd.{VERBS[v]}", lang, number=number) for v in verbs] if number is not None else []
    return buttons, commands


def card_lines(ticket: Ticket, lang: str, *, group: bool = False, tz: str | None = None,
               now: datetime | None = None) -> list[str]:
    """Everything but the title: where, what, status, people, deadlines, the resident's masked phone."""
    lang = lang_of(lang)
    tz = tz or get_settings().timezone
    session = _session(ticket)
    lines = [render("card.where", lang, location=ticket.location or "—"),
             render("card.what", lang, description=(ticket.description or "")[:300])]
    if ticket.preferred_time:
        lines.append(render("card.preferred", lang, when=ticket.preferred_time.replace("T", " ")[:16]))
    photos = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.ticket_id == ticket.id))
    if photos:
        lines.append(render("card.photos", lang, count=photos))
    lines.append(render("card.status", lang, status=name(f"status.{ticket.status}", lang)))
    if not group:  # groups see no names and no phones
        lines.append(render("card.people", lang, owner=_staff_name(session, ticket.owner_id, lang),
                            assignee=_staff_name(session, ticket.assignee_id, lang)))
    if is_open(ticket):
        if ticket.accepted_at is None:
            lines.append(_due("card.respond_due", ticket.respond_due_at, lang, tz, now))
        lines.append(_due("card.resolve_due", ticket.resolve_due_at, lang, tz, now))
    if not group:
        if ticket.anonymous:
            lines.append(render("card.anonymous", lang))
        elif phone := _reporter_phone(ticket):
            lines.append(render("card.phone", lang, phone=mask_phone(phone)))
    return lines


def title(ticket: Ticket, lang: str) -> str:
    lang = lang_of(lang)
    key = "card.title_urgent" if ticket.priority == "urgent" or ticket.kind == "emergency" else "card.title"
    cat = ticket.category
    return render(key, lang, number=ticket.number, kind=name(f"kind.{ticket.kind}", lang),
                  category=(cat.name_en if lang == "en" else cat.name_zh) if cat else "")


def task_card(ticket: Ticket, staff_viewer: Staff | None, lang: str = "zh", *, group: bool = False,
              tz: str | None = None, now: datetime | None = None, headline: str = "",
              details: bool = False) -> Outbound:
    """One ticket as a card. `headline` replaces the title (a notification's own text);
    `group` leaves out every personal detail; `details` adds the history."""
    lines = [headline] if headline else [title(ticket, lang)]
    lines += card_lines(ticket, lang, group=group, tz=tz, now=now)
    if details:
        lines += history_lines(ticket, lang, tz=tz, group=group)
    verbs = verbs_for(ticket, staff_viewer, group=group, details=details)
    buttons, commands = buttons_for(ticket.id, ticket.number, verbs, lang)
    return Outbound("\n".join(lines), buttons, meta={"ticket_id": ticket.id, "commands": commands})


def history_lines(ticket: Ticket, lang: str, *, tz: str | None = None, group: bool = False) -> list[str]:
    lang = lang_of(lang)
    tz = tz or get_settings().timezone
    session = _session(ticket)
    events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                  .order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(HISTORY_LINES)))
    lines = [render("card.history", lang)]
    for event in reversed(events):
        if event.actor_type == "staff" and not group:
            who = _staff_name(session, event.actor_staff_id, lang)
        else:
            who = render("card.resident" if event.actor_type == "resident" else "card.system", lang)
        note = f"：{event.note}" if event.note and not group else ""
        lines.append(render("card.history_line", lang, at=local_time(event.at, tz), who=who,
                            action=_action_name(event.action, lang), note=note[:200]))
    return lines


def _action_name(action: str, lang: str) -> str:
    for key in (f"card.action.{action}", f"action.{action}"):
        if key in MESSAGES:
            return name(key, lang)
    return action


def _due(key: str, due: datetime, lang: str, tz: str, now: datetime | None) -> str:
    late = render("card.late", lang) if now is not None and now > due else ""
    return render(key, lang, due=local_time(due, tz), late=late)


def _staff_name(session: Session, staff_id: int | None, lang: str) -> str:
    staff = session.get(Staff, staff_id) if staff_id else None
    return staff.name if staff else name("nobody", lang)


def _reporter_phone(ticket: Ticket) -> str:
    if ticket.reporter_id is None:
        return ""
    reporter = _session(ticket).get(Resident, ticket.reporter_id)
    return reporter.phone if reporter and reporter.phone else ""


def _session(ticket: Ticket) -> Session:
    session = object_session(ticket)
    if session is None:
        raise ValueError("task_card needs a ticket loaded in a session")
    return session
