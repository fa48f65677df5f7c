"""What every command needs: settings, a database session, the community it acts on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from backend.db import make_engine, make_session_factory, transaction
from backend.models import Community, Staff
from backend.settings import Settings, get_settings

COMMUNITY_OPTION = typer.Option(None, "--community", "-c", help="Community code (default: GUANJIA_DEFAULT_COMMUNITY).")


def load_settings() -> Settings:
    """Fresh from the environment, so GUANJIA_* set by a wrapper (or a test) is honoured."""
    get_settings.cache_clear()
    return get_settings()


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[Session]:
    """One transaction on the configured database; refuses a database that was never migrated."""
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("community"):
            raise fail(f"database {engine.url!r} has no tables yet: run `guanjia db upgrade` first")
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def community_by_code(session: Session, code: str | None, settings: Settings) -> Community:
    code = code or settings.default_community
    community = session.scalar(select(Community).where(Community.code == code))
    if community is None:
        raise fail(f"no community with code {code!r} (the demo community is created by `guanjia demo`)")
    return community


def staff_by_login(session: Session, community: Community, login: str) -> Staff:
    staff = session.scalar(select(Staff).where(Staff.community_id == community.id, Staff.login == login))
    if staff is None or not staff.active:
        raise fail(f"no active staff member {login!r} in community {community.code!r}")
    return staff
