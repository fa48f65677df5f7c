"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL tests use a throwaway database made for this test session, so parallel
runs never share tables. Set GUANJIA_TEST_PG_URL to point elsewhere (default: the
local server, database `test`), or GUANJIA_TEST_DATABASES=sqlite to skip PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import FrozenClock
from backend.db import make_engine, make_session_factory
from backend.models import Base
from backend.services.tickets import clear_category_cache
from backend.settings import Settings

PG_ADMIN_URL = os.environ.get("GUANJIA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = os.environ.get("GUANJIA_TEST_DATABASES", "sqlite,postgresql").split(",")


@contextmanager
def throwaway_pg_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with throwaway_pg_database("guanjia_t") as url:
        yield url


@pytest.fixture(params=[d for d in ("sqlite", "postgresql") if d in DATABASES])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'guanjia.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    clear_category_cache()
    eng = make_engine(db_url)
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    try:
        yield eng
    finally:
        Base.metadata.drop_all(eng)
        eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        admin_token="test-admin-token",
        secret_key="test-secret",
        media_dir=tmp_path / "media",
        nlu_cache_dir=tmp_path / "nlu-cache",
        run_worker_in_app=False,  # tests run the worker's rounds themselves
        _env_file=None,
    )


@pytest.fixture(autouse=True)
def _fresh_gate_limits() -> Iterator[None]:
    """The gate's check limits are per process: each test starts with none spent."""
    from backend.services import visitors

    visitors._GATE.reset()
    yield
