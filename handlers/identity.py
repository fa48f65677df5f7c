"""Who is writing: the Who of a message, a new writer's identity, and finding a community."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import ChatIdentity, Community, Household, Resident, Staff
from backend.settings import Settings
from handlers.messages import Inbound

DEMO_STAFF_PREFIX = "staff:"


@dataclass
class Who:
    community: Community
    identity: ChatIdentity
    resident: Resident | None
    staff: Staff | None
    joined: bool = False  # this message made the person known to the community
    home: Household | None = None  # the resident's household as loaded with the identity


def find_community(session: Session, code: str | None, settings: Settings) -> Community | None:
    if code:
        return session.scalar(select(Community).where(Community.code == code.strip().lower()[:32]))
    found = session.scalar(select(Community).where(Community.code == settings.default_community))
    if found is not None:
        return found
    only = list(session.scalars(select(Community).limit(2)))
    return only[0] if len(only) == 1 else None


def join(session: Session, inbound: Inbound, clock: Clock, settings: Settings,
         wanted: Community | None) -> Who | None:
    """Make a writer nobody knows yet known: a new chat identity (and resident record, unless a demo
    staff login) in the community asked for, else the default one. None when no community can be told
    (the caller asks for a link or code). Finding a known writer is handlers/arrival.py's one query."""
    community = wanted or find_community(session, None, settings)
    if community is None:
        return None
    now = clock.now()
    staff = _demo_staff(session, community, inbound, settings)
    resident = None
    if staff is None:
        resident = Resident(community_id=community.id, name=inbound.display_name[:50], created_at=now)
        session.add(resident)
        session.flush()
    identity = ChatIdentity(
        community_id=community.id, channel=inbound.channel, external_id=inbound.sender_id[:128],
        resident_id=resident.id if resident else None, staff_id=staff.id if staff else None,
        display_name=inbound.display_name[:100], created_at=now,
    )
    session.add(identity)
    session.flush()
    return Who(community, identity, resident, staff if staff is not None and staff.active else None, joined=True)


def _demo_staff(session: Session, community: Community, inbound: Inbound, settings: Settings) -> Staff | None:
    """In the demo, web chat users named staff:<login> are that staff member already."""
    if not (settings.demo_mode and inbound.channel == "web" and inbound.sender_id.startswith(DEMO_STAFF_PREFIX)):
        return None
    login = inbound.sender_id[len(DEMO_STAFF_PREFIX):]
    return session.scalar(select(Staff).where(Staff.community_id == community.id, Staff.login == login))


def ensure_resident(session: Session, who: Who, clock: Clock) -> Resident:
    """Staff may also live here; give the identity a resident record when it needs one."""
    if who.resident is None:
        who.resident = Resident(community_id=who.community.id, name=who.identity.display_name[:50],
                                created_at=clock.now())
        session.add(who.resident)
        session.flush()
        who.identity.resident_id = who.resident.id
    return who.resident
