"""`guanjia wechat`: push the official account's menu, print a community's QR code, register WeCom groups
(department work groups, and residents' customer groups as owners' groups)."""

from __future__ import annotations

import httpx
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
from bot.wecom import customer_groups

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



OWNER_OPTION = typer.Option(None, "--owner", help="Only groups owned by this WeCom userid (repeatable).")
CHAT_OPTION = typer.Option(None, "--chat", help="Only this customer group chat id (repeatable).")


@app.command("wecom-owner-groups")
def wecom_owner_groups(
    community: str | None = COMMUNITY_OPTION,
    owner: list[str] | None = OWNER_OPTION,
    chat: list[str] | None = CHAT_OPTION,
    name: str = typer.Option("", "--name", help="Only groups whose name contains this text (e.g. the estate's name)."),
    do_register: bool = typer.Option(False, "--register", help="Register the groups listed as the community's "
                                                                "owners' groups (refreshes names and owners)."),
) -> None:
    """List residents' WeCom customer groups (客户群) from WeCom, and register them as COMMUNITY's owners' groups.

    Notices to 业主群 then reach them as group-send tasks their owner (群主) confirms in WeCom."""
    settings = load_settings()
    with unit_of_work(settings) as session:  # the community first: a typo is told before WeCom is asked
        place = community_by_code(session, community, settings)
        place_id, place_code = place.id, place.code
    engine = make_engine(settings.database_url)
    clock = SystemClock()
    try:
        api = customer_groups.make_contact_api(settings, make_session_factory(engine), clock)
        if api is None:
            raise fail("set GUANJIA_WECOM_CORP_ID and GUANJIA_WECOM_CONTACT_SECRET (or GUANJIA_WECOM_SECRET) first")
        try:
            groups = customer_groups.fetch(api, owner or (), chat or (), name)
        except ApiError as err:
            raise fail(f"企业微信拒绝 / WeCom refused: {err}") from err
        except (customer_groups.BadAnswer, ValueError) as exc:
            raise fail(f"企业微信的应答无法识别 / WeCom's answer was not understood: {exc}") from exc
        except httpx.HTTPError as exc:
            raise fail(f"连不上企业微信 / WeCom unreachable: {type(exc).__name__}") from exc
    finally:
        engine.dispose()
    with unit_of_work(settings) as session:
        known = customer_groups.registered(session, place_id)
        result = customer_groups.register(session, place_id, groups, clock.now()) if do_register else None
    for group in groups:
        state = "已登记" if group.chat_id in known else "未登记"
        if result is not None and group in result.added:
            state = "新登记 / registered"
        if result is not None and group in result.elsewhere:
            state = "已登记在其他小区，未改动 / registered to another community"
        warning = "  ⚠ 群主已离职待继承，群发会失败 / owner left" if group.owner_left else ""
        typer.echo(f"{group.chat_id}\t{group.name or '-'}\t群主 {group.owner}\t{state}{warning}")
    typer.echo(f"{len(groups)} 个客户群 / customer groups ({place_code})"
               + ("" if do_register else "；加 --register 登记为业主群 / add --register to register them"))
