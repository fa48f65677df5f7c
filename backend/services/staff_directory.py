"""Looking up staff by duty: supervisors, project managers, on-duty people of a department."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain import Department, Role
from backend.models import Staff


def supervisors(session: Session, community_id: int, department: str) -> list[Staff]:
    rows = session.scalars(
        select(Staff).where(
            Staff.community_id == community_id, Staff.department == department,
            Staff.role == Role.SUPERVISOR, Staff.active.is_(True),
        ).order_by(Staff.id)
    )
    return list(rows)


def managers(session: Session, community_id: int) -> list[Staff]:
    rows = session.scalars(
        select(Staff).where(
            Staff.community_id == community_id, Staff.role == Role.MANAGER, Staff.active.is_(True)
        ).order_by(Staff.id)
    )
    return list(rows)


def on_duty(session: Session, community_id: int, department: str) -> list[Staff]:
    rows = session.scalars(
        select(Staff).where(
            Staff.community_id == community_id, Staff.department == department,
            Staff.active.is_(True), Staff.on_duty.is_(True),
        ).order_by(Staff.id)
    )
    return list(rows)


def supervisors_or_managers(session: Session, community_id: int, department: str) -> list[Staff]:
    """The supervisors of a department; the project managers when it has none."""
    if department != Department.MANAGEMENT:
        found = supervisors(session, community_id, department)
        if found:
            return found
    return managers(session, community_id)


def can_supervise(staff: Staff, department: str) -> bool:
    return staff.role == Role.MANAGER or (staff.role == Role.SUPERVISOR and staff.department == department)
