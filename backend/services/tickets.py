"""Tickets under the first-responsible rule (首问负责制): every move checked, recorded, notified.

Each public method runs inside the caller's session and transaction: the change,
its history row and the notifications it implies are committed together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    case,
    cast,
    false,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from backend.catalogue import name
from backend.clock import Clock, SystemClock
from backend.domain import OPEN_STATUSES, TRANSITIONS, Action, Department, Kind, Status
from backend.errors import AlreadyTaken, Forbidden, IllegalMove, Invalid, NotFound
from backend.hot_sql import HotStatement, Prebuilt, attach
from backend.models import (
    Attachment,
    Building,
    Counter,
    Household,
    Notification,
    Resident,
    Staff,
    Ticket,
    TicketCategory,
    TicketEvent,
)
from backend.services import outbox, permissions, staff_directory
from backend.services.actor import Actor
from backend.services.categories import DEFAULT_CATEGORY_BY_KIND
from backend.services.outbox import Recipient
from backend.services.permissions import Perm
from backend.services.ticket_format import spoken_iso, staff_label, ticket_params
from backend.settings import Settings, get_settings

OPEN = [s.value for s in OPEN_STATUSES]
MAX_DESCRIPTION = 4000
# What an amendment's note calls each change (the history and staff read it).
AMENDED = {"household": "房屋", "location": "地点", "description": "内容", "preferred_time": "上门时间"}
MAX_NOTE = 2000
CHASE_INTERVAL = timedelta(hours=1)
_WITH_CATEGORY = joinedload(Ticket.category)  # lists: in the same query, not a second one (selectin)
CATEGORY_TTL = 60.0  # seconds a category edit may take to reach ticket creation
_CATEGORY_CACHE: dict[tuple[Any, int, str], tuple[float, dict[str, Any]]] = {}


def clear_category_cache() -> None:
    """Forget cached categories (after editing them, and between test databases)."""
    _CATEGORY_CACHE.clear()


@dataclass
class NewTicket:
    kind: Kind | str
    description: str
    category: str | None = None
    household_id: int | None = None
    building_id: int | None = None
    location: str = ""
    priority: str | None = None
    preferred_time: str = ""
    anonymous: bool = False
    channel: str = ""
    photos: list[str] = field(default_factory=list)
    reporter_id: int | None = None  # when staff register a ticket for a resident


class TicketService:
    def __init__(self, session: Session, clock: Clock | None = None, settings: Settings | None = None) -> None:
        self.s = session
        self.clock = clock or SystemClock()
        self.settings = settings or get_settings()
        self._categories: dict[tuple[int, str], TicketCategory] = {}

    # ---- queries -------------------------------------------------------------------------

    def get(self, actor: Actor, ticket_id: int, *, lock: bool = False) -> Ticket:
        """A ticket the actor may see; NotFound for another community's or household's ticket."""
        ticket = self.s.get(Ticket, ticket_id, with_for_update=lock, populate_existing=lock)
        if ticket is None or ticket.community_id != actor.community_id:
            raise NotFound("工单")
        if actor.type == "resident" and not self._is_residents(actor, ticket):
            raise NotFound("工单")
        return ticket

    def by_number(self, actor: Actor, number: int) -> Ticket:
        ticket_id = self.s.scalar(
            select(Ticket.id).where(Ticket.community_id == actor.community_id, Ticket.number == number)
        )
        if ticket_id is None:
            raise NotFound("工单")
        return self.get(actor, ticket_id)

    def history(self, actor: Actor, ticket_id: int) -> list[TicketEvent]:
        self.get(actor, ticket_id)
        return list(self.s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at, TicketEvent.id)
        ))

    def open_tasks(self, staff: Staff, limit: int = 50) -> list[Ticket]:
        """A staff member's open work: tickets they are doing or answer for."""
        mine = (Ticket.assignee_id == staff.id) | (Ticket.owner_id == staff.id)
        return list(self.s.scalars(
            select(Ticket).options(_WITH_CATEGORY).where(Ticket.is_open, mine)
            .order_by(Ticket.created_at.desc()).limit(limit)
        ))

    def for_resident(self, resident: Resident, *, open_only: bool = True, limit: int = 20) -> list[Ticket]:
        cond = Ticket.reporter_id == resident.id
        if resident.household_id is not None:
            cond = cond | (Ticket.household_id == resident.household_id)
        query = select(Ticket).options(_WITH_CATEGORY).where(Ticket.community_id == resident.community_id, cond)
        if open_only:
            query = query.where(Ticket.status.in_([*OPEN, Status.RESOLVED]))
        return list(self.s.scalars(query.order_by(Ticket.created_at.desc()).limit(limit)))

    def overdue(self, community_id: int, department: str | None = None, limit: int = 50) -> list[Ticket]:
        now = self.clock.now()
        late = ((Ticket.accepted_at.is_(None)) & (Ticket.respond_due_at < now)) | (Ticket.resolve_due_at < now)
        query = select(Ticket).where(Ticket.community_id == community_id, Ticket.is_open.is_(True), late)
        if department:
            query = query.where(Ticket.department == department)
        return list(self.s.scalars(query.order_by(Ticket.resolve_due_at).limit(limit)))

    # ---- create ---------------------------------------------------------------------------

    def create(self, actor: Actor, spec: NewTicket) -> Ticket:
        """Open a ticket: number, owner (the building's steward), deadlines, history and notifications.

        The hot path of the product, so it is written for few round trips: the number, the steward and the
        row come from one INSERT ... SELECT (on PostgreSQL the counter is a CTE of that statement), and the
        history and notification rows go in with Core; the returned Ticket is attached to the session
        without reloading it.
        """
        kind = _kind(spec.kind)
        description = (spec.description or "").strip()
        if not description:
            raise Invalid("description is empty / 请描述问题")
        now = self.clock.now()
        community_id = actor.community_id
        category = self._category(community_id, spec.category or DEFAULT_CATEGORY_BY_KIND[kind])
        reporter = self._reporter(actor, spec)
        household_id = spec.household_id
        if household_id is not None:
            self._may_report_for(actor, reporter, household_id)
        elif spec.building_id is not None:
            self._check_building(community_id, spec.building_id)
        respond_due = now + timedelta(minutes=category.respond_minutes)
        values: dict[str, Any] = {
            **_NEW_TICKET, "community_id": community_id, "kind": kind.value, "category_id": category.id,
            "department": category.department,
            "priority": spec.priority or ("urgent" if kind is Kind.EMERGENCY else "normal"),
            "household_id": household_id, "building_id": None if household_id else spec.building_id,
            "reporter_id": reporter.id if reporter else None, "reporter_channel": spec.channel,
            "location": spec.location.strip()[:200], "description": description[:MAX_DESCRIPTION],
            "preferred_time": spec.preferred_time[:50], "anonymous": spec.anonymous,
            "respond_due_at": respond_due, "resolve_due_at": now + timedelta(minutes=category.resolve_minutes),
            "next_check_at": self._first_check(respond_due, now), "created_at": now, "updated_at": now,
        }
        self.s.flush()  # Core statements do not autoflush; the rows this one refers to must exist
        row = _insert_ticket(self.s, values)
        if row is None:  # no such household in this community (the statement rolls back with the caller)
            raise NotFound("房屋")
        ticket_id, number, owner_id, values["building_id"], values["location"] = row
        ticket = attach(self.s, Ticket, {**values, "id": ticket_id, "number": number, "owner_id": owner_id,
                                         "category": category})
        event = self._event_values(ticket, actor, Action.CREATE, None, Status.NEW, data={"category": category.code})
        _insert_history(self.s, event, self._created_notifications(ticket, actor, reporter))
        for url in spec.photos:
            self._attach(ticket, actor, url, "image/jpeg")
        return ticket

    # ---- staff moves ----------------------------------------------------------------------

    def accept(self, actor: Actor, ticket_id: int) -> Ticket:
        """Take the work. Atomic: when many press at once exactly one wins, the rest learn who."""
        staff = self._require_staff(actor)
        ticket = self.get(actor, ticket_id)
        permissions.require(staff, Perm.TICKET_ACCEPT, permissions.of_ticket(self.s, ticket, paged=True))
        before = ticket.status
        allowed, _ = TRANSITIONS[Action.ACCEPT]
        now = self.clock.now()
        first_response = ticket.accepted_at is None
        values: dict[str, Any] = {
            "status": Status.ACCEPTED, "assignee_id": staff.id, "updated_at": now,
            "owner_id": func.coalesce(Ticket.owner_id, staff.id), "version": Ticket.version + 1,
        }
        if first_response:
            values |= {
                "accepted_at": now, "escalation_deadline": "resolve", "escalation_level": 0,
                "next_check_at": self._first_check(ticket.resolve_due_at, now),
            }
        won = self.s.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None), Ticket.status.in_(list(allowed)))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        self.s.refresh(ticket)
        if not won:
            if ticket.assignee_id is not None:
                holder = self.s.get(Staff, ticket.assignee_id)
                raise AlreadyTaken(ticket.number, holder.name if holder else "?", ticket.assignee_id)
            raise self._illegal(ticket, Action.ACCEPT)
        self._event(ticket, actor, Action.ACCEPT, before, Status.ACCEPTED)
        owner = self.s.get(Staff, ticket.owner_id) if ticket.owner_id else None
        params = self._params(ticket, assignee=staff_label(staff), owner=staff_label(owner))
        self._tell_resident(ticket, "ticket.accepted", params)
        if owner is not None and owner.id != staff.id:
            outbox.enqueue(self.s, self.clock, ticket.community_id, Recipient.staff(owner.id),
                           "ticket.accepted_owner", params, ticket.id)
        return ticket

    def transfer(
        self, actor: Actor, ticket_id: int, *, to_staff_id: int | None = None,
        to_department: str | None = None, note: str = "",
    ) -> Ticket:
        """Hand the work to a person or a department; the owner stays accountable."""
        staff = self._require_staff(actor)
        if (to_staff_id is None) == (to_department is None):
            raise Invalid("transfer needs exactly one of to_staff_id / to_department")
        ticket = self._movable(actor, ticket_id, Action.TRANSFER)
        self._require_handler(staff, ticket)
        before = ticket.status
        now = self.clock.now()
        target: Staff | None = None
        if to_staff_id is not None:
            target = self.s.get(Staff, to_staff_id)
            if target is None or target.community_id != ticket.community_id or not target.active:
                raise NotFound("员工")
            ticket.assignee_id, ticket.department = target.id, target.department
        else:
            if to_department not in {d.value for d in Department}:
                raise Invalid(f"unknown department {to_department}")
            ticket.assignee_id, ticket.department = None, to_department
        if ticket.owner_id is None:
            ticket.owner_id = staff.id  # whoever first handles a matter answers for it
        if ticket.accepted_at is None:
            ticket.accepted_at = now
            ticket.escalation_deadline, ticket.escalation_level = "resolve", 0
            ticket.next_check_at = self._first_check(ticket.resolve_due_at, now)
        if ticket.status in (Status.NEW, Status.IN_PROGRESS):
            ticket.status = Status.ACCEPTED
        self._touch(ticket, now)
        self._event(ticket, actor, Action.TRANSFER, before, ticket.status, note,
                    data={"to_staff_id": to_staff_id, "to_department": ticket.department})
        owner = self.s.get(Staff, ticket.owner_id)
        params = self._params(ticket, assignee=staff_label(target) if target else name(
            f"dept.{ticket.department}"), owner=staff_label(owner), note=_clip(note, MAX_NOTE))
        if target is not None:
            outbox.enqueue(self.s, self.clock, ticket.community_id, Recipient.staff(target.id),
                           "ticket.assigned_to_you", params, ticket.id)
        else:
            outbox.enqueue(self.s, self.clock, ticket.community_id, Recipient.dept(ticket.department),
                           "ticket.new_task", params, ticket.id)
        self._tell_resident(ticket, "ticket.transferred", params)
        return ticket

    def start(self, actor: Actor, ticket_id: int) -> Ticket:
        staff = self._require_staff(actor)
        ticket = self._movable(actor, ticket_id, Action.START)
        if ticket.assignee_id != staff.id:
            raise Forbidden()
        before = ticket.status
        now = self.clock.now()
        ticket.status, ticket.started_at = Status.IN_PROGRESS, ticket.started_at or now
        self._touch(ticket, now)
        self._event(ticket, actor, Action.START, before, ticket.status)
        self._tell_resident(ticket, "ticket.started", self._params(ticket, assignee=staff_label(staff)))
        return ticket

    def resolve(self, actor: Actor, ticket_id: int, note: str = "", photo_url: str | None = None) -> Ticket:
        staff = self._require_staff(actor)
        ticket = self._movable(actor, ticket_id, Action.RESOLVE)
        self._require_handler(staff, ticket)
        before = ticket.status
        now = self.clock.now()
        ticket.status, ticket.resolved_at, ticket.is_open = Status.RESOLVED, now, False
        ticket.escalation_deadline, ticket.escalation_level = "autoclose", 0
        ticket.next_check_at = now + timedelta(days=self.settings.auto_close_resolved_days)
        if ticket.assignee_id is None:
            ticket.assignee_id = staff.id
        self._touch(ticket, now)
        event = self._event(ticket, actor, Action.RESOLVE, before, ticket.status, note)
        if photo_url:
            self._attach(ticket, actor, photo_url, "image/jpeg", event)
        self._tell_resident(ticket, "ticket.resolved", self._params(ticket, note=_clip(note, MAX_NOTE) or "—"))
        return ticket

    def close(self, actor: Actor, ticket_id: int, note: str = "") -> Ticket:
        """Close a resolved ticket without the resident's confirmation (owner, supervisor or system)."""
        ticket = self._movable(actor, ticket_id, Action.CLOSE)
        if actor.type == "resident":
            raise Forbidden()
        if actor.staff is not None:
            self._require_handler(actor.staff, ticket)
        before = ticket.status
        self._finish(ticket, Status.CLOSED)
        self._event(ticket, actor, Action.CLOSE, before, ticket.status, note)
        if actor.type == "system":
            self._tell_resident(ticket, "ticket.auto_closed",
                                self._params(ticket, days=self.settings.auto_close_resolved_days))
        else:
            self._tell_resident(ticket, "ticket.closed", self._params(ticket))
        return ticket

    # ---- resident moves -------------------------------------------------------------------

    def confirm(self, actor: Actor, ticket_id: int) -> Ticket:
        self._require_resident(actor)
        ticket = self._movable(actor, ticket_id, Action.CONFIRM)
        before = ticket.status
        self._finish(ticket, Status.CLOSED)
        self._event(ticket, actor, Action.CONFIRM, before, ticket.status)
        return ticket

    def reopen(self, actor: Actor, ticket_id: int, note: str = "") -> Ticket:
        """The resident says it is not fixed (or staff who may handle it reopen it, e.g. from the console):
        back to work, with a fresh resolution deadline."""
        if actor.type == "staff":
            staff = self._require_staff(actor)
            ticket = self._movable(actor, ticket_id, Action.REOPEN)
            self._require_handler(staff, ticket)
        else:
            self._require_resident(actor)
            ticket = self._movable(actor, ticket_id, Action.REOPEN)
        before = ticket.status
        now = self.clock.now()
        ticket.status, ticket.is_open = Status.REOPENED, True
        ticket.resolved_at = ticket.closed_at = None
        ticket.rating, ticket.rating_comment = None, ""
        ticket.resolve_due_at = now + timedelta(minutes=ticket.category.resolve_minutes)
        ticket.escalation_deadline, ticket.escalation_level = "resolve", 0
        ticket.next_check_at = self._first_check(ticket.resolve_due_at, now)
        self._touch(ticket, now)
        self._event(ticket, actor, Action.REOPEN, before, ticket.status, note)
        params = self._params(ticket, note=_clip(note, MAX_NOTE) or "—")
        if actor.type == "staff":
            params["who"] = staff_label(actor.staff)
            self._tell_staff(ticket, "ticket.reopened_by_staff", params)
            self._tell_resident(ticket, "ticket.reopened_for_you", params)
        else:
            self._tell_staff(ticket, "ticket.reopened", params)
        return ticket

    def rate(self, actor: Actor, ticket_id: int, score: int, comment: str = "") -> Ticket:
        """Rate 1–5; rating a resolved ticket also confirms it."""
        self._require_resident(actor)
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise Invalid("rating", key="error.rating_range")
        ticket = self._movable(actor, ticket_id, Action.RATE)
        if ticket.rating is not None:
            raise IllegalMove("error.already_rated", number=ticket.number)
        before = ticket.status
        ticket.rating, ticket.rating_comment = score, _clip(comment, MAX_NOTE)
        if ticket.status == Status.RESOLVED:
            self._finish(ticket, Status.CLOSED)
        else:
            self._touch(ticket, self.clock.now())
        self._event(ticket, actor, Action.RATE, before, ticket.status, comment, data={"rating": score})
        params = self._params(ticket, rating=score, comment=ticket.rating_comment)
        recipients = [Recipient.staff(ticket.owner_id)] if ticket.owner_id else []
        if score <= 2:  # an unhappy resident is the supervisor's business too
            recipients += [Recipient.staff(s.id) for s in staff_directory.supervisors_or_managers(
                self.s, ticket.community_id, ticket.department)]
        outbox.enqueue_unique(self.s, self.clock, ticket.community_id, recipients, "ticket.rated", params, ticket.id)
        return ticket

    def chase(self, actor: Actor, ticket_id: int) -> Ticket:
        """催单: remind the owner; when already late, the owner's supervisor too. Once an hour."""
        self._require_resident(actor)
        ticket = self._movable(actor, ticket_id, Action.CHASE)
        now = self.clock.now()
        if ticket.last_chased_at and now - ticket.last_chased_at < CHASE_INTERVAL:
            wait = CHASE_INTERVAL - (now - ticket.last_chased_at)
            raise IllegalMove("error.chase_too_soon", number=ticket.number, minutes=int(wait.total_seconds() // 60) + 1)
        ticket.last_chased_at = now
        self._touch(ticket, now)
        late = now > (ticket.respond_due_at if ticket.accepted_at is None else ticket.resolve_due_at)
        self._event(ticket, actor, Action.CHASE, ticket.status, ticket.status, data={"late": late})
        recipients = self._responsible(ticket)
        if late:
            owner = self.s.get(Staff, ticket.owner_id) if ticket.owner_id else None
            dept = owner.department if owner else ticket.department
            recipients += [Recipient.staff(s.id) for s in staff_directory.supervisors_or_managers(
                self.s, ticket.community_id, dept)]
        outbox.enqueue_unique(self.s, self.clock, ticket.community_id, recipients, "ticket.chased",
                              self._params(ticket), ticket.id)
        return ticket

    def amend(self, actor: Actor, ticket_id: int, *, location: str | None = None, household_id: int | None = None,
              description: str | None = None, preferred_time: str | None = None) -> Ticket:
        """Correct or complete what was registered (不对，是2单元; 明天上午在家): location, household,
        description or the time that suits a visit, while open."""
        ticket = self._movable(actor, ticket_id, Action.NOTE)
        changes: dict[str, Any] = {}
        if household_id is not None and household_id != ticket.household_id:
            reporter = actor.resident if actor.type == "resident" else None
            household = self._household(ticket.community_id, household_id, reporter, actor)
            assert household is not None
            ticket.household_id, ticket.building_id = household.id, household.building_id
            changes["household"] = household.label
            if location is None:
                location = household.label
        if location is not None and location.strip() and location.strip()[:200] != ticket.location:
            ticket.location = location.strip()[:200]
            changes["location"] = ticket.location
        if description is not None and description.strip():
            ticket.description = description.strip()[:MAX_DESCRIPTION]
            changes["description"] = ticket.description[:200]
        if preferred_time and preferred_time[:50] != ticket.preferred_time:
            ticket.preferred_time = preferred_time[:50]
            changes["preferred_time"] = ticket.preferred_time
        if not changes:
            return ticket
        self._touch(ticket, self.clock.now())
        note = "；".join(f"{AMENDED[k]}：{spoken_iso(v) if k == 'preferred_time' else v}" for k, v in changes.items())
        self._event(ticket, actor, Action.NOTE, ticket.status, ticket.status, note, data={"amended": changes})
        if actor.type == "resident":
            self._tell_staff(ticket, "ticket.note_from_resident", self._params(ticket, note=note))
        return ticket

    # ---- either side ----------------------------------------------------------------------

    def cancel(self, actor: Actor, ticket_id: int, reason: str = "") -> Ticket:
        ticket = self._movable(actor, ticket_id, Action.CANCEL)
        if actor.staff is not None:
            self._require_handler(actor.staff, ticket)
        before = ticket.status
        self._finish(ticket, Status.CANCELLED)
        self._event(ticket, actor, Action.CANCEL, before, ticket.status, reason)
        params = self._params(ticket, note=_clip(reason, MAX_NOTE))
        if actor.type == "resident":
            self._tell_staff(ticket, "ticket.cancelled", params)
        else:
            self._tell_resident(ticket, "ticket.cancelled", params)
        return ticket

    def add_note(self, actor: Actor, ticket_id: int, note: str) -> TicketEvent:
        note = _clip(note, MAX_NOTE)
        if not note:
            raise Invalid("note is empty / 备注为空")
        ticket = self._movable(actor, ticket_id, Action.NOTE)
        self._touch(ticket, self.clock.now())
        event = self._event(ticket, actor, Action.NOTE, ticket.status, ticket.status, note)
        self.s.flush()
        params = self._params(ticket, note=note)
        if actor.type == "resident":
            self._tell_staff(ticket, "ticket.note_from_resident", params)
        else:
            self._tell_resident(ticket, "ticket.note_from_staff", params)
        return event

    def add_photo(self, actor: Actor, ticket_id: int, url: str, content_type: str = "image/jpeg") -> Attachment:
        ticket = self._movable(actor, ticket_id, Action.PHOTO)
        self._touch(ticket, self.clock.now())
        event = self._event(ticket, actor, Action.PHOTO, ticket.status, ticket.status)
        return self._attach(ticket, actor, url, content_type, event)

    # ---- internals ------------------------------------------------------------------------

    def _movable(self, actor: Actor, ticket_id: int, action: Action) -> Ticket:
        ticket = self.get(actor, ticket_id, lock=True)
        allowed, _ = TRANSITIONS[action]
        if ticket.status not in allowed:
            raise self._illegal(ticket, action)
        return ticket

    def _illegal(self, ticket: Ticket, action: Action) -> IllegalMove:
        return IllegalMove(
            "error.illegal_move", number=ticket.number, status=name(f"status.{ticket.status}"),
            status_en=name(f"status.{ticket.status}", "en"), action=name(f"action.{action}"),
            action_en=name(f"action.{action}", "en"),
        )

    def _finish(self, ticket: Ticket, status: Status) -> None:
        now = self.clock.now()
        ticket.status, ticket.is_open, ticket.next_check_at = status, False, None
        if status == Status.CLOSED:
            ticket.closed_at = now
        self._touch(ticket, now)

    def _touch(self, ticket: Ticket, now: datetime) -> None:
        ticket.updated_at = now
        ticket.version += 1

    def _first_check(self, due: datetime, now: datetime) -> datetime:
        remind_at = due - timedelta(minutes=self.settings.remind_before_minutes)
        return remind_at if remind_at > now else due

    def _event(
        self, ticket: Ticket, actor: Actor, action: Action, before: str | None, after: str | None,
        note: str = "", data: dict[str, Any] | None = None,
    ) -> TicketEvent:
        event = TicketEvent(**self._event_values(ticket, actor, action, before, after, note, data))
        self.s.add(event)
        return event

    def _event_values(
        self, ticket: Ticket, actor: Actor, action: Action, before: str | None, after: str | None,
        note: str = "", data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "community_id": ticket.community_id, "ticket_id": ticket.id, "at": self.clock.now(),
            "action": action.value, "actor_type": actor.type, "actor_staff_id": actor.staff_id,
            "actor_resident_id": actor.resident_id, "from_status": before, "to_status": after,
            "note": _clip(note, MAX_NOTE), "data": data or {},
        }

    def _attach(self, ticket: Ticket, actor: Actor, url: str, content_type: str,
                event: TicketEvent | None = None) -> Attachment:
        if not url or len(url) > 500:
            raise Invalid("bad attachment url")
        if event is not None and event.id is None:
            self.s.flush()
        att = Attachment(community_id=ticket.community_id, ticket_id=ticket.id, event_id=event.id if event else None,
                         kind="photo" if content_type.startswith("image/") else "document", url=url,
                         content_type=content_type[:50], created_at=self.clock.now())
        self.s.add(att)
        self.s.flush()
        return att

    def _params(self, ticket: Ticket, **extra: Any) -> dict[str, Any]:
        return ticket_params(ticket, self.settings.timezone, **extra)

    def _tell_resident(self, ticket: Ticket, kind: str, params: dict[str, Any]) -> None:
        if ticket.reporter_id is not None:
            outbox.enqueue(self.s, self.clock, ticket.community_id, Recipient.resident(ticket.reporter_id),
                           kind, params, ticket.id)

    def _responsible(self, ticket: Ticket) -> list[Recipient]:
        """Who hears about the work: assignee and owner, or the department when nobody has it."""
        people = [sid for sid in (ticket.assignee_id, ticket.owner_id) if sid is not None]
        if not people:
            return [Recipient.dept(ticket.department)]
        return [Recipient.staff(sid) for sid in dict.fromkeys(people)]

    def _tell_staff(self, ticket: Ticket, kind: str, params: dict[str, Any]) -> None:
        outbox.enqueue_unique(self.s, self.clock, ticket.community_id, self._responsible(ticket), kind, params,
                              ticket.id)

    def _created_notifications(self, ticket: Ticket, actor: Actor, reporter: Resident | None) -> list[dict[str, Any]]:
        """Who hears of a new ticket: the department (both duty teams for an emergency), the owner, and the
        resident when staff registered it for them."""
        sends: list[tuple[Recipient, str]] = []
        if ticket.kind == Kind.EMERGENCY:
            depts = [Department.SECURITY, Department.ENGINEERING]
            if ticket.department not in depts:
                depts.insert(0, Department(ticket.department))
            sends += [(Recipient.dept(d), "ticket.emergency_alert") for d in depts]
        else:
            sends.append((Recipient.dept(ticket.department), "ticket.new_task"))
        if ticket.owner_id is not None:
            sends.append((Recipient.staff(ticket.owner_id), "ticket.you_own"))
        if reporter is not None and actor.type != "resident":
            sends.append((Recipient.resident(reporter.id), "ticket.created_for_you"))
        params = self._params(ticket)
        return [outbox.row(self.clock, ticket.community_id, to, kind, params, ticket.id) for to, kind in sends]

    def _category(self, community_id: int, code: str) -> TicketCategory:
        """Categories change rarely: a process-wide cache (CATEGORY_TTL) saves a query per ticket."""
        key = (community_id, code)
        cat = self._categories.get(key)
        if cat is not None:
            return cat
        now = time.monotonic()
        shared_key = (self.s.get_bind().engine.url, community_id, code)
        cached = _CATEGORY_CACHE.get(shared_key)
        if cached is None or cached[0] <= now:
            cat = self.s.scalar(select(TicketCategory).where(
                TicketCategory.community_id == community_id, TicketCategory.code == code))
            if cat is None:
                raise Invalid(f"unknown category {code}")
            values = {attr.key: getattr(cat, attr.key) for attr in TicketCategory.__mapper__.column_attrs}
            _CATEGORY_CACHE[shared_key] = (now + CATEGORY_TTL, values)
        else:  # this session's copy of the cached row (cheaper than Session.merge)
            cat = attach(self.s, TicketCategory, dict(cached[1]))
        self._categories[key] = cat
        return cat

    def _reporter(self, actor: Actor, spec: NewTicket) -> Resident | None:
        if actor.type == "resident":
            return actor.resident
        if spec.reporter_id is None:
            return None
        resident = self.s.get(Resident, spec.reporter_id)
        if resident is None or resident.community_id != actor.community_id:
            raise NotFound("住户")
        return resident

    def _household(self, community_id: int, household_id: int | None, reporter: Resident | None,
                   actor: Actor) -> Household | None:
        if household_id is None:
            return None
        self._may_report_for(actor, reporter, household_id)
        household = self.s.get(Household, household_id)
        if household is None or household.community_id != community_id:
            raise NotFound("房屋")
        return household

    @staticmethod
    def _may_report_for(actor: Actor, reporter: Resident | None, household_id: int) -> None:
        if actor.type == "resident" and (reporter is None or reporter.household_id != household_id):
            raise Forbidden()  # a resident reports only for their own home

    def _check_building(self, community_id: int, building_id: int) -> None:
        found = self.s.scalar(select(Building.community_id).where(Building.id == building_id))
        if found != community_id:
            raise NotFound("楼栋")

    def _is_residents(self, actor: Actor, ticket: Ticket) -> bool:
        resident = actor.resident
        if resident is None:
            return False
        if ticket.reporter_id == resident.id:
            return True
        return resident.household_id is not None and ticket.household_id == resident.household_id

    @staticmethod
    def _require_staff(actor: Actor) -> Staff:
        if actor.type != "staff" or actor.staff is None or not actor.staff.active:
            raise Forbidden()
        return actor.staff

    @staticmethod
    def _require_resident(actor: Actor) -> Resident:
        if actor.type != "resident" or actor.resident is None:
            raise Forbidden()
        return actor.resident

    @staticmethod
    def _require_handler(staff: Staff, ticket: Ticket) -> None:
        """Owner, assignee, or a supervisor of the ticket's department (or the project manager)."""
        permissions.require(staff, Perm.TICKET_HANDLE, permissions.of_ticket(None, ticket))


_TICKET_COLUMNS = [c.key for c in Ticket.__table__.c if c.key not in ("id", "number", "owner_id")]
# What every new ticket starts with: literals in the INSERT, not parameters.
_NEW_TICKET: dict[str, Any] = {
    "status": Status.NEW.value, "is_open": True, "assignee_id": None, "accepted_at": None, "started_at": None,
    "resolved_at": None, "closed_at": None, "escalation_level": 0, "escalation_deadline": "respond",
    "rating": None, "rating_comment": "", "last_chased_at": None, "version": 1,
}


def _constant(value: Any, type_: Any) -> Any:
    """A constant written into the SQL text (a literal() would still be a bound parameter)."""
    if value is None:  # typed, so that the rows of a UNION agree
        return cast(null(), type_)
    if isinstance(value, bool):
        return true() if value else false()
    if isinstance(value, int):
        return literal_column(str(value), type_)
    return literal_column("'" + value.replace("'", "''") + "'", type_)


def _insert_ticket(session: Session, values: dict[str, Any]) -> Any:
    """INSERT ... SELECT one ticket with its next number and its building's active steward as owner.

    For a household's ticket the building and the default location come from the household row, which
    must be in the ticket's community (else no row). Returns (id, number, owner_id, building_id, location)
    or None.
    """
    params = {key: value for key, value in values.items() if key not in _NEW_TICKET}
    if session.get_bind().dialect.name != "postgresql":  # (PostgreSQL bumps the counter in the statement)
        params["number"] = _next_number(session, values["community_id"])
    return _INSERT_TICKET[values["household_id"] is not None].first(session, params)


def _ticket_statement(dialect: str, from_household: bool) -> Any:
    table, counter, home = Ticket.__table__, Counter.__table__, Household.__table__
    fields = {key: _constant(_NEW_TICKET[key], table.c[key].type) if key in _NEW_TICKET
              else bindparam(key, type_=table.c[key].type) for key in _TICKET_COLUMNS}
    if from_household:
        fields["building_id"] = home.c.building_id
        fields["location"] = case((fields["location"] == "", func.substr(home.c.label, 1, 200)),
                                  else_=fields["location"])
    steward = (
        select(Staff.__table__.c.id)
        .join(Building.__table__, Building.__table__.c.steward_id == Staff.__table__.c.id)
        .where(Building.__table__.c.id == fields["building_id"], Staff.__table__.c.active.is_(True))
        .scalar_subquery()
    )
    if dialect == "postgresql":  # the number from the counter in the same statement
        bump = (
            pg_insert(counter)
            .values(community_id=bindparam("community_id"), name="ticket", value=1)
            .on_conflict_do_update(index_elements=["community_id", "name"], set_={"value": counter.c.value + 1})
            .returning(counter.c.value)
            .cte("bump")
        )
        number: Any = bump.c.value
    else:
        number = bindparam("number", type_=table.c.number.type)
    source = select(number, steward, *fields.values())
    if from_household:
        if dialect == "postgresql":  # one counter row beside one household row
            source = source.select_from(home.join(bump, true()))
        source = source.where(home.c.id == fields["household_id"], home.c.community_id == fields["community_id"])
    return (
        insert(table).from_select(["number", "owner_id", *fields], source)
        .returning(table.c.id, table.c.number, table.c.owner_id, table.c.building_id, table.c.location)
    )


_INSERT_TICKET = {from_household: Prebuilt(lambda dialect, f=from_household: _ticket_statement(dialect, f))
                  for from_household in (False, True)}  # keyed by: for a household
_INSERT_HISTORY: dict[int, HotStatement] = {}  # PostgreSQL, by number of notifications
# The notifications of one event differ only in their recipient and kind; the rest they share.
_NOTE_RECIPIENT = ("recipient_type", "resident_id", "staff_id", "department", "kind")
_NOTE_CONSTANTS = outbox.NEW_ROW


def _insert_history(session: Session, event: dict[str, Any], notes: list[dict[str, Any]]) -> None:
    """The CREATE history row and the notifications: one statement on PostgreSQL (a CTE), two elsewhere."""
    if session.get_bind().dialect.name != "postgresql" or not notes:
        session.execute(insert(TicketEvent.__table__), event)
        outbox.insert_rows(session, notes)
        return
    stmt = _INSERT_HISTORY.get(len(notes))
    if stmt is None:  # built once per number of notifications, with named parameters, so it compiles once
        events, notifications = TicketEvent.__table__, Notification.__table__
        history = insert(events).values(
            {key: bindparam(f"e_{key}", type_=events.c[key].type) for key in event}).cte("history")
        keys = list(notes[0])

        def column(i: int, key: str) -> Any:
            if key in _NOTE_CONSTANTS:
                return _constant(_NOTE_CONSTANTS[key], notifications.c[key].type)
            name = f"n{i}_{key}" if key in _NOTE_RECIPIENT else f"n_{key}"
            return bindparam(name, type_=notifications.c[key].type)

        rows = [select(*(column(i, key) for key in keys)) for i in range(len(notes))]
        stmt = insert(notifications).from_select(keys, union_all(*rows) if len(rows) > 1 else rows[0]) \
            .add_cte(history)  # INSERT ... SELECT UNION ALL: one statement text per number of rows
        _INSERT_HISTORY[len(notes)] = stmt = HotStatement(stmt, session)
    params = {f"e_{key}": value for key, value in event.items()}
    params.update({f"n_{key}": value for key, value in notes[0].items() if key not in _NOTE_CONSTANTS})
    for i, note in enumerate(notes):
        params.update({f"n{i}_{key}": note[key] for key in _NOTE_RECIPIENT})
    stmt.run(session, params)


def _next_number(session: Session, community_id: int) -> int:
    stmt = (
        sqlite_insert(Counter).values(community_id=community_id, name="ticket", value=1)
        .on_conflict_do_update(index_elements=["community_id", "name"], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return int(session.execute(stmt).scalar_one())


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise Invalid(f"unknown kind {value}") from None


def _clip(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]
