"""Fan-out: a due notice becomes one notice_delivery row per (recipient, chat), a batch per transaction.

A notice with status 'scheduled' and scheduled_at <= now is claimed under a fencing token (status
'fanning', claimed_by, claimed_until). Each batch is one transaction that first extends the lease
*only while the claim is still ours* (else LostClaim: another worker took over after our lease ran
out), then writes the rows of the next page of residents (ids after fanout_cursor) and advances the
cursor. The unique (notice, channel, chat) constraint makes a replayed batch insert nothing. A
resident nobody can reach gets one row on channel 'none', status 'unreachable', with the reason.
After the last page: rows for the owners' groups and the staff the audience names, then 'sending'
(or straight to 'sent' when nothing is left to send).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register, render
from backend.clock import Clock
from backend.db import transaction
from backend.models import ChatIdentity, Notice, NoticeDelivery, Resident
from backend.services import audience
from bot.delivery import broadcast_rows

log = logging.getLogger("guanjia.broadcast")

# Channels that reach a person outside a request (the terminal is a developer's console).
PUSH_CHANNELS = ("telegram", "wechat", "wecom", "web")
SAFETY = "safety"
URGENT_PRIORITY, NORMAL_PRIORITY = 0, 5

register({
    "broadcast.reason.never_bound": ("未绑定任何聊天账号", "never bound to a chat account"),
    "broadcast.reason.blocked": ("聊天账号均无法送达（已屏蔽或退订）", "every chat account blocked or unsubscribed"),
})


class LostClaim(Exception):
    """Another worker holds the notice now (our lease ran out): stop writing about it."""


@dataclass
class FanoutStats:
    notices: int = 0
    rows: int = 0
    unreachable: int = 0


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert delivery rows, skipping (notice, channel, chat) already there; how many were new."""
    if not rows:
        return 0
    dialect = postgresql if _is_pg(session) else sqlite
    table = NoticeDelivery.__table__
    # executemany with RETURNING: SQLAlchemy sends it as a few multi-row INSERTs ("insertmanyvalues")
    # from one cached statement, and returns a row for each one that was new.
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["notice_id", "channel", "chat_id"]) \
        .returning(table.c.id)
    return len(session.execute(stmt, rows).all())


def claim_notice(session_factory: sessionmaker[Session], clock: Clock, token: str, lease_seconds: float) -> int | None:
    """A due notice (urgent first), or one whose fan-out worker died, now ours; None when there is none."""
    now = clock.now()
    with transaction(session_factory) as session:
        lapsed = or_(Notice.claimed_until.is_(None), Notice.claimed_until < now)
        due = or_(and_(Notice.status == "scheduled", Notice.scheduled_at <= now),
                  and_(Notice.status == "fanning", lapsed))
        query = select(Notice.id).where(due).order_by(Notice.urgent.desc(), Notice.scheduled_at, Notice.id).limit(1)
        if _is_pg(session):
            query = query.with_for_update(skip_locked=True)
        notice_id = session.scalar(query)
        if notice_id is None:
            return None
        taken = session.execute(
            update(Notice).where(Notice.id == notice_id, due)
            .values(status="fanning", claimed_by=token, claimed_until=now + timedelta(seconds=lease_seconds)),
            execution_options={"synchronize_session": False})
        return notice_id if taken.rowcount else None  # type: ignore[attr-defined]


def _fence(session: Session, notice_id: int, token: str, now: datetime, lease_seconds: float) -> Notice:
    kept = session.execute(
        update(Notice).where(Notice.id == notice_id, Notice.claimed_by == token, Notice.status == "fanning")
        .values(claimed_until=now + timedelta(seconds=lease_seconds)),
        execution_options={"synchronize_session": False})
    if not kept.rowcount:  # type: ignore[attr-defined]
        raise LostClaim
    notice = session.get(Notice, notice_id, populate_existing=True)
    assert notice is not None
    return notice


def _row(notice: Notice, now: datetime, **values: Any) -> dict[str, Any]:
    return {"notice_id": notice.id, "resident_id": None, "staff_id": None, "group_id": None, "identity_id": None,
            "status": "queued", "priority": URGENT_PRIORITY if notice.urgent else NORMAL_PRIORITY, "attempts": 0,
            "in_doubt": 0, "next_attempt_at": now, "via": "", "external_id": "", "error": "", **values}


def write_resident_rows(session: Session, notice: Notice, page: Select[tuple[int]], now: datetime
                        ) -> tuple[int, int]:
    """Rows for one page of residents (a query of their ids, muters already left out): one per usable chat
    (one INSERT ... SELECT, the page never fetched), or one 'unreachable' row with the reason.
    (rows added, residents unreachable)."""
    table, ci = NoticeDelivery.__table__, ChatIdentity
    def chats_of(resident: Any, usable: bool) -> Any:
        mine = and_(ci.resident_id == resident, ci.channel.in_(PUSH_CHANNELS))
        return and_(mine, ci.unreachable.is_(False)) if usable else mine

    values = _row(notice, now)
    fixed = ("notice_id", "status", "priority", "attempts", "in_doubt", "next_attempt_at", "via", "external_id",
             "error")
    chats = select(*(literal(values[name]).label(name) for name in fixed), ci.resident_id, ci.id, ci.channel,
                   ci.external_id).where(ci.resident_id.in_(page), ci.channel.in_(PUSH_CHANNELS),
                                         ci.unreachable.is_(False))
    dialect = postgresql if _is_pg(session) else sqlite
    insert = dialect.insert(table).from_select([*fixed, "resident_id", "identity_id", "channel", "chat_id"], chats) \
        .on_conflict_do_nothing(index_elements=["notice_id", "channel", "chat_id"])
    added = int(session.execute(insert, execution_options={"preserve_rowcount": True}).rowcount)  # type: ignore[attr-defined]
    # Only the residents nobody can reach come back (usually none), with whether they have any chat at all.
    unreached = session.execute(
        select(Resident.id, exists().where(chats_of(Resident.id, usable=False)))
        .where(Resident.id.in_(page), ~exists().where(chats_of(Resident.id, usable=True)))
        .order_by(Resident.id)).all()
    nobody = [
        _row(notice, now, resident_id=r, channel="none", chat_id=f"resident:{r}", status="unreachable",
             error=render("broadcast.reason.blocked" if known else "broadcast.reason.never_bound"))
        for r, known in unreached]
    return added + insert_ignoring_duplicates(session, nobody), len(nobody)


def tail_rows(session: Session, notice: Notice, now: datetime) -> list[dict[str, Any]]:
    """Rows for the owners' groups and the staff the audience names (after the residents)."""
    rows = [_row(notice, now, group_id=g.id, channel=g.channel, chat_id=g.chat_id[:200])
            for g in audience.group_chats(session, notice)]
    staff = audience.staff_ids(session, notice)
    if staff:
        for identity in session.scalars(select(ChatIdentity).where(
                ChatIdentity.staff_id.in_(staff), ChatIdentity.channel.in_(PUSH_CHANNELS),
                ChatIdentity.unreachable.is_(False)).order_by(ChatIdentity.id)):
            rows.append(_row(notice, now, staff_id=identity.staff_id, identity_id=identity.id,
                             channel=identity.channel, chat_id=identity.external_id[:200]))
    return rows


def _page_bounds(session: Session, page: Select[tuple[int]]) -> tuple[int, int]:
    """(how many residents the page holds, the last one's id)."""
    sub = page.subquery()
    size, last = session.execute(select(func.count(), func.max(sub.c.id))).one()
    return int(size), int(last or 0)


def fan_out_batch(session_factory: sessionmaker[Session], clock: Clock, notice_id: int, token: str,
                  lease_seconds: float, batch: int, stats: FanoutStats) -> bool:
    """Write the next page of the notice's rows in one transaction; True when the fan-out is complete."""
    now = clock.now()
    with transaction(session_factory) as session:
        notice = _fence(session, notice_id, token, now, lease_seconds)
        page = audience.resident_page(notice, notice.fanout_cursor, batch)
        size, last = _page_bounds(session, page)
        added, unreachable = write_resident_rows(session, notice, page, now) if size else (0, 0)
        done = size < batch
        if done:
            added += insert_ignoring_duplicates(session, tail_rows(session, notice, now))
        stats.rows += added
        stats.unreachable += unreachable
        values: dict[str, Any] = {"recipients": Notice.recipients + added}
        if size:
            values["fanout_cursor"] = last
        if done:
            values.update(status="sending", sent_at=now, claimed_by=None, claimed_until=None)
        session.execute(update(Notice).where(Notice.id == notice_id, Notice.claimed_by == token).values(**values),
                        execution_options={"synchronize_session": False})
        if done:
            broadcast_rows.finish_notices(session, [notice_id])
    return done


def fan_out_once(session_factory: sessionmaker[Session], clock: Clock, token: str, lease_seconds: float,
                 batch: int) -> FanoutStats:
    """Claim one due notice and fan it out completely (batch by batch); empty stats when none was due."""
    stats = FanoutStats()
    notice_id = claim_notice(session_factory, clock, token, lease_seconds)
    if notice_id is None:
        return stats
    stats.notices = 1
    try:
        while not fan_out_batch(session_factory, clock, notice_id, token, lease_seconds, batch, stats):
            pass
    except LostClaim:
        log.warning("fan-out of notice %s was taken over by another worker; leaving it", notice_id)
    return stats
