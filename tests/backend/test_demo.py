"""The demo community is exactly what the README and the other tests promise."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.clock import FrozenClock
from backend.domain import Department, Role
from backend.models import (
    Bill,
    Building,
    ChatIdentity,
    Community,
    CommunityEvent,
    FeeRate,
    Household,
    HouseholdPhone,
    Payment,
    Staff,
    TicketCategory,
    Unit,
)
from backend.services.categories import DEFAULT_CATEGORIES
from backend.services.demo import billing_periods, seed_demo
from backend.services.events import SEASONAL_DEMO, demo_events
from backend.settings import Settings


def _household(session: Session, label: str) -> Household:
    return session.scalars(select(Household).where(Household.label == label)).one()


def _owed(session: Session, household: Household) -> Decimal:
    return session.scalar(select(func.sum(Bill.amount - Bill.paid_amount)).where(Bill.household_id == household.id))


def test_places(session: Session, settings: Settings, clock: FrozenClock) -> None:
    community = seed_demo(session, settings, clock)
    session.commit()
    assert (community.code, community.name) == ("demo", "和谐家园")
    buildings = session.scalars(select(Building).order_by(Building.id)).all()
    assert [(b.code, b.name) for b in buildings] == [(str(i), f"{i}号楼") for i in range(1, 7)]
    assert session.scalar(select(func.count()).select_from(Unit)) == 12
    assert session.scalar(select(func.count()).select_from(Household)) == 6 * 2 * 18 * 4 == 864

    h = _household(session, "3-2-1502")
    assert (h.room, h.floor, h.area_m2) == ("1502", 15, Decimal("126"))
    assert session.get(Building, h.building_id).code == "3"
    assert session.get(Unit, h.unit_id).code == "2"
    assert [p.phone for p in h.phones] == ["13900321502"]
    low = _household(session, "1-1-0101")
    assert (low.floor, low.area_m2, [p.phone for p in low.phones]) == (1, Decimal("98"), ["13900110101"])
    assert session.scalar(select(func.count(func.distinct(HouseholdPhone.phone)))) == 864


def test_staff_and_stewards(session: Session, settings: Settings, clock: FrozenClock) -> None:
    seed_demo(session, settings, clock)
    staff = {s.login: s for s in session.scalars(select(Staff))}
    assert set(staff) == {
        "manager", "cs-lead", "cs1", "cs2", "sec-lead", "guard1", "guard2", "guard3",
        "eng-lead", "tech1", "tech2", "tech3", "env-lead", "cleaner1", "gardener1",
    }  # fmt: skip
    assert (staff["manager"].role, staff["manager"].department) == (Role.MANAGER, Department.MANAGEMENT)
    assert (staff["cs-lead"].role, staff["cs-lead"].department) == (Role.SUPERVISOR, Department.CUSTOMER_SERVICE)
    assert (staff["cs2"].role, staff["cs2"].department) == (Role.AGENT, Department.CUSTOMER_SERVICE)
    assert {s.department for s in staff.values() if s.login.startswith(("sec", "guard"))} == {Department.SECURITY}
    assert {s.department for s in staff.values() if s.login.startswith(("eng", "tech"))} == {Department.ENGINEERING}
    assert {staff[x].department for x in ("env-lead", "cleaner1", "gardener1")} == {Department.ENVIRONMENT}
    assert [staff[x].role for x in ("sec-lead", "eng-lead", "env-lead")] == [Role.SUPERVISOR] * 3
    assert all(s.name and s.phone and s.active for s in staff.values())
    assert len({s.phone for s in staff.values()}) == 15

    stewards = {b.code: b.steward_id for b in session.scalars(select(Building))}
    assert stewards == {"1": staff["cs1"].id, "2": staff["cs1"].id, "3": staff["cs1"].id,
                        "4": staff["cs2"].id, "5": staff["cs2"].id, "6": staff["cs2"].id}  # fmt: skip

    codes = set(session.scalars(select(TicketCategory.code)))
    assert codes == {c.code for c in DEFAULT_CATEGORIES}


def test_bills(session: Session, settings: Settings, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 12, 1, 9, 0))
    seed_demo(session, settings, clock)
    session.commit()
    rate = session.scalars(select(FeeRate)).one()
    assert (rate.fee_type, rate.unit_price, rate.basis) == ("property", Decimal("2.80"), "per_m2")

    assert billing_periods(clock.now()) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert session.scalar(select(func.count()).select_from(Bill)) == 864 * 12
    assert set(session.scalars(select(Bill.period))) == set(billing_periods(clock.now()))

    h = _household(session, "6-1-0801")
    assert _owed(session, h) == Decimal("823.20") == 3 * Decimal("98") * Decimal("2.8")
    unpaid = session.scalars(select(Bill.period).where(Bill.household_id == h.id, Bill.paid_amount == 0)).all()
    assert sorted(unpaid) == ["2026-10", "2026-11", "2026-12"]

    big = _household(session, "3-2-1502")
    bills = session.scalars(select(Bill).where(Bill.household_id == big.id)).all()
    assert {b.amount for b in bills} == {Decimal("352.80")}
    assert _owed(session, big) == 0
    assert session.scalar(select(func.sum(Payment.amount)).where(Payment.household_id == big.id)) == Decimal("4233.60")

    # Only building 6 owes anything: 72 households x 3 months.
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.paid_amount < Bill.amount)) == 432
    assert session.scalar(select(func.count()).select_from(Payment)) == 864 * 12 - 432
    assert session.scalar(select(func.sum(Bill.amount - Bill.paid_amount))) == 36 * 3 * 2 * (  # 36 floors-and-units x 3 months x two rooms of each size
        Decimal("98") + Decimal("126")
    ) * Decimal("2.8")


def test_periods_cross_the_year() -> None:
    assert billing_periods(datetime(2027, 2, 14))[:2] == ["2026-03", "2026-04"]
    assert billing_periods(datetime(2027, 2, 14))[-1] == "2027-02"


def test_is_fast(session: Session, settings: Settings, clock: FrozenClock, db_url: str) -> None:
    started = time.perf_counter()
    seed_demo(session, settings, clock)
    session.commit()
    if db_url.startswith("sqlite"):
        assert time.perf_counter() - started < 3


def test_idempotent_refresh(session: Session, settings: Settings, clock: FrozenClock) -> None:
    first = seed_demo(session, settings, clock)
    session.commit()
    h = _household(session, "2-1-0302")
    cs1 = session.scalars(select(Staff).where(Staff.login == "cs1")).one()
    session.add(ChatIdentity(community_id=first.id, channel="web", external_id="x", staff_id=cs1.id,
                             created_at=clock.now()))  # fmt: skip
    cs1.name = "改过的名字"
    session.commit()

    clock.advance(days=31)  # a month later: the billing window moves on
    again = seed_demo(session, settings, clock)
    session.commit()
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(Community)) == 1
    assert session.scalar(select(func.count()).select_from(Staff)) == 15
    assert session.scalar(select(func.count()).select_from(Household)) == 864
    assert session.scalar(select(func.count()).select_from(HouseholdPhone)) == 864
    assert session.scalar(select(func.count()).select_from(TicketCategory)) == len(DEFAULT_CATEGORIES)
    assert session.scalar(select(func.count()).select_from(Bill)) == 864 * 12
    assert session.scalar(select(func.count()).select_from(Payment)) == 864 * 12 - 432
    assert _household(session, "2-1-0302").id == h.id
    session.refresh(cs1)
    assert cs1.name == "张敏"
    assert session.scalar(select(func.count()).select_from(ChatIdentity)) == 1
    assert min(session.scalars(select(Bill.period))) == "2026-02"
    assert _owed(session, _household(session, "6-1-0801")) == Decimal("823.20")


def test_demo_mode_opens_the_web_chats_the_page_switches_between(session: Session, settings: Settings,
                                                                  clock: FrozenClock) -> None:
    from backend.models import Resident
    from backend.services.demo import DEMO_STAFF, WEB_STAFF_PREFIX, web_resident_id, web_staff_id
    from handlers.identity import DEMO_STAFF_PREFIX

    assert WEB_STAFF_PREFIX == DEMO_STAFF_PREFIX  # the conversation treats these ids as staff in demo mode
    settings.demo_mode = True
    for _ in range(2):  # a refresh keeps them, one of each
        community = seed_demo(session, settings, clock)
        session.commit()
    chats = {i.external_id: i for i in session.scalars(select(ChatIdentity))}
    staff = {s.id: s for s in session.scalars(select(Staff))}
    assert len(chats) == len(DEMO_STAFF) + 2
    for spec in DEMO_STAFF:
        chat = chats[web_staff_id(spec.login)]
        assert (chat.channel, chat.community_id, chat.resident_id) == ("web", community.id, None)
        assert staff[chat.staff_id].login == spec.login and chat.display_name == spec.name
    for label, name in (("3-2-1502", "陈晓梅"), ("6-1-0801", "林志强")):
        chat = chats[web_resident_id(label)]
        assert chat.staff_id is None and chat.channel == "web"
        resident = session.get(Resident, chat.resident_id)
        assert resident.name == name and resident.bound_at is not None
        assert resident.household_id == _household(session, label).id
        assert resident.phone == f"1390{int(label[0]):02d}{label[2]}{label[4:]}"
    assert _owed(session, _household(session, "6-1-0801")) > 0 == _owed(session, _household(session, "3-2-1502"))


def test_outside_demo_mode_no_web_chat_is_made(session: Session, settings: Settings, clock: FrozenClock) -> None:
    assert settings.demo_mode is False
    seed_demo(session, settings, clock)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ChatIdentity)) == 0


SEASON = {month: e.title for months, e in SEASONAL_DEMO.items() for month in months}


@pytest.mark.parametrize("today", [datetime(2026, m, d, 9) for m in range(1, 13) for d in (1, 15, 28)]
                         + [datetime(2026, 12, 31, 20), datetime(2027, 2, 20, 3)])
def test_demo_events_fit_the_date_they_are_given(today: datetime) -> None:
    """The weekend event is on a Saturday at least a week away and belongs to that day's season (never a
    Mid-Autumn fair in December); the clinic is five days away at 9:00; all in Shanghai time."""
    shanghai = ZoneInfo("Asia/Shanghai")
    local_today = today.replace(tzinfo=UTC).astimezone(shanghai).date()
    (weekend, starts), (clinic, clinic_starts) = demo_events(today, "Asia/Shanghai")
    day = starts.replace(tzinfo=UTC).astimezone(shanghai)
    assert day.weekday() == 5 and timedelta(days=7) <= day.date() - local_today < timedelta(days=14)
    assert weekend.title == SEASON[day.month] and "中秋" not in weekend.title
    assert (day.hour, day.minute) == (weekend.at.hour, weekend.at.minute)
    clinic_day = clinic_starts.replace(tzinfo=UTC).astimezone(shanghai)
    assert (clinic.title, clinic_day.date() - local_today, clinic_day.hour) == ("义诊", timedelta(days=5), 9)


def test_demo_events_in_december_and_across_a_season(session: Session, settings: Settings,
                                                     clock: FrozenClock) -> None:
    seed_demo(session, settings, clock)  # the test clock: 2026-12-01
    titles = set(session.scalars(select(CommunityEvent.title)))
    assert titles == {"冬日邻里包饺子", "义诊"}
    assert demo_events(datetime(2026, 2, 25, 9), "Asia/Shanghai")[0][0].title == "春季亲子植树"  # Saturday 3-07
    assert demo_events(datetime(2026, 9, 1, 9), "Asia/Shanghai")[0][0].title == "秋季邻里运动会"
    assert demo_events(datetime(2026, 7, 1, 9), "Asia/Shanghai")[0][0].title == "夏夜露天电影"
