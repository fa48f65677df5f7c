"""`guanjia demo | serve | worker`: running the assistant."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import threading

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
    """Migrate the database, create or refresh the demo community 和谐家园, and serve it in demo mode."""
    from backend.services.demo import seed_demo

    os.environ["GUANJIA_DEMO_MODE"] = "true"
    settings = load_settings()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        community = seed_demo(session, settings, SystemClock())
        typer.echo(f"demo community {community.name} ({community.code}) ready in {settings.database_url}")
    engine.dispose()
    base = f"http://{host or settings.host}:{port or settings.port}"
    typer.echo(f"web chat:  {base}/chat")
    typer.echo(f"API docs:  {base}/docs")
    if serve_after:
        serve(host, port)


def serve(host: str | None = HOST_OPTION, port: int | None = PORT_OPTION) -> None:
    """Run the web app (webhooks, web chat, REST API, console) with uvicorn."""
    import uvicorn

    settings = load_settings()
    if importlib.util.find_spec(APP_FACTORY.split(":")[0]) is None:
        raise fail(f"{APP_FACTORY} is not available in this build")
    uvicorn.run(APP_FACTORY, factory=True, host=host or settings.host, port=port or settings.port)


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
            return
        _stop_on_signals(background.stop)
        typer.echo(f"worker sweeping every {settings.sweep_interval_seconds:g} s and delivering the outbox; "
                   "Ctrl-C stops it")
        background.run_forever()
        typer.echo("worker stopped")
    finally:
        engine.dispose()
