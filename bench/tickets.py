"""Ticket backend benchmark on PostgreSQL.

Seeds 1,000,000 tickets over 50 communities (set-based INSERT ... SELECT), then measures:
  * a staff member's open-task list (TicketService.open_tasks) p50/p99,
  * the sweeper's overdue query (sweeper.due_query) p50/p99,
  * ticket creation through TicketService, one commit per ticket, in one process.
Targets: both queries p99 <= 10 ms; creation >= 1,000 tickets/s.

    python bench/tickets.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--tickets 1000000]

Runs in a throwaway database that it drops at the end; `--keep NAME` seeds database NAME once and
reuses it on later runs (for profiling), leaving it in place.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import create_engine, select, text

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory
from backend.domain import Department, Role
from backend.models import Base, Building, Community, Household, Resident, Staff, Unit
from backend.services.actor import Actor
from backend.services.categories import seed_categories
from backend.services.sweeper import SWEEP_BATCH, due_query
from backend.services.tickets import NewTicket, TicketService
from backend.settings import Settings

COMMUNITIES = 50
STAFF_PER_COMMUNITY = 15
THREADS = 16
ROUNDS = 3


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def seed(url: str, tickets: int) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    clock = SystemClock()
    settings = Settings(database_url=url, _env_file=None)
    t0 = time.perf_counter()
    with factory() as s:
        for c in range(COMMUNITIES):
            com = Community(code=f"c{c:02d}", name=f"社区{c}", created_at=clock.now())
            s.add(com)
            s.flush()
            seed_categories(s, com.id, settings)
            depts = [Department.ENGINEERING, Department.SECURITY, Department.ENVIRONMENT, Department.CUSTOMER_SERVICE]
            for i in range(STAFF_PER_COMMUNITY):
                s.add(
                    Staff(
                        community_id=com.id,
                        login=f"s{i}",
                        name=f"员工{i}",
                        role=Role.SUPERVISOR if i < 4 else Role.AGENT,
                        department=depts[i % 4],
                        created_at=clock.now(),
                    )
                )
            b = Building(community_id=com.id, code="1", name="1号楼")
            s.add(b)
            s.flush()
            u = Unit(community_id=com.id, building_id=b.id, code="1")
            s.add(u)
            s.flush()
            h = Household(
                community_id=com.id, building_id=b.id, unit_id=u.id, room="0101", floor=1, area_m2=98, label="1-1-0101"
            )
            s.add(h)
            s.flush()
            s.add(Resident(community_id=com.id, household_id=h.id, name="住户", created_at=clock.now()))
        s.commit()
    # 1M tickets set-based: ~10 % open, spread over staff, deadlines over the last and next weeks.
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO ticket (community_id, number, kind, category_id, department, status, is_open, priority,
                reporter_channel, location, description, preferred_time, anonymous, owner_id, assignee_id,
                respond_due_at, resolve_due_at, accepted_at, escalation_level, escalation_deadline, next_check_at,
                rating_comment, version, created_at, updated_at)
            SELECT c.id, g, 'repair', cat.id, cat.department,
                   CASE WHEN (g / 7) % 10 = 0 THEN 'accepted' ELSE 'closed' END, (g / 7) % 10 = 0, 'normal',
                   'web', '1-1-0101', '水管漏水', '', false, st.id, st.id,
                   now() - interval '7 days' + (g % 20160) * interval '1 minute',
                   now() - interval '6 days' + (g % 20160) * interval '1 minute',
                   now() - interval '7 days', 0, 'resolve',
                   CASE WHEN (g / 7) % 10 = 0 THEN now() - interval '6 days' + (g % 20160) * interval '1 minute' END,
                   '', 1, now() - interval '8 days', now()
            FROM generate_series(1, :n) AS g
            JOIN community c ON c.code = 'c' || lpad(((g % 50))::text, 2, '0')
            JOIN ticket_category cat ON cat.community_id = c.id AND cat.code = 'plumbing'
            JOIN staff st ON st.community_id = c.id AND st.login = 's' || ((g / 50) % 15)::text
        """),
            {"n": tickets},
        )
        conn.execute(
            text("""INSERT INTO counter (community_id, name, value)
                             SELECT id, 'ticket', :n FROM community"""),
            {"n": tickets},
        )
        conn.execute(text("ANALYZE"))
    print(f"seeded {tickets:,} tickets over {COMMUNITIES} communities in {time.perf_counter() - t0:.1f} s")
    engine.dispose()


def measure(url: str, creates: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=url, _env_file=None)
    clock = SystemClock()
    rnd = random.Random(7)
    with factory() as s:
        staff = list(s.scalars(select(Staff)))

    def open_tasks_once() -> float:
        member = rnd.choice(staff)
        with factory() as s:
            t0 = time.perf_counter()
            TicketService(s, clock, settings).open_tasks(member)
            return (time.perf_counter() - t0) * 1000

    for _ in range(500):  # warm the caches: steady state, not the first touch after seeding
        open_tasks_once()
    lat = [open_tasks_once() for _ in range(2000)]
    print(f"open-task list: n=2000 p50={statistics.median(lat):.2f} ms p99={pct(lat, 0.99):.2f} ms")

    def due_once(s, i: int) -> float:
        now = clock.now() - timedelta(days=rnd.randint(0, 6), minutes=i)
        t0 = time.perf_counter()
        list(s.scalars(due_query(now, SWEEP_BATCH)))
        return (time.perf_counter() - t0) * 1000

    with factory() as s:
        for i in range(300):
            due_once(s, i)
        lat = [due_once(s, i) for i in range(2000)]
        s.rollback()
    print(f"sweeper overdue query (batch {SWEEP_BATCH}): n=2000 p50={statistics.median(lat):.2f} ms p99={pct(lat, 0.99):.2f} ms")
    with factory() as s:
        residents = list(s.scalars(select(Resident)))

    def create(i: int) -> None:
        r = residents[i % len(residents)]
        with factory() as s:
            TicketService(s, clock, settings).create(
                Actor.of_resident(r),
                NewTicket(kind="repair", description=f"水管漏水{i}", category="plumbing", household_id=r.household_id),
            )
            s.commit()

    # The shared machine's speed wanders by a third from minute to minute: several rounds, median and best.
    for threads in (1, 4, 8, THREADS):
        n = creates // 4 if threads == 1 else creates
        rates = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            if threads == 1:
                for i in range(n):
                    create(i)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(create, range(n)))
            rates.append(n / (time.perf_counter() - t0))
        print(
            f"ticket creation, {threads} thread(s) in one process, {ROUNDS} rounds of {n}: "
            f"median {statistics.median(rates):,.0f}/s, best {max(rates):,.0f}/s, worst {min(rates):,.0f}/s "
            "(one transaction each, with history and outbox rows)"
        )
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--creates", type=int, default=5000)
    ap.add_argument("--keep", metavar="NAME", help="seed database NAME once, reuse it later, never drop it")
    args = ap.parse_args()
    name = args.keep or f"guanjia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        if not exists:
            seed(url, args.tickets)
        measure(url, args.creates)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
