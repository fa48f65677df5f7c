"""The platform access token, cached in channel_token and shared by every web process and worker.

One row per (channel, app id). A worker that finds it missing, near expiry or rejected takes
the row lock (SELECT ... FOR UPDATE on PostgreSQL; a write on SQLite) and checks again, so
only one of them asks the platform for a new token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.db import transaction
from backend.models import ChannelToken
from bot.wechat.limits import TOKEN_REFRESH_MARGIN_SECONDS

Fetch = Callable[[], tuple[str, int]]  # -> (token, expires_in seconds)


class TokenCache:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, channel: str, app_id: str,
                 fetch: Fetch) -> None:
        self.session_factory, self.clock = session_factory, clock
        self.channel, self.app_id, self.fetch = channel, app_id[:100], fetch

    def _fresh(self, row: ChannelToken | None, rejected: str | None) -> bool:
        margin = timedelta(seconds=TOKEN_REFRESH_MARGIN_SECONDS)
        return (row is not None and bool(row.token) and row.token != rejected
                and row.expires_at - margin > self.clock.now())

    def get(self, rejected: str | None = None) -> str:
        """A valid token; pass the token the platform just rejected to force one refresh."""
        with self.session_factory() as session:
            row = self._row(session)
            if self._fresh(row, rejected):
                assert row is not None
                return row.token
        self._ensure_row()
        with transaction(self.session_factory) as session:
            row = self._lock(session)
            if self._fresh(row, rejected):  # another worker refreshed while we waited
                return row.token
            token, expires_in = self.fetch()
            now = self.clock.now()
            row.token, row.expires_at, row.updated_at = token, now + timedelta(seconds=expires_in), now
            return token

    def _row(self, session: Session) -> ChannelToken | None:
        return session.scalar(select(ChannelToken).where(ChannelToken.channel == self.channel,
                                                         ChannelToken.app_id == self.app_id))

    def _ensure_row(self) -> None:
        try:
            with transaction(self.session_factory) as session:
                if self._row(session) is None:
                    now = self.clock.now()
                    session.add(ChannelToken(channel=self.channel, app_id=self.app_id, token="",
                                             expires_at=datetime(2000, 1, 1), updated_at=now))
        except IntegrityError:
            pass  # another worker inserted it first: the row exists, which is all we wanted

    def _lock(self, session: Session) -> ChannelToken:
        where = (ChannelToken.channel == self.channel, ChannelToken.app_id == self.app_id)
        if session.get_bind().dialect.name == "sqlite":  # no FOR UPDATE: a write takes the database lock
            session.execute(update(ChannelToken).where(*where).values(app_id=self.app_id))
        row = session.scalar(select(ChannelToken).where(*where).with_for_update())
        assert row is not None
        session.refresh(row)
        return row
