"""Editing and cancelling an event in the console (real app, both databases): the change goes through
event_admin and is pushed to those signed up or waiting (a notice the broadcast engine sends to exactly them;
none when there is nobody, which the page says), refusals
keep what was typed and change nothing, cancelling asks for a reason and a confirmation, audit entries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.models import AuditEntry, CommunityEvent, EventSignup, Notice, Notification, Resident
from backend.services import audience
from tests.console.conftest import csrf_of, sign_in

# The test clock is 2026-12-01 09:00 UTC (17:00 in Shanghai); the event starts two days later, 12-03 17:00 local.
SHOWN = {"title": "冬至包饺子", "starts_at": "2026-12-03T17:00", "ends_at": "2026-12-03T19:00",
         "signup_deadline": "2026-12-02T20:00", "location": "会所", "description": "一起包饺子。", "capacity": "2",
         "fee": "20", "household_limit": "3"}


@pytest.fixture
def event_id(people, session_factory, clock) -> int:
    """冬至包饺子 in community a, 2 places: 刘女士 signed up for 2, a neighbour (another household) waiting."""
    a, now = people.a, clock.now()
    with session_factory() as s, s.begin():
        neighbour = Resident(community_id=a.community.id, name="候补的邻居", phone="13987654321", created_at=now)
        s.add(neighbour)
        event = CommunityEvent(community_id=a.community.id, title="冬至包饺子", location="会所", capacity=2,
                               description="一起包饺子。", starts_at=now + timedelta(days=2),
                               ends_at=now + timedelta(days=2, hours=2), signup_deadline=now.replace(hour=12)
                               + timedelta(days=1), fee=Decimal("20.00"), household_limit=3,
                               audience={"community": True}, created_at=now, updated_at=now)
        s.add(event)
        s.flush()
        s.add_all([EventSignup(community_id=a.community.id, event_id=event.id, resident_id=a.resident.id,
                               household_id=a.household.id, people=2, checkin_code="123456", created_at=now,
                               updated_at=now),
                   EventSignup(community_id=a.community.id, event_id=event.id, resident_id=neighbour.id,
                               status="waiting", created_at=now, updated_at=now + timedelta(minutes=1))])
        return event.id


def _post(client: TestClient, event_id: int, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client.get(f"/console/events/{event_id}").text)
    return client.post(f"/console/events/{event_id}/{action}", data={"csrf": csrf, **data}, follow_redirects=False)


def _event(session_factory, event_id: int) -> CommunityEvent:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        event = s.get(CommunityEvent, event_id)
        s.expunge(event)
        return event


def _told(session_factory, notice_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Names of the residents the broadcast engine will send the notice to (the pages it walks through)."""
    with session_factory() as s:
        ids = audience.resident_ids(s, s.get(Notice, notice_id), 0, 100)
        return sorted(s.get(Resident, i).name for i in ids)


def _unchanged(session_factory, event_id: int) -> None:  # type: ignore[no-untyped-def]
    event = _event(session_factory, event_id)
    assert (event.title, event.location, event.capacity, event.status) == ("冬至包饺子", "会所", 2, "open")
    with session_factory() as s:
        assert s.query(Notice).count() == 0
        assert s.query(AuditEntry).filter(AuditEntry.action.in_(("event.edit", "event.cancel"))).count() == 0


def test_the_edit_form_shows_the_event_as_it_is(console, event_id):
    page = console.get(f"/console/events/{event_id}").text
    form = page.split('id="edit-event"', 1)[1].split("</form>", 1)[0]
    for key, value in SHOWN.items():
        if key == "description":
            assert f">{value}</textarea>" in form
        else:
            assert f'name="{key}"' in form and f'value="{value}"' in form, (key, value)
    assert 'id="cancel-event"' in page and 'name="reason"' in page
    assert 'id="csv"' in page and 'id="xlsx"' in page and "候补的邻居" in page.split('id="waiting-list"', 1)[1]
    assert "20元/人" in page.split('id="fee"', 1)[1].split("</td>", 1)[0]


def test_a_new_time_and_place_are_pushed_to_those_signed_up_or_waiting(console, event_id, people, session_factory, clock):
    done = _post(console, event_id, "edit", {**SHOWN, "starts_at": "2026-12-04T10:00", "ends_at": "2026-12-04T12:00",
                                             "location": "小区中心广场", "capacity": "3"})
    assert done.status_code == 303, done.text[-3000:]
    with session_factory() as s:
        notice = s.query(Notice).one()
        event = s.get(CommunityEvent, event_id)
        # 10:00 in Shanghai is 02:00 UTC
        assert (event.starts_at, event.ends_at) == (clock.now().replace(day=4, hour=2), clock.now().replace(day=4, hour=4))
        assert (event.location, event.capacity, event.title, event.fee) == ("小区中心广场", 3, "冬至包饺子", Decimal("20"))
        assert (notice.kind, notice.event_id, notice.audience, notice.status) == (
            "event_update", event_id, {"event_id": event_id, "waiting": True}, "scheduled")
        assert "活动变更" in notice.body and "小区中心广场" in notice.body and "12月4日" in notice.body
        # one more place: the neighbour on the waiting list moved up and is told privately
        statuses = {r.resident_id: r.status for r in s.query(EventSignup).filter_by(event_id=event_id)}
        assert sorted(statuses.values()) == ["signed", "signed"]
        [promoted] = s.query(Notification).filter_by(kind="event.promoted").all()
        assert s.get(Resident, promoted.resident_id).name == "候补的邻居"
        entry = s.query(AuditEntry).filter_by(action="event.edit").one()
        assert entry.target == f"event:{event_id}" and entry.staff_id == people.a.staff["manager"].id
        assert entry.detail["changed"] == {"capacity": "3", "ends_at": "2026-12-04T12:00", "location": "小区中心广场",
                                           "starts_at": "2026-12-04T10:00"}
        assert entry.detail["notice"] == notice.id
    assert done.headers["location"] == f"/console/events/{event_id}?edited=1&notified={notice.id}"
    assert _told(session_factory, notice.id) == ["候补的邻居", "刘女士"]
    page = console.get(done.headers["location"]).text
    assert 'id="edited"' in page and "修改已保存" in page and f'href="/console/notices/{notice.id}"' in page
    assert 'value="2026-12-04T10:00"' in page and 'value="小区中心广场"' in page  # the form shows the new values


def test_a_change_nobody_needs_to_hear_about_is_saved_quietly(console, event_id, session_factory):
    """Description, fee and limits are not pushed; an empty fee makes the event free, empty deadline none."""
    done = _post(console, event_id, "edit", {**SHOWN, "description": "一起包饺子。\r\n自带围裙。", "fee": "",
                                             "signup_deadline": "", "household_limit": ""})
    assert done.status_code == 303 and done.headers["location"] == f"/console/events/{event_id}?edited=1"
    event = _event(session_factory, event_id)
    assert (event.description, event.fee, event.signup_deadline, event.household_limit) == (
        "一起包饺子。\n自带围裙。", None, None, None)
    with session_factory() as s:
        assert s.query(Notice).count() == 0
        assert set(s.query(AuditEntry).filter_by(action="event.edit").one().detail["changed"]) == {
            "description", "fee", "signup_deadline", "household_limit"}
    # sent again as shown: nothing to save, nothing recorded
    again = _post(console, event_id, "edit", {**SHOWN, "description": "一起包饺子。\r\n自带围裙。", "fee": "",
                                              "signup_deadline": "", "household_limit": ""})
    assert again.status_code == 303 and again.headers["location"] == f"/console/events/{event_id}"
    with session_factory() as s:
        assert s.query(AuditEntry).filter_by(action="event.edit").count() == 1


@pytest.mark.parametrize("changes, words", [
    ({"capacity": "1"}, "已有2人报名，名额不能少于2"),
    ({"starts_at": "2026-11-30T14:00", "ends_at": ""}, "活动时间 11月30日 下午2:00 已过"),
    ({"starts_at": ""}, "活动时间"),
    ({"ends_at": "2026-12-03T16:00"}, "结束时间应晚于开始时间"),
    ({"signup_deadline": "2026-12-01T10:00"}, "报名截止时间 12月1日 上午10:00 已过"),
    ({"signup_deadline": "2026-12-03T18:00"}, "报名截止时间应早于活动开始时间"),
    ({"title": "  "}, "标题"),
    ({"capacity": "二十"}, "须为数字"),
    ({"fee": "免费"}, "须为数字"),
    ({"fee": "-5"}, "费用"),
    ({"household_limit": "11"}, "每户人数"),
    ({"starts_at": "明天下午"}, "无法识别"),
])
def test_refused_edits_keep_what_was_typed_and_change_nothing(console, event_id, session_factory, changes, words):
    page = _post(console, event_id, "edit", {**SHOWN, "location": "新地点", **changes})
    assert page.status_code in (400, 409, 422), page.status_code
    refusal = page.text.split('id="refusal"', 1)[1].split("</div>", 1)[0]
    assert words in refusal, refusal
    assert 'value="新地点"' in page.text and "<details" in page.text.split('id="edit-event"', 1)[0][-40:]
    _unchanged(session_factory, event_id)


def test_cancel_asks_for_a_reason_then_a_confirmation(console, event_id, people, session_factory):
    empty = _post(console, event_id, "cancel", {"reason": "  "})
    assert empty.status_code == 422 and "请填写取消原因" in empty.text.split('id="cancel-refusal"', 1)[1]
    long = _post(console, event_id, "cancel", {"reason": "很" * 201})
    assert long.status_code == 422 and "取消原因最多 200 字" in long.text
    asked = _post(console, event_id, "cancel", {"reason": "会所 漏水维修"})
    assert asked.status_code == 200
    confirm = asked.text.split('id="confirm-cancel"', 1)[1].split("</div>", 1)[0]
    assert "确认取消「冬至包饺子」" in confirm and "已报名和候补的 2 位住户" in confirm and "会所 漏水维修" in confirm
    assert 'name="confirm" value="yes"' in confirm and 'name="reason" value="会所 漏水维修"' in confirm
    _unchanged(session_factory, event_id)  # asking changed nothing

    done = _post(console, event_id, "cancel", {"reason": "会所 漏水维修", "confirm": "yes"})
    assert done.status_code == 303, done.text[-2000:]
    with session_factory() as s:
        notice = s.query(Notice).one()
        assert s.get(CommunityEvent, event_id).status == "cancelled"
        assert (notice.kind, notice.audience) == ("event_update", {"event_id": event_id, "waiting": True})
        assert "活动取消" in notice.body and "原因：会所 漏水维修" in notice.body
        entry = s.query(AuditEntry).filter_by(action="event.cancel").one()
        assert (entry.target, entry.detail["reason"], entry.detail["notice"]) == (
            f"event:{event_id}", "会所 漏水维修", notice.id)
        assert entry.staff_id == people.a.staff["manager"].id
    assert done.headers["location"] == f"/console/events/{event_id}?cancelled=1&notified={notice.id}"
    assert _told(session_factory, notice.id) == ["候补的邻居", "刘女士"]  # the waiting neighbour too
    page = console.get(done.headers["location"]).text
    assert 'id="cancelled"' in page and "已取消" in page
    assert 'id="edit-event"' not in page and 'id="cancel-event"' not in page

    # a form left open elsewhere: editing or cancelling again is refused, and nothing more is pushed
    stale = console.post(f"/console/events/{event_id}/edit", data={"csrf": csrf_of(page), **SHOWN, "location": "别处"},
                         follow_redirects=False)
    assert stale.status_code == 409 and "「冬至包饺子」已取消，不能再修改" in stale.text
    twice = console.post(f"/console/events/{event_id}/cancel", data={"csrf": csrf_of(page), "reason": "再取消",
                                                                    "confirm": "yes"}, follow_redirects=False)
    assert twice.status_code == 409 and "已取消，不能再修改" in twice.text
    with session_factory() as s:
        assert s.query(Notice).count() == 1 and s.get(CommunityEvent, event_id).location == "会所"
        assert s.query(AuditEntry).filter(AuditEntry.action.in_(("event.edit", "event.cancel"))).count() == 1


def test_with_nobody_signed_up_or_waiting_the_page_says_nobody_was_told(console, event_id, session_factory):
    with session_factory() as s, s.begin():
        for signup in s.query(EventSignup).filter_by(event_id=event_id):
            signup.status = "withdrawn"
    done = _post(console, event_id, "edit", {**SHOWN, "location": "小区中心广场"})
    assert done.status_code == 303 and done.headers["location"] == f"/console/events/{event_id}?edited=1&nobody=1"
    flash = console.get(done.headers["location"]).text.split('id="edited"', 1)[1].split("</div>", 1)[0]
    assert "修改已保存" in flash and "没有人报名或候补" in flash and "未发送通知" in flash
    asked = _post(console, event_id, "cancel", {"reason": "下雨"})
    assert "目前没有人报名或候补" in asked.text.split('id="confirm-cancel"', 1)[1].split("</div>", 1)[0]
    done = _post(console, event_id, "cancel", {"reason": "下雨", "confirm": "yes"})
    assert done.headers["location"] == f"/console/events/{event_id}?cancelled=1&nobody=1"
    flash = console.get(done.headers["location"]).text.split('id="cancelled"', 1)[1].split("</div>", 1)[0]
    assert "活动已取消" in flash and "未发送通知" in flash
    with session_factory() as s:
        assert s.query(Notice).count() == 0
        assert s.get(CommunityEvent, event_id).status == "cancelled"
        assert [e.detail["notice"] for e in s.query(AuditEntry).order_by(AuditEntry.id)
                if e.action in ("event.edit", "event.cancel")] == [None, None]


def test_without_event_rights_or_csrf_nothing_changes(app, people, event_id, session_factory):
    with TestClient(app) as client:
        assert sign_in(client, "a-cs").status_code == 303  # customer service: notices yes, events no
        csrf = csrf_of(client.get("/console/notices").text)
        assert client.get(f"/console/events/{event_id}").status_code == 403
        edit = client.post(f"/console/events/{event_id}/edit", data={"csrf": csrf, **SHOWN, "location": "别处"},
                           follow_redirects=False)
        cancel = client.post(f"/console/events/{event_id}/cancel", data={"csrf": csrf, "reason": "不办了",
                                                                          "confirm": "yes"}, follow_redirects=False)
        assert (edit.status_code, cancel.status_code) == (403, 403)
        assert "您没有权限" in cancel.text
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        for action, data in (("edit", {**SHOWN, "location": "别处"}), ("cancel", {"reason": "x", "confirm": "yes"})):
            assert client.post(f"/console/events/{event_id}/{action}", data=data,
                               follow_redirects=False).status_code == 403  # no CSRF token
    _unchanged(session_factory, event_id)


def test_another_communitys_event_cannot_be_changed(app, people, session_factory, clock):
    with session_factory() as s, s.begin():
        event = CommunityEvent(community_id=people.b.community.id, title="别家的活动", created_at=clock.now(),
                               starts_at=clock.now() + timedelta(days=1), updated_at=clock.now())
        s.add(event)
        s.flush()
        theirs = event.id
    with TestClient(app) as client:
        sign_in(client, "a-manager")
        csrf = csrf_of(client.get("/console/events").text)
        for action, data in (("edit", {"title": "改名", "starts_at": ""}), ("cancel", {"reason": "x", "confirm": "yes"})):
            for target in (theirs, 99999999999999999999, 0):
                assert client.post(f"/console/events/{target}/{action}", data={"csrf": csrf, **data},
                                   follow_redirects=False).status_code == 404, (action, target)
    with session_factory() as s:
        assert (s.get(CommunityEvent, theirs).title, s.get(CommunityEvent, theirs).status) == ("别家的活动", "open")
