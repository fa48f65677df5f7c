"""Ticket schemas: what staff send to create and move a ticket, and what they see of it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from backend.api.schemas.common import Id, Input, Output, UtcDatetime, text
from backend.domain import Department, Kind

Description = text(4000, 1)
Note = text(2000)
NonEmptyNote = text(2000, 1)
Location = text(200)
PreferredTime = text(50)
Url = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^(https?://|/|media/)\S+$")]
CategoryCode = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[a-z_]+$")]


class TicketCreate(Input):
    kind: Kind
    description: Description
    category: CategoryCode | None = None
    household_id: Id | None = None
    building_id: Id | None = None
    reporter_id: Id | None = Field(None, description="The resident the ticket is registered for")
    location: Location = ""
    priority: Literal["normal", "high", "urgent"] | None = None
    preferred_time: PreferredTime = ""
    anonymous: bool = False
    photos: Annotated[list[Url], Field(max_length=10)] = []


class TransferIn(Input):
    to_staff_id: Id | None = None
    to_department: Department | None = None
    note: Note = ""

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if (self.to_staff_id is None) == (self.to_department is None):
            raise ValueError("give exactly one of to_staff_id or to_department")
        return self


class ResolveIn(Input):
    note: Note = ""
    photo_url: Url | None = None


class CloseIn(Input):
    note: Note = ""


class CancelIn(Input):
    reason: Note = ""


class NoteIn(Input):
    note: NonEmptyNote


class PhotoIn(Input):
    url: Url
    content_type: Annotated[str, Field(max_length=50, pattern=r"^[a-z]+/[a-z0-9.+-]+$")] = "image/jpeg"


class StaffRef(Output):
    id: int
    name: str
    department: str


class ReporterRef(Output):
    id: int
    name: str
    phone: str


class CategoryRef(Output):
    code: str
    name_zh: str
    name_en: str


class TicketPublic(Output):
    id: int
    community_id: int
    number: int
    kind: str
    category: CategoryRef
    department: str
    status: str
    status_zh: str
    priority: str
    household_id: int | None
    building_id: int | None
    reporter: ReporterRef | None = Field(description="Hidden when the resident reported anonymously")
    location: str
    description: str
    preferred_time: str
    anonymous: bool
    owner: StaffRef | None
    assignee: StaffRef | None
    overdue: bool
    escalation_level: int
    respond_due_at: UtcDatetime
    resolve_due_at: UtcDatetime
    accepted_at: UtcDatetime | None
    started_at: UtcDatetime | None
    resolved_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    rating: int | None
    rating_comment: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class EventPublic(Output):
    id: int
    at: UtcDatetime
    action: str
    actor_type: str
    actor: StaffRef | None
    from_status: str | None
    to_status: str | None
    note: str
    data: dict[str, Any]


class AttachmentPublic(Output):
    id: int
    kind: str
    url: str
    content_type: str
    event_id: int | None
    created_at: UtcDatetime


class TicketDetail(TicketPublic):
    events: list[EventPublic]
    attachments: list[AttachmentPublic]
