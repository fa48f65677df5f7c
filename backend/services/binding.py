"""Binding a resident to a household: at once when the phone is registered, else by approval."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.domain import Department
from backend.errors import IllegalMove, NotFound
from backend.models import BindRequest, Building, Household, HouseholdPhone, Resident, Staff, Unit
from backend.services import outbox, permissions
from backend.services.outbox import Recipient
from backend.services.permissions import Perm


@dataclass(frozen=True)
class BindResult:
    bound: bool
    household: Household
    request: BindRequest | None = None


def normalise_room(room: str) -> str:
    digits = re.sub(r"\D", "", room or "")
    return digits.zfill(4) if 0 < len(digits) < 4 else digits


def find_household(session: Session, community_id: int, building: str, unit: str, room: str) -> Household | None:
    return session.scalar(
        select(Household)
        .join(Building, Building.id == Household.building_id)
        .join(Unit, Unit.id == Household.unit_id)
        .where(
            Household.community_id == community_id,
            Building.code == str(building).upper(),
            Unit.code == str(unit),
            Household.room == normalise_room(room),
        )
    )


def phone_registered(session: Session, household: Household, phone: str) -> bool:
    return session.scalar(select(HouseholdPhone.id).where(
        HouseholdPhone.household_id == household.id, HouseholdPhone.phone == phone)) is not None


def bind(session: Session, clock: Clock, resident: Resident, household: Household, phone: str,
         name: str = "") -> BindResult:
    """Bind at once when `phone` is registered for the household; otherwise ask customer service."""
    if household.community_id != resident.community_id:
        raise NotFound("房屋")
    if phone_registered(session, household, phone):
        resident.household_id, resident.phone, resident.bound_at = household.id, phone, clock.now()
        if name:
            resident.name = name[:50]
        return BindResult(True, household)
    pending = session.scalar(select(BindRequest).where(
        BindRequest.resident_id == resident.id, BindRequest.household_id == household.id,
        BindRequest.status == "pending"))
    if pending is None:
        pending = BindRequest(community_id=resident.community_id, resident_id=resident.id, household_id=household.id,
                              phone=phone, name=name[:50], status="pending", created_at=clock.now())
        session.add(pending)
        session.flush()
        outbox.enqueue(session, clock, resident.community_id, Recipient.dept(Department.CUSTOMER_SERVICE),
                       "bind.request_staff", {"request_id": pending.id, "household": household.label,
                                              "phone": mask_phone(phone), "name": name or "—"})
    return BindResult(False, household, pending)


def decide(session: Session, clock: Clock, staff: Staff, request_id: int, approve: bool) -> BindRequest:
    request = session.get(BindRequest, request_id, with_for_update=True)
    if request is None or request.community_id != staff.community_id:
        raise NotFound("绑定申请")
    # Only customer service and the project manager decide who lives where (they see the household's arrears).
    permissions.require(staff, Perm.BINDING_DECIDE, permissions.of_bind_request(session, request))
    if request.status != "pending":
        raise IllegalMove("bind.already_decided", status=request.status)
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = staff.id, clock.now()
    household = session.get(Household, request.household_id)
    assert household is not None
    if approve:
        resident = session.get(Resident, request.resident_id)
        assert resident is not None
        resident.household_id, resident.bound_at = household.id, clock.now()
        if request.phone:
            resident.phone = request.phone
    outbox.enqueue(session, clock, request.community_id, Recipient.resident(request.resident_id),
                   "bind.approved" if approve else "bind.rejected", {"household": household.label})
    return request


def unbind(resident: Resident) -> None:
    resident.household_id, resident.bound_at = None, None


def mask_phone(phone: str) -> str:
    """138****1502: enough to recognise, not enough to misuse."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else "****"
