"""The broadcast engine's statements on notice_delivery: claim a batch, mark, record, renew, finish.

Every write after the claim names the claim (the fencing token) and does nothing once another worker
has taken the row over. A row's life: 'queued' (maybe claimed: claim + claimed_until) -> 'sending'
(written just before the platform call) -> 'sent' | 'unreachable' | 'failed', or back to 'queued'
with next_attempt_at for a retry. A row found 'sending' under a lapsed claim is a send that may have
left before its worker died: it is queued again and counted in `in_doubt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, exists, or_, select, update
from sqlalchemy.orm import Session

from backend.models import ChatIdentity, GroupChat, Notice, NoticeDelivery, Resident

ND = NoticeDelivery
OPEN = ("queued", "sending")


@dataclass(frozen=True)
class Row:
    id: int
    notice_id: int
    channel: str
    chat_id: str
    resident_id: int | None
    staff_id: int | None
    group_id: int | None
    identity_id: int | None
    attempts: int
    lang: str = "zh"

    @property
    def audience(self) -> str:
        return "group" if self.group_id is not None else "staff" if self.staff_id is not None else "resident"


@dataclass(frozen=True)
class Outcome:
    row: Row
    # sent | retry | unreachable | failed; not tried: defer (a limit said wait), drop (cancelled or expired),
    # unmark (marked 'sending', then the sender found it must wait: back to the queue)
    status: str
    retry_after: float = 0.0
    error: str = ""
    external_id: str = ""
    via: str = ""
    gone: bool = False  # the chat is gone for good (blocked, kicked): mark its identity or group


def _lapsed(now: datetime) -> Any:
    return or_(ND.claimed_until.is_(None), ND.claimed_until < now)


def claim(session: Session, now: datetime, token: str, lease_seconds: float, limit: int) -> list[Row]:
    """Lease up to `limit` due rows (priority, then id) in one statement; rows another worker left
    'sending' are taken back to 'queued' with in_doubt + 1."""
    due = select(ND.id).where(or_(
        and_(ND.status == "queued", ND.next_attempt_at <= now, _lapsed(now)),
        and_(ND.status == "sending", ND.claimed_until < now),
    )).order_by(ND.priority, ND.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    taken = session.execute(
        update(ND).where(ND.id.in_(due.scalar_subquery()))
        .values(claim=token, claimed_until=now + timedelta(seconds=lease_seconds), status="queued",
                in_doubt=ND.in_doubt + case((ND.status == "sending", 1), else_=0))
        .returning(ND.id, ND.notice_id, ND.channel, ND.chat_id, ND.resident_id, ND.staff_id, ND.group_id,
                   ND.identity_id, ND.attempts, ND.priority),
        execution_options={"synchronize_session": False}).all()
    rows = sorted(taken, key=lambda r: (r.priority, r.id))  # RETURNING keeps no order
    residents = {r.resident_id for r in rows if r.resident_id is not None}
    langs = dict(session.execute(select(Resident.id, Resident.language).where(Resident.id.in_(residents))).all()) \
        if residents else {}
    return [Row(r.id, r.notice_id, r.channel, r.chat_id, r.resident_id, r.staff_id, r.group_id, r.identity_id,
                r.attempts, langs.get(r.resident_id) or "zh") for r in rows]


def renew(session: Session, now: datetime, token: str, ids: list[int], lease_seconds: float) -> int:
    """Extend the claim's lease. Rows locked right now (their outcome being written) are skipped, not
    waited for: a renewal must never deadlock with the journal; the next beat renews them if still open."""
    mine = select(ND.id).where(ND.id.in_(ids), ND.claim == token, ND.status.in_(OPEN))
    if session.get_bind().dialect.name == "postgresql":
        mine = mine.with_for_update(skip_locked=True)
    result = session.execute(
        update(ND).where(ND.id.in_(mine.scalar_subquery()))
        .values(claimed_until=now + timedelta(seconds=lease_seconds)),
        execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_sending(session: Session | Connection, token: str, ids: list[int]) -> set[int]:
    """Write-ahead, just before the platform calls: the ids still ours, now 'sending'."""
    if not ids:
        return set()
    result = session.execute(
        update(ND).where(ND.id.in_(ids), ND.claim == token, ND.status == "queued")
        .values(status="sending", attempts=ND.attempts + 1).returning(ND.id),
        execution_options={"synchronize_session": False})
    return set(result.scalars())


def outcome_values(now: datetime, outcomes: list[Outcome], max_attempts: int) -> list[dict[str, Any]]:
    """Each outcome as the row it leaves: the status it must be found in (`from`) and the values it gets."""
    values = []
    for o in outcomes:
        untried = o.status in ("defer", "drop")
        attempts = o.row.attempts + (0 if untried else 1)
        status = {"defer": "queued", "drop": "failed", "unmark": "queued"}.get(o.status, o.status)
        if status == "retry":
            status = "failed" if attempts >= max_attempts else "queued"
        values.append({
            "id": o.row.id, "from": "queued" if untried else "sending", "status": status, "error": o.error[:300],
            "external_id": o.external_id[:100], "via": o.via[:20], "sent_at": now if status == "sent" else None,
            "next_attempt_at": now + timedelta(seconds=max(o.retry_after, 0.0)),
        })
    return values


def gone(outcomes: list[Outcome]) -> tuple[list[int], list[int]]:
    """The chat identities and groups the outcomes found gone for good."""
    return ([o.row.identity_id for o in outcomes if o.gone and o.row.identity_id is not None],
            [o.row.group_id for o in outcomes if o.gone and o.row.group_id is not None])


def record(session: Session | Connection, now: datetime, token: str, outcomes: list[Outcome], max_attempts: int
           ) -> None:
    """Every outcome of a round in one executemany statement, each fenced by the claim."""
    if not outcomes:
        return
    params = [{f"b_{k}": v for k, v in values.items()} | {"b_claim": token}
              for values in outcome_values(now, outcomes, max_attempts)]
    table = ND.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.claim == bindparam("b_claim"),
                            table.c.status == bindparam("b_from"))
        .values(status=bindparam("b_status"), error=bindparam("b_error"), external_id=bindparam("b_external_id"),
                via=bindparam("b_via"), sent_at=bindparam("b_sent_at"), next_attempt_at=bindparam("b_next_attempt_at"),
                claimed_until=None),
        params)
    identities, groups = gone(outcomes)
    if identities:
        session.execute(update(ChatIdentity).where(ChatIdentity.id.in_(identities)).values(unreachable=True),
                        execution_options={"synchronize_session": False})
    if groups:
        session.execute(update(GroupChat).where(GroupChat.id.in_(groups)).values(active=False),
                        execution_options={"synchronize_session": False})


def release(session: Session, token: str, ids: list[int]) -> None:
    """Give back rows of a claim that were never marked (a round cut short)."""
    session.execute(update(ND).where(ND.id.in_(ids), ND.claim == token, ND.status == "queued")
                    .values(claimed_until=None),
                    execution_options={"synchronize_session": False})


def finish_notices(session: Session, notice_ids: list[int] | set[int]) -> int:
    """Notices whose every row is final: 'sending' -> 'sent'."""
    if not notice_ids:
        return 0
    still_open = exists().where(ND.notice_id == Notice.id, ND.status.in_(OPEN))
    result = session.execute(
        update(Notice).where(Notice.id.in_(list(notice_ids)), Notice.status == "sending", ~still_open)
        .values(status="sent"), execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
