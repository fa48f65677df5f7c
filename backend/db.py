"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Threads that may each hold a session at once: the web server's worker threads (anyio's default 40), the
# chat threads, the in-app worker and its lease heartbeat, with room to spare.
POOL_THREADS = 64


def make_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Every thread that may hold a session gets a connection without queueing for one (waiting in the
        # pool while holding another request's write lock is how a burst used to time out); the write lock
        # itself is queued for by SQLite's busy timeout.
        kwargs.setdefault("pool_size", POOL_THREADS)
        kwargs.setdefault("max_overflow", POOL_THREADS)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" hook issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # Take the write lock at BEGIN so concurrent writers queue instead of failing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        engine.dialect._guanjia_sqlite = True  # type: ignore[attr-defined]
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", POOL_THREADS)  # a burst on every request thread waits on rows, not the pool
    kwargs.setdefault("pool_recycle", 1800)  # instead of a ping round trip on every checkout
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
