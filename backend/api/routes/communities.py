"""Communities: admin lists and creates them; staff see only their own."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from backend.api.deps import ClockDep, PrincipalDep, SessionDep, SettingsDep
from backend.api.schemas.communities import CommunityCreate, CommunityPublic, CommunityUpdate
from backend.errors import NotFound
from backend.models import Community
from backend.services.categories import seed_categories

router = APIRouter(prefix="/communities", tags=["communities"])


def _load(session: SessionDep, principal: PrincipalDep, code: str) -> Community:
    community = session.scalar(select(Community).where(Community.code == code))
    if community is None or not principal.sees(community.id):
        raise NotFound("小区")
    return community


@router.get("", response_model=list[CommunityPublic])
def list_communities(session: SessionDep, principal: PrincipalDep) -> list[CommunityPublic]:
    query = select(Community).order_by(Community.code)
    if principal.staff is not None:
        query = query.where(Community.id == principal.staff.community_id)
    return [CommunityPublic.model_validate(c, from_attributes=True) for c in session.scalars(query)]


@router.post("", response_model=CommunityPublic, status_code=status.HTTP_201_CREATED)
def create_community(
    body: CommunityCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
) -> CommunityPublic:
    """Admin only. The community starts with the default ticket categories."""
    principal.require(principal.is_admin)
    community = Community(**body.model_dump(), created_at=clock.now())
    session.add(community)
    session.flush()
    seed_categories(session, community.id, settings)
    return CommunityPublic.model_validate(community, from_attributes=True)


@router.get("/{code}", response_model=CommunityPublic)
def get_community(code: str, session: SessionDep, principal: PrincipalDep) -> CommunityPublic:
    return CommunityPublic.model_validate(_load(session, principal, code), from_attributes=True)


@router.patch("/{code}", response_model=CommunityPublic)
def update_community(code: str, body: CommunityUpdate, session: SessionDep, principal: PrincipalDep) -> CommunityPublic:
    community = _load(session, principal, code)
    principal.require(principal.edits_community)
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(community, key, value)
    session.flush()
    return CommunityPublic.model_validate(community, from_attributes=True)

