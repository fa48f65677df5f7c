"""The weekly KPI digest: last week's figures to the project managers, exactly once per community and week."""

from __future__ import annotations

import threading
from datetime import date, datetime

from sqlalchemy import func, select

from backend.models import Community, KpiDigest, Notification
from backend.services.kpi_digest import due_week, send_due_digests
from backend.services.kpi_texts import DIGEST_KIND
from bot.worker import Worker
from handlers.notify_render import render
from tests.backend import kpi_world
from tests.builders import build_world

TZ = "Asia/Shanghai"
MONDAY_9_LOCAL = datetime(2026, 11, 16, 1, 0)  # after the digest hour, the week of 9-15 November just ended


def digests(session) -> list[Notification]:
    """The digest notifications, detached (the session's read ends here: SQLite's write lock is free)."""
    session.expire_all()
    found = list(session.scalars(select(Notification).where(Notification.kind == DIGEST_KIND)
                                 .order_by(Notification.id)))
    session.expunge_all()
    session.rollback()
    return found


def test_due_week() -> None:
    assert due_week(datetime(2026, 11, 15, 23, 59), TZ) is None  # Monday 07:59 local
    assert due_week(datetime(2026, 11, 16, 0, 0), TZ) == date(2026, 11, 9)  # Monday 08:00 local
    assert due_week(datetime(2026, 11, 21, 12), TZ) == date(2026, 11, 9)  # all week long
    assert due_week(datetime(2026, 11, 23, 0, 0), TZ) == date(2026, 11, 16)


def test_once_per_week_and_community(session, session_factory, clock, settings) -> None:
    clock.set(datetime(2026, 10, 1))
    one = build_world(session, clock, settings, code="one")
    kpi_world.seed(session, one)
    manager_id = one.staff["manager"].id
    session.rollback()
    clock.set(datetime(2026, 11, 15, 23, 0))  # Monday 07:00 local: not yet
    assert send_due_digests(session_factory, clock, settings) == 0
    clock.set(MONDAY_9_LOCAL)
    assert send_due_digests(session_factory, clock, settings) == 1
    for _ in range(3):  # later rounds the same week (and a worker restart) send nothing more
        clock.advance(hours=20)
        assert send_due_digests(session_factory, clock, settings) == 0
    sent = digests(session)
    assert [n.staff_id for n in sent] == [manager_id]  # the project manager only
    params = sent[0].params
    assert (params["first"], params["last"], params["week"]) == ("2026-11-09", "2026-11-15", "2026-11-09")
    # The week of 9-15 November: P2 (Monday 00:30 local), E4, N1, P3, P4.
    assert (params["total"], params["emergencies"], params["e_respond"]) == (5, 1, "0.0%")
    assert params["o_resolve"] == "66.7%"  # P2 and N1 on time, P3 late, P4 not due until Monday 23:59 local
    assert (params["top_zh"], params["top_en"]) == ("水管/下水 3、紧急事件 1、噪音扰民 1", "Plumbing 3, Emergency 1, Noise 1")
    text = render(DIGEST_KIND, params, "both", "staff").text
    assert "周报（2026-11-09 至 2026-11-15）" in text and "weekly digest (2026-11-09 to 2026-11-15)" in text
    assert "工单 5 张，其中紧急 1 张" in text and "/console/dashboard" in text

    clock.set(datetime(2026, 11, 23, 2))  # the next week: one more
    assert send_due_digests(session_factory, clock, settings) == 1
    assert len(digests(session)) == 2
    assert session.scalar(select(func.count()).select_from(KpiDigest)) == 2
    session.rollback()


def test_a_community_younger_than_the_week_gets_none(session, session_factory, clock, settings) -> None:
    clock.set(datetime(2026, 11, 12))
    build_world(session, clock, settings, code="new")
    session.rollback()
    clock.set(MONDAY_9_LOCAL)
    assert send_due_digests(session_factory, clock, settings) == 0
    assert digests(session) == []


def test_the_worker_sends_it_and_concurrent_rounds_send_it_once(session, session_factory, clock, settings) -> None:
    clock.set(datetime(2026, 10, 1))
    ids = [build_world(session, clock, settings, code=f"c{i}").community.id for i in range(3)]
    session.rollback()
    clock.set(MONDAY_9_LOCAL)
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def race() -> None:
        barrier.wait()
        counts.append(send_due_digests(session_factory, clock, settings))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 3
    sent = digests(session)
    assert sorted(n.community_id for n in sent) == sorted(ids)
    Worker(session_factory, clock, settings, senders={}).run_once()  # the worker's round finds nothing left
    assert len(digests(session)) == 3
    assert session.scalar(select(func.count()).select_from(Community)) == 3
    session.rollback()
