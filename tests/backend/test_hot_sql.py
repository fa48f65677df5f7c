"""HotStatement: a Core statement compiled once and run on the session's own PostgreSQL connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, insert, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db import make_engine, make_session_factory
from backend.hot_sql import HotStatement
from tests.conftest import DATABASES

pytestmark = pytest.mark.skipif("postgresql" not in DATABASES, reason="PostgreSQL only (the hot path)")

meta = MetaData()
items = Table("hot_item", meta, Column("id", Integer, primary_key=True), Column("label", String(20)),
              Column("data", JSON))


@pytest.fixture
def session(pg_url: str) -> Iterator[Session]:
    engine = make_engine(pg_url)
    meta.drop_all(engine)
    meta.create_all(engine)
    try:
        with make_session_factory(engine)() as s:
            yield s
    finally:
        meta.drop_all(engine)
        engine.dispose()


def two_rows() -> object:
    """Two rows sharing one JSON parameter, with a literal label: the shapes the ticket hot path uses."""
    rows = [select(bindparam(f"id{i}", type_=Integer), literal("fixed"), bindparam("data", type_=JSON))
            for i in range(2)]
    return insert(items).from_select(["id", "label", "data"], union_all(*rows)).returning(items.c.id)


def test_binds_literals_and_a_shared_json_parameter_once(session: Session) -> None:
    stmt = HotStatement(two_rows(), session)
    rows = stmt.run(session, {"id0": 1, "id1": 2, "data": {"门牌": "3-2-1502", "n": [1, 2]}})
    assert sorted(r[0] for r in rows) == [1, 2]
    stored = session.execute(select(items.c.label, items.c.data).order_by(items.c.id)).all()
    assert stored == [("fixed", {"门牌": "3-2-1502", "n": [1, 2]})] * 2  # JSON, not a JSON-encoded string


def test_runs_inside_the_sessions_transaction(session: Session) -> None:
    HotStatement(two_rows(), session).run(session, {"id0": 1, "id1": 2, "data": {}})
    session.rollback()
    assert session.execute(select(items.c.id)).all() == []


def test_a_database_error_is_sqlalchemys_and_the_session_recovers(session: Session) -> None:
    stmt = HotStatement(two_rows(), session)
    stmt.run(session, {"id0": 1, "id1": 2, "data": {}})
    with pytest.raises(IntegrityError):
        stmt.run(session, {"id0": 2, "id1": 3, "data": {}})  # id 2 again
    session.rollback()
    stmt.run(session, {"id0": 5, "id1": 6, "data": {}})
    session.commit()
    assert [r[0] for r in session.execute(select(items.c.id).order_by(items.c.id))] == [5, 6]


def test_refuses_a_dialect_without_named_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with make_session_factory(engine)() as s, pytest.raises(ValueError, match="named parameters"):
        HotStatement(two_rows(), s)
    engine.dispose()
