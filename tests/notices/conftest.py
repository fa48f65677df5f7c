"""A small community to send notices in: who is reachable on which channel, who owes, who signed up.

Building 1: 1-1-0101 (floor 1, 住户1: WeChat and web chat, signed up to the event),
1-2-0502 (floor 5, 五楼: Telegram, on the event's waiting list), 1-2-0601 (floor 6, 六楼: blocked the bot on
Telegram, withdrew from the event).
Building 2: 2-1-0101 (floor 1, 住户2: never bound a chat account, owes a bill).
Another community `t2` has its own resident. Owners' group on Telegram, security's group on WeCom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.models import (
    Bill,
    ChatIdentity,
    CommunityEvent,
    EventSignup,
    GroupChat,
    Household,
    Resident,
    Unit,
)
from backend.services.api_tokens import issue_token
from bot.app import create_app
from tests.builders import World, build_world

ADMIN = {"Authorization": "Bearer test-admin-token"}


@dataclass
class NoticeWorld:
    world: World
    other: World
    event_id: int
    tokens: dict[str, str]

    @property
    def community_id(self) -> int:
        return self.world.community.id

    def rid(self, key: str) -> int:
        return self.world.residents[key].id

    def auth(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[login]}"}


def _identity(s, cid: int, channel: str, external: str, resident_id: int, now, unreachable: bool = False) -> None:
    s.add(ChatIdentity(community_id=cid, channel=channel, external_id=external, resident_id=resident_id,
                       unreachable=unreachable, created_at=now))


@pytest.fixture
def nw(session_factory, clock, settings) -> NoticeWorld:
    with session_factory() as s:
        world = build_world(s, clock, settings, code="t1")
        other = build_world(s, clock, settings, code="t2")
        cid, now = world.community.id, clock.now()
        b1 = world.buildings["1"]
        unit2 = Unit(community_id=cid, building_id=b1.id, code="2")
        s.add(unit2)
        s.flush()
        for room, floor, key in (("0502", 5, "五楼"), ("0601", 6, "六楼")):
            household = Household(community_id=cid, building_id=b1.id, unit_id=unit2.id, room=room, floor=floor,
                                  area_m2=Decimal("90"), label=f"1-2-{room}")
            s.add(household)
            s.flush()
            resident = Resident(community_id=cid, household_id=household.id, name=key, phone="", bound_at=now,
                                created_at=now)
            s.add(resident)
            s.flush()
            world.households[key], world.residents[key] = household, resident
        # A chat visitor who never bound a home (no chat account left either): only in the whole community.
        visitor = Resident(community_id=cid, name="路人", created_at=now)
        s.add(visitor)
        s.flush()
        world.residents["路人"] = visitor
        _identity(s, cid, "wechat", "wx-1", world.residents["1"].id, now)
        _identity(s, cid, "web", "web-1", world.residents["1"].id, now)
        _identity(s, cid, "telegram", "501", world.residents["五楼"].id, now)
        _identity(s, cid, "telegram", "601", world.residents["六楼"].id, now, unreachable=True)
        s.add(Bill(community_id=cid, household_id=world.households["2"].id, fee_type="property", period="2026-10",
                   quantity=Decimal("98"), unit_price=Decimal("2.8"), amount=Decimal("274.40"),
                   paid_amount=Decimal("0"), due_date=now - timedelta(days=20), created_at=now))
        s.add(Bill(community_id=cid, household_id=world.households["1"].id, fee_type="property", period="2026-10",
                   quantity=Decimal("98"), unit_price=Decimal("2.8"), amount=Decimal("274.40"),
                   paid_amount=Decimal("274.40"), due_date=now - timedelta(days=20), created_at=now))
        event = CommunityEvent(community_id=cid, title="亲子运动会", starts_at=now + timedelta(days=3),
                               created_at=now)
        s.add(event)
        s.flush()
        s.add(EventSignup(community_id=cid, event_id=event.id, resident_id=world.residents["1"].id,
                          created_at=now, updated_at=now))
        s.add(EventSignup(community_id=cid, event_id=event.id, resident_id=world.residents["五楼"].id,
                          status="waiting", created_at=now, updated_at=now))
        s.add(EventSignup(community_id=cid, event_id=event.id, resident_id=world.residents["六楼"].id,
                          status="withdrawn", created_at=now, updated_at=now))
        s.add(GroupChat(community_id=cid, channel="telegram", chat_id="-1001", purpose="owners", title="业主群",
                        created_at=now))
        s.add(GroupChat(community_id=cid, channel="wecom", chat_id="sec-room", purpose="department",
                        department="security", title="秩序部群", created_at=now))
        s.add(GroupChat(community_id=other.community.id, channel="telegram", chat_id="-2002", purpose="owners",
                        title="别家业主群", created_at=now))
        tokens = {login: issue_token(s, staff, clock, label="t") for login, staff in world.staff.items()}
        tokens["other-manager"] = issue_token(s, other.staff["manager"], clock, label="t")
        s.commit()
        return NoticeWorld(world, other, event.id, tokens)


@pytest.fixture
def client(settings, clock, session_factory, nw):
    with TestClient(create_app(settings, clock=clock, session_factory=session_factory)) as c:
        yield c
