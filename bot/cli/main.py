"""Entry point of the `guanjia` command (see README, "CLI reference")."""

from __future__ import annotations

import typer

from bot import terminal
from bot.cli import db, events, imports, notices, run, staff
from bot.telegram.cli import app as telegram_app
from bot.wechat.cli import app as wechat_app
from nlu.cli import app as nlu_app

app = typer.Typer(
    name="guanjia",
    help="Guanjia (管家): chat assistant for residential property-management offices.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(run.demo)
app.command()(run.serve)
app.command()(run.worker)
app.command()(terminal.chat)
app.add_typer(db.app, name="db")
app.add_typer(imports.app, name="import")
app.add_typer(staff.app, name="staff")
app.add_typer(notices.app, name="notice")
app.add_typer(events.app, name="event")
app.add_typer(nlu_app, name="nlu")
app.add_typer(telegram_app, name="telegram")
app.add_typer(wechat_app, name="wechat")

if __name__ == "__main__":
    app()
