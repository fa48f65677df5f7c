"""Community schemas."""

from __future__ import annotations

from backend.api.schemas.common import Code, Input, Output, UtcDatetime, text

Label = text(100, 1)
Address = text(200)
Hotline = text(32)


class CommunityCreate(Input):
    code: Code
    name: Label
    hotline: Hotline = ""
    address: Address = ""


class CommunityUpdate(Input):
    name: Label | None = None
    hotline: Hotline | None = None
    address: Address | None = None


class CommunityPublic(Output):
    id: int
    code: str
    name: str
    hotline: str
    address: str
    created_at: UtcDatetime



