"""KPI dashboard benchmark: the dashboard's queries over many tickets.

Seeds `--tickets` (default 1,000,000) tickets over 50 communities and the last year, set-based on
PostgreSQL (INSERT ... SELECT over generate_series) or in batches on SQLite, with realistic shapes:
every category, emergencies, late and open work, escalations and ratings. Then times the whole
dashboard (backend.services.kpi.dashboard: all its queries) for one community and for all of them,
over four weeks, a quarter and a year, and the weekly digest's figures. Prints median and worst of
`--rounds` runs each.

    python bench/kpi.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--tickets 1000000]
    python bench/kpi.py --url sqlite:////tmp/kpi-bench.db --tickets 200000

PostgreSQL runs in a throwaway database that it drops at the end; `--keep NAME` seeds database NAME
once and reuses it. A SQLite file is kept (delete it to seed again).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory
from backend.domain import Department, Role
from backend.models import Base, Building, Community, Counter, Staff, Ticket, TicketCategory
from backend.services.categories import seed_categories
from backend.services.kpi import Period, dashboard
from backend.services.kpi_digest import digest_params
from backend.settings import Settings

COMMUNITIES = 50
STAFF_PER_COMMUNITY = 15
BUILDINGS = 6
TZ = "Asia/Shanghai"


def seed_places(session: Session, settings: Settings) -> None:
    now = SystemClock().now() - timedelta(days=400)
    depts = [Department.ENGINEERING, Department.SECURITY, Department.ENVIRONMENT, Department.CUSTOMER_SERVICE]
    for c in range(COMMUNITIES):
        community = Community(code=f"c{c:02d}", name=f"社区{c}", created_at=now)
        session.add(community)
        session.flush()
        seed_categories(session, community.id, settings)
        for i in range(STAFF_PER_COMMUNITY):
            session.add(Staff(community_id=community.id, login=f"s{i}", name=f"员工{i}",
                              role=Role.MANAGER if i == 0 else Role.SUPERVISOR if i < 5 else Role.AGENT,
                              department=Department.MANAGEMENT if i == 0 else depts[i % 4], created_at=now))
        for b in range(BUILDINGS):
            session.add(Building(community_id=community.id, code=str(b + 1), name=f"{b + 1}号楼"))
    session.commit()


PG_SEED = """
WITH cats AS (SELECT id, community_id, kind, department, respond_minutes, resolve_minutes,
                     row_number() OVER (PARTITION BY community_id ORDER BY id) - 1 AS n FROM ticket_category),
     st AS (SELECT id, community_id, row_number() OVER (PARTITION BY community_id ORDER BY id) - 1 AS n FROM staff),
     bl AS (SELECT id, community_id, row_number() OVER (PARTITION BY community_id ORDER BY id) - 1 AS n
            FROM building),
     base AS (SELECT g, c.id AS community_id, now() AT TIME ZONE 'UTC' - random() * interval '365 days' AS created_at,
                     random() AS r1, random() AS r2, random() AS r3, random() AS r4
              FROM generate_series(1, :n) AS g
              JOIN community c ON c.code = 'c' || lpad((g % 50)::text, 2, '0')),
     shaped AS (
        SELECT b.*, cat.id AS category_id, cat.kind, cat.department, cat.respond_minutes, cat.resolve_minutes,
               s.id AS staff_id, bl.id AS building_id,
               CASE WHEN b.r4 < 0.01 THEN NULL
                    ELSE b.created_at + cat.respond_minutes * (CASE WHEN b.r1 < 0.9 THEN b.r1 ELSE 3 * b.r1 END)
                         * interval '1 minute' END AS accepted_at,
               b.created_at + cat.resolve_minutes * (CASE WHEN b.r2 < 0.85 THEN b.r2 ELSE 2.5 * b.r2 END)
                         * interval '1 minute' + interval '10 minutes' AS done_at
        FROM base b
        JOIN cats cat ON cat.community_id = b.community_id AND cat.n = b.g % 21
        JOIN st s ON s.community_id = b.community_id AND s.n = 1 + (b.g / 50) % 14
        JOIN bl ON bl.community_id = b.community_id AND bl.n = (b.g / 7) % 6)
INSERT INTO ticket (community_id, number, kind, category_id, department, status, is_open, priority, building_id,
    reporter_channel, location, description, preferred_time, anonymous, owner_id, assignee_id, respond_due_at,
    resolve_due_at, accepted_at, resolved_at, closed_at, escalation_level, escalation_deadline, rating,
    rating_comment, version, created_at, updated_at)
SELECT community_id, g, kind, category_id, department,
       CASE WHEN accepted_at IS NULL OR accepted_at > now() AT TIME ZONE 'UTC' THEN 'new'
            WHEN done_at > now() AT TIME ZONE 'UTC' THEN 'accepted' ELSE 'closed' END,
       accepted_at IS NULL OR done_at > now() AT TIME ZONE 'UTC', 'normal', building_id, 'web', '', '工单', '', false,
       staff_id, CASE WHEN accepted_at <= now() AT TIME ZONE 'UTC' THEN staff_id END,
       created_at + respond_minutes * interval '1 minute', created_at + resolve_minutes * interval '1 minute',
       CASE WHEN accepted_at <= now() AT TIME ZONE 'UTC' THEN accepted_at END,
       CASE WHEN accepted_at IS NOT NULL AND done_at <= now() AT TIME ZONE 'UTC' THEN done_at END,
       CASE WHEN accepted_at IS NOT NULL AND done_at <= now() AT TIME ZONE 'UTC' THEN done_at END,
       CASE WHEN r3 < 0.02 THEN 3 ELSE 0 END, 'resolve',
       CASE WHEN accepted_at IS NOT NULL AND done_at <= now() AT TIME ZONE 'UTC' AND r3 < 0.6
            THEN CASE WHEN r3 < 0.54 THEN 4 + (floor(r3 * 1000))::int % 2 ELSE 1 + (floor(r3 * 1000))::int % 3 END
       END,
       '', 1, created_at, created_at
FROM shaped
ORDER BY created_at  -- as tickets arrive: a period's rows lie together, as they do in production
"""


def seed_pg(engine, tickets: int) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        conn.execute(text(PG_SEED), {"n": tickets})
        conn.execute(text("INSERT INTO counter (community_id, name, value) SELECT id, 'ticket', :n FROM community"),
                     {"n": tickets})
        conn.execute(text("ANALYZE"))


def seed_sqlite(session: Session, tickets: int) -> None:
    """The same shapes as PG_SEED, generated in Python and written in batches."""
    rnd = random.Random(42)
    now = SystemClock().now()
    cats = {}
    for c in session.scalars(select(TicketCategory).order_by(TicketCategory.id)):
        cats.setdefault(c.community_id, []).append(c)
    staff = {}
    for s in session.scalars(select(Staff).order_by(Staff.id)):
        staff.setdefault(s.community_id, []).append(s.id)
    buildings = {}
    for b in session.scalars(select(Building).order_by(Building.id)):
        buildings.setdefault(b.community_id, []).append(b.id)
    ids = sorted(cats)
    batch = []
    moments = sorted(now - timedelta(days=365 * rnd.random()) for _ in range(tickets))  # rows in arrival order
    for g in range(1, tickets + 1):
        cid = ids[g % len(ids)]
        cat = cats[cid][g % len(cats[cid])]
        created = moments[g - 1]
        r1, r2, r3, r4 = rnd.random(), rnd.random(), rnd.random(), rnd.random()
        respond = cat.respond_minutes * (r1 if r1 < 0.9 else 3 * r1)
        accepted = None if r4 < 0.01 else created + timedelta(minutes=respond)
        done = created + timedelta(minutes=cat.resolve_minutes * (r2 if r2 < 0.85 else 2.5 * r2) + 10)
        taken = accepted is not None and accepted <= now
        finished = taken and done <= now
        sid = staff[cid][1 + (g // 50) % 14]
        batch.append({
            "community_id": cid, "number": g, "kind": cat.kind, "category_id": cat.id, "department": cat.department,
            "status": "closed" if finished else "accepted" if taken else "new", "is_open": not finished,
            "priority": "normal", "building_id": buildings[cid][(g // 7) % 6], "reporter_channel": "web",
            "location": "", "description": "工单", "preferred_time": "", "anonymous": False, "owner_id": sid,
            "assignee_id": sid if taken else None, "respond_due_at": created + timedelta(minutes=cat.respond_minutes),
            "resolve_due_at": created + timedelta(minutes=cat.resolve_minutes),
            "accepted_at": accepted if taken else None, "resolved_at": done if finished else None,
            "closed_at": done if finished else None, "escalation_level": 3 if r3 < 0.02 else 0,
            "escalation_deadline": "resolve",
            "rating": (4 + int(r3 * 1000) % 2 if r3 < 0.54 else 1 + int(r3 * 1000) % 3) if finished and r3 < 0.6
            else None, "rating_comment": "", "version": 1, "created_at": created, "updated_at": created,
        })
        if len(batch) == 20_000:
            session.execute(insert(Ticket), batch)
            batch = []
    if batch:
        session.execute(insert(Ticket), batch)
    for cid in ids:
        session.add(Counter(community_id=cid, name="ticket", value=tickets))
    session.commit()
    session.execute(text("ANALYZE"))


def measure(url: str, rounds: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=url, _env_file=None)
    now = SystemClock().now()
    with factory() as s:
        communities = list(s.scalars(select(Community).order_by(Community.id)))
        print(f"{s.scalar(select(func.count()).select_from(Ticket)):,} tickets in {len(communities)} communities "
              f"({engine.dialect.name})")
    one, every = [communities[0].id], [c.id for c in communities]
    cases = [
        ("one community, 4 weeks", one, Period.last_weeks(now, TZ, 4)),
        ("one community, a quarter", one, Period.last_weeks(now, TZ, 13)),
        ("one community, a year", one, Period.last_weeks(now, TZ, 52)),
        ("all communities, 4 weeks", every, Period.last_weeks(now, TZ, 4)),
        ("all communities, a quarter", every, Period.last_weeks(now, TZ, 13)),
        ("all communities, a year", every, Period.last_weeks(now, TZ, 52)),
    ]
    for label, ids, period in cases:
        times = []
        for _ in range(rounds + 1):
            with factory() as s:
                t0 = time.perf_counter()
                d = dashboard(s, ids, period, now, settings)
                times.append((time.perf_counter() - t0) * 1000)
        times = times[1:]  # the first run warms the caches
        print(f"dashboard, {label:<28} {d.total:>9,} tickets: median {statistics.median(times):7.1f} ms, "
              f"worst {max(times):7.1f} ms")
    times = []
    week = Period.week_before(now, TZ).first
    for _ in range(rounds):
        with factory() as s:
            t0 = time.perf_counter()
            digest_params(s, communities[0], week, now, settings)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"weekly digest figures, one community: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", metavar="NAME", help="PostgreSQL: seed database NAME once, reuse it, never drop it")
    args = ap.parse_args()
    settings = Settings(database_url=args.url, _env_file=None)
    if args.url.startswith("sqlite"):
        path = Path(args.url.split("///", 1)[1])
        if not path.exists():
            engine = make_engine(args.url)
            Base.metadata.create_all(engine)
            t0 = time.perf_counter()
            with make_session_factory(engine)() as s:
                seed_places(s, settings)
                seed_sqlite(s, args.tickets)
            print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s")
            engine.dispose()
        measure(args.url, args.rounds)
        return
    name = args.keep or f"guanjia_kpi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        if not exists:
            engine = make_engine(url)
            Base.metadata.create_all(engine)
            t0 = time.perf_counter()
            with make_session_factory(engine)() as s:
                seed_places(s, Settings(database_url=url, _env_file=None))
            seed_pg(engine, args.tickets)
            print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s")
            engine.dispose()
        measure(url, args.rounds)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
