"""The demo community 和谐家园: six buildings, the full staffing table, a year of property bills.

`seed_demo` creates it or refreshes it in place. Places and staff are matched by their codes and
logins, so residents' bindings, chat identities and tickets survive a refresh; the property-fee
bills and their payments are rebuilt for the 12 months ending with the current month.

In demo mode it also opens the web chats the /chat page switches between: every staff member's
(`staff:<login>`) and two bound residents' (`resident:3-2-1502`, `resident:6-1-0801`), so what is
pushed to them waits in their chat before the page is first opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.domain import Department, Role
from backend.models import (
    Bill,
    Building,
    ChatIdentity,
    Community,
    FeeRate,
    Household,
    HouseholdPhone,
    Payment,
    Resident,
    Staff,
    Unit,
)
from backend.services.categories import seed_categories
from backend.services.demo_history import HISTORY_WEEKS, seed_history
from backend.services.events import seed_demo_events
from backend.services.faq import seed_demo_faq
from backend.settings import Settings

DEMO_CODE = "demo"
DEMO_NAME = "和谐家园"
DEMO_ADDRESS = "示范市和谐路 88 号"
BUILDINGS = tuple(str(b) for b in range(1, 7))
UNITS = ("1", "2")
FLOORS = range(1, 19)
ROOMS = {"01": Decimal("98"), "02": Decimal("126"), "03": Decimal("98"), "04": Decimal("126")}  # suffix -> m²
PROPERTY_FEE = "property"
PROPERTY_RATE = Decimal("2.80")  # 元 per m² per month
BILLED_MONTHS = 12
ARREARS_BUILDING = "6"  # its households left the last ARREARS_MONTHS bills unpaid
ARREARS_MONTHS = 3


@dataclass(frozen=True)
class StaffSpec:
    login: str
    name: str
    role: Role
    department: Department
    phone: str


_M, _CS, _SEC, _ENG, _ENV = (
    Department.MANAGEMENT,
    Department.CUSTOMER_SERVICE,
    Department.SECURITY,
    Department.ENGINEERING,
    Department.ENVIRONMENT,
)
# The service plan's staffing table.
DEMO_STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("manager", "王建国", Role.MANAGER, _M, "13800000001"),
    StaffSpec("cs-lead", "李静", Role.SUPERVISOR, _CS, "13800000011"),
    StaffSpec("cs1", "张敏", Role.AGENT, _CS, "13800000012"),
    StaffSpec("cs2", "刘洋", Role.AGENT, _CS, "13800000013"),
    StaffSpec("sec-lead", "陈刚", Role.SUPERVISOR, _SEC, "13800000021"),
    StaffSpec("guard1", "杨勇", Role.AGENT, _SEC, "13800000022"),
    StaffSpec("guard2", "赵强", Role.AGENT, _SEC, "13800000023"),
    StaffSpec("guard3", "黄磊", Role.AGENT, _SEC, "13800000024"),
    StaffSpec("eng-lead", "周明", Role.SUPERVISOR, _ENG, "13800000031"),
    StaffSpec("tech1", "吴涛", Role.AGENT, _ENG, "13800000032"),
    StaffSpec("tech2", "徐斌", Role.AGENT, _ENG, "13800000033"),
    StaffSpec("tech3", "孙浩", Role.AGENT, _ENG, "13800000034"),
    StaffSpec("env-lead", "马丽", Role.SUPERVISOR, _ENV, "13800000041"),
    StaffSpec("cleaner1", "朱芳", Role.AGENT, _ENV, "13800000042"),
    StaffSpec("gardener1", "胡军", Role.AGENT, _ENV, "13800000043"),
)
# Building stewards (管家): cs1 looks after buildings 1–3, cs2 after 4–6.
STEWARDS = {"1": "cs1", "2": "cs1", "3": "cs1", "4": "cs2", "5": "cs2", "6": "cs2"}

# The web chats that exist from the start in demo mode. A staff member's id is the one the
# conversation treats as that staff member in demo mode (handlers.identity.DEMO_STAFF_PREFIX).
WEB_CHANNEL = "web"
WEB_STAFF_PREFIX = "staff:"
WEB_RESIDENT_PREFIX = "resident:"


@dataclass(frozen=True)
class DemoResident:
    household: str
    name: str
    relation: str
    tag: str  # what the demo page says about them: bound, arrears


# Bound residents to chat as: one of a paid-up home, one of a home in arrears (building 6).
DEMO_RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident("3-2-1502", "陈晓梅", "owner", "bound"),
    DemoResident("6-1-0801", "林志强", "owner", "arrears"),
)


def web_staff_id(login: str) -> str:
    return WEB_STAFF_PREFIX + login


def web_resident_id(household: str) -> str:
    return WEB_RESIDENT_PREFIX + household


def household_label(building: str, unit: str, room: str) -> str:
    return f"{building}-{unit}-{room}"


def registered_phone(building: str, unit: str, room: str) -> str:
    """'1390' + two-digit building + unit + four-digit room: 3-2-1502 -> 13900321502."""
    return f"1390{int(building):02d}{unit}{room}"


def billing_periods(now: datetime, months: int = BILLED_MONTHS) -> list[str]:
    """The current month and the months before it, oldest first: ["2026-01", ..., "2026-12"]."""
    periods = []
    year, month = now.year, now.month
    for _ in range(months):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]


def _month_start(period: str) -> datetime:
    return datetime(int(period[:4]), int(period[5:]), 1)


def _next_month_start(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:])
    return datetime(year + month // 12, month % 12 + 1, 1)


def seed_demo(session: Session, settings: Settings, clock: Clock, *, history: bool = False) -> Community:
    """Create or refresh the demo community; flushes, the caller commits. `history`: also a few weeks of
    generated tickets for the KPI dashboard (backend/services/demo_history.py; `guanjia demo` asks for it)."""
    now = clock.now()
    community = _community(session, settings, now)
    seed_categories(session, community.id, settings)
    staff = _staff(session, community.id, now)
    buildings = _buildings(session, community.id, staff)
    households = _households(session, community.id, buildings)
    _bills(session, community.id, households, now)
    seed_demo_faq(session, community, now)
    seed_demo_events(session, community, now, settings.timezone)
    if settings.demo_mode:  # ids anyone may claim in demo mode; never made outside it
        _web_chats(session, community.id, staff, households, now)
    if history:  # the office has been running for weeks: the weekly KPI digest covers the last one
        community.created_at = min(community.created_at, now - timedelta(weeks=HISTORY_WEEKS))
        session.flush()
        seed_history(session, settings, community.id, now)
    session.flush()
    return community


def _community(session: Session, settings: Settings, now: datetime) -> Community:
    community = session.scalar(select(Community).where(Community.code == DEMO_CODE))
    if community is None:
        community = Community(code=DEMO_CODE, created_at=now)
        session.add(community)
    community.name = DEMO_NAME
    community.hotline = settings.hotline
    community.address = DEMO_ADDRESS
    session.flush()
    return community


def _staff(session: Session, community_id: int, now: datetime) -> dict[str, Staff]:
    existing = {s.login: s for s in session.scalars(select(Staff).where(Staff.community_id == community_id))}
    for spec in DEMO_STAFF:
        member = existing.get(spec.login)
        if member is None:
            member = Staff(community_id=community_id, login=spec.login, created_at=now)
            session.add(member)
            existing[spec.login] = member
        member.name, member.role, member.department, member.phone = spec.name, spec.role, spec.department, spec.phone
        member.active = True
    session.flush()
    return existing


def _buildings(session: Session, community_id: int, staff: dict[str, Staff]) -> dict[str, Building]:
    existing = {b.code: b for b in session.scalars(select(Building).where(Building.community_id == community_id))}
    for code in BUILDINGS:
        building = existing.get(code)
        if building is None:
            building = Building(community_id=community_id, code=code)
            session.add(building)
            existing[code] = building
        building.name = f"{code}号楼"
        building.steward_id = staff[STEWARDS[code]].id
    session.flush()
    return existing


def _households(session: Session, community_id: int, buildings: dict[str, Building]) -> dict[str, tuple[int, Decimal]]:
    """Ensure units, households and registered phones; returns label -> (household id, area)."""
    units = _unit_ids(session, community_id)
    missing_units = [
        {"community_id": community_id, "building_id": buildings[b].id, "code": u}
        for b in BUILDINGS
        for u in UNITS
        if (b, u) not in units
    ]
    if missing_units:
        session.execute(insert(Unit), missing_units)
        units = _unit_ids(session, community_id)

    have = _household_ids(session, community_id)
    wanted = {}
    for b in BUILDINGS:
        for u in UNITS:
            for floor in FLOORS:
                for suffix, area in ROOMS.items():
                    room = f"{floor:02d}{suffix}"
                    wanted[household_label(b, u, room)] = {
                        "community_id": community_id,
                        "building_id": buildings[b].id,
                        "unit_id": units[(b, u)],
                        "room": room,
                        "floor": floor,
                        "area_m2": area,
                        "label": household_label(b, u, room),
                    }
    new_rows = [row for label, row in wanted.items() if label not in have]
    if new_rows:
        session.execute(insert(Household), new_rows)
    stale = [
        (hid, wanted[label]["area_m2"])
        for label, (hid, area) in have.items()
        if label in wanted and area != wanted[label]["area_m2"]
    ]
    for hid, area in stale:
        session.execute(update(Household).where(Household.id == hid).values(area_m2=area))
    if new_rows or stale:
        have = _household_ids(session, community_id)

    phones = {
        (hid, phone)
        for hid, phone in session.execute(
            select(HouseholdPhone.household_id, HouseholdPhone.phone).where(HouseholdPhone.community_id == community_id)
        )
    }
    new_phones = []
    for label in wanted:
        hid = have[label][0]
        phone = registered_phone(*label.split("-"))
        if (hid, phone) not in phones:
            new_phones.append({"community_id": community_id, "household_id": hid, "phone": phone, "holder_name": ""})
    if new_phones:
        session.execute(insert(HouseholdPhone), new_phones)
    return {label: have[label] for label in wanted}


def _web_chats(session: Session, community_id: int, staff: dict[str, Staff],
               households: dict[str, tuple[int, Decimal]], now: datetime) -> None:
    """Every staff member's web chat and the demo residents' (bound to their homes), made or refreshed."""
    existing = {i.external_id: i for i in session.scalars(select(ChatIdentity).where(
        ChatIdentity.community_id == community_id, ChatIdentity.channel == WEB_CHANNEL,
        ChatIdentity.external_id.startswith(WEB_STAFF_PREFIX) | ChatIdentity.external_id.startswith(
            WEB_RESIDENT_PREFIX)))}

    def identity(external_id: str, display_name: str) -> ChatIdentity:
        found = existing.get(external_id)
        if found is None:
            found = ChatIdentity(community_id=community_id, channel=WEB_CHANNEL, external_id=external_id,
                                 created_at=now)
            session.add(found)
        found.display_name, found.unreachable = display_name, False
        return found

    for spec in DEMO_STAFF:
        chat = identity(web_staff_id(spec.login), spec.name)
        chat.staff_id, chat.resident_id = staff[spec.login].id, None
    for person in DEMO_RESIDENTS:
        chat = identity(web_resident_id(person.household), person.name)
        resident = session.get(Resident, chat.resident_id) if chat.resident_id is not None else None
        if resident is None:
            resident = Resident(community_id=community_id, created_at=now)
            session.add(resident)
        label = person.household
        resident.household_id, resident.phone = households[label][0], registered_phone(*label.split("-"))
        resident.name, resident.relation, resident.bound_at = person.name, person.relation, resident.bound_at or now
        session.flush()
        chat.resident_id, chat.staff_id = resident.id, None


def _unit_ids(session: Session, community_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Building.code, Unit.code, Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Unit.community_id == community_id)
    )
    return {(b_code, u_code): uid for b_code, u_code, uid in rows}


def _household_ids(session: Session, community_id: int) -> dict[str, tuple[int, Decimal]]:
    rows = session.execute(
        select(Household.label, Household.id, Household.area_m2).where(Household.community_id == community_id)
    )
    return {label: (hid, area) for label, hid, area in rows}


def _bills(session: Session, community_id: int, households: dict[str, tuple[int, Decimal]], now: datetime) -> None:
    """Rebuild a year of property-fee bills: paid, except building 6's last three months."""
    rate = session.scalar(select(FeeRate).where(FeeRate.community_id == community_id, FeeRate.fee_type == PROPERTY_FEE))
    if rate is None:
        rate = FeeRate(community_id=community_id, fee_type=PROPERTY_FEE)
        session.add(rate)
    rate.unit_price, rate.basis = PROPERTY_RATE, "per_m2"

    ids = [hid for hid, _area in households.values()]
    stale_bills = select(Bill.id).where(Bill.fee_type == PROPERTY_FEE, Bill.household_id.in_(ids))
    session.execute(delete(Payment).where(Payment.bill_id.in_(stale_bills)))
    session.execute(delete(Bill).where(Bill.id.in_(stale_bills)))

    periods = billing_periods(now)
    unpaid_periods = set(periods[-ARREARS_MONTHS:])
    bills, paid = [], []
    for label, (hid, area) in households.items():
        in_arrears = label.split("-")[0] == ARREARS_BUILDING
        for period in periods:
            amount = (area * PROPERTY_RATE).quantize(Decimal("0.01"))
            is_paid = not (in_arrears and period in unpaid_periods)
            bills.append(
                {
                    "community_id": community_id,
                    "household_id": hid,
                    "fee_type": PROPERTY_FEE,
                    "period": period,
                    "quantity": area,
                    "unit_price": PROPERTY_RATE,
                    "amount": amount,
                    "paid_amount": amount if is_paid else Decimal("0"),
                    "due_date": _next_month_start(period),
                    "created_at": min(_month_start(period), now),
                }
            )
            if is_paid:
                paid.append((hid, period, amount))
    session.execute(insert(Bill), bills)

    bill_id = {
        (hid, period): bid
        for bid, hid, period in session.execute(
            select(Bill.id, Bill.household_id, Bill.period).where(
                Bill.community_id == community_id, Bill.fee_type == PROPERTY_FEE
            )
        )
    }
    payments = [
        {
            "community_id": community_id,
            "household_id": hid,
            "bill_id": bill_id[(hid, period)],
            "amount": amount,
            "method": "wechat_pay",
            "paid_at": min(_month_start(period).replace(day=10), now),
            "reference": f"demo-{period}-{hid}",
        }
        for hid, period, amount in paid
    ]
    session.execute(insert(Payment), payments)
