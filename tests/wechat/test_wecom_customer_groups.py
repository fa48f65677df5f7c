"""Residents' WeCom customer groups (客户群) as owners' groups: registered from WeCom, sent to as group-send
tasks each owner confirms, followed up until confirmed or failed, and shown so in the notice report.

Everything WeCom does happens at the fake platform (tests/wechat/fake_wecom_contact.py) over HTTP; the
owner tapping "send" in the WeCom client is `fake_api.contact.confirm(msgid, when)`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import ChannelQuota, GroupChat, GroupSendTask, Notice, NoticeDelivery
from backend.services import notices
from bot.delivery import broadcast_senders
from bot.delivery.broadcast import BroadcastEngine
from bot.wecom import group_send
from bot.wecom.group_send_poll import GroupSendPoller
from tests.bot import broadcast_setup as bs

ADD = "/cgi-bin/externalcontact/add_msg_template"
TASK = "/cgi-bin/externalcontact/get_groupmsg_task"
RESULT = "/cgi-bin/externalcontact/get_groupmsg_send_result"
CANCEL = "/cgi-bin/externalcontact/cancel_groupmsg_send"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def groups(session_factory, clock, fake_api):
    """A community with three registered customer groups: wang owns two, li one; and WeCom knows them."""
    now = clock.now()
    with transaction(session_factory) as s:
        place = bs.community(s, now)
        for chat, name, owner in (("wrG1", "阳光花园1号楼业主群", "wang"), ("wrG2", "阳光花园2号楼业主群", "wang"),
                                  ("wrG3", "阳光花园3号楼业主群", "li")):
            s.add(GroupChat(community_id=place.id, channel="wecom_customer", chat_id=chat, purpose="owners",
                            title=name, owner_id=owner, created_at=now))
            fake_api.contact.add_group(chat, name, owner)
        return place.id


def _notice(session_factory, clock, community_id: int, **kwargs) -> int:
    with transaction(session_factory) as s:
        note = Notice(community_id=community_id, kind="notice", category=kwargs.pop("category", "outage"),
                      title=kwargs.pop("title", "停水通知"), body=kwargs.pop("body", "明天 9:00-12:00 停水，请提前储水。"),
                      audience={"groups": True}, status="scheduled", scheduled_at=clock.now(), created_at=clock.now(),
                      **kwargs)
        s.add(note)
        s.flush()
        return note.id


def _send(session_factory, clock, settings):
    senders = {"wecom_customer": group_send.factory(settings, session_factory, clock)}
    return BroadcastEngine(session_factory, clock, settings, senders, worker_id="test").run_until_idle(timeout=30)


def _rows(session_factory, notice_id: int) -> dict[str, NoticeDelivery]:
    with session_factory() as s:
        return {r.chat_id: r for r in s.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))}


def _poll(session_factory, clock, settings) -> int:
    clock.advance(seconds=settings.wecom_group_send_poll_seconds + 1)
    return GroupSendPoller(settings, session_factory, clock).poll_once()


def test_the_worker_builds_the_sender_when_wecom_is_configured(wx_settings, session_factory, clock):
    built = broadcast_senders.build(wx_settings, session_factory, clock)
    assert isinstance(built["wecom_customer"], group_send.GroupSendBroadcast)
    wx_settings.wecom_corp_id = ""
    assert "wecom_customer" not in broadcast_senders.build(wx_settings, session_factory, clock)


def test_a_notice_to_the_owners_groups_makes_one_task_per_owner(wx_settings, session_factory, clock, fake_api,
                                                                groups):
    image = wx_settings.media_dir / "notices" / "map.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(PNG)
    note = _notice(session_factory, clock, groups, image_path="notices/map.png")
    stats = _send(session_factory, clock, wx_settings)
    assert stats.sent == 3
    tasks = {t.sender: t for t in fake_api.contact.tasks.values()}
    assert sorted(tasks) == ["li", "wang"]  # one task per owner, each with that owner's groups
    assert sorted(tasks["wang"].chat_ids) == ["wrG1", "wrG2"] and tasks["li"].chat_ids == ["wrG3"]
    calls = fake_api.to(ADD)
    assert len(calls) == 2 and all(c.body["chat_type"] == "group" and c.body["allow_select"] is False for c in calls)
    assert "【停水停电/设施维护】停水通知" in tasks["wang"].text and "储水" in tasks["wang"].text
    assert "收到" not in tasks["wang"].text  # no buttons in a group
    # The image went up once (one media_id for both tasks) and rides on each as an attachment.
    assert len(fake_api.to("/cgi-bin/media/upload")) == 1
    [(media_id, (_, uploaded))] = fake_api.contact.media.items()
    assert uploaded == PNG
    assert all(t.attachments == [{"msgtype": "image", "image": {"media_id": media_id}}] for t in tasks.values())
    rows = _rows(session_factory, note)
    assert {r.status for r in rows.values()} == {"sent"} and {r.via for r in rows.values()} == {"owner_confirm"}
    assert rows["wrG1"].external_id == rows["wrG2"].external_id == tasks["wang"].msgid
    assert rows["wrG3"].external_id == tasks["li"].msgid
    with session_factory() as s:
        notice = s.get(Notice, note)
        assert notice.status == "sent"
        report = notices.report(s, notice)
    assert report.awaiting_owner == 3 and report.sent_by_channel == {}
    assert {g.name: g.state for g in report.groups} == {
        "阳光花园1号楼业主群": "待群主确认", "阳光花园2号楼业主群": "待群主确认", "阳光花园3号楼业主群": "待群主确认"}
    # Running the engine again makes no second task.
    assert _send(session_factory, clock, wx_settings).sent == 0 and len(fake_api.to(ADD)) == 2


def test_polling_records_confirmed_not_a_friend_and_unconfirmed(wx_settings, session_factory, clock, fake_api,
                                                               groups):
    note = _notice(session_factory, clock, groups, expires_at=clock.now() + timedelta(days=10))
    _send(session_factory, clock, wx_settings)
    wang = fake_api.contact.tasks_of("wang")[0]
    assert _poll(session_factory, clock, wx_settings) == 0  # nobody confirmed yet: nothing changes
    assert {r.via for r in _rows(session_factory, note).values()} == {"owner_confirm"}
    fake_api.contact.not_friend.add("wrG2")  # wang no longer has group 2
    confirmed_at = clock.advance(minutes=7).replace(microsecond=0)
    fake_api.contact.confirm(wang.msgid, confirmed_at)
    assert _poll(session_factory, clock, wx_settings) == 2
    rows = _rows(session_factory, note)
    assert (rows["wrG1"].status, rows["wrG1"].via, rows["wrG1"].sent_at) == ("sent", "owner_confirmed", confirmed_at)
    assert rows["wrG2"].status == "unreachable" and "不是好友" in rows["wrG2"].error
    assert (rows["wrG3"].status, rows["wrG3"].via) == ("sent", "owner_confirm")  # li has not confirmed
    assert fake_api.to(RESULT)[-1].body["userid"] == "wang"
    # li never confirms: after the wait the task is stopped at WeCom and the row fails with why.
    clock.advance(hours=wx_settings.wecom_group_send_wait_hours)
    assert _poll(session_factory, clock, wx_settings) == 1
    rows = _rows(session_factory, note)
    assert rows["wrG3"].status == "failed" and "72 小时内未确认" in rows["wrG3"].error
    assert [c.body["msgid"] for c in fake_api.to(CANCEL)] == [fake_api.contact.tasks_of("li")[0].msgid]
    assert fake_api.contact.tasks_of("li")[0].cancelled
    with session_factory() as s:
        assert sorted(s.scalars(select(GroupSendTask.status))) == ["done", "expired"]
        report = notices.report(s, s.get(Notice, note))
    states = {g.name: (g.state, g.error) for g in report.groups}
    assert states["阳光花园1号楼业主群"] == ("群主已确认发送", "")
    assert states["阳光花园2号楼业主群"][0] == "无法送达" and report.awaiting_owner == 0
    assert report.sent_by_channel == {"wecom_customer": 1}
    calls = len(fake_api.calls)
    assert _poll(session_factory, clock, wx_settings) == 0 and len(fake_api.calls) == calls  # done: no more polls


def test_a_notice_that_expires_before_the_owner_confirms_is_stopped(wx_settings, session_factory, clock, fake_api,
                                                                    groups):
    note = _notice(session_factory, clock, groups, expires_at=clock.now() + timedelta(hours=2))
    _send(session_factory, clock, wx_settings)
    clock.advance(hours=3)
    assert _poll(session_factory, clock, wx_settings) == 3
    assert {(r.status, r.error) for r in _rows(session_factory, note).values()} == {
        ("failed", "通知已过期，群主仍未确认发送，群发任务已停止")}
    assert len(fake_api.to(CANCEL)) == 2


def test_a_second_group_send_the_same_day_is_refused_with_the_reason(wx_settings, session_factory, clock, fake_api,
                                                                    groups):
    clock.set(clock.now().replace(hour=3))  # 11:00 in Shanghai
    first = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    clock.advance(hours=8)  # 19:00 in Shanghai: the same local day
    second = _notice(session_factory, clock, groups, title="停电通知")
    stats = _send(session_factory, clock, wx_settings)
    assert stats.failed == 3 and len(fake_api.contact.tasks) == 2  # no task for the second notice
    rows = _rows(session_factory, second)
    assert {r.status for r in rows.values()} == {"failed"}
    assert all("今天已有一条企业群发" in r.error for r in rows.values())
    with session_factory() as s:
        report = notices.report(s, s.get(Notice, second))
    assert all(g.state == "发送失败" and "每个客户群每天 1 条" in g.error for g in report.groups)
    assert {r.status for r in _rows(session_factory, first).values()} == {"sent"}
    # Past local midnight (16:00 UTC) the groups may have one again.
    clock.advance(hours=5)
    third = _notice(session_factory, clock, groups, title="恢复供电")
    assert _send(session_factory, clock, wx_settings).sent == 3 and len(fake_api.contact.tasks) == 4
    assert {r.via for r in _rows(session_factory, third).values()} == {"owner_confirm"}


def test_a_group_that_had_another_send_today_at_wecom_fails_with_that_reason(wx_settings, session_factory, clock,
                                                                            fake_api, groups):
    note = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    day = (clock.now() + timedelta(hours=8)).strftime("%Y-%m-%d")
    fake_api.contact.received["wrG3"] = {day}  # li had sent the group something himself today
    fake_api.contact.confirm(fake_api.contact.tasks_of("li")[0].msgid, clock.now())
    assert _poll(session_factory, clock, wx_settings) == 1
    row = _rows(session_factory, note)["wrG3"]
    assert row.status == "failed" and "已收到其他群发" in row.error


def test_the_owner_who_left_and_refusals_are_clean_outcomes(wx_settings, session_factory, clock, fake_api, groups):
    fake_api.contact.departed.add("li")
    note = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    rows = _rows(session_factory, note)
    assert rows["wrG3"].status == "unreachable" and "群主 li 已不在企业微信" in rows["wrG3"].error
    assert rows["wrG1"].status == "sent"
    # An errcode WeCom gives for a bad task: the owner's groups fail with it, and keep their day.
    clock.advance(days=1)
    fake_api.errors[ADD] = 45002
    refused = _notice(session_factory, clock, groups, title="又一条")
    _send(session_factory, clock, wx_settings)
    rows = _rows(session_factory, refused)
    assert rows["wrG1"].status == rows["wrG2"].status == "failed"
    assert "errcode 45002" in rows["wrG1"].error and rows["wrG1"].error == rows["wrG2"].error
    assert [c.body["sender"] for c in fake_api.to(ADD)].count("wang") == 2  # one call for both groups, not one each
    del fake_api.errors[ADD]
    again = _notice(session_factory, clock, groups, title="重发")
    _send(session_factory, clock, wx_settings)  # the refused send did not use up the groups' day
    assert _rows(session_factory, again)["wrG1"].via == "owner_confirm"


@pytest.mark.parametrize("answer, says", [
    ({"raw": b"<html>502 Bad Gateway</html>"}, "malformed"),
    ({"forged": {"errcode": 0, "errmsg": "ok"}}, "no msgid"),
    ({"forged": {"errcode": 0, "errmsg": "ok", "msgid": ["x"]}}, "no msgid"),
    ({"forged": {"errcode": "oops", "msgid": "m1"}}, "malformed"),
])
def test_a_broken_or_forged_task_answer_fails_cleanly(wx_settings, session_factory, clock, fake_api, groups,
                                                      answer, says):
    if "raw" in answer:
        fake_api.raw[ADD] = answer["raw"]
    else:
        fake_api.forged[ADD] = answer["forged"]
    note = _notice(session_factory, clock, groups)
    stats = _send(session_factory, clock, wx_settings)
    assert stats.failed == 3 and stats.sent == 0
    rows = _rows(session_factory, note)
    assert all(r.status == "failed" and says in r.error and "应答无法识别" in r.error for r in rows.values())
    assert len(fake_api.to(ADD)) == 2
    with session_factory() as s:
        assert set(s.scalars(select(GroupSendTask.status))) == {"refused"}
        assert all(q.remaining == 1 for q in s.scalars(select(ChannelQuota)))  # the day was given back


def test_busy_is_retried_and_a_missing_permission_is_said(wx_settings, session_factory, clock, fake_api, groups):
    fake_api.fail_once[ADD] = -1  # system busy
    note = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    rows = _rows(session_factory, note)
    retried = [r for r in rows.values() if r.status == "queued"]
    assert retried and all(r.attempts == 1 and "-1" in r.error for r in retried)
    clock.advance(minutes=1)
    _send(session_factory, clock, wx_settings)
    assert {r.via for r in _rows(session_factory, note).values()} == {"owner_confirm"}
    assert len(fake_api.contact.tasks) == 2
    # A secret without customer-contact rights: WeCom answers 48002, the report says what to set.
    fake_api.contact_secret = "contact-secret"
    clock.advance(days=1)
    refused = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    assert all("GUANJIA_WECOM_CONTACT_SECRET" in r.error for r in _rows(session_factory, refused).values())
    wx_settings.wecom_contact_secret = "contact-secret"
    clock.advance(days=1)
    allowed = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    assert {r.via for r in _rows(session_factory, allowed).values()} == {"owner_confirm"}
    assert fake_api.to("/cgi-bin/gettoken")[-1].query["corpsecret"] == "contact-secret"


def test_broken_or_forged_poll_answers_change_nothing_until_the_task_gives_up(wx_settings, session_factory, clock,
                                                                              fake_api, groups):
    note = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    wang = fake_api.contact.tasks_of("wang")[0]
    fake_api.contact.confirm(wang.msgid, clock.now())
    fake_api.raw[TASK] = b"{not json"
    assert _poll(session_factory, clock, wx_settings) == 0
    with session_factory() as s:
        task = s.scalar(select(GroupSendTask).where(GroupSendTask.owner_id == "wang"))
        assert task.status == "waiting" and "查询群发结果失败" in task.error
    del fake_api.raw[TASK]
    # A forged result: a group that is not in the task, statuses of the wrong type.
    fake_api.forged[RESULT] = {"errcode": 0, "next_cursor": "", "send_list": [
        {"chat_id": "wrSOMEONE_ELSE", "status": 1}, {"chat_id": "wrG1", "status": "1"}, "junk",
        {"chat_id": "wrG2", "status": 1, "send_time": "soon"}]}
    assert _poll(session_factory, clock, wx_settings) == 1
    rows = _rows(session_factory, note)
    assert rows["wrG2"].via == "owner_confirmed" and rows["wrG1"].via == "owner_confirm"
    assert "wrSOMEONE_ELSE" not in rows
    fake_api.forged[RESULT] = {"errcode": 40058, "errmsg": "invalid"}
    clock.advance(hours=wx_settings.wecom_group_send_wait_hours)
    assert _poll(session_factory, clock, wx_settings) == 2  # wrG1 gives up; li's group too
    rows = _rows(session_factory, note)
    assert rows["wrG1"].status == "failed" and "群主已确认，但企业微信没有发到此群" in rows["wrG1"].error
    assert "40058" in rows["wrG1"].error
    assert rows["wrG3"].status == "failed" and "未确认" in rows["wrG3"].error


def test_a_row_recorded_after_its_task_finished_gets_the_result(wx_settings, session_factory, clock, fake_api,
                                                                groups):
    note = _notice(session_factory, clock, groups)
    _send(session_factory, clock, wx_settings)
    fake_api.contact.confirm(fake_api.contact.tasks_of("li")[0].msgid, clock.now())
    with transaction(session_factory) as s:  # as if the engine's journal wrote this row a moment too late
        row = s.scalar(select(NoticeDelivery).where(NoticeDelivery.chat_id == "wrG3"))
        row.status = "sending"
    assert _poll(session_factory, clock, wx_settings) == 0
    with transaction(session_factory) as s:
        row = s.scalar(select(NoticeDelivery).where(NoticeDelivery.chat_id == "wrG3"))
        row.status = "sent"
    assert GroupSendPoller(wx_settings, session_factory, clock).poll_once() == 1
    assert _rows(session_factory, note)["wrG3"].via == "owner_confirmed"


def test_customer_groups_are_listed_and_registered_from_wecom(wx_settings, session_factory, demo, fake_api,
                                                              monkeypatch):
    from typer.testing import CliRunner

    from backend.settings import get_settings
    from bot.cli.main import app

    contact = fake_api.contact
    contact.page_size = 2  # the list comes in pages: the cursor is followed
    contact.add_group("wrA1", "阳光花园1号楼业主群", "wang")
    contact.add_group("wrA2", "阳光花园2号楼业主群", "wang")
    contact.add_group("wrA3", "阳光花园3号楼业主群", "li")
    contact.add_group("wrB1", "别的小区业主群", "zhao")
    contact.add_group("wrA4", "阳光花园4号楼业主群", "chen", status=1)  # chen left; the group awaits a new owner
    fake_api.contact_secret = "contact-secret"
    for name in ("database_url", "wecom_corp_id", "wecom_secret", "wecom_api_url"):
        monkeypatch.setenv(f"GUANJIA_{name.upper()}", str(getattr(wx_settings, name)))
    monkeypatch.setenv("GUANJIA_WECOM_CONTACT_SECRET", "contact-secret")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, ["wechat", "wecom-owner-groups", "--community", demo.code, *args])
        assert result.exit_code == 0, result.output
        return result.output

    def registered() -> dict[str, tuple[str, str, str]]:
        with session_factory() as s:
            return {g.chat_id: (g.title, g.owner_id, g.purpose) for g in s.scalars(
                select(GroupChat).where(GroupChat.channel == "wecom_customer"))}

    try:
        listed = run("--name", "阳光花园")
        assert "wrA1" in listed and "wrA4" in listed and "wrB1" not in listed and "未登记" in listed
        assert "群主已离职" in listed.split("wrA4")[1].splitlines()[0]
        assert registered() == {}  # listing writes nothing
        assert len(fake_api.to("/cgi-bin/externalcontact/groupchat/list")) == 3  # 5 groups, pages of 2
        run("--name", "阳光花园", "--owner", "wang", "--register")
        assert [c.body["owner_filter"] for c in fake_api.to("/cgi-bin/externalcontact/groupchat/list")[-1:]] == [
            {"userid_list": ["wang"]}]
        assert registered() == {"wrA1": ("阳光花园1号楼业主群", "wang", "owners"),
                                "wrA2": ("阳光花园2号楼业主群", "wang", "owners")}
        # li's group is given to wang (在职继承) and renamed: registering again records the new owner.
        contact.groups["wrA3"].owner, contact.groups["wrA1"].name = "wang", "阳光花园一号楼业主群"
        output = run("--chat", "wrA1", "--chat", "wrA3", "--register")
        assert "新登记" in output.split("wrA3")[1].splitlines()[0]
        assert registered()["wrA1"] == ("阳光花园一号楼业主群", "wang", "owners")
        assert registered()["wrA3"] == ("阳光花园3号楼业主群", "wang", "owners")
        assert {c.query["corpsecret"] for c in fake_api.to("/cgi-bin/gettoken")} == {"contact-secret"}
        # WeCom refusing, or answering nonsense, is said plainly.
        fake_api.errors["/cgi-bin/externalcontact/groupchat/list"] = 48002
        result = runner.invoke(app, ["wechat", "wecom-owner-groups", "--community", demo.code])
        assert result.exit_code == 1 and "48002" in result.output
        del fake_api.errors["/cgi-bin/externalcontact/groupchat/list"]
        fake_api.forged["/cgi-bin/externalcontact/groupchat/list"] = {"errcode": 0, "group_chat_list": "x"}
        result = runner.invoke(app, ["wechat", "wecom-owner-groups", "--community", demo.code])
        assert result.exit_code == 1 and "无法识别" in result.output
        result = runner.invoke(app, ["wechat", "wecom-owner-groups", "--community", "nowhere"])
        assert result.exit_code == 1 and "nowhere" in result.output
    finally:
        get_settings.cache_clear()


def test_the_report_shows_each_group_awaiting_confirmed_or_failed(wx_settings, session_factory, clock, fake_api,
                                                                  demo, client, monkeypatch):
    from typer.testing import CliRunner

    from backend.settings import get_settings
    from bot.cli.main import app

    now = clock.now()
    with transaction(session_factory) as s:
        for chat, name, owner in (("wrD1", "一期业主群", "wang"), ("wrD2", "二期业主群", "li"),
                                  ("wrD3", "三期业主群", "wang")):
            s.add(GroupChat(community_id=demo.id, channel="wecom_customer", chat_id=chat, purpose="owners",
                            title=name, owner_id=owner, created_at=now))
            fake_api.contact.add_group(chat, name, owner)
    fake_api.contact.not_friend.add("wrD3")
    note = _notice(session_factory, clock, demo.id)
    _send(session_factory, clock, wx_settings)
    fake_api.contact.confirm(fake_api.contact.tasks_of("wang")[0].msgid, clock.now())
    assert _poll(session_factory, clock, wx_settings) == 2
    report = client.get(f"/api/notices/{note}/deliveries", params={"community": demo.code},
                        headers={"Authorization": "Bearer test-admin-token"})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["summary"]["awaiting_owner_confirm"] == 1
    assert body["summary"]["sent_by_channel"] == {"wecom_customer": 1}
    states = {g["name"]: (g["state"], g["error"]) for g in body["groups"]}
    assert states["一期业主群"] == ("群主已确认发送", "") and states["二期业主群"] == ("待群主确认", "")
    assert states["三期业主群"][0] == "无法送达" and "不是好友" in states["三期业主群"][1]
    csv_text = client.get(f"/api/notices/{note}/deliveries.csv", params={"community": demo.code},
                          headers={"Authorization": "Bearer test-admin-token"}).content.decode("utf-8-sig")
    assert "待群主确认" in csv_text and "群主已确认发送" in csv_text
    monkeypatch.setenv("GUANJIA_DATABASE_URL", wx_settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["notice", "report", str(note), "--community", demo.code])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "待群主确认 / awaiting the group owner: 1" in result.output
    assert "群 一期业主群 wecom_customer: 群主已确认发送" in result.output
    assert "群 三期业主群 wecom_customer: 无法送达：发送失败" in result.output


def test_a_long_notice_is_cut_to_wecoms_4000_bytes_with_a_note(wx_settings, session_factory, clock, fake_api, groups):
    body = "\n".join(f"第{i}段：小区二期地下车库将进行防水维修，请车主提前挪车。" for i in range(150))
    assert len(body.encode()) > 4000
    _notice(session_factory, clock, groups, body=body)
    assert _send(session_factory, clock, wx_settings).sent == 3
    text = fake_api.contact.tasks_of("wang")[0].text
    assert len(text.encode()) <= 4000 and text.endswith("查看全文）") and "第0段" in text
    assert text.splitlines()[-2].endswith("请车主提前挪车。")  # cut at a line end, not mid-sentence


def test_a_task_left_creating_by_a_dead_worker_is_taken_over_and_a_live_one_waited_for(
        wx_settings, session_factory, clock, fake_api, groups):
    note = _notice(session_factory, clock, groups)
    now = clock.now()
    with transaction(session_factory) as s:
        s.add(GroupSendTask(notice_id=note, channel="wecom_customer", owner_id="wang", part=0, status="creating",
                            chat_ids=["wrG1", "wrG2"], results={}, claimed_until=now - timedelta(seconds=1),
                            created_at=now - timedelta(minutes=2)))
        s.add(GroupSendTask(notice_id=note, channel="wecom_customer", owner_id="li", part=0, status="creating",
                            chat_ids=["wrG3"], results={}, claimed_until=now + timedelta(seconds=30), created_at=now))
    stats = _send(session_factory, clock, wx_settings)
    assert stats.sent == 2 and stats.deferred == 1
    [call] = fake_api.to(ADD)  # wang's task, taken over: one call for both groups; li's is someone else's
    assert call.body["sender"] == "wang" and sorted(call.body["chat_id_list"]) == ["wrG1", "wrG2"]
    rows = _rows(session_factory, note)
    assert rows["wrG1"].via == rows["wrG2"].via == "owner_confirm"
    assert rows["wrG3"].status == "queued" and "正在创建" in rows["wrG3"].error


def test_the_customer_contact_secret_never_reaches_a_log_line(wx_settings):
    from bot import log_safety

    wx_settings.wecom_contact_secret = "contact-secret-0123"
    log_safety.install(wx_settings)
    assert "contact-secret-0123" not in log_safety.scrub("gettoken failed for contact-secret-0123")
