"""Buildings of a community, and the steward (管家) who owns their residents' tickets."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal
from backend.api.deps import (
    CommunityQuery,
    IdPath,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    community_filter,
    community_target,
)
from backend.api.schemas.common import Page
from backend.api.schemas.places import BuildingCreate, BuildingPublic, BuildingUpdate
from backend.errors import NotFound
from backend.models import Building, Staff

router = APIRouter(prefix="/buildings", tags=["buildings"])


def _steward(session: Session, community_id: int, staff_id: int | None) -> int | None:
    if staff_id is None:
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or staff.community_id != community_id:
        raise NotFound("员工")
    return staff.id


def _public(b: Building) -> BuildingPublic:
    return BuildingPublic.model_validate(b, from_attributes=True)


def load_building(session: Session, principal: Principal, building_id: int) -> Building:
    return principal.visible(session.get(Building, building_id), "楼栋")


@router.get("", response_model=Page[BuildingPublic])
def list_buildings(
    session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
    limit: Limit = 100, offset: Offset = 0,
) -> Page[BuildingPublic]:
    query = select(Building)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Building.community_id, Building.code).limit(limit).offset(offset))
    return Page(items=[_public(b) for b in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=BuildingPublic, status_code=status.HTTP_201_CREATED)
def create_building(
    body: BuildingCreate, session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
) -> BuildingPublic:
    principal.require(principal.keeps_records)
    community_id = community_target(session, principal, community)
    building = Building(community_id=community_id, code=body.code, name=body.name,
                        steward_id=_steward(session, community_id, body.steward_id))
    session.add(building)
    session.flush()
    return _public(building)


@router.get("/{building_id}", response_model=BuildingPublic)
def get_building(building_id: IdPath, session: SessionDep, principal: PrincipalDep) -> BuildingPublic:
    return _public(load_building(session, principal, building_id))


@router.patch("/{building_id}", response_model=BuildingPublic)
def update_building(
    building_id: IdPath, body: BuildingUpdate, session: SessionDep, principal: PrincipalDep,
) -> BuildingPublic:
    building = load_building(session, principal, building_id)
    principal.require(principal.keeps_records)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        building.name = changes["name"]
    if "steward_id" in changes:  # null clears the steward
        building.steward_id = _steward(session, building.community_id, changes["steward_id"])
    session.flush()
    return _public(building)
