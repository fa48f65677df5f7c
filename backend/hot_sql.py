"""Prebuilt statements run straight on the session's DBAPI connection, for the few hottest writes.

A Core statement executed through SQLAlchemy costs about 0.1 ms of Python per call beyond the driver
(cache key, bind processing, result set-up): a third of creating a ticket. The statement is still built
with Core, compiled once for the dialect, and runs on the session's own connection inside its
transaction; only the per-call work is skipped. Errors come back as SQLAlchemy's DBAPIError, as from
Session.execute. Only for statements whose parameters need no bind processing beyond JSON encoding.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Executable


class HotStatement:
    """A Core statement compiled once; `run` binds a dict of named parameters and returns the rows."""

    def __init__(self, stmt: Executable, session: Session) -> None:
        dialect = session.get_bind().dialect
        compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
        if dialect.paramstyle not in ("pyformat", "named"):
            raise ValueError(f"HotStatement needs named parameters, not {dialect.paramstyle}")
        self.sql = str(compiled)
        names = compiled.bind_names.items()
        self.json_params = {name for bind, name in names if isinstance(bind.type, JSON)}  # a name may recur
        self.defaults = {name: bind.effective_value for bind, name in names if not bind.required}  # literals
        self._dbapi_error = dialect.loaded_dbapi.Error
        self.returns_rows = bool(compiled.statement.is_select or getattr(compiled, "effective_returning", None))

    def run(self, session: Session, params: dict[str, Any]) -> Sequence[tuple[Any, ...]]:
        params = {**self.defaults, **params}
        for key in self.json_params:
            params[key] = json.dumps(params[key])
        raw = session.connection().connection.driver_connection
        try:
            cursor = raw.execute(self.sql, params)  # type: ignore[union-attr]
            return cursor.fetchall() if self.returns_rows else []  # (cursor.description would cost more)
        except self._dbapi_error as err:
            raise DBAPIError.instance(self.sql, params, err, self._dbapi_error) from err


class Prebuilt:
    """A statement built once per dialect by `build(dialect_name)`: on PostgreSQL run as a HotStatement,
    elsewhere (SQLite) through the session as usual."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self.build = build
        self._by_dialect: dict[str, Any] = {}

    def rows(self, session: Session, params: dict[str, Any]) -> Sequence[Any]:
        dialect = session.get_bind().dialect.name
        stmt = self._by_dialect.get(dialect)
        if stmt is None:
            stmt = self.build(dialect)
            self._by_dialect[dialect] = stmt = HotStatement(stmt, session) if dialect == "postgresql" else stmt
        if isinstance(stmt, HotStatement):
            return stmt.run(session, params)
        result = session.execute(stmt, params)
        return result.all() if result.returns_rows else []

    def first(self, session: Session, params: dict[str, Any]) -> Any:
        found = self.rows(session, params)
        return found[0] if found else None


def attach(session: Session, cls: Any, values: dict[str, Any]) -> Any:
    """The session's object for a row read or written with Core: the one it already holds, else a new
    one filled from `values` (all column values, and loaded relationships if any) and attached as loaded.

    Fills the instance dict directly: the instrumented constructor and the ORM's row loading cost more
    than the statement on the hot paths."""
    found = session.identity_map.get(identity_key(cls, values["id"]))
    if found is not None:
        return found
    obj = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
