"""Events: create/edit/cancel push notices, sign-up rules, waiting list, check-in, day-before reminder."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.errors import Forbidden, IllegalMove, Invalid
from backend.models import CommunityEvent, EventSignup, Notice, NoticeMute, Notification, Resident
from backend.services import audience, event_admin, event_reminders, events
from backend.services.event_admin import EventInput
from tests.builders import build_world


@pytest.fixture
def world(session_factory, clock, settings):
    with session_factory() as s:
        w = build_world(s, clock, settings)
        # a second resident in household 1 and a third household's resident (building 2)
        s.add(Resident(community_id=w.community.id, household_id=w.households["1"].id, name="住户1b",
                       bound_at=clock.now(), created_at=clock.now()))
        s.commit()
        return w


def new_event(s, clock, settings, world, **kw):
    data = EventInput(**{"title": "中秋游园会", "starts_at": clock.now() + timedelta(days=3), "location": "中心广场",
                         "signup_deadline": clock.now() + timedelta(days=2), "capacity": 3, **kw})
    return event_admin.create(s, clock, settings, s.get(type(world.staff["manager"]), world.staff["manager"].id),
                              world.community.id, data)


def resident(s, world, key):
    if key == "1b":
        return s.scalar(select(Resident).where(Resident.name == "住户1b"))
    return s.get(Resident, world.residents[key].id)


def test_creating_an_event_pushes_an_invitation_notice(session_factory, clock, settings, world):
    with session_factory() as s:
        event, notice = new_event(s, clock, settings, world, fee=Decimal("20"), household_limit=2,
                                  audience={"buildings": ["1"]})
        s.commit()
        assert (notice.kind, notice.category, notice.event_id, notice.status) == ("invitation", "event", event.id,
                                                                                  "scheduled")
        assert notice.audience == {"buildings": ["1"]} and notice.scheduled_at == clock.now()
        assert "中秋游园会" in notice.body and "20元/人" in notice.body and "每户限报2人" in notice.body


@pytest.mark.parametrize("kw, message", [
    ({"title": "  "}, "title"),
    ({"starts_at_days": -1}, "past"),
    ({"signup_deadline_days": 4}, "deadline must be before"),
    ({"capacity": 0}, "capacity"),
    ({"household_limit": 11}, "household_limit"),
    ({"fee": Decimal("-1")}, "fee"),
    ({"audience": {}}, "no target"),
    ({"audience": {"buildings": ["9"]}}, "Nobody lives"),
    ({"audience": {"floors": ["x"]}}, "floors"),
])
def test_bad_events_are_refused_and_nothing_is_pushed(session_factory, clock, settings, world, kw, message):
    kw = dict(kw)  # the parameters are shared by both databases' runs
    if "starts_at_days" in kw:
        kw = {"starts_at": clock.now() + timedelta(days=kw.pop("starts_at_days")), "signup_deadline": None}
    if "signup_deadline_days" in kw:
        kw = {"signup_deadline": clock.now() + timedelta(days=kw.pop("signup_deadline_days"))}
    with session_factory() as s:
        with pytest.raises(Invalid) as caught:
            new_event(s, clock, settings, world, **kw)
        assert message in str(caught.value)
        assert s.scalar(select(func.count()).select_from(Notice)) == 0


def test_only_managers_and_cs_leads_create_events(session_factory, clock, settings, world):
    with session_factory() as s, pytest.raises(Forbidden):
        event_admin.create(s, clock, settings, s.get(type(world.staff["cs1"]), world.staff["cs1"].id),
                           world.community.id, EventInput("x", clock.now() + timedelta(days=1)))


def test_sign_up_refusals_waiting_list_and_promotion(session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, household_limit=2)
        r1, r1b, r2 = resident(s, world, "1"), resident(s, world, "1b"), resident(s, world, "2")
        first = events.sign_up(s, clock, r1, event.id, 2)
        assert first.status == "signed" and len(first.checkin_code) == 6
        with pytest.raises(IllegalMove, match="already signed up"):
            events.sign_up(s, clock, r1, event.id)  # pressing twice
        with pytest.raises(IllegalMove, match="at most 2 per household"):
            events.sign_up(s, clock, r1b, event.id)  # household 1 already has 2
        with pytest.raises(events.EventFull):
            events.sign_up(s, clock, r2, event.id, 2)  # 1 place left
        waiting = events.sign_up(s, clock, r2, event.id, 2, wait=True)
        assert waiting.status == "waiting" and waiting.checkin_code == ""
        with pytest.raises(IllegalMove, match="waiting list"):
            events.sign_up(s, clock, r2, event.id, wait=True)
        result = events.withdraw(s, clock, r1, event.id, settings)
        assert [p.id for p in result.promoted] == [waiting.id] and waiting.status == "signed"
        assert waiting.checkin_code
        told = s.scalars(select(Notification).where(Notification.kind == "event.promoted")).all()
        assert [(n.resident_id, n.params["code"]) for n in told] == [(r2.id, waiting.checkin_code)]
        s.commit()


def test_cancelled_and_past_deadline_refusals(session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        clock.advance(days=2, minutes=1)
        with pytest.raises(IllegalMove, match="closed at"):
            events.sign_up(s, clock, resident(s, world, "2"), event.id)
        _, notice = event_admin.cancel(s, clock, settings, None, event, "台风")
        assert notice is not None and notice.kind == "event_update"
        assert notice.audience == {"event_id": event.id, "waiting": True}
        assert "已取消" in notice.body and "台风" in notice.body
        with pytest.raises(IllegalMove, match="cancelled"):
            events.sign_up(s, clock, resident(s, world, "2"), event.id)


def test_a_changed_time_is_pushed_to_those_signed_up_and_more_places_promote(session_factory, clock, settings,
                                                                              world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, capacity=1)
        _, none = event_admin.edit(s, clock, settings, None, event, {"location": "会所"})
        assert none is None  # nobody signed up yet: nothing to push
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        waiting = events.sign_up(s, clock, resident(s, world, "2"), event.id, wait=True)
        _, notice = event_admin.edit(s, clock, settings, None, event,
                                     {"starts_at": event.starts_at + timedelta(hours=2), "capacity": 2})
        assert notice is not None and notice.kind == "event_update" and "活动变更" in notice.body
        assert waiting.status == "signed"
        with pytest.raises(Invalid, match="capacity"):
            event_admin.edit(s, clock, settings, None, event, {"capacity": 1})


def test_check_in_by_code_once_on_the_day(session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world)
        signup = events.sign_up(s, clock, resident(s, world, "1"), event.id, 2)
        guard, tech = (s.get(type(world.staff[k]), world.staff[k].id) for k in ("guard1", "tech1"))
        path = events.write_qr(settings, signup)
        assert path.exists()
        with pytest.raises(IllegalMove, match="opens two hours"):
            event_admin.check_in(s, clock, settings, guard, world.community.id, signup.checkin_code)
        clock.advance(days=3, minutes=-30)
        with pytest.raises(Forbidden):
            event_admin.check_in(s, clock, settings, tech, world.community.id, signup.checkin_code)
        with pytest.raises(IllegalMove, match="No sign-up"):
            event_admin.check_in(s, clock, settings, guard, world.community.id, "000000")
        done, _ = event_admin.check_in(s, clock, settings, guard, world.community.id, f" {signup.checkin_code} ")
        assert done.checked_in_at == clock.now() and done.checked_in_by == guard.id and not path.exists()
        with pytest.raises(IllegalMove, match="already checked in"):
            event_admin.check_in(s, clock, settings, guard, world.community.id, signup.checkin_code)


def test_attendee_export_csv_and_xlsx(session_factory, clock, settings, world, tmp_path):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, capacity=1)
        s.get(Resident, world.residents["1"].id).name = "=HYPERLINK()"
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        events.sign_up(s, clock, resident(s, world, "2"), event.id, wait=True)
        rows = event_admin.attendees(s, None, event)
        assert [r.status for r in rows] == ["signed", "waiting"]
        text = event_admin.export(rows, "csv", settings.timezone, mask=True).decode("utf-8-sig")
        assert text.splitlines()[0] == "房屋,姓名,电话,人数,状态,签到码,签到时间"
        assert "'=HYPERLINK()" in text and "139****0101" in text and "候补" in text
        (tmp_path / "a.xlsx").write_bytes(event_admin.export(rows, "xlsx", settings.timezone))
        sheet = load_workbook(tmp_path / "a.xlsx").active
        assert sheet.max_row == 3 and sheet["E3"].value == "候补"
        with pytest.raises(Invalid):
            event_admin.export(rows, "pdf", settings.timezone)


def test_day_before_reminder_goes_out_exactly_once(session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        quiet, _ = new_event(s, clock, settings, world, title="没人报名")
        s.commit()
        event_id, quiet_id = event.id, quiet.id
    assert event_reminders.remind_once(session_factory, clock, settings) == 0  # three days ahead
    clock.advance(days=2, hours=1)
    assert event_reminders.remind_once(session_factory, clock, settings) == 1
    assert event_reminders.remind_once(session_factory, clock, settings) == 0
    with session_factory() as s:
        reminders = s.scalars(select(Notice).where(Notice.kind == "event_reminder")).all()
        assert [(n.event_id, n.audience) for n in reminders] == [(event_id, {"event_id": event_id})]
        assert s.get(CommunityEvent, quiet_id).reminded_at is not None
        assert s.scalar(select(func.count()).select_from(EventSignup)) == 1


def test_many_at_once_for_the_last_places_and_withdrawals_promote_in_order(session_factory, clock, settings, world):
    """Eight households press 报名 at once for 3 places: 3 signed, 5 waiting, no error; withdrawals promote
    the waiting list strictly in order (on PostgreSQL the event row lock serialises them)."""
    import threading

    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world)
        ids = []
        for n in range(8):
            r = Resident(community_id=world.community.id, household_id=world.households["2"].id, name=f"邻居{n}",
                         bound_at=clock.now(), created_at=clock.now())
            s.add(r)
            s.flush()
            ids.append(r.id)
        s.commit()
        event_id = event.id
    barrier, errors = threading.Barrier(len(ids)), []

    def press(resident_id: int) -> None:
        barrier.wait()
        try:
            with session_factory() as s, s.begin():
                events.sign_up(s, clock, s.get(Resident, resident_id), event_id, wait=True)
        except Exception as exc:  # any error fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with session_factory() as s:
        rows = s.scalars(select(EventSignup).where(EventSignup.event_id == event_id)).all()
        assert sorted(r.status for r in rows) == ["signed"] * 3 + ["waiting"] * 5
        queue = [r.resident_id for r in sorted((r for r in rows if r.status == "waiting"),
                                                 key=lambda r: (r.updated_at, r.id))]
        first_signed = next(r.resident_id for r in rows if r.status == "signed")
    with session_factory() as s, s.begin():
        result = events.withdraw(s, clock, s.get(Resident, first_signed), event_id, settings)
        assert [p.resident_id for p in result.promoted] == queue[:1]


def told(s, notice) -> set[str]:
    """Names of the residents the broadcast engine will send the notice to (the pages it walks through)."""
    return {s.get(Resident, i).name for i in audience.resident_ids(s, notice, 0, 100)}


def test_a_change_and_a_cancellation_reach_signed_up_and_waiting_households_not_withdrawn_ones(
        session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, capacity=1)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)  # the one place
        events.sign_up(s, clock, resident(s, world, "2"), event.id, wait=True)
        events.sign_up(s, clock, resident(s, world, "1b"), event.id, wait=True)
        events.withdraw(s, clock, resident(s, world, "1b"), event.id, settings)  # changed their mind
        _, changed = event_admin.edit(s, clock, settings, None, event, {"location": "会所"})
        assert changed is not None and changed.audience == {"event_id": event.id, "waiting": True}
        assert told(s, changed) == {"住户1", "住户2"}
        # one text for both: the signed-up keep their place, the waiting keep theirs in the queue
        assert "会所" in changed.body and "报名仍然有效" in changed.body and "仍按原顺序候补" in changed.body
        assert "you keep your place" in changed.body
        _, cancelled = event_admin.cancel(s, clock, settings, None, event, "台风")
        assert cancelled is not None and cancelled.audience == {"event_id": event.id, "waiting": True}
        assert told(s, cancelled) == {"住户1", "住户2"}
        assert "您的报名或候补登记随之作废" in cancelled.body and "place on the waiting list is void" in cancelled.body
        # the day-before reminder's audience (those signed up, who have a code) stays as it was
        reminder = Notice(community_id=event.community_id, category="event", title="t", body="b",
                          audience=audience.event_signed(event.id), created_at=clock.now())
        assert told(s, reminder) == {"住户1"}


def test_an_event_with_only_waiting_households_tells_them(session_factory, clock, settings, world):
    """Nobody signed up, a household of 2 waiting for the 1 place left: the change and the cancellation reach
    it (they used to be written for the signed-up only, reaching nobody)."""
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, capacity=1)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        waiting = events.sign_up(s, clock, resident(s, world, "2"), event.id, 2, wait=True)
        events.withdraw(s, clock, resident(s, world, "1"), event.id, settings)
        assert waiting.status == "waiting" and events.people_signed(s, event.id) == 0  # 2 do not fit in 1
        _, changed = event_admin.edit(s, clock, settings, None, event, {"starts_at": event.starts_at
                                                                       + timedelta(hours=1)})
        assert changed is not None and told(s, changed) == {"住户2"}
        _, cancelled = event_admin.cancel(s, clock, settings, None, event, "")
        assert cancelled is not None and told(s, cancelled) == {"住户2"}


def test_nobody_signed_up_or_waiting_means_no_notice(session_factory, clock, settings, world):
    with session_factory() as s:
        event, invitation = new_event(s, clock, settings, world, capacity=1)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        events.sign_up(s, clock, resident(s, world, "2"), event.id, wait=True)
        events.withdraw(s, clock, resident(s, world, "2"), event.id, settings)
        # the one left muted event notices: a change to the event they signed up for still reaches them
        s.add(NoticeMute(resident_id=resident(s, world, "1").id, category="event", created_at=clock.now()))
        s.flush()
        assert event_admin.to_tell(event, {"location": " 会所 ", "capacity": 2}) == {"location"}
        assert event_admin.to_tell(event, {"location": "中心广场", "capacity": 2}) == set()
        _, changed = event_admin.edit(s, clock, settings, None, event, {"location": "会所"})
        assert changed is not None and told(s, changed) == {"住户1"}
        events.withdraw(s, clock, resident(s, world, "1"), event.id, settings)
        _, moved = event_admin.edit(s, clock, settings, None, event, {"location": "中心广场"})
        assert moved is None and event.location == "中心广场"  # saved, nobody left to tell
        _, cancelled = event_admin.cancel(s, clock, settings, None, event, "台风")
        assert cancelled is None and event.status == "cancelled"
        assert [n.id for n in s.scalars(select(Notice))] == [invitation.id, changed.id]


def test_the_day_before_reminder_reaches_those_signed_up_only(session_factory, clock, settings, world):
    with session_factory() as s:
        event, _ = new_event(s, clock, settings, world, capacity=1)
        events.sign_up(s, clock, resident(s, world, "1"), event.id)
        events.sign_up(s, clock, resident(s, world, "2"), event.id, wait=True)
        only_waiting, _ = new_event(s, clock, settings, world, title="只有候补", capacity=1)
        events.sign_up(s, clock, resident(s, world, "1b"), only_waiting.id, 2, wait=True)
        s.commit()
        event_id = event.id
    clock.advance(days=2, hours=1)
    assert event_reminders.remind_once(session_factory, clock, settings) == 1  # not the waiting-only event
    with session_factory() as s:
        [reminder] = s.scalars(select(Notice).where(Notice.kind == "event_reminder")).all()
        assert (reminder.event_id, reminder.audience) == (event_id, {"event_id": event_id})
        assert told(s, reminder) == {"住户1"} and "签到码" in reminder.body
