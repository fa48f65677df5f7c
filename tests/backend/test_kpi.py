"""KPI figures from a hand-built set of tickets with known answers (tests/backend/kpi_world.py), both databases."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from backend.errors import Invalid
from backend.services.kpi import Period, dashboard
from tests.backend import kpi_world
from tests.backend.kpi_world import FIRST, LAST, NOW
from tests.builders import build_world

TZ = "Asia/Shanghai"


@pytest.fixture
def worlds(session, clock, settings):
    one = build_world(session, clock, settings, code="one")
    two = build_world(session, clock, settings, code="two")
    kpi_world.seed(session, one, two)
    return one, two


def counts(rows) -> dict[str, int]:
    return {r.label: r.count for r in rows}


def test_period_is_local_days_as_utc() -> None:
    p = Period.of(FIRST, LAST, TZ)
    assert (p.start, p.end) == (datetime(2026, 11, 1, 16), datetime(2026, 11, 15, 16))
    assert Period.week_before(datetime(2026, 11, 18, 1), TZ).first == date(2026, 11, 9)
    assert Period.week_before(datetime(2026, 11, 15, 17), TZ).first == date(2026, 11, 9)  # Monday 01:00 local
    assert Period.week_before(datetime(2026, 11, 15, 15), TZ).first == date(2026, 11, 2)  # still Sunday locally
    for first, last in ((LAST, FIRST), (date(2024, 1, 1), date(2026, 1, 1))):
        with pytest.raises(Invalid):
            Period.of(first, last, TZ)


def test_one_community(session, settings, worlds) -> None:
    one, _ = worlds
    d = dashboard(session, [one.community.id], Period.of(FIRST, LAST, TZ), NOW, settings)
    assert d.communities == ["one"]
    assert (d.total, d.cancelled) == (10, 1)

    e = d.emergency
    assert (e.total, e.respond_limit_minutes, e.resolve_limit_minutes) == (5, 15, 24 * 60)
    assert (e.respond.on_time, e.respond.late, e.respond.pending, e.respond.share) == (2, 2, 0, 0.5)
    assert (e.resolve.on_time, e.resolve.late, e.resolve.share) == (2, 2, 0.5)
    assert counts(e.respond_histogram) == {"≤5min": 1, "5–10min": 0, "10–15min": 1, "15–30min": 1, "30–60min": 0,
                                           ">60min": 0, "open": 1}
    assert counts(e.resolve_histogram) == {"≤2h": 1, "2–6h": 0, "6–12h": 0, "12–24h": 1, "24–48h": 1, ">48h": 0,
                                           "open": 1}

    # Non-emergency work against its own deadlines: P1, P2, P3, P4, N1.
    assert (d.other_respond.on_time, d.other_respond.late, d.other_respond.share) == (3, 2, 0.6)
    assert (d.other_resolve.on_time, d.other_resolve.late, d.other_resolve.share) == (3, 2, 0.6)
    cats = {c.code: c for c in d.categories}
    assert set(cats) == {"plumbing", "noise"}
    assert (cats["plumbing"].total, cats["plumbing"].respond_minutes, cats["plumbing"].resolve_minutes) == (4, 30, 1440)
    assert (cats["plumbing"].respond.on_time, cats["plumbing"].respond.late) == (2, 2)
    assert (cats["plumbing"].resolve.on_time, cats["plumbing"].resolve.late) == (2, 2)
    assert (cats["noise"].respond.share, cats["noise"].resolve.share) == (1.0, 1.0)

    # Now: E4, P3, P4 and the one just reported are open; E4, P3 and P4 are overdue; P3 has been escalated.
    assert (d.now.open, d.now.overdue, d.now.escalated) == (4, 3, 1)
    assert [(t.kind, t.deadline, t.building, t.escalation_level) for t in d.now.tickets] == [
        ("emergency", "respond", "2", 0), ("repair", "resolve", "2", 3), ("repair", "respond", "2", 0)]
    assert d.now.tickets[1].owner == "技工二"

    sat = {a.area: a for a in d.satisfaction}
    assert [(a.area, a.rated, a.satisfied, a.share, a.target, a.met) for a in d.satisfaction] == [
        ("safety", 2, 1, 0.5, 0.95, False), ("environment", 2, 1, 0.5, 0.9, False),
        ("community", 1, 1, 1.0, 0.9, True)]
    assert sat["community"].met is True

    assert {c.key: (c.total, c.emergencies) for c in d.by_category} == {
        "emergency": (5, 5), "plumbing": (4, 0), "noise": (1, 0)}
    assert [(c.label, c.total, c.emergencies) for c in d.by_building] == [("1号楼", 5, 4), ("2号楼", 5, 1)]
    assert [(c.key, c.total, c.emergencies) for c in d.by_week] == [("2026-11-02", 5, 4), ("2026-11-09", 5, 1)]

    staff = {s.login: s for s in d.staff}
    assert set(staff) == {"tech1", "tech2", "cs1"}
    t1, t2 = staff["tech1"], staff["tech2"]
    assert (t1.handled, t1.resolved, t1.open_now, t1.avg_accept_minutes) == (2, 2, 0, 27.5)
    assert (t1.respond.on_time, t1.respond.late) == (1, 1)
    assert (t2.handled, t2.resolved, t2.open_now, t2.avg_accept_minutes) == (4, 3, 1, 10.75)
    assert (t2.respond.on_time, t2.respond.late) == (3, 1)
    assert d.staff[0].login == "tech2"  # the busiest first

    out = d.as_dict()
    assert out["emergency"]["respond"]["share"] == 0.5 and out["satisfaction"][2]["met"] is True
    assert out["staff"][0]["respond"] == {"on_time": 3, "late": 1, "pending": 0, "share": 0.75}


def test_across_communities(session, settings, worlds) -> None:
    one, two = worlds
    d = dashboard(session, [one.community.id, two.community.id], Period.of(FIRST, LAST, TZ), NOW, settings)
    assert d.communities == ["one", "two"]
    assert d.total == 12
    assert (d.emergency.total, d.emergency.respond.on_time, d.emergency.respond.late) == (6, 2, 3)
    assert (d.emergency.resolve.on_time, d.emergency.resolve.late) == (3, 2)
    assert (d.now.open, d.now.overdue, d.now.escalated) == (5, 4, 1)
    assert {c.key: c.total for c in d.by_category}["lift"] == 1
    assert sorted((c.label, c.total) for c in d.by_building) == [("one·1号楼", 5), ("one·2号楼", 5), ("two·1号楼", 2)]
    assert {a.area: a.rated for a in d.satisfaction}["safety"] == 3


def test_an_empty_period_has_no_shares(session, settings, worlds) -> None:
    one, _ = worlds
    d = dashboard(session, [one.community.id], Period.of(date(2026, 1, 5), date(2026, 1, 11), TZ), NOW, settings)
    assert d.total == 0 and d.emergency.respond.share is None and d.other_resolve.share is None
    assert [a.share for a in d.satisfaction] == [None, None, None]
    assert [(c.key, c.total) for c in d.by_week] == [("2026-01-05", 0)]
    assert d.now.open == 4  # the present does not depend on the period
    assert {s.login: s.handled for s in d.staff} == {"tech2": 0}  # open work only
