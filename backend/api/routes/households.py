"""Households (rooms) and the phone numbers the office registered for them."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal, shown_phone
from backend.api.deps import CommunityQuery, IdPath, Limit, Offset, PrincipalDep, SessionDep, community_filter
from backend.api.routes.buildings import load_building
from backend.api.schemas.common import Id, Page
from backend.api.schemas.places import HouseholdCreate, HouseholdPublic, HouseholdUpdate, PhoneIn, PhonePublic
from backend.models import Household, HouseholdPhone, Unit

router = APIRouter(prefix="/households", tags=["households"])


def load_household(session: Session, principal: Principal, household_id: int) -> Household:
    return principal.visible(session.get(Household, household_id), "房屋")


def _public(session: Session, principal: Principal, h: Household) -> HouseholdPublic:
    unit = session.get(Unit, h.unit_id)
    phones = [PhonePublic(phone=shown_phone(principal, p.phone), holder_name=p.holder_name) for p in h.phones]
    return HouseholdPublic(
        id=h.id, community_id=h.community_id, building_id=h.building_id, unit=unit.code if unit else "",
        room=h.room, floor=h.floor, area_m2=h.area_m2, label=h.label, phones=phones,
    )


def _unit(session: Session, community_id: int, building_id: int, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.building_id == building_id, Unit.code == code))
    if unit is None:
        unit = Unit(community_id=community_id, building_id=building_id, code=code)
        session.add(unit)
        session.flush()
    return unit


def _set_phones(household: Household, phones: list[PhoneIn]) -> None:
    """Replace the registered phones, keeping rows for numbers that stay (the pair is unique)."""
    wanted = {p.phone: p for p in phones}  # the same number twice is one registration
    kept = [row for row in household.phones if row.phone in wanted]
    for row in kept:
        row.holder_name = wanted.pop(row.phone).holder_name
    household.phones = kept + [
        HouseholdPhone(community_id=household.community_id, phone=p.phone, holder_name=p.holder_name)
        for p in wanted.values()
    ]


@router.get("", response_model=Page[HouseholdPublic])
def list_households(
    session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
    building_id: Id | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Page[HouseholdPublic]:
    query = select(Household)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(Household.community_id == community_id)
    if building_id is not None:
        query = query.where(Household.building_id == load_building(session, principal, building_id).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Household.community_id, Household.label).limit(limit).offset(offset))
    return Page(items=[_public(session, principal, h) for h in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=HouseholdPublic, status_code=status.HTTP_201_CREATED)
def create_household(body: HouseholdCreate, session: SessionDep, principal: PrincipalDep) -> HouseholdPublic:
    """The building decides the community; admin and staff alike name it by id."""
    principal.require(principal.keeps_records)
    building = load_building(session, principal, body.building_id)
    unit = _unit(session, building.community_id, building.id, body.unit)
    household = Household(
        community_id=building.community_id, building_id=building.id, unit_id=unit.id, room=body.room,
        floor=body.floor, area_m2=body.area_m2, label=body.label or f"{building.code}-{unit.code}-{body.room}",
    )
    _set_phones(household, body.phones)
    session.add(household)
    session.flush()
    return _public(session, principal, household)


@router.get("/{household_id}", response_model=HouseholdPublic)
def get_household(household_id: IdPath, session: SessionDep, principal: PrincipalDep) -> HouseholdPublic:
    return _public(session, principal, load_household(session, principal, household_id))


@router.patch("/{household_id}", response_model=HouseholdPublic)
def update_household(
    household_id: IdPath, body: HouseholdUpdate, session: SessionDep, principal: PrincipalDep,
) -> HouseholdPublic:
    household = load_household(session, principal, household_id)
    principal.require(principal.keeps_records)
    if body.area_m2 is not None:
        household.area_m2 = body.area_m2
    if body.label is not None:
        household.label = body.label
    if body.phones is not None:
        _set_phones(household, body.phones)
    session.flush()
    return _public(session, principal, household)
