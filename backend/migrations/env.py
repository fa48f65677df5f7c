"""Alembic environment: the URL comes from the caller (backend.migrate) or from Settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from backend.models import Base
from backend.settings import get_settings

config = context.config
target_metadata = Base.metadata

# Only configure logging when run from the alembic command line, not when the app migrates itself.
if config.config_file_name is not None and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _options(url: str) -> dict[str, object]:
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
    return {"target_metadata": target_metadata, "render_as_batch": url.startswith("sqlite"), "compare_type": True}


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options(url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_options(str(connection.engine.url)))
        with context.begin_transaction():
            context.run_migrations()
        return
    url = database_url()
    if url.startswith("sqlite"):
        from backend.db import make_engine

        make_engine(url).dispose()  # creates the parent folder of a new SQLite file
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, **_options(url))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
