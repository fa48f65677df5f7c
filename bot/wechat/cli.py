"""`guanjia wechat`: push the official account's menu, print a community's QR code, register WeCom groups."""

from __future__ import annotations

import typer
from sqlalchemy import select

from backend.clock import SystemClock
from backend.db import make_engine, make_session_factory
from backend.domain import Department
from backend.models import GroupChat
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, unit_of_work
from bot.wechat import menu
from bot.wechat.api import ApiError
from bot.wechat.sender import make_api

app = typer.Typer(help="WeChat official account and WeCom.", no_args_is_help=True)
SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="


def _api():
    settings = load_settings()
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        raise fail("set GUANJIA_WECHAT_APP_ID and GUANJIA_WECHAT_APP_SECRET first")
    engine = make_engine(settings.database_url)
    return make_api(settings, make_session_factory(engine), SystemClock()), engine


@app.command("push-menu")
def push_menu() -> None:
    """Create the custom menu (报修, 服务: 投诉/访客/缴费, 我的) on the official account."""
    api, engine = _api()
    try:
        menu.push_menu(api)
    except ApiError as err:
        raise fail(f"menu/create refused: {err}") from err
    finally:
        engine.dispose()
    typer.echo("菜单已更新 / menu pushed")


@app.command()
def qr(community: str) -> None:
    """A permanent QR code that follows the account and joins COMMUNITY (scene value = community code)."""
    settings = load_settings()
    with unit_of_work(settings) as session:
        code = community_by_code(session, community, settings).code
    api, engine = _api()
    try:
        result = menu.community_qr(api, code)
    except ApiError as err:
        raise fail(f"qrcode/create refused: {err}") from err
    finally:
        engine.dispose()
    typer.echo(f"{SHOW_QR}{result.get('ticket', '')}")
    typer.echo(f"扫码链接 / scan URL: {result.get('url', '')}")


@app.command("wecom-group")
def wecom_group(department: str, chat_id: str, community: str | None = COMMUNITY_OPTION,
                title: str = typer.Option("", help="A name to show in the console.")) -> None:
    """Record a WeCom group chat (appchat CHAT_ID, made with appchat/create) as DEPARTMENT's work group."""
    if department not in {d.value for d in Department}:
        raise fail(f"unknown department {department!r}; one of: {', '.join(d.value for d in Department)}")
    settings = load_settings()
    with unit_of_work(settings) as session:
        place = community_by_code(session, community, settings)
        group = session.scalar(select(GroupChat).where(GroupChat.channel == "wecom", GroupChat.chat_id == chat_id))
        if group is None:
            group = GroupChat(channel="wecom", chat_id=chat_id[:200], created_at=SystemClock().now())
            session.add(group)
        group.community_id, group.purpose, group.department = place.id, "department", department
        group.title, group.active = title[:200], True
    typer.echo(f"已登记 / registered: {chat_id} -> {department} ({place.code})")

