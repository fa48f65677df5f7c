"""Delivery to residents and staff: quota windows, template fallback, unreachable, the shared token, WeCom limits."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import ChannelToken, GroupChat
from bot.delivery.sender import Target
from bot.wechat.sender import WeChatSender
from bot.wecom.sender import WeComSender
from handlers.messages import Button, Outbound
from tests.wechat.conftest import OPENID


def _open(sender: WeChatSender, session_factory, window: str, openid: str = OPENID) -> None:
    with session_factory() as s:
        sender.open_window(s, openid, window)
        s.commit()


def test_customer_service_window_then_template_then_unreachable(wx_settings, session_factory, clock, fake_api):
    wx_settings.wechat_templates = {"ticket.accepted": {"id": "TPL-ACC", "fields": {
        "thing1": "{text}", "character_string2": "#{ticket_number}"}}}
    sender = WeChatSender(wx_settings, session_factory, clock)
    target = Target("wechat", OPENID, "resident")
    _open(sender, session_factory, "message")
    for _ in range(5):
        assert sender.send(target, Outbound("工单已受理")).status == "sent"
    assert len(fake_api.to("/cgi-bin/message/custom/send")) == 5
    long = Outbound("您的报修工单已由工程部张师傅接单，预计今天下午三点前到达现场处理\n第二行", meta={"kind": "ticket.accepted"})
    assert sender.send(target, long).status == "sent"  # sixth: outside the 5 sends -> template
    [tpl] = fake_api.to("/cgi-bin/message/template/send")
    assert tpl.body["template_id"] == "TPL-ACC"
    value = tpl.body["data"]["thing1"]["value"]
    assert len(value) <= 20 and "\n" not in value and value.endswith("…")
    assert sender.send(target, Outbound("别的通知", meta={"kind": "notice.water"})).status == "unreachable"
    clock.advance(hours=49)
    _open(sender, session_factory, "event")  # a click: 3 within a minute
    assert [sender.send(target, Outbound("x")).status for _ in range(4)][:3] == ["sent"] * 3
    assert len(fake_api.to("/cgi-bin/message/custom/send")) == 8
    clock.advance(minutes=2)
    assert sender.send(target, Outbound("y")).status == "unreachable"


def test_platform_out_of_window_error_falls_back_to_the_template(wx_settings, session_factory, clock, fake_api):
    wx_settings.wechat_templates = {"ticket.accepted": "TPL-SIMPLE"}
    sender = WeChatSender(wx_settings, session_factory, clock)
    _open(sender, session_factory, "message")
    fake_api.fail_once["/cgi-bin/message/custom/send"] = 45015
    result = sender.send(Target("wechat", OPENID, "resident"), Outbound("已接单", meta={"kind": "ticket.accepted"}))
    assert result.status == "sent"
    assert fake_api.to("/cgi-bin/message/template/send")[0].body["data"] == {"thing1": {"value": "已接单"}}


def test_expired_access_token_is_refreshed_once(wx_settings, session_factory, clock, fake_api):
    sender = WeChatSender(wx_settings, session_factory, clock)
    _open(sender, session_factory, "message")
    assert sender.send_text(OPENID, "a").status == "sent"
    assert fake_api.tokens_issued == 1
    fake_api.fail_once["/cgi-bin/message/custom/send"] = 40001  # the platform says the token is invalid
    assert sender.send_text(OPENID, "b").status == "sent"
    assert fake_api.tokens_issued == 2
    calls = fake_api.to("/cgi-bin/message/custom/send")
    assert [c.query["access_token"] for c in calls] == ["tok-1", "tok-1", "tok-2"]
    # another process (a fresh sender) reuses the cached token from the database
    other = WeChatSender(wx_settings, session_factory, clock)
    assert other.send_text(OPENID, "c").status == "sent" and fake_api.tokens_issued == 2
    clock.advance(seconds=7200 - 200)  # within 5 minutes of expiry: refreshed before it expires
    assert other.send_text(OPENID, "d").status == "sent" and fake_api.tokens_issued == 3
    with session_factory() as s:
        assert s.scalar(select(ChannelToken).where(ChannelToken.channel == "wechat")).token == "tok-3"


def test_token_errors_twice_in_a_row_are_not_retried_forever(wx_settings, session_factory, clock, fake_api):
    sender = WeChatSender(wx_settings, session_factory, clock)
    _open(sender, session_factory, "message")
    fake_api.errors["/cgi-bin/message/custom/send"] = 42001
    assert sender.send_text(OPENID, "a").status == "retry"
    assert len(fake_api.to("/cgi-bin/message/custom/send")) == 2 and fake_api.tokens_issued == 2


def test_wecom_card_json_and_the_per_member_limit(wx_settings, session_factory, clock, fake_api):
    sender = WeComSender(wx_settings, session_factory, clock)
    card = Outbound("#12 电梯按钮坏了\n5号楼电梯 · 工程部", [Button("接单", "t:a:12"), Button("查看", "t:v:12")])
    target = Target("wecom", "zhangsan", "staff")
    assert sender.send(target, card, 7).status == "sent"
    [call] = fake_api.to("/cgi-bin/message/send")
    body = call.body
    assert body["touser"] == "zhangsan" and body["agentid"] == 1000002 and body["msgtype"] == "template_card"
    tc = body["template_card"]
    assert tc["card_type"] == "button_interaction" and tc["main_title"]["title"] == "#12 电梯按钮坏了"
    assert [b["key"] for b in tc["button_list"]] == ["t:a:12", "t:v:12"] and tc["task_id"].startswith("gj-7-")
    results = [sender.send(target, Outbound(f"m{i}")).status for i in range(30)]
    assert results[:29] == ["sent"] * 29 and results[29] == "retry"  # 30 a minute, never silently dropped
    assert len(fake_api.to("/cgi-bin/message/send")) == 30
    clock.advance(seconds=61)
    assert sender.send(target, Outbound("next minute")).status == "sent"


def test_wecom_group_target_posts_to_appchat(wx_settings, session_factory, clock, fake_api):
    sender = WeComSender(wx_settings, session_factory, clock)
    result = sender.send(Target("wecom", "chat-eng", "group", group_id=1), Outbound("新工单 #3", [Button("接单", "t:a:3")]))
    assert result.status == "sent"
    [call] = fake_api.to("/cgi-bin/appchat/send")
    assert call.body["chatid"] == "chat-eng" and "新工单 #3" in call.body["text"]["content"]


def test_cli_push_menu_qr_and_wecom_group(wx_settings, session_factory, demo, fake_api, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli.main import app

    for name in ("database_url", "wechat_app_id", "wechat_app_secret", "wechat_api_url", "wecom_corp_id",
                 "wecom_secret", "wecom_api_url"):
        monkeypatch.setenv(f"GUANJIA_{name.upper()}", str(getattr(wx_settings, name)))
    from backend.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["wechat", "push-menu"])
        assert result.exit_code == 0, result.output
        [menu] = fake_api.to("/cgi-bin/menu/create")
        names = [b["name"] for b in menu.body["button"]] + [s["name"] for b in menu.body["button"]
                                                             for s in b.get("sub_button", [])]
        assert {"报修", "投诉", "访客", "缴费", "我的"} <= set(names)
        result = runner.invoke(app, ["wechat", "qr", demo.code])
        assert result.exit_code == 0 and "showqrcode" in result.output, result.output
        assert fake_api.to("/cgi-bin/qrcode/create")[0].body["action_info"]["scene"]["scene_str"] == demo.code
        result = runner.invoke(app, ["wechat", "wecom-group", "engineering", "chat-eng", "--community", demo.code])
        assert result.exit_code == 0, result.output
    finally:
        get_settings.cache_clear()
    with session_factory() as s:
        group = s.scalar(select(GroupChat).where(GroupChat.channel == "wecom"))
        assert group.chat_id == "chat-eng" and group.purpose == "department" and group.department == "engineering"
