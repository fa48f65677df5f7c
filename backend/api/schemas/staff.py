"""Staff schemas and API token issue; the token is shown once and never stored in clear."""

from __future__ import annotations

from backend.api.schemas.common import Input, Name, Output, Phone, Text50, UtcDatetime
from backend.domain import Department, Role

Login = Name


class StaffCreate(Input):
    login: Login
    name: Name
    role: Role
    department: Department
    phone: Phone | None = None
    on_duty: bool = True


class StaffUpdate(Input):
    name: Name | None = None
    role: Role | None = None
    department: Department | None = None
    phone: Phone | None = None
    on_duty: bool | None = None
    active: bool | None = None


class StaffPublic(Output):
    id: int
    community_id: int
    login: str
    name: str
    role: str
    department: str
    phone: str
    on_duty: bool
    active: bool
    created_at: UtcDatetime


class TokenCreate(Input):
    label: Text50 = ""


class TokenIssued(Output):
    staff_id: int
    label: str
    token: str
    note: str = "Shown only once: store it now. / 令牌只显示这一次，请妥善保存。"
