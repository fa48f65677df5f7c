"""The weekly KPI digest: last week's figures pushed to each community's project managers in chat.

Run by the worker beside the deadline sweeper (`send_due_digests`). From Monday `DIGEST_HOUR` local
time it reports the week that ended (Monday to Sunday) to every community that existed all that week
(a new community's first digest is about its first full week), once per community and week: the `kpi_digest`
row (unique per community and week) is inserted in the same transaction as the outbox rows, and an
insert that finds the row already there (another worker, a retry, a restart) sends nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import Community, KpiDigest
from backend.services import kpi, outbox, staff_directory
from backend.services.kpi_texts import DIGEST_KIND, percent
from backend.services.outbox import Recipient
from backend.settings import Settings

DIGEST_HOUR = 8  # local time on Monday
CONSOLE_PATH = "/console/dashboard"
TOP_CATEGORIES = 3


def due_week(now: datetime, tz: str) -> date | None:
    """The Monday of the week to report on now, or None before this week's digest hour."""
    today = kpi.local_date(now, tz)
    monday = kpi.week_start(today)
    send_from = datetime.combine(monday, time(DIGEST_HOUR), ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))
    if now < send_from.replace(tzinfo=None):
        return None
    return monday - timedelta(days=7)


def send_due_digests(session_factory: sessionmaker[Session], clock: Clock, settings: Settings) -> int:
    """Queue the digest for every community that has not had last week's; returns how many were sent."""
    week = due_week(clock.now(), settings.timezone)
    if week is None:
        return 0
    week_began = kpi.Period.of(week, week + timedelta(days=6), settings.timezone).start
    with session_factory() as session:  # communities that existed the whole week and have not had its digest
        done = select(KpiDigest.community_id).where(KpiDigest.week_start == week)
        waiting = list(session.scalars(select(Community.id).where(
            Community.id.not_in(done), Community.created_at < week_began).order_by(Community.id)))
    sent = 0
    for community_id in waiting:
        with transaction(session_factory) as session:
            sent += _send(session, clock, settings, community_id, week)
    return sent


def _claim(session: Session, community_id: int, week: date, now: datetime) -> int | None:
    """Insert this week's ledger row; None if it is there already (the digest went or is going out)."""
    values = {"community_id": community_id, "week_start": week, "sent_at": now, "recipients": 0}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        query: Any = pg_insert(KpiDigest).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        query = sqlite_insert(KpiDigest).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the project runs on the two above
        query = insert(KpiDigest).values(values)
    return session.scalar(query.returning(KpiDigest.id))


def _send(session: Session, clock: Clock, settings: Settings, community_id: int, week: date) -> int:
    now = clock.now()
    digest_id = _claim(session, community_id, week, now)
    if digest_id is None:
        return 0
    community = session.get(Community, community_id)
    if community is None:  # deleted meanwhile
        return 0
    managers = staff_directory.managers(session, community_id)
    params = digest_params(session, community, week, now, settings)
    outbox.enqueue_unique(session, clock, community_id, [Recipient.staff(m.id) for m in managers], DIGEST_KIND,
                          params)
    digest = session.get(KpiDigest, digest_id)
    if digest is not None:
        digest.recipients = len(managers)
    return 1 if managers else 0


def digest_params(session: Session, community: Community, week: date, now: datetime,
                  settings: Settings) -> dict[str, Any]:
    """The message's parameters: the dashboard's headline figures for the week, already formatted."""
    d = kpi.dashboard(session, [community.id], kpi.Period.of(week, week + timedelta(days=6), settings.timezone), now,
                      settings)
    sat = {a.area: percent(a.share) for a in d.satisfaction}
    top = sorted((c for c in d.by_category if c.total), key=lambda c: -c.total)[:TOP_CATEGORIES]
    return {
        "community": community.name, "community_code": community.code, "week": week.isoformat(),
        "first": d.first.isoformat(), "last": d.last.isoformat(), "total": d.total,
        "emergencies": d.emergency.total, "e_respond": percent(d.emergency.respond.share),
        "e_resolve": percent(d.emergency.resolve.share), "o_respond": percent(d.other_respond.share),
        "o_resolve": percent(d.other_resolve.share), "open": d.now.open, "overdue": d.now.overdue,
        "escalated": d.now.escalated, "sat_safety": sat["safety"], "sat_environment": sat["environment"],
        "sat_community": sat["community"],
        "top_zh": "、".join(f"{c.label.split(' ', 1)[0]} {c.total}" for c in top) or "—",
        "top_en": ", ".join(f"{c.label.split(' ', 1)[-1]} {c.total}" for c in top) or "—",
        "link": CONSOLE_PATH,
    }
