"""Notices: compose and schedule (the broadcast engine sends them), cancel, the delivery report and its export.

Images and attachments travel base64-encoded in the JSON body, within the API's 1 MB body cap; larger files
go through `guanjia notice send --image`.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field, field_validator

from backend.api.access import Principal
from backend.api.deps import (
    ClockDep,
    CommunityQuery,
    IdPath,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    community_filter,
    community_target,
)
from backend.api.schemas.common import Id, Input, Output, Page, UtcDatetime, text
from backend.errors import Invalid
from backend.models import Notice
from backend.services import notices
from backend.services.audience import normalise
from backend.services.permissions import Perm

router = APIRouter(prefix="/notices", tags=["notices"])

Category = Annotated[str, Field(pattern="^(outage|safety|fee|event|tip)$")]


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:  # 9999-12-31T23:00-05:00
        raise ValueError("time out of range") from exc


class FileIn(Input):
    filename: text(100, 1)  # type: ignore[valid-type]
    data_base64: str = Field(max_length=1_400_000)


class NoticeCreate(Input):
    title: text(notices.MAX_TITLE, 1)  # type: ignore[valid-type]
    # The schema allows more than the limit so the refusal can say by how much (notices.too_long_body).
    body: text(20_000, 1)  # type: ignore[valid-type]
    category: Category
    audience: dict[str, Any] = Field(description="see docs/notices.md: community, buildings, units, floors, "
                                                 "arrears, event_id, departments, groups")
    urgent: bool = False
    scheduled_at: datetime | None = Field(None, description="absent: now; naive means UTC")
    expires_at: datetime | None = None
    image: FileIn | None = None
    attachment: FileIn | None = None

    @field_validator("scheduled_at", "expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _naive_utc(value)


class AudienceCountOut(Output):
    residents: int
    muted: int
    reachable: int
    by_channel: dict[str, int]
    unreachable: dict[str, int]
    unreachable_total: int
    staff: int
    groups: dict[str, int]


class NoticePublic(Output):
    id: Id
    community_id: Id
    kind: str
    category: str
    title: str
    body: str
    has_image: bool
    has_attachment: bool
    urgent: bool
    audience: dict[str, Any]
    status: str
    scheduled_at: UtcDatetime | None
    expires_at: UtcDatetime | None
    created_by: int | None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    recipients: int
    page_url: str = Field(description="the notice's public read-only page (WeChat template messages link to it); "
                                      "served while the notice is live, 404/410 before and after")


class WeChatPlanOut(Output):
    parts: int = Field(description="customer-service messages a WeChat resident gets inside the 48-hour window")
    inside_window: str = Field(description="one_message | parts (numbered （1/N）, when the window has N sends left; "
                                           "else as outside)")
    outside_window: str = Field(description="template_link (a template message linking to page_url) | unreachable "
                                            "(no template configured for the notice's kind)")
    description: str
    description_en: str


class NoticeCreated(NoticePublic):
    preview: AudienceCountOut
    wechat_parts: int = Field(description="WeChat customer-service messages a resident inside the window gets: 1, or "
                                          "N numbered parts of at most 2048 bytes (the same cut the sender makes)")
    wechat: WeChatPlanOut = Field(description="what WeChat residents get, inside and outside the window")


class DeliveryRow(Output):
    recipient: str
    name: str
    place: str
    channel: str
    status: str
    via: str
    sent_at: UtcDatetime | None
    acked_at: UtcDatetime | None
    error: str
    resident_id: int | None
    staff_id: int | None
    group_id: int | None
    state: str = Field(description="the status as the office reads it, e.g. 已送达, 待群主确认, 群主已确认发送")


class DeliverySummary(Output):
    notice_id: Id
    status: str
    deliveries: int
    by_status: dict[str, int]
    sent_by_channel: dict[str, int]
    wechat_via: dict[str, int] = Field(description="WeChat rows sent, by how: customer_service (one message), "
                                                   "cs_parts (numbered parts), template (the page link), cs_link, "
                                                   "parts_link (some parts, then the link)")
    residents: int
    residents_reached: int
    acknowledged: int
    not_reached: int
    reasons: dict[str, int]
    awaiting_owner_confirm: int = Field(description="WeCom customer groups whose owner has not confirmed the send")


class DeliveryReport(Output):
    summary: DeliverySummary
    not_reached: list[DeliveryRow] = Field(description="residents nobody reached, with why (first 500)")
    groups: list[DeliveryRow] = Field(description="every group the notice went to, with its state and reason")
    items: list[DeliveryRow]
    total: int
    limit: int
    offset: int


def _public(notice: Notice, base_url: str) -> dict[str, Any]:
    return dict(
        page_url=notices.page_url(base_url, notice),
        id=notice.id, community_id=notice.community_id, kind=notice.kind, category=notice.category,
        title=notice.title, body=notice.body, has_image=bool(notice.image_path),
        has_attachment=bool(notice.attachment_path), urgent=notice.urgent, audience=notice.audience or {},
        status=notice.status, scheduled_at=notice.scheduled_at, expires_at=notice.expires_at,
        created_by=notice.created_by, created_at=notice.created_at, sent_at=notice.sent_at,
        recipients=notice.recipients,
    )


def _upload(file: FileIn | None) -> notices.Upload | None:
    if file is None:
        return None
    try:
        data = base64.b64decode(file.data_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("data_base64 is not base64") from exc
    return notices.Upload(file.filename, data)


def _load(session: SessionDep, principal: Principal, notice_id: int, perm: Perm) -> Notice:
    notice = principal.visible(session.get(Notice, notice_id), "通知")
    principal.require(principal.may_here(perm))
    return notice


@router.post("", response_model=NoticeCreated, status_code=status.HTTP_201_CREATED)
def create_notice(body: NoticeCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                  settings: SettingsDep, community: CommunityQuery = None) -> NoticeCreated:
    principal.require(principal.may_here(Perm.NOTICE_SEND))
    community_id = community_target(session, principal, community)
    draft = notices.Draft(title=body.title, body=body.body, category=body.category, audience=body.audience,
                          urgent=body.urgent, scheduled_at=body.scheduled_at, expires_at=body.expires_at,
                          image=_upload(body.image), attachment=_upload(body.attachment))
    notice, checked = notices.create(session, clock, community_id, draft,
                                     created_by=principal.staff.id if principal.staff else None,
                                     media_dir=settings.media_dir)
    return NoticeCreated(**_public(notice, settings.base_url), preview=AudienceCountOut(**checked.count.as_dict()),
                         wechat_parts=checked.wechat_parts,
                         wechat=WeChatPlanOut(**checked.wechat(settings.wechat_templates).as_dict()))


@router.get("", response_model=Page[NoticePublic])
def list_notices(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, community: CommunityQuery = None,
                 status_: Annotated[str | None, Query(alias="status", max_length=12)] = None,
                 limit: Limit = 50, offset: Offset = 0) -> Page[NoticePublic]:
    principal.require(principal.may_here(Perm.NOTICE_READ))
    community_id = community_filter(session, principal, community)
    rows, total = notices.listing(session, community_id, status=status_, limit=limit, offset=offset)
    return Page(items=[NoticePublic(**_public(n, settings.base_url)) for n in rows], total=total, limit=limit,
                offset=offset)


@router.get("/preview", response_model=AudienceCountOut)
def preview(session: SessionDep, principal: PrincipalDep, clock: ClockDep,
            audience: Annotated[str, Query(max_length=4000, description="the audience as JSON")],
            category: Annotated[str, Query(pattern="^(outage|safety|fee|event|tip)$")] = "safety",
            community: CommunityQuery = None) -> AudienceCountOut:
    """How many residents the audience reaches, on which channel, and how many cannot be reached and why."""
    principal.require(principal.may_here(Perm.NOTICE_SEND))
    community_id = community_target(session, principal, community)
    try:
        spec = json.loads(audience)
    except ValueError as exc:
        raise Invalid("audience is not JSON") from exc
    spec = normalise(spec)
    count = notices.audiences.count(session, community_id, spec, category, clock.now())
    return AudienceCountOut(**count.as_dict())


@router.get("/{notice_id}", response_model=NoticePublic)
def get_notice(notice_id: IdPath, session: SessionDep, principal: PrincipalDep, settings: SettingsDep) -> NoticePublic:
    return NoticePublic(**_public(_load(session, principal, notice_id, Perm.NOTICE_READ), settings.base_url))


@router.post("/{notice_id}/cancel", response_model=NoticePublic)
def cancel_notice(notice_id: IdPath, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
                  settings: SettingsDep) -> NoticePublic:
    notice = _load(session, principal, notice_id, Perm.NOTICE_SEND)
    return NoticePublic(**_public(notices.cancel(session, clock, notice), settings.base_url))


@router.get("/{notice_id}/deliveries", response_model=DeliveryReport)
def deliveries(notice_id: IdPath, session: SessionDep, principal: PrincipalDep,
               limit: Limit = 100, offset: Offset = 0) -> DeliveryReport:
    notice = _load(session, principal, notice_id, Perm.NOTICE_READ)
    rows = notices.record(session, notice)
    summary = notices.report(session, notice, rows)
    items = [DeliveryRow(**vars(r)) for r in rows[offset:offset + limit]]
    missed = [DeliveryRow(**vars(r)) for r in summary.not_reached[:500]]
    groups = [DeliveryRow(**vars(r)) for r in summary.groups]
    return DeliveryReport(summary=DeliverySummary(**summary.as_dict()), not_reached=missed, groups=groups,
                          items=items, total=len(rows), limit=limit, offset=offset)


@router.get("/{notice_id}/deliveries.csv")
def deliveries_csv(notice_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    notice = _load(session, principal, notice_id, Perm.NOTICE_READ)
    return Response(notices.export_csv(notices.record(session, notice)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="notice-{notice.id}.csv"'})


@router.get("/{notice_id}/deliveries.xlsx")
def deliveries_xlsx(notice_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    notice = _load(session, principal, notice_id, Perm.NOTICE_READ)
    return Response(notices.export_xlsx(notices.record(session, notice)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="notice-{notice.id}.xlsx"'})
