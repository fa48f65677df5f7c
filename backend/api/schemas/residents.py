"""Resident schemas; the phone number is masked for staff who do not need it."""

from __future__ import annotations

from typing import Literal

from backend.api.schemas.common import Id, Input, Name, Output, Phone, UtcDatetime

Relation = Literal["owner", "tenant", "family", ""]
Language = Literal["zh", "en"]


class ResidentCreate(Input):
    name: Name
    phone: Phone | Literal[""] = ""
    household_id: Id | None = None
    relation: Relation = ""
    language: Language = "zh"


class ResidentUpdate(Input):
    name: Name | None = None
    phone: Phone | Literal[""] | None = None
    household_id: Id | None = None
    relation: Relation | None = None
    language: Language | None = None


class ResidentPublic(Output):
    id: int
    community_id: int
    household_id: int | None
    name: str
    phone: str
    phone_masked: bool
    relation: str
    language: str
    bound_at: UtcDatetime | None
    created_at: UtcDatetime
