"""GET /api/kpi's answer: the dashboard's figures (backend/services/kpi.py), described for /docs."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from backend.api.schemas.common import Output, UtcDatetime


class OnTimeOut(Output):
    on_time: int
    late: int
    pending: int = Field(description="Deadline not reached yet by unfinished work: counted in neither")
    share: float | None = Field(description="on_time / (on_time + late); null when nothing was decided")


class BucketOut(Output):
    label: str
    count: int


class EmergencyOut(Output):
    total: int
    respond_limit_minutes: int
    resolve_limit_minutes: int
    respond: OnTimeOut
    resolve: OnTimeOut
    respond_histogram: list[BucketOut]
    resolve_histogram: list[BucketOut]


class CategoryOut(Output):
    code: str
    name_zh: str
    name_en: str
    kind: str
    respond_minutes: int
    resolve_minutes: int
    total: int
    respond: OnTimeOut
    resolve: OnTimeOut


class NowTicketOut(Output):
    community: str
    number: int
    kind: str
    category: str
    building: str
    status: str
    deadline: str = Field(description="respond | resolve")
    due_at: UtcDatetime
    escalation_level: int
    owner: str


class NowOut(Output):
    open: int
    overdue: int
    escalated: int
    tickets: list[NowTicketOut]


class AreaOut(Output):
    area: str = Field(description="safety | environment | community")
    rated: int
    satisfied: int = Field(description="Rated 4 or 5")
    target: float
    share: float | None
    met: bool | None


class CountOut(Output):
    key: str
    label: str
    total: int
    emergencies: int


class StaffOut(Output):
    staff_id: int
    login: str
    name: str
    community: str
    department: str
    handled: int = Field(description="Tickets of the period this person holds (accepted)")
    resolved: int
    open_now: int
    avg_accept_minutes: float | None
    respond: OnTimeOut


class KpiOut(Output):
    communities: list[str]
    first: date
    last: date
    tz: str
    generated_at: UtcDatetime
    total: int
    cancelled: int
    other_respond: OnTimeOut
    other_resolve: OnTimeOut
    emergency: EmergencyOut
    categories: list[CategoryOut]
    now: NowOut
    satisfaction: list[AreaOut]
    by_category: list[CountOut]
    by_building: list[CountOut]
    by_week: list[CountOut]
    staff: list[StaffOut]
