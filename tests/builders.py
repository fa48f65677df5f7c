"""Small, explicit test communities (independent of the demo seeder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.domain import Department, Role
from backend.models import Building, Community, Household, HouseholdPhone, Resident, Staff, Unit
from backend.services.categories import seed_categories
from backend.settings import Settings


@dataclass
class World:
    community: Community
    staff: dict[str, Staff] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)


STAFF = [
    ("manager", "项目经理", Role.MANAGER, Department.MANAGEMENT),
    ("cs-lead", "客服主管", Role.SUPERVISOR, Department.CUSTOMER_SERVICE),
    ("cs1", "客服一", Role.AGENT, Department.CUSTOMER_SERVICE),
    ("eng-lead", "工程主管", Role.SUPERVISOR, Department.ENGINEERING),
    ("tech1", "技工一", Role.AGENT, Department.ENGINEERING),
    ("tech2", "技工二", Role.AGENT, Department.ENGINEERING),
    ("sec-lead", "安保主管", Role.SUPERVISOR, Department.SECURITY),
    ("guard1", "保安一", Role.AGENT, Department.SECURITY),
]


def build_world(session: Session, clock: Clock, settings: Settings, code: str = "t1") -> World:
    now = clock.now()
    community = Community(code=code, name=f"测试{code}", created_at=now)
    session.add(community)
    session.flush()
    world = World(community)
    for login, name, role, dept in STAFF:
        staff = Staff(community_id=community.id, login=login, name=name, role=role, department=dept,
                      phone="1380000" + f"{len(world.staff):04d}", created_at=now)
        session.add(staff)
        world.staff[login] = staff
    session.flush()
    for bcode in ("1", "2"):
        building = Building(community_id=community.id, code=bcode, name=f"{bcode}号楼",
                            steward_id=world.staff["cs1"].id if bcode == "1" else None)
        session.add(building)
        session.flush()
        world.buildings[bcode] = building
        unit = Unit(community_id=community.id, building_id=building.id, code="1")
        session.add(unit)
        session.flush()
        household = Household(community_id=community.id, building_id=building.id, unit_id=unit.id, room="0101",
                              floor=1, area_m2=Decimal("98"), label=f"{bcode}-1-0101")
        session.add(household)
        session.flush()
        session.add(HouseholdPhone(community_id=community.id, household_id=household.id,
                                   phone=f"139000{bcode}10101"))
        world.households[bcode] = household
        resident = Resident(community_id=community.id, household_id=household.id, name=f"住户{bcode}",
                            phone=f"139000{bcode}10101", bound_at=now, created_at=now)
        session.add(resident)
        world.residents[bcode] = resident
    session.flush()
    seed_categories(session, community.id, settings)
    session.commit()
    return world
