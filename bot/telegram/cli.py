"""`guanjia telegram`: long polling, webhook registration, community deep links and QR codes, channel registration."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import typer

from backend.clock import SystemClock
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, unit_of_work
from bot.telegram import limits

app = typer.Typer(help="Telegram bot: long polling (no subcommand), webhook, deep links.",
                  invoke_without_command=True)
_SECRET = re.compile(r"^[A-Za-z0-9_-]+$")


@app.callback()
def telegram(ctx: typer.Context,
             worker: bool = typer.Option(True, "--worker/--no-worker",
                                         help="Also deliver the outbox and sweep deadlines in this process.")) -> None:
    """Run the bot with long polling (getUpdates) until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    from backend.db import make_engine, make_session_factory
    from bot.telegram.application import ALLOWED_UPDATES, build_application
    from handlers.conversation import Conversation
    from nlu import load_nlu

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _configured()
    engine = make_engine(settings.database_url)
    factory, clock = make_session_factory(engine), SystemClock()
    nlu = load_nlu(settings.nlu, cache_dir=settings.nlu_cache_dir, timeout=settings.nlu_timeout_seconds)
    application = build_application(settings, Conversation(factory, nlu, clock, settings))
    background = None
    if worker:
        from bot.worker import Worker

        background = Worker(factory, clock, settings)
        background.start_thread()
    typer.echo("telegram: long polling; Ctrl-C stops")
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    finally:
        if background is not None:
            background.shutdown()
        engine.dispose()


@app.command("set-webhook")
def set_webhook(url: str, drop_pending: bool = typer.Option(False, help="Forget updates waiting at Telegram.")) -> None:
    """Tell Telegram to POST updates to URL (https://.../telegram/webhook) with the secret header."""
    settings = _configured()
    secret = settings.telegram_webhook_secret
    if not secret or len(secret) > limits.WEBHOOK_SECRET_MAX_LENGTH or not _SECRET.match(secret):
        raise fail("GUANJIA_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
    if not url.startswith("https://"):
        raise fail("Telegram only calls https:// webhooks")
    asyncio.run(_call(settings, "set_webhook", url=url, secret_token=secret, drop_pending_updates=drop_pending,
                      allowed_updates=_allowed()))
    typer.echo(f"webhook set: {url}")


@app.command("delete-webhook")
def delete_webhook() -> None:
    """Stop webhook delivery (needed before long polling on another machine)."""
    asyncio.run(_call(_configured(), "delete_webhook"))
    typer.echo("webhook deleted")


@app.command()
def link(community: str | None = COMMUNITY_OPTION,
         png: Path | None = typer.Option(None, help="Also write the QR code to this PNG file (for posters).")) -> None:
    """Print the community's deep link (t.me/<bot>?start=<code>) and its QR code."""
    import segno

    settings = _configured()
    with unit_of_work(settings) as session:
        code = community_by_code(session, community, settings).code
    me = asyncio.run(_call(settings, "get_me"))
    url = f"https://t.me/{me.username}?start={code}"
    qr = segno.make(url, error="m")
    typer.echo(url)
    qr.terminal(compact=True)
    if png is not None:
        qr.save(str(png), scale=10, border=2)
        typer.echo(f"QR code written to {png}")


@app.command("register-group")
def register_group(chat_id: str,
                   department: str = typer.Option("", help="A work group's department; empty = the owners' group."),
                   community: str | None = COMMUNITY_OPTION) -> None:
    """Register a group or channel by id (channels cannot use /register_group: their posts have no sender)."""
    from bot.telegram import groups

    settings = load_settings()
    dept = groups.department_of(department) if department else None
    if department and dept is None:
        raise fail(f"unknown department {department!r}")
    with unit_of_work(settings) as session:
        target = community_by_code(session, community, settings)
        group = groups.register(session, SystemClock(), target.id, chat_id, "", dept)
        typer.echo(f"registered {chat_id} as {group.purpose} {group.department or ''}".rstrip())


def _configured():  # type: ignore[no-untyped-def]
    settings = load_settings()
    if not settings.telegram_token:
        raise fail("GUANJIA_TELEGRAM_TOKEN is not set")
    return settings


def _allowed() -> list[str]:
    from bot.telegram.application import ALLOWED_UPDATES

    return ALLOWED_UPDATES


async def _call(settings, method: str, **kwargs):  # type: ignore[no-untyped-def]
    from bot.telegram.api import make_bot

    async with make_bot(settings) as bot:
        return await getattr(bot, method)(**kwargs)
