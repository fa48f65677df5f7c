"""`guanjia staff`: invite codes (chat binding, console password link), console passwords, REST API tokens."""

from __future__ import annotations

import typer

from backend.clock import SystemClock
from backend.services.api_tokens import issue_token
from backend.services.console_auth import set_password
from backend.services.invites import create_invite, password_url
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, staff_by_login, unit_of_work

app = typer.Typer(help="Staff accounts: chat invites and API tokens.", no_args_is_help=True)


@app.command()
def invite(login: str, community: str | None = COMMUNITY_OPTION) -> None:
    """Print a one-time code the staff member sends to the bot as /bind CODE."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        member = staff_by_login(session, community_by_code(session, community, settings), login)
        code = create_invite(session, member, SystemClock(), settings)
        link = password_url(settings, create_invite(session, member, SystemClock(), settings, purpose="password"))
        name = member.name
    typer.echo(f"邀请码 / invite code for {name} ({login}): {code}")
    typer.echo(f"请在聊天中向管家发送 / send this to the bot in chat:  /bind {code}")
    typer.echo(f"办公台设置密码链接 / console set-password link:  {link}")
    typer.echo(
        f"{settings.invite_code_ttl_hours} 小时内有效，仅可使用一次 / valid {settings.invite_code_ttl_hours} h, once"
    )


@app.command()
def password(login: str, community: str | None = COMMUNITY_OPTION) -> None:
    """Set the staff member's console password, read from standard input (one line; e.g. piped)."""
    import sys

    from backend.errors import DomainError

    if sys.stdin.isatty():
        import getpass

        value = getpass.getpass("新密码 / new password: ")
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    settings = load_settings()
    with unit_of_work(settings) as session:
        member = staff_by_login(session, community_by_code(session, community, settings), login)
        try:
            set_password(session, SystemClock(), member, value)
        except DomainError as exc:
            raise fail(f"{exc.text('zh')} / {exc.text('en')}") from None
        name = member.name
    typer.echo(f"已设置 {name}（{login}）的办公台密码 / console password set for {name} ({login})")


@app.command()
def token(
    login: str,
    community: str | None = COMMUNITY_OPTION,
    label: str = typer.Option("", help="What the token is for, e.g. 'console laptop'."),
) -> None:
    """Print a new REST API token for the staff member (shown only this once)."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        member = staff_by_login(session, community_by_code(session, community, settings), login)
        value = issue_token(session, member, SystemClock(), label=label)
    typer.echo(value)
    typer.echo("仅显示这一次，请妥善保存 / shown only once: use it as 'Authorization: Bearer <token>'", err=True)
