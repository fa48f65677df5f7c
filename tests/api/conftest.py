"""A small two-community world, a client for the real app, and bearer headers for its people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.domain import Department, Role
from backend.models import Building, Community, Household, HouseholdPhone, Resident, Staff, Unit
from backend.services.api_tokens import issue_token
from backend.services.categories import seed_categories
from bot.app import create_app

ADMIN = {"Authorization": "Bearer test-admin-token"}  # matches the `settings` fixture


@dataclass
class Place:
    community: Community
    building: Building
    household: Household
    resident: Resident
    staff: dict[str, Staff] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@dataclass
class World:
    a: Place
    b: Place


STAFF = {  # key: (name, role, department)
    "manager": ("王经理", Role.MANAGER, Department.MANAGEMENT),
    "eng_lead": ("赵主管", Role.SUPERVISOR, Department.ENGINEERING),
    "tech": ("李师傅", Role.AGENT, Department.ENGINEERING),
    "tech2": ("张师傅", Role.AGENT, Department.ENGINEERING),
    "cs": ("陈客服", Role.AGENT, Department.CUSTOMER_SERVICE),
}


def _place(session, clock, settings, code: str, name: str, phone_tail: str) -> Place:
    now = clock.now()
    community = Community(code=code, name=name, created_at=now)
    session.add(community)
    session.flush()
    seed_categories(session, community.id, settings)
    cid = community.id
    building = Building(community_id=cid, code="3", name="3号楼")
    session.add(building)
    session.flush()
    unit = Unit(community_id=cid, building_id=building.id, code="2")
    session.add(unit)
    session.flush()
    household = Household(community_id=cid, building_id=building.id, unit_id=unit.id, room="1502", floor=15,
                          area_m2=Decimal("98.50"), label="3-2-1502")
    household.phones = [HouseholdPhone(community_id=cid, phone=f"1380000{phone_tail}", holder_name="业主")]
    session.add(household)
    session.flush()
    resident = Resident(community_id=cid, household_id=household.id, name="刘女士", phone=f"1381234{phone_tail}",
                        relation="owner", created_at=now)
    session.add(resident)
    place = Place(community, building, household, resident)
    for key, (person, role, dept) in STAFF.items():
        staff = Staff(community_id=cid, login=f"{code}-{key}", name=person, role=role, department=dept,
                      phone="", created_at=now)
        session.add(staff)
        session.flush()
        place.staff[key] = staff
        place.tokens[key] = issue_token(session, staff, clock, label="test")
    return place


@pytest.fixture
def world(session_factory, clock, settings) -> World:
    with session_factory() as session, session.begin():
        world = World(a=_place(session, clock, settings, "a", "和谐家园", "1502"),
                      b=_place(session, clock, settings, "b", "幸福里", "2603"))
    return world


@pytest.fixture
def app(settings, clock, session_factory):
    return create_app(settings, clock=clock, session_factory=session_factory)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
