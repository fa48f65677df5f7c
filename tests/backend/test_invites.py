"""Invite codes bind a staff chat account once; API tokens authenticate a staff member."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import FrozenClock
from backend.models import ApiToken, ChatIdentity, Community, InviteCode, Resident, Staff
from backend.services.api_tokens import hash_token, issue_token, revoke_token, staff_for_token
from backend.services.invites import CODE_ALPHABET, InviteError, create_invite, redeem_invite
from backend.settings import Settings


@pytest.fixture
def staff(session: Session, clock: FrozenClock) -> Staff:
    community = Community(code="c1", name="测试小区", created_at=clock.now())
    session.add(community)
    session.flush()
    member = Staff(community_id=community.id, login="cs1", name="张敏", role="agent",
                   department="customer_service", created_at=clock.now())  # fmt: skip
    session.add(member)
    session.commit()
    return member


def test_code_shape_and_storage(session: Session, staff: Staff, clock: FrozenClock, settings: Settings) -> None:
    code = create_invite(session, staff, clock, settings)
    session.commit()
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", code)
    assert not set(code) & set("0O1IL")
    row = session.scalars(select(InviteCode)).one()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert (row.expires_at - clock.now()).total_seconds() == settings.invite_code_ttl_hours * 3600


def test_redeem_creates_identity_once(session: Session, staff: Staff, clock: FrozenClock, settings: Settings) -> None:
    code = create_invite(session, staff, clock, settings)
    session.commit()
    got = redeem_invite(session, f" {code.lower()[:4]}-{code[4:]} ", "telegram", "4242", clock, display_name="Min")
    session.commit()
    assert got.id == staff.id
    identity = session.scalars(select(ChatIdentity)).one()
    assert (identity.channel, identity.external_id, identity.staff_id, identity.display_name) == (
        "telegram", "4242", staff.id, "Min",
    )  # fmt: skip
    assert session.scalars(select(InviteCode)).one().used_at == clock.now()

    with pytest.raises(InviteError) as err:
        redeem_invite(session, code, "telegram", "9999", clock)
    assert err.value.reason == "used"


def test_unknown_and_expired(session: Session, staff: Staff, clock: FrozenClock, settings: Settings) -> None:
    with pytest.raises(InviteError) as err:
        redeem_invite(session, "ABCDEFGH", "web", "w1", clock)
    assert err.value.reason == "unknown"

    code = create_invite(session, staff, clock, settings)
    session.commit()
    clock.advance(hours=settings.invite_code_ttl_hours, seconds=1)
    with pytest.raises(InviteError) as err:
        redeem_invite(session, code, "web", "w1", clock)
    assert err.value.reason == "expired"
    assert session.scalars(select(ChatIdentity)).all() == []


def test_redeem_turns_a_resident_account_into_staff(
    session: Session, staff: Staff, clock: FrozenClock, settings: Settings
) -> None:
    resident = Resident(community_id=staff.community_id, name="张敏", created_at=clock.now())
    session.add(resident)
    session.flush()
    session.add(ChatIdentity(community_id=staff.community_id, channel="wechat", external_id="o1",
                             resident_id=resident.id, created_at=clock.now()))  # fmt: skip
    code = create_invite(session, staff, clock, settings)
    session.commit()
    redeem_invite(session, code, "wechat", "o1", clock)
    session.commit()
    identity = session.scalars(select(ChatIdentity)).one()
    assert (identity.staff_id, identity.resident_id) == (staff.id, None)


def test_api_tokens(session: Session, staff: Staff, clock: FrozenClock) -> None:
    token = issue_token(session, staff, clock, label="console")
    session.commit()
    row = session.scalars(select(ApiToken)).one()
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert staff_for_token(session, token).id == staff.id
    assert staff_for_token(session, token + "x") is None
    assert staff_for_token(session, "") is None

    staff.active = False
    session.commit()
    assert staff_for_token(session, token) is None
    staff.active = True
    assert revoke_token(session, token, clock)
    session.commit()
    assert staff_for_token(session, token) is None
