"""The dialogue tables' world: one seeded demo database per database kind, the real app served by uvicorn
on 127.0.0.1, the real builtin NLU and the delivery worker, all set up once per test session.

Conversations share the database; each scenario talks as users of its own (see test_tables.py), so
they do not see each other's chats, and outcome checks only look at rows written after it began.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from backend.clock import FrozenClock
from backend.db import make_engine, make_session_factory
from backend.models import Base, Staff
from backend.services.demo import seed_demo
from backend.settings import Settings
from bot.app import create_app
from bot.worker import Worker
from nlu import load_nlu
from tests.conftest import throwaway_pg_database
from tests.dialogues.world import TALLY, DialogueWorld

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"
PG_ADMIN_URL = os.environ.get("GUANJIA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASES = [d for d in ("sqlite", "postgresql")
             if d in os.environ.get("GUANJIA_TEST_DATABASES", "sqlite,postgresql").split(",")]
REPORT_ENV = "GUANJIA_DIALOGUE_REPORT"  # a path: write every scenario's result there as JSON lines


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dialogues: conversation tables and fuzz of tests/dialogues (-m 'not dialogues' skips)")


@pytest.fixture(scope="session")
def dialogue_nlu():
    return load_nlu("builtin", cache_dir=NLU_CACHE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(db: str, tmp: Path) -> Iterator[str]:
    if db == "sqlite":
        yield f"sqlite:///{tmp / 'dialogues.db'}"
        return
    with throwaway_pg_database("guanjia_dlg") as url:
        yield url


@pytest.fixture(scope="session", params=DATABASES)
def dialogue_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   dialogue_nlu) -> Iterator[DialogueWorld]:
    db: str = request.param
    tmp = tmp_path_factory.mktemp(f"dialogues-{db}")
    databases = _database(db, tmp)
    url = next(databases)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    session_factory = make_session_factory(engine)
    clock = FrozenClock()
    settings = Settings(database_url=url, admin_token="test-admin-token", secret_key="test-secret",
                        media_dir=tmp / "media", nlu_cache_dir=NLU_CACHE, run_worker_in_app=False,
                        demo_mode=True, _env_file=None)
    with session_factory() as s:
        seed_demo(s, settings, clock)
        s.commit()
        logins = list(s.scalars(select(Staff.login).order_by(Staff.id)))

    app = create_app(settings, clock=clock, session_factory=session_factory, nlu=dialogue_nlu)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, name=f"dialogues-uvicorn-{db}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    world = DialogueWorld(db, f"http://127.0.0.1:{port}", http, session_factory, clock, settings,
                          Worker(session_factory, clock, settings), logins)
    for login in logins:  # every staff member has the web chat open, so pushes reach a page
        world.post(f"staff:{login}", text="你好")
    try:
        yield world
    finally:
        http.close()
        server.should_exit = True
        thread.join(10)
        engine.dispose()
        next(databases, None)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """One line per database: how many conversations reached their goal and in how many turns."""
    if not TALLY.results:
        return
    for db in sorted({r.db for r in TALLY.results}):
        mine = [r for r in TALLY.results if r.db == db]
        passed = [r for r in mine if r.ok]
        turns = sum(r.turns for r in passed)
        avg = turns / len(passed) if passed else 0.0
        terminalreporter.write_line(
            f"dialogues[{db}]: {len(passed)}/{len(mine)} reached their goal "
            f"({100 * len(passed) / len(mine):.0f}%), {avg:.1f} turns per goal on average")
        files = sorted({r.file for r in mine})
        terminalreporter.write_line("  " + ", ".join(
            f"{f} {sum(r.ok for r in mine if r.file == f)}/{sum(r.file == f for r in mine)}" for f in files))
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            for r in TALLY.results:
                f.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
