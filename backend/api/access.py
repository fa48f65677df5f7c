"""Who may see and change what: roles, departments and the privacy of phone numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from backend.errors import Forbidden, NotFound
from backend.models import Staff
from backend.services import permissions
from backend.services.actor import Actor
from backend.services.permissions import Perm

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """The caller: the operator holding the admin token, or one staff member."""

    staff: Staff | None = None

    @property
    def is_admin(self) -> bool:
        return self.staff is None

    def sees(self, community_id: int) -> bool:
        return self.is_admin or self.staff.community_id == community_id  # type: ignore[union-attr]

    def visible(self, obj: T | None, what: str) -> T:
        """The record if the caller may see it; 404, not 403, for another community's, so existence does not leak."""
        if obj is None or not self.sees(obj.community_id):  # type: ignore[attr-defined]
            raise NotFound(what)
        return obj

    def actor(self, community_id: int) -> Actor:
        return Actor.of_staff(self.staff) if self.staff is not None else Actor.system(community_id)

    def may(self, perm: Perm, target: permissions.Target) -> bool:
        """The operator may do anything; staff what the permission matrix grants them."""
        return self.staff is None or permissions.allowed(self.staff, perm, target)

    def may_here(self, perm: Perm) -> bool:
        """`perm` anywhere in the caller's own community (admin: anywhere)."""
        return self.staff is None or self.may(perm, permissions.community(self.staff.community_id))

    @property
    def sees_phones(self) -> bool:
        """Full phone numbers: admin, managers, supervisors and customer service; others see them masked."""
        return self.may_here(Perm.PHONES_SEE)

    @property
    def keeps_records(self) -> bool:
        """Owner records (buildings, households, residents) are kept by customer service and managers."""
        return self.may_here(Perm.RECORDS_WRITE)

    @property
    def manages_staff(self) -> bool:
        return self.may_here(Perm.STAFF_MANAGE)

    @property
    def edits_community(self) -> bool:
        return self.may_here(Perm.COMMUNITY_EDIT)

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise Forbidden()


def mask_phone(phone: str) -> str:
    """138****1502: enough to recognise a number, not to call it."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def shown_phone(principal: Principal, phone: str) -> str:
    return phone if principal.sees_phones or not phone else mask_phone(phone)
