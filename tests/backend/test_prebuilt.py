"""Prebuilt: a statement built once per dialect, run as a HotStatement on PostgreSQL, via the session elsewhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from backend.hot_sql import Prebuilt
from backend.models import Community


def test_builds_once_per_dialect_and_returns_rows_or_nothing(session: Session, clock: Any) -> None:
    built: list[str] = []
    table = Community.__table__

    def make_insert(dialect: str) -> Any:
        built.append(dialect)
        return insert(table).values(code=bindparam("code"), name=bindparam("name"), hotline="", address="",
                                    created_at=bindparam("at")).returning(table.c.id, table.c.code)

    add = Prebuilt(make_insert)
    first = add.first(session, {"code": "a", "name": "甲", "at": clock.now()})
    second = add.first(session, {"code": "b", "name": "乙", "at": clock.now()})
    assert first[1] == "a" and second[1] == "b" and second[0] > first[0]
    assert built == [session.get_bind().dialect.name]  # compiled once, reused

    rename = Prebuilt(lambda _d: update(table).where(table.c.id == bindparam("cid")).values(name=bindparam("n")))
    assert rename.rows(session, {"cid": first[0], "n": "丙"}) == []  # an UPDATE returns no rows
    assert rename.first(session, {"cid": first[0], "n": "丁"}) is None
    assert session.scalar(select(table.c.name).where(table.c.id == first[0])) == "丁"  # in this transaction
    session.rollback()
    assert session.scalar(select(table.c.id).where(table.c.code == "a")) is None
