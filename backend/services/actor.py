"""Who is acting: a resident, a staff member, or the system (sweeper, imports)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.models import Resident, Staff


@dataclass(frozen=True)
class Actor:
    type: str  # resident | staff | system
    community_id: int
    staff: Staff | None = None
    resident: Resident | None = None

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff.community_id, staff=staff)

    @classmethod
    def of_resident(cls, resident: Resident) -> Actor:
        return cls("resident", resident.community_id, resident=resident)

    @classmethod
    def system(cls, community_id: int) -> Actor:
        return cls("system", community_id)

    @property
    def staff_id(self) -> int | None:
        return self.staff.id if self.staff else None

    @property
    def resident_id(self) -> int | None:
        return self.resident.id if self.resident else None
