"""Building and household schemas; registered phones are personal data (see access.shown_phone)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from backend.api.schemas.common import Id, Input, Name, Output, Phone, Text50

ShortCode = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$")]
Area = Annotated[Decimal, Field(gt=0, lt=100000, max_digits=10, decimal_places=2)]


class BuildingCreate(Input):
    code: ShortCode
    name: Name
    steward_id: Id | None = None


class BuildingUpdate(Input):
    name: Name | None = None
    steward_id: Id | None = None


class BuildingPublic(Output):
    id: int
    community_id: int
    code: str
    name: str
    steward_id: int | None


class PhoneIn(Input):
    phone: Phone
    holder_name: Text50 = ""


class PhonePublic(Output):
    phone: str
    holder_name: str


class HouseholdCreate(Input):
    building_id: Id
    unit: ShortCode
    room: ShortCode
    floor: Annotated[int, Field(ge=-10, le=200)]
    area_m2: Area
    label: Text50 = ""
    phones: Annotated[list[PhoneIn], Field(max_length=20)] = []


class HouseholdUpdate(Input):
    area_m2: Area | None = None
    label: Name | None = None
    phones: Annotated[list[PhoneIn], Field(max_length=20)] | None = Field(
        None, description="Replaces the registered phones")


class HouseholdPublic(Output):
    id: int
    community_id: int
    building_id: int
    unit: str
    room: str
    floor: int
    area_m2: Decimal
    label: str
    phones: list[PhonePublic]
