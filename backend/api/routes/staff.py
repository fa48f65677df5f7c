"""Staff of a community, and their REST API tokens."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal
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
from backend.api.schemas.common import Page
from backend.api.schemas.staff import StaffCreate, StaffPublic, StaffUpdate, TokenCreate, TokenIssued
from backend.domain import Department
from backend.models import Staff
from backend.services.api_tokens import issue_token

router = APIRouter(prefix="/staff", tags=["staff"])


def _public(s: Staff) -> StaffPublic:
    return StaffPublic.model_validate(s, from_attributes=True)


def _load(session: Session, principal: Principal, staff_id: int) -> Staff:
    return principal.visible(session.get(Staff, staff_id), "员工")


@router.get("", response_model=Page[StaffPublic])
def list_staff(
    session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
    department: Department | None = None, active: bool | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Page[StaffPublic]:
    query = select(Staff)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(Staff.community_id == community_id)
    if department is not None:
        query = query.where(Staff.department == department)
    if active is not None:
        query = query.where(Staff.active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Staff.community_id, Staff.id).limit(limit).offset(offset))
    return Page(items=[_public(s) for s in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=StaffPublic, status_code=status.HTTP_201_CREATED)
def create_staff(
    body: StaffCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    community: CommunityQuery = None,
) -> StaffPublic:
    """Project manager of the community, or admin (with ?community=CODE)."""
    principal.require(principal.manages_staff)
    community_id = community_target(session, principal, community)
    staff = Staff(community_id=community_id, login=body.login, name=body.name, role=body.role,
                  department=body.department, phone=body.phone or "", on_duty=body.on_duty, active=True,
                  created_at=clock.now())
    session.add(staff)
    session.flush()
    return _public(staff)


@router.get("/{staff_id}", response_model=StaffPublic)
def get_staff(staff_id: IdPath, session: SessionDep, principal: PrincipalDep) -> StaffPublic:
    return _public(_load(session, principal, staff_id))


@router.patch("/{staff_id}", response_model=StaffPublic)
def update_staff(staff_id: IdPath, body: StaffUpdate, session: SessionDep, principal: PrincipalDep) -> StaffPublic:
    staff = _load(session, principal, staff_id)
    principal.require(principal.manages_staff)
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(staff, key, value)
    session.flush()
    return _public(staff)


@router.post("/{staff_id}/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def create_token(
    staff_id: IdPath, body: TokenCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
) -> TokenIssued:
    """A new API token for this staff member, shown only in this response. By themselves, a manager or admin."""
    staff = _load(session, principal, staff_id)
    principal.require(principal.manages_staff or principal.staff is staff)
    principal.require(staff.active)
    token = issue_token(session, staff, clock, label=body.label)
    return TokenIssued(staff_id=staff.id, label=body.label, token=token)
