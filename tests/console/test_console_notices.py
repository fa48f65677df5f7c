"""Notices and events in the console: compose with a preview, refusals that keep the form, the delivery report
and its downloads, cancelling, events with their sign-ups (real app, both databases)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from backend.models import AuditEntry, ChatIdentity, CommunityEvent, EventSignup, Notice, NoticeDelivery, Resident
from backend.services import notices
from tests.console.conftest import csrf_of, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORM = {"category": "outage", "title": "三号楼停水通知", "body": "12月3日9:00-12:00 三号楼停水检修，请提前储水。",
        "targets": "3栋", "when": "now"}


def _post(client: TestClient, data: dict[str, str], files: dict | None = None):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client.get("/console/notices").text)
    return client.post("/console/notices", data={"csrf": csrf, **data}, files=files, follow_redirects=False)


def _notices(session_factory) -> list[Notice]:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return list(s.query(Notice).order_by(Notice.id))


def test_preview_then_send(console, people, session_factory, clock):
    page = _post(console, {**FORM, "action": "preview"})
    assert page.status_code == 200, page.text
    assert 'id="preview"' in page.text and "住户 1 人" in page.text and "可送达 0 人" in page.text
    assert "未绑定任何聊天账号" in page.text and "无法送达 1 人" in page.text  # 刘女士 never bound a chat account
    assert "3栋" in page.text and 'value="三号楼停水通知"' in page.text and "请提前储水" in page.text  # kept
    assert _notices(session_factory) == []  # a preview stores nothing
    sent = _post(console, {**FORM, "action": "send"})
    assert sent.status_code == 303, sent.text
    [notice] = _notices(session_factory)
    assert sent.headers["location"] == f"/console/notices?sent={notice.id}"
    assert (notice.status, notice.audience, notice.scheduled_at, notice.category, notice.community_id) == (
        "scheduled", {"buildings": ["3"]}, clock.now(), "outage", people.a.community.id)
    assert notice.created_by == people.a.staff["manager"].id and not notice.urgent
    listing = console.get(sent.headers["location"]).text
    assert f'data-id="{notice.id}"' in listing and "三号楼停水通知" in listing and "待发送" in listing
    assert "通知 #" in listing and "已安排发送" in listing
    with session_factory() as s:
        entry = s.query(AuditEntry).filter_by(action="notice.create").one()
        assert entry.target == f"notice:{notice.id}" and entry.detail["residents"] == 1


def test_a_later_time_is_local_and_stored_in_utc(console, session_factory, clock):
    # The clock is 2026-12-01 09:00 UTC = 17:00 in Shanghai; 20:30 local is 12:30 UTC.
    sent = _post(console, {**FORM, "when": "later", "send_at": "2026-12-01T20:30", "expires_at": "2026-12-02T20:00",
                           "urgent": "on", "action": "send"})
    assert sent.status_code == 303, sent.text
    [notice] = _notices(session_factory)
    assert notice.scheduled_at == clock.now().replace(hour=12, minute=30)
    assert notice.expires_at == clock.now().replace(day=2, hour=12) and notice.urgent
    assert "12-01 20:30" in console.get("/console/notices").text  # shown in local time again


@pytest.mark.parametrize("changes, files, words", [
    ({"targets": ""}, None, "请选择通知对象"),
    ({"targets": "欠费住户"}, None, "没有匹配到任何人"),
    ({"targets": "9栋"}, None, "小区里没有9栋"),
    ({"targets": "三东楼"}, None, "看不懂通知对象"),
    ({"when": "later", "send_at": "2026-11-30T08:00"}, None, "已经过去"),
    ({"when": "later", "send_at": ""}, None, "请填写发送时间"),
    ({"when": "later", "send_at": "明天早上"}, None, "无法识别"),
    ({"when": "later", "send_at": "0001-01-01T00:00"}, None, "无法识别"),
    ({"when": "later", "send_at": "2028-01-01T00:00"}, None, "不能超过一年以后"),
    ({"expires_at": "2026-12-01T08:00"}, None, "有效期须晚于发送时间"),
    ({"title": ""}, None, "标题不能为空"),
    ({"body": "长" * 5000}, None, "超过 Telegram 单条消息"),
    ({}, {"image": ("photo.png", b"MZ not an image at all", "image/png")}, "不是图片"),
])
@pytest.mark.parametrize("action", ["send", "preview"])
def test_refusals_keep_the_form(console, session_factory, changes, files, words, action):
    if action == "preview" and ("title" in changes or "body" in changes):
        return  # a preview is about the audience; the title is checked when sending
    page = _post(console, {**FORM, **changes, "action": action}, files=files)
    assert page.status_code in (400, 409, 422), page.status_code
    assert 'id="refusal"' in page.text and words in page.text, page.text[-3000:]
    assert changes.get("body", "请提前储水")[:100] in page.text and f'value="{changes.get("targets", "3栋")}"' in page.text
    assert _notices(session_factory) == []


def test_an_image_chosen_for_the_preview_is_sent(console, session_factory, settings):
    page = _post(console, {**FORM, "action": "preview"}, files={"image": ("停水.png", PNG, "image/png")})
    assert page.status_code == 200 and "已选图片：停水.png" in page.text
    token = page.text.split('name="image_token" value="', 1)[1].split('"', 1)[0]
    assert token
    sent = _post(console, {**FORM, "image_token": token, "image_name": "停水.png", "action": "send"})
    assert sent.status_code == 303, sent.text
    [notice] = _notices(session_factory)
    assert notice.image_path.endswith(".png") and (settings.media_dir / notice.image_path).read_bytes() == PNG
    again = _post(console, {**FORM, "image_token": token, "image_name": "停水.png", "action": "send"})
    assert again.status_code == 422 and "图片已过期" in again.text  # used once


@pytest.fixture
def delivered(people, session_factory, clock, settings) -> int:
    """A sent notice to building 3: 刘女士 reached on Telegram and acknowledged, a neighbour unreachable."""
    a = people.a
    with session_factory() as s, s.begin():
        neighbour = Resident(community_id=a.community.id, household_id=a.household.id, name="=邻居", phone="",
                             created_at=clock.now())
        s.add(neighbour)
        s.flush()
        notice, _ = notices.create(s, clock, a.community.id, notices.Draft(
            title="电梯维保", body="明天上午电梯维保。", category="outage", audience={"buildings": ["3"]}),
            created_by=a.staff["manager"].id, media_dir=settings.media_dir)
        notice.status, notice.recipients, now = "sent", 2, clock.now()
        s.add_all([
            NoticeDelivery(notice_id=notice.id, resident_id=a.resident.id, channel="telegram", chat_id="77",
                           status="sent", next_attempt_at=now, sent_at=now, acked_at=now, via="private"),
            NoticeDelivery(notice_id=notice.id, resident_id=neighbour.id, channel="none",
                           chat_id=f"resident:{neighbour.id}", status="unreachable", next_attempt_at=now,
                           error="未绑定任何聊天账号"),
        ])
        return notice.id


def test_the_delivery_report_and_its_downloads(console, delivered):
    page = console.get(f"/console/notices/{delivered}")
    assert page.status_code == 200
    assert "住户送达 1／2 人" in page.text and "点了「收到」1 人" in page.text and "Telegram 1" in page.text
    not_reached = page.text.split('id="not-reached"', 1)[1].split("</table>", 1)[0]
    assert "=邻居" in not_reached and "未绑定任何聊天账号" in not_reached and "刘女士" not in not_reached
    assert 'id="cancel"' not in page.text  # sent already
    listing = console.get("/console/notices").text
    assert "送达 1／失败 1／待发 0；收到 1" in listing
    csv = console.get(f"/console/notices/{delivered}/record.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert f'filename="notice-{delivered}.csv"' in csv.headers["content-disposition"]
    text = csv.content.decode("utf-8-sig")
    assert text.startswith("对象,姓名") and "刘女士" in text and "'=邻居" in text  # no formula
    xlsx = console.get(f"/console/notices/{delivered}/record.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("对象", "姓名") and {r[1] for r in rows[1:]} == {"刘女士", "'=邻居"}
    assert console.get(f"/console/notices/{delivered}/record.pdf").status_code == 404


def test_what_wechat_residents_get_is_previewed_and_reported(console, people, session_factory, clock, settings):
    a = people.a
    with session_factory() as s, s.begin():
        s.add(ChatIdentity(community_id=a.community.id, channel="wechat", external_id="o-liu",
                           resident_id=a.resident.id, created_at=clock.now()))
    long = {**FORM, "body": "\n".join(f"第{i}项：三号楼{i}层消防通道清理，请住户于周五前移走杂物。" for i in range(1, 45))}
    page = _post(console, {**long, "action": "preview"})
    wechat = page.text.split('id="preview-wechat"', 1)[1].split("</li>", 1)[0]
    assert "分 3 条收到" in wechat and "无法送达（未配置通知的模板消息）" in wechat and "3 numbered messages" in wechat
    settings.wechat_templates = {"notice": "TPL"}
    wechat = _post(console, {**FORM, "action": "preview"}).text.split('id="preview-wechat"', 1)[1]
    assert wechat.split("</li>", 1)[0].startswith(">微信住户：48小时客服窗口内收到 1 条消息；窗口外收到模板消息，点开链接阅读全文")
    assert _post(console, {**long, "action": "send"}).status_code == 303
    [notice] = _notices(session_factory)
    with session_factory() as s, s.begin():
        s.add(NoticeDelivery(notice_id=notice.id, resident_id=a.resident.id, channel="wechat", chat_id="o-liu",
                             status="sent", via="cs_parts", external_id="parts:3/3", next_attempt_at=clock.now(),
                             sent_at=clock.now()))
    report = console.get(f"/console/notices/{notice.id}").text
    assert f'href="http://127.0.0.1:8000/n/{notice.page_token}"' in report
    assert "分段客服消息 1" in report.split('id="wechat-via"', 1)[1].split("</li>", 1)[0]


def test_cancel_a_scheduled_notice(console, session_factory):
    _post(console, {**FORM, "when": "later", "send_at": "2026-12-02T09:00", "action": "send"})
    [notice] = _notices(session_factory)
    page = console.get(f"/console/notices/{notice.id}")
    assert 'id="cancel"' in page.text and "尚未开始发送" in page.text
    done = console.post(f"/console/notices/{notice.id}/cancel", data={"csrf": csrf_of(page.text)},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/console/notices/{notice.id}?cancelled=1"
    shown = console.get(done.headers["location"]).text
    assert "已取消，不会发送" in shown and 'id="cancel"' not in shown
    again = console.post(f"/console/notices/{notice.id}/cancel", data={"csrf": csrf_of(shown)})
    assert again.status_code == 409 and "不能取消" in again.text
    with session_factory() as s:
        assert s.get(Notice, notice.id).status == "cancelled"
        assert s.query(AuditEntry).filter_by(action="notice.cancel", target=f"notice:{notice.id}").count() == 1


def test_another_communitys_notice_is_not_found(app, people, session_factory, clock, settings):
    with session_factory() as s, s.begin():
        theirs, _ = notices.create(s, clock, people.b.community.id, notices.Draft(
            title="别家的通知", body="正文", category="tip", audience={"community": True}), created_by=None,
            media_dir=settings.media_dir)
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        csrf = csrf_of(client.get("/console/notices").text)
        assert "别家的通知" not in client.get("/console/notices").text
        for path in (f"/console/notices/{theirs.id}", f"/console/notices/{theirs.id}/record.csv",
                     "/console/notices/99999999999999999999", "/console/notices/0"):
            assert client.get(path).status_code == 404, path
        assert client.post(f"/console/notices/{theirs.id}/cancel", data={"csrf": csrf}).status_code == 404
    with session_factory() as s:
        assert s.get(Notice, theirs.id).status == "scheduled"


@pytest.fixture
def event_id(people, session_factory, clock) -> int:
    """An event in community a: 刘女士 signed up for 2 (of 2 places), a neighbour waiting."""
    a, now = people.a, clock.now()
    with session_factory() as s, s.begin():
        neighbour = Resident(community_id=a.community.id, household_id=a.household.id, name="候补的邻居",
                             phone="13987654321", created_at=now)
        s.add(neighbour)
        event = CommunityEvent(community_id=a.community.id, title="冬至包饺子", location="会所", capacity=2,
                               starts_at=now + timedelta(days=2), created_at=now, updated_at=now)
        s.add(event)
        s.flush()
        s.add_all([EventSignup(community_id=a.community.id, event_id=event.id, resident_id=a.resident.id,
                               household_id=a.household.id, people=2, checkin_code="123456", created_at=now,
                               updated_at=now),
                   EventSignup(community_id=a.community.id, event_id=event.id, resident_id=neighbour.id,
                               household_id=a.household.id, status="waiting", created_at=now,
                               updated_at=now + timedelta(minutes=1))])
        return event.id


def test_events_and_their_signups(console, event_id, people, session_factory, clock):
    listing = console.get("/console/events").text
    row = listing.split(f'data-id="{event_id}"', 1)[1].split("</tr>", 1)[0]
    assert "冬至包饺子" in row and "2 / 2" in row and '"waiting">1<' in row and "12-03 17:00" in row
    page = console.get(f"/console/events/{event_id}").text
    signed = page.split('id="signed"', 1)[1].split("</table>", 1)[0]
    waiting = page.split('id="waiting-list"', 1)[1].split("</table>", 1)[0]
    assert "刘女士" in signed and "138****1502" in signed and "13812341502" not in page  # masked on screen
    assert "候补的邻居" in waiting and "刘女士" not in waiting
    csv = console.get(f"/console/events/{event_id}/attendees.csv")
    text = csv.content.decode("utf-8-sig")
    assert text.startswith("房屋,姓名,电话") and "13812341502" in text and "候补" in text  # a manager sees phones
    xlsx = console.get(f"/console/events/{event_id}/attendees.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["刘女士", "候补的邻居"]
    assert console.get(f"/console/events/{event_id}/attendees.doc").status_code == 404
    with session_factory() as s:
        assert s.query(AuditEntry).filter_by(action="event.export", target=f"event:{event_id}").count() == 2


def test_another_communitys_event_is_not_found(app, people, session_factory, clock):
    with session_factory() as s, s.begin():
        event = CommunityEvent(community_id=people.b.community.id, title="别家的活动", starts_at=clock.now() + timedelta(days=1),
                               created_at=clock.now(), updated_at=clock.now())
        s.add(event)
        s.flush()
        theirs = event.id
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        assert "别家的活动" not in client.get("/console/events").text
        for path in (f"/console/events/{theirs}", f"/console/events/{theirs}/attendees.csv",
                     "/console/events/99999999999999999999"):
            assert client.get(path).status_code == 404, path


EVENT = {"title": "冬至包饺子", "starts_at": "2026-12-05T14:00", "ends_at": "2026-12-05T16:00",
         "signup_deadline": "2026-12-04T20:00", "location": "会所", "description": "一起包饺子。", "capacity": "20",
         "fee": "", "household_limit": "3", "targets": "3栋"}


def _create_event(client: TestClient, data: dict[str, str]):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client.get("/console/events").text)
    return client.post("/console/events", data={"csrf": csrf, **data}, follow_redirects=False)


def test_create_an_event_with_its_invitation(console, people, session_factory, clock):
    done = _create_event(console, EVENT)
    assert done.status_code == 303, done.text[-2000:]
    with session_factory() as s:
        event = s.query(CommunityEvent).one()
        invitation = s.query(Notice).one()
        # 14:00 in Shanghai is 06:00 UTC; the deadline 20:00 local is 12:00 UTC the day before
        assert (event.starts_at, event.ends_at, event.signup_deadline) == (
            clock.now().replace(day=5, hour=6), clock.now().replace(day=5, hour=8), clock.now().replace(day=4, hour=12))
        assert (event.capacity, event.household_limit, event.audience, event.community_id) == (
            20, 3, {"buildings": ["3"]}, people.a.community.id)
        assert (invitation.kind, invitation.event_id, invitation.status) == ("invitation", event.id, "scheduled")
        assert s.query(AuditEntry).filter_by(action="event.create", target=f"event:{event.id}").count() == 1
    assert done.headers["location"] == f"/console/events/{event.id}?invited={invitation.id}"
    page = console.get(done.headers["location"]).text
    assert "邀请通知已安排发送" in page and "0 / 20" in page
    assert "冬至包饺子" in console.get("/console/events").text


@pytest.mark.parametrize("changes, words", [
    ({"starts_at": "2026-11-30T14:00"}, "已过"),
    ({"starts_at": ""}, "活动时间"),
    ({"title": " "}, "标题"),
    ({"capacity": "二十"}, "须为数字"),
    ({"fee": "free"}, "须为数字"),
    ({"targets": "欠费住户"}, "只能发给全小区"),
    ({"targets": "3栋12层"}, "没有任何住户"),
    ({"signup_deadline": "2026-12-06T10:00"}, "报名截止时间应早于"),
])
def test_event_refusals_keep_the_form(console, session_factory, changes, words):
    page = _create_event(console, {**EVENT, **changes})
    assert page.status_code in (400, 409, 422), page.status_code
    assert 'id="refusal"' in page.text and words in page.text, page.text[-3000:]
    assert "一起包饺子。" in page.text and 'value="会所"' in page.text
    with session_factory() as s:
        assert s.query(CommunityEvent).count() == 0 and s.query(Notice).count() == 0


def test_a_company_admin_sends_in_the_community_chosen(app, people, session_factory):
    with TestClient(app) as client:
        sign_in(client, "a-admin")
        csrf = csrf_of(client.get("/console/notices").text)
        assert client.post("/console/community", data={"csrf": csrf, "code": "b"},
                           follow_redirects=False).status_code == 303
        page = _post(client, {**FORM, "action": "preview"})
        assert "住户 1 人" in page.text  # community b's building 3
        assert _post(client, {**FORM, "action": "send"}).status_code == 303
    [notice] = _notices(session_factory)
    assert notice.community_id == people.b.community.id and notice.created_by == people.a.staff["admin"].id
