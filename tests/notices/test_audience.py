"""Audiences resolved to residents, staff and groups, as the engine pages through them, and the preview count."""

from __future__ import annotations

import pytest

from backend.models import Notice, NoticeMute
from backend.services import audience
from backend.services.audience import BadAudience


def _notice(nw, clock, spec, category="tip") -> Notice:
    return Notice(community_id=nw.community_id, category=category, title="t", body="b", audience=spec,
                  scheduled_at=clock.now(), created_at=clock.now())


CASES = [  # audience -> residents (by fixture key) it selects
    ({"community": True}, {"1", "2", "五楼", "六楼", "路人"}),
    ({"buildings": ["1"]}, {"1", "五楼", "六楼"}),
    ({"buildings": ["2"]}, {"2"}),
    ({"units": ["1-2"]}, {"五楼", "六楼"}),
    ({"buildings": ["1"], "floors": [5]}, {"五楼"}),
    ({"floors": [1]}, {"1", "2"}),
    ({"floors": ["5", 6]}, {"五楼", "六楼"}),
    ({"buildings": ["2"], "floors": [5]}, set()),
    ({"buildings": ["1", "2"], "units": ["1-2"]}, {"五楼", "六楼"}),
    ({"units": ["1-2", "2-1"], "floors": [1, 5]}, {"2", "五楼"}),
    ({"arrears": True}, {"2"}),
    ({"event_id": "EVENT"}, {"1"}),  # signed up only: not 五楼 (waiting), not 六楼 (withdrew)
    ({"event_id": "EVENT", "waiting": True}, {"1", "五楼"}),  # and the waiting list; never the withdrawn
    ({"event_id": "EVENT", "waiting": False}, {"1"}),
    ({"units": ["1-2"], "arrears": True}, {"2", "五楼", "六楼"}),
    ({"departments": ["security"]}, set()),
    ({"groups": True}, set()),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_resident_selectors(session, nw, clock, spec, expected):
    spec = {k: (nw.event_id if v == "EVENT" else v) for k, v in spec.items()}
    ids = audience.resident_ids(session, _notice(nw, clock, audience.normalise(spec)), 0, 100)
    assert ids == sorted(nw.rid(k) for k in expected)


def test_the_event_keys_normalised():
    assert audience.normalise({"event_id": 7, "waiting": True}) == audience.event_signed_or_waiting(7) == {
        "event_id": 7, "waiting": True}
    assert audience.normalise({"event_id": 7, "waiting": False}) == audience.event_signed(7) == {"event_id": 7}
    assert audience.is_empty({"waiting": True}) and not audience.is_empty({"event_id": 7})


def test_count_of_an_event_with_its_waiting_list(session, nw, clock):
    signed = audience.count(session, nw.community_id, {"event_id": nw.event_id}, "event", clock.now())
    both = audience.count(session, nw.community_id, {"event_id": nw.event_id, "waiting": True}, "event",
                          clock.now())
    assert (signed.residents, signed.by_channel) == (1, {"web": 1, "wechat": 1})
    assert (both.residents, both.by_channel) == (2, {"telegram": 1, "web": 1, "wechat": 1})


def test_paging_by_id_and_other_community_never_included(session, nw, clock):
    notice = _notice(nw, clock, {"community": True})
    everyone = audience.resident_ids(session, notice, 0, 100)
    pages, after = [], 0
    while batch := audience.resident_ids(session, notice, after, 1):
        pages += batch
        after = batch[-1]
    assert pages == everyone and len(everyone) == 5
    assert nw.other.residents["1"].id not in everyone


def test_mutes_leave_residents_out_except_for_safety(session, nw, clock):
    session.add(NoticeMute(resident_id=nw.rid("五楼"), category="event", created_at=clock.now()))
    session.flush()
    assert nw.rid("五楼") not in audience.resident_ids(session, _notice(nw, clock, {"community": True}, "event"), 0, 9)
    assert nw.rid("五楼") in audience.resident_ids(session, _notice(nw, clock, {"community": True}, "tip"), 0, 9)
    safety = _notice(nw, clock, {"community": True}, "safety")
    session.add(NoticeMute(resident_id=nw.rid("五楼"), category="safety", created_at=clock.now()))
    session.flush()
    assert nw.rid("五楼") in audience.resident_ids(session, safety, 0, 9)


def test_staff_and_groups(session, nw, clock):
    security = _notice(nw, clock, {"departments": ["security"]})
    assert audience.staff_ids(session, security) == sorted(
        s.id for k, s in nw.world.staff.items() if k in ("sec-lead", "guard1"))
    assert [g.title for g in audience.group_chats(session, security)] == ["秩序部群"]
    owners = _notice(nw, clock, {"groups": True, "community": True})
    assert [g.title for g in audience.group_chats(session, owners)] == ["业主群"]
    assert audience.staff_ids(session, owners) == []
    assert audience.group_chats(session, _notice(nw, clock, {"community": True})) == []


def test_count_says_who_is_reachable_where_and_why_not(session, nw, clock):
    session.add(NoticeMute(resident_id=nw.rid("2"), category="fee", created_at=clock.now()))
    session.flush()
    count = audience.count(session, nw.community_id, {"community": True, "groups": True}, "tip", clock.now())
    assert count.as_dict() == {
        "residents": 5, "muted": 0, "reachable": 2, "by_channel": {"telegram": 1, "web": 1, "wechat": 1},
        "unreachable": {"never_bound": 2, "blocked": 1}, "unreachable_total": 3, "staff": 0,
        "groups": {"telegram": 1},
    }
    fee = audience.count(session, nw.community_id, {"community": True}, "fee", clock.now())
    assert (fee.residents, fee.muted, fee.unreachable) == (4, 1, {"never_bound": 1, "blocked": 1})
    nobody = audience.count(session, nw.community_id, {"buildings": ["2"], "floors": [9]}, "tip", clock.now())
    assert nobody.nobody


@pytest.mark.parametrize("spec", [
    [], "all", {"everyone": True}, {"community": "yes"}, {"buildings": "3"}, {"buildings": [None]},
    {"buildings": [""]}, {"units": ["3"]}, {"floors": ["a-b"]}, {"floors": ["3-12"]}, {"departments": ["kitchen"]},
    {"event_id": -1}, {"event_id": True}, {"buildings": ["1"] * 201},
    {"waiting": True}, {"community": True, "waiting": True}, {"event_id": 1, "waiting": "yes"},
    {"event_id": 1, "waiting": 1},
])
def test_bad_specs_are_refused(spec):
    with pytest.raises(BadAudience):
        audience.normalise(spec)


@pytest.mark.parametrize("spec", [{"buildings": ["3\x00"]}, {"floors": ["99999999999999999999999"]},
                                  {"floors": ["３"]}, {"units": ["1-\n2"]}])
def test_garbage_never_reaches_the_database(spec):
    with pytest.raises(BadAudience):
        audience.normalise(spec)
