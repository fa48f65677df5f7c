"""The broadcast journal's fast path on PostgreSQL: marks and outcomes as two fixed SQL statements.

The same writes as `broadcast_rows.mark_sending` and `broadcast_rows.record`, each fenced by its row's
claim, but:
* written as one statement (two updates in a `WITH`) that takes its rows as one JSON document
  (`jsonb_to_recordset`), so one statement text serves any batch and any mix of claims, psycopg
  prepares it once per connection and passes two parameters (the ids, for the index, and the
  document), instead of SQLAlchemy building and
  expanding two statements per flush;
* awaited on the engine's own event loop over the journal's own async connections (autocommit,
  `synchronous_commit = off`: one round trip per statement), with no hop to a thread and back.
`bench/broadcast.py` shows what it pays (docs/broadcast.md, "Figures"); SQLite, and any other
database, keeps the ordinary SQLAlchemy path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from bot.delivery.broadcast_rows import Outcome, gone, outcome_values

_MARKED = """
UPDATE notice_delivery AS d SET status = 'sending', attempts = d.attempts + 1
FROM jsonb_to_recordset(%(marks)s::jsonb) AS m(id bigint, claim text)
WHERE d.id = ANY(%(mark_ids)s::bigint[]) AND d.id = m.id AND d.claim = m.claim AND d.status = 'queued'
RETURNING d.id
"""

_RECORDED = """
UPDATE notice_delivery AS d
SET status = v.status, error = v.error, external_id = v.external_id, via = v.via, sent_at = v.sent_at,
    next_attempt_at = v.next_attempt_at, claimed_until = NULL
FROM jsonb_to_recordset(%(outcomes)s::jsonb)
     AS v(id bigint, claim text, "from" text, status text, error text, external_id text, via text,
          sent_at timestamp, next_attempt_at timestamp)
WHERE d.id = ANY(%(outcome_ids)s::bigint[]) AND d.id = v.id AND d.claim = v.claim AND d.status = v."from"
"""

# One outcome and one mark, the usual flush (one unrecorded send per process): plain parameters, so the
# statement's plan is the primary key's whatever the table's statistics, and PostgreSQL keeps one generic
# plan instead of planning every execution.
_ONE_MARKED = """
UPDATE notice_delivery SET status = 'sending', attempts = attempts + 1
WHERE id = %(mark_id)s AND claim = %(mark_claim)s AND status = 'queued'
RETURNING id
"""

_ONE_RECORDED = """
UPDATE notice_delivery
SET status = %(status)s, error = %(error)s, external_id = %(external_id)s, via = %(via)s, sent_at = %(sent_at)s,
    next_attempt_at = %(next_attempt_at)s, claimed_until = NULL
WHERE id = %(id)s AND claim = %(claim)s AND status = %(from)s
"""


def _both(recorded: str, marked: str) -> str:
    """Both at once, one round trip: the rows about to go are never among the outcomes (a row is marked just
    before its send, and its outcome comes after), so the two updates never touch the same row."""
    return f"WITH recorded AS ({recorded}), marked AS ({marked}) SELECT id FROM marked"


MARK, RECORD, RECORD_AND_MARK = _MARKED, _RECORDED, _both(_RECORDED, _MARKED)
MARK_ONE, RECORD_ONE, RECORD_AND_MARK_ONE = _ONE_MARKED, _ONE_RECORDED, _both(_ONE_RECORDED, _ONE_MARKED)

# The journal's connections commit without waiting for the disk: a killed worker loses nothing (see `write`).
SESSION_OPTIONS = "-c synchronous_commit=off"

IDENTITIES_GONE = "UPDATE chat_identity SET unreachable = true WHERE id = ANY(%(ids)s::bigint[])"
GROUPS_GONE = "UPDATE group_chat SET active = false WHERE id = ANY(%(ids)s::bigint[])"


def conninfo(url: URL) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq connection string (the driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PgJournal:
    """`size` async connections, made on first use on the running loop; a broken one is replaced."""

    def __init__(self, url: URL, size: int) -> None:
        self.conninfo, self.size = conninfo(url), size
        self._idle: asyncio.Queue[psycopg.AsyncConnection] | None = None
        self._made = 0

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self._idle is None:
            self._idle = asyncio.Queue()
        if self._idle.empty() and self._made < self.size:
            self._made += 1
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, options=SESSION_OPTIONS)
            except BaseException:
                self._made -= 1
                raise
        else:
            conn = await self._idle.get()
        try:
            yield conn
        except BaseException:
            self._made -= 1
            await conn.close()
            raise
        else:
            self._idle.put_nowait(conn)

    async def write(self, now: datetime, marks: list[tuple[str, int]], outcomes: list[tuple[str, Outcome]],
                    max_attempts: int) -> set[int]:
        """Outcomes and marks (as `BroadcastEngine.write_journal`) in one statement; the marked ids still ours."""
        values = outcome_values(now, [o for _claim, o in outcomes], max_attempts)
        for (claim, _o), v in zip(outcomes, values, strict=True):
            v["claim"] = claim
        params: dict[str, Any] = {}
        if len(values) <= 1 and len(marks) <= 1:
            if values:
                params.update(values[0])
            if marks:
                params.update(mark_claim=marks[0][0], mark_id=marks[0][1])
            statement = RECORD_AND_MARK_ONE if values and marks else RECORD_ONE if values else MARK_ONE
        else:  # each list as one JSON document: one parameter for psycopg to pass, however many rows
            if values:
                params.update(outcomes=json.dumps(values, default=datetime.isoformat),
                              outcome_ids=[v["id"] for v in values])
            if marks:
                params.update(marks=json.dumps([{"id": row_id, "claim": claim} for claim, row_id in marks]),
                              mark_ids=[row_id for _claim, row_id in marks])
            statement = RECORD_AND_MARK if values and marks else RECORD if values else MARK
        async with self._connection() as conn:
            cursor = await conn.execute(statement, params)
            ours = {row[0] for row in await cursor.fetchall()} if marks else set()
            identities, groups = gone([o for _claim, o in outcomes])
            if identities:
                await conn.execute(IDENTITIES_GONE, {"ids": identities})
            if groups:
                await conn.execute(GROUPS_GONE, {"ids": groups})
        return ours

    async def aclose(self) -> None:
        while self._idle is not None and not self._idle.empty():
            await self._idle.get_nowait().close()
        self._made = 0
