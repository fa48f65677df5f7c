"""Residents: staff of the community see them; the phone is masked for those who do not need it."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal, shown_phone
from backend.api.deps import (
    ClockDep,
    CommunityQuery,
    IdPath,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    community_filter,
    community_target,
)
from backend.api.routes.households import load_household
from backend.api.schemas.common import Id, Page
from backend.api.schemas.residents import ResidentCreate, ResidentPublic, ResidentUpdate
from backend.errors import NotFound
from backend.models import Resident

router = APIRouter(prefix="/residents", tags=["residents"])


def _public(principal: Principal, r: Resident) -> ResidentPublic:
    phone = shown_phone(principal, r.phone)
    return ResidentPublic(
        id=r.id, community_id=r.community_id, household_id=r.household_id, name=r.name, phone=phone,
        phone_masked=phone != r.phone, relation=r.relation, language=r.language, bound_at=r.bound_at,
        created_at=r.created_at,
    )


def _load(session: Session, principal: Principal, resident_id: int) -> Resident:
    return principal.visible(session.get(Resident, resident_id), "住户")


def _household_in(session: Session, principal: Principal, community_id: int, household_id: int) -> int:
    household = load_household(session, principal, household_id)
    if household.community_id != community_id:  # admin naming a room of another community
        raise NotFound("房屋")
    return household.id


@router.get("", response_model=Page[ResidentPublic])
def list_residents(
    session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
    household_id: Id | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Page[ResidentPublic]:
    query = select(Resident)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(Resident.community_id == community_id)
    if household_id is not None:
        query = query.where(Resident.household_id == load_household(session, principal, household_id).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Resident.id).limit(limit).offset(offset))
    return Page(items=[_public(principal, r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=ResidentPublic, status_code=status.HTTP_201_CREATED)
def create_resident(
    body: ResidentCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    community: CommunityQuery = None,
) -> ResidentPublic:
    principal.require(principal.keeps_records)
    community_id = community_target(session, principal, community)
    resident = Resident(
        community_id=community_id, name=body.name, phone=body.phone, relation=body.relation,
        language=body.language, created_at=clock.now(),
        household_id=_household_in(session, principal, community_id, body.household_id)
        if body.household_id is not None else None,
    )
    session.add(resident)
    session.flush()
    return _public(principal, resident)


@router.get("/{resident_id}", response_model=ResidentPublic)
def get_resident(resident_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ResidentPublic:
    return _public(principal, _load(session, principal, resident_id))


@router.patch("/{resident_id}", response_model=ResidentPublic)
def update_resident(
    resident_id: IdPath, body: ResidentUpdate, session: SessionDep, principal: PrincipalDep,
) -> ResidentPublic:
    resident = _load(session, principal, resident_id)
    principal.require(principal.keeps_records)
    changes = body.model_dump(exclude_unset=True)
    if "household_id" in changes:  # null moves the resident out
        hid = changes.pop("household_id")
        resident.household_id = _household_in(session, principal, resident.community_id, hid) if hid else None
    for key, value in changes.items():
        if value is not None:
            setattr(resident, key, value)
    session.flush()
    return _public(principal, resident)
