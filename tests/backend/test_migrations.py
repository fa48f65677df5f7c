"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

If this fails after a model change, add a migration:
    GUANJIA_DATABASE_URL=sqlite:///var/gen.db .venv/bin/guanjia db upgrade
    GUANJIA_DATABASE_URL=sqlite:///var/gen.db .venv/bin/alembic -c backend/alembic.ini \
        revision --autogenerate -m "what changed"
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from backend.migrate import current_head, upgrade
from backend.models import Base
from tests.conftest import throwaway_pg_database

PG_ADMIN_URL = os.environ.get("GUANJIA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = os.environ.get("GUANJIA_TEST_DATABASES", "sqlite,postgresql").split(",")


@pytest.fixture(params=[d for d in ("sqlite", "postgresql") if d in DATABASES])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has touched (not the shared test database: create_all would hide gaps)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'fresh.db'}"
        return
    with throwaway_pg_database("guanjia_m") as url:
        yield url


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_matches_models(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    assert _diff(empty_db_url) == []
    engine = create_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == current_head()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    upgrade(empty_db_url)
    assert _diff(empty_db_url) == []


def test_building_steward_foreign_key_exists(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        fks = inspect(engine).get_foreign_keys("building")
    finally:
        engine.dispose()
    assert any(fk["referred_table"] == "staff" and fk["constrained_columns"] == ["steward_id"] for fk in fks)


def test_0013_gives_existing_notices_their_own_page_token(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0012")
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO community (code, name, hotline, address, created_at) "
                              "VALUES ('m', '迁移小区', '', '', '2026-12-01 09:00:00')"))
            for title in ("停水", "停电"):
                conn.execute(text(
                    "INSERT INTO notice (community_id, kind, category, title, body, image_path, attachment_path, "
                    "urgent, audience, status, created_at, recipients, fanout_cursor) VALUES ((SELECT id FROM "
                    "community), 'notice', 'outage', :title, '正文', '', '', false, '{}', 'sent', "
                    "'2026-12-01 09:00:00', 0, 0)"), {"title": title})
        upgrade(empty_db_url)
        with engine.connect() as conn:
            tokens = list(conn.execute(text("SELECT page_token FROM notice")).scalars())
    finally:
        engine.dispose()
    assert len(tokens) == 2 and len(set(tokens)) == 2
    assert all(len(t) == 32 and set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for t in tokens)
    assert _diff(empty_db_url) == []
