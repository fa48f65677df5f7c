"""`guanjia demo | serve | worker`: running the assistant."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import threading
import time

import typer

from backend import migrate
from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory, transaction
from bot.cli.common import fail, load_settings

APP_FACTORY = "bot.app:create_app"
HOST_OPTION = typer.Option(None, help="Listen address (default: GUANJIA_HOST).")
PORT_OPTION = typer.Option(None, help="Port (default: GUANJIA_PORT).")


def demo(
    host: str | None = HOST_OPTION,
    port: int | None = PORT_OPTION,
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Start the server after seeding."),
) -> None:
    """Migrate the database, create or refresh the demo community 和谐家园, train the language model if it
    is not trained yet, and serve it in demo mode."""
    from backend.services.demo import seed_demo
    from backend.services.demo_history import HISTORY_WEEKS
    from nlu import load_nlu

    os.environ["GUANJIA_DEMO_MODE"] = "true"
    settings = load_settings()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    with transaction(make_session_factory(engine)) as session:
        community = seed_demo(session, settings, SystemClock(), history=True)
        typer.echo(f"demo community {community.name} ({community.code}) with {HISTORY_WEEKS} weeks of ticket history "
                   f"ready in {time.perf_counter() - started:.1f} s ({settings.database_url})")
        signin = _demo_signin_link(session, community.id, settings, host, port)
    engine.dispose()
    # Here, once, rather than in the server: the first run trains the builtin model (about 10 s) into the cache.
    started = time.perf_counter()
    nlu = load_nlu(settings.nlu, cache_dir=settings.nlu_cache_dir, timeout=settings.nlu_timeout_seconds)
    typer.echo(f"language model ready in {time.perf_counter() - started:.1f} s ({settings.nlu_cache_dir})")
    base = f"http://{host or settings.host}:{port or settings.port}"
    typer.echo(f"web chat:  {base}/chat   (demo: switch between residents and staff at the top)")
    typer.echo(f"API docs:  {base}/docs")
    if signin:
        typer.echo(f"console:   {signin}   (one-time link, signed in as manager; demo mode only)")
    if serve_after:
        _serve(host, port, nlu=nlu)


def _demo_signin_link(session: object, community_id: int, settings: object, host: str | None,
                      port: int | None) -> str:
    """A one-time link that opens the console signed in as `manager` (refused unless GUANJIA_DEMO_MODE)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.models import Staff
    from backend.services.invites import create_invite
    from backend.settings import Settings

    assert isinstance(session, Session) and isinstance(settings, Settings)
    manager = session.scalar(select(Staff).where(Staff.community_id == community_id, Staff.login == "manager"))
    if manager is None:
        return ""
    code = create_invite(session, manager, SystemClock(), settings, purpose="signin")
    return f"http://{host or settings.host}:{port or settings.port}/console/enter?code={code}"


def serve(host: str | None = HOST_OPTION, port: int | None = PORT_OPTION) -> None:
    """Run the web app (webhooks, web chat, REST API, console) with uvicorn; GET /healthz answers 503 until
    the language model is loaded and the app warmed up, then 200."""
    _serve(host, port)


def _serve(host: str | None, port: int | None, nlu: object | None = None) -> None:
    """uvicorn on the app factory, or on an app made here around an NLU already loaded (demo)."""
    import uvicorn

    settings = load_settings()
    if importlib.util.find_spec(APP_FACTORY.split(":")[0]) is None:
        raise fail(f"{APP_FACTORY} is not available in this build")
    where = {"host": host or settings.host, "port": port or settings.port}
    if nlu is None:
        uvicorn.run(APP_FACTORY, factory=True, **where)
        return
    from bot.app import create_app

    uvicorn.run(create_app(settings, nlu=nlu), **where)


def _stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C (SIGINT) or SIGTERM lets the current round finish, then the loop ends."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def worker(once: bool = typer.Option(False, "--once", help="One sweep and one delivery round, then exit.")) -> None:
    """Sweep ticket deadlines (remind, escalate, auto-close) and deliver the outbox to every channel; Ctrl-C stops."""
    from bot.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    background = Worker(make_session_factory(engine), SystemClock(), settings)
    try:
        if once:
            steps, sent = background.run_once()
            typer.echo(f"swept: {steps} ticket(s) advanced; delivered: {sent} notification(s)")
            typer.echo(f"notices: {background.broadcast_once()} delivery row(s) sent")
            return
        _stop_on_signals(background.stop)
        typer.echo(f"worker sweeping every {settings.sweep_interval_seconds:g} s and delivering the outbox; "
                   "Ctrl-C stops it")
        background.run_forever()
        typer.echo("worker stopped")
    finally:
        engine.dispose()
