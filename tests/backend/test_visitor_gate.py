"""Gate codes are not public: pass images only under an unguessable name while the pass lives; checks limited."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.errors import Forbidden, IllegalMove
from backend.models import Household, Resident, Staff
from backend.services import visitors
from backend.services.demo import seed_demo
from bot.app import create_app


@pytest.fixture
def demo(session_factory, clock, settings):
    with session_factory() as s:
        community = seed_demo(s, settings, clock)
        household = s.scalar(select(Household).where(Household.label == "3-2-1502"))
        resident = Resident(community_id=community.id, household_id=household.id, name="刘女士",
                            bound_at=clock.now(), created_at=clock.now())
        s.add(resident)
        s.commit()
        return resident.id


@pytest.fixture
def client(settings, clock, session_factory) -> Iterator[TestClient]:
    settings.run_worker_in_app = False
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c


def new_pass(session_factory, clock, settings, resident_id: int, hours: int = 4) -> tuple[int, str, str]:
    with session_factory() as s:
        resident = s.get(Resident, resident_id)
        p = visitors.create_pass(s, clock, settings, resident, s.get(Household, resident.household_id),
                                 visitor_name="张阿姨", valid_from=clock.now(),
                                 valid_until=clock.now() + timedelta(hours=hours))
        s.commit()
        return p.id, p.code, visitors.image_url(p)


def staff(session, login: str) -> Staff:
    return session.scalar(select(Staff).where(Staff.login == login))


def test_the_image_lives_exactly_as_long_as_the_pass(client, session_factory, clock, settings, demo):
    pass_id, code, url = new_pass(session_factory, clock, settings, demo)
    assert url.startswith("/media/pass/") and code not in url
    assert client.get(url).status_code == 200 and client.get(url).headers["cache-control"] == "no-store"
    assert client.get(f"/media/qr/{code}.png").status_code == 404  # the code is not a way to the image
    with session_factory() as s:
        visitors.cancel_pass(s, clock, s.get(Resident, demo), pass_id)
        s.commit()
    assert client.get(url).status_code == 404
    assert not (settings.media_dir / url.removeprefix("/media/")).exists()  # and its file is gone

    _, _, expiring = new_pass(session_factory, clock, settings, demo, hours=1)
    assert client.get(expiring).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert client.get(expiring).status_code == 404

    _, used_code, used = new_pass(session_factory, clock, settings, demo)
    with session_factory() as s:
        visitors.verify_code(s, clock, settings, staff(s, "guard1"), used_code)
        s.commit()
    assert client.get(used).status_code == 404


def test_a_cancelled_pass_is_refused_at_the_gate(session_factory, clock, settings, demo):
    pass_id, code, _ = new_pass(session_factory, clock, settings, demo)
    with session_factory() as s:
        visitors.cancel_pass(s, clock, s.get(Resident, demo), pass_id)
        s.commit()
    with session_factory() as s, pytest.raises(IllegalMove) as refused:
        visitors.verify_code(s, clock, settings, staff(s, "guard1"), code)
    assert refused.value.key == "error.pass_cancelled"


@pytest.mark.parametrize("login", ["gardener1", "cs1", "tech1"])
def test_only_security_and_the_manager_check_codes(login, session_factory, clock, settings, demo):
    _, code, _ = new_pass(session_factory, clock, settings, demo)
    with session_factory() as s, pytest.raises(Forbidden):
        visitors.verify_code(s, clock, settings, staff(s, login), code)
    with session_factory() as s:
        assert visitors.verify_code(s, clock, settings, staff(s, "manager"), code).status == visitors.ARRIVED


def test_wrong_codes_pause_the_checker_and_every_check_is_logged(session_factory, clock, settings, demo, caplog):
    _, code, _ = new_pass(session_factory, clock, settings, demo)
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, visitors.FAILURES_BEFORE_PAUSE + 1)]
    caplog.set_level(logging.INFO, logger="guanjia.visitors")
    with session_factory() as s:
        guard = staff(s, "guard1")
        for attempt in wrong:
            with pytest.raises(IllegalMove) as err:
                visitors.verify_code(s, clock, settings, guard, attempt)
            assert err.value.key == "error.pass_not_found"
        with pytest.raises(IllegalMove) as paused:  # even the right code waits now: no enumeration at the gate
            visitors.verify_code(s, clock, settings, guard, code)
        assert paused.value.key == "error.pass_checks_limited" and "分钟" in paused.value.text()
        # another guard is not paused by guard1's mistakes
        assert visitors.verify_code(s, clock, settings, staff(s, "guard2"), code).status == visitors.ARRIVED
    lines = [r.getMessage() for r in caplog.records if r.name == "guanjia.visitors"]
    checks = [line for line in lines if line.startswith("gate check by")]
    assert len(checks) == len(wrong) + 1  # guard1's wrong codes and guard2's admission
    assert sum("paused" in line for line in lines) == 1
    assert not any(attempt in line for attempt in [*wrong, code] for line in lines)  # codes are masked in the log
    clock.advance(minutes=11)
    _, fresh, _ = new_pass(session_factory, clock, settings, demo)
    with session_factory() as s:
        assert visitors.verify_code(s, clock, settings, staff(s, "guard1"), fresh).status == visitors.ARRIVED


def test_checks_per_minute_are_limited(session_factory, clock, settings, demo):
    _, code, _ = new_pass(session_factory, clock, settings, demo)
    with session_factory() as s:
        guard = staff(s, "guard1")
        for _ in range(visitors.CHECKS_PER_MINUTE):
            visitors._GATE.admit(guard.id, clock.now())
        with pytest.raises(IllegalMove) as limited:
            visitors.verify_code(s, clock, settings, guard, code)
        assert limited.value.key == "error.pass_checks_limited"
        clock.advance(seconds=61)
        assert visitors.verify_code(s, clock, settings, guard, code).status == visitors.ARRIVED
