"""Residents with chat accounts and notices to send them: shared by the broadcast tests (and the kill test)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.models import ChatIdentity, Community, Notice, Resident

TELEGRAM_BASE = 700000  # resident i's Telegram user id is TELEGRAM_BASE + i


def community(session: Session, now: datetime, code: str = "bcast") -> Community:
    """An empty community of its own, so that "the whole community" means exactly the residents added."""
    found = Community(code=code, name="广播小区", created_at=now)
    session.add(found)
    session.flush()
    return found


def add_residents(session: Session, community: Community, count: int, now: datetime,
                  channels: tuple[str, ...] = ("telegram",), start: int = 0) -> list[int]:
    """`count` residents, each with an account on every channel in `channels` (set-based inserts)."""
    session.execute(insert(Resident), [
        {"community_id": community.id, "name": f"住户{i}", "created_at": now, "language": "zh"}
        for i in range(start, start + count)])
    ids = list(session.scalars(select(Resident.id).where(Resident.community_id == community.id)
                               .order_by(Resident.id.desc()).limit(count)))[::-1]
    rows: list[dict[str, Any]] = []
    for offset, resident_id in enumerate(ids):
        i = start + offset
        chats = {"telegram": str(TELEGRAM_BASE + i), "web": f"web-{i}", "wechat": f"o-{i}", "wecom": f"w-{i}"}
        rows += [{"community_id": community.id, "channel": c, "external_id": chats[c], "resident_id": resident_id,
                  "created_at": now} for c in channels]
    if rows:
        session.execute(insert(ChatIdentity), rows)
    return ids


def notice(session: Session, community: Community, now: datetime, *, title: str = "停水通知",
           body: str = "明天 9:00-12:00 停水，请提前储水。", category: str = "outage", urgent: bool = False,
           audience: dict[str, Any] | None = None, kind: str = "notice", event_id: int | None = None,
           when: datetime | None = None) -> Notice:
    """A notice the engine will pick up: status 'scheduled', due now (or at `when`)."""
    note = Notice(community_id=community.id, kind=kind, category=category, title=title, body=body, urgent=urgent,
                  audience=audience if audience is not None else {"community": True}, event_id=event_id,
                  status="scheduled", scheduled_at=when or now, created_at=now)
    session.add(note)
    session.flush()
    return note
