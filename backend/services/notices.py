"""Notices the office composes: validation, scheduling, cancelling, the delivery report and its export.

A composed notice is stored with status `scheduled` and its `scheduled_at` (now when sent at once); the
broadcast engine picks up due scheduled notices and fans them out. Nothing here sends anything. Bad input
(no target, a target matching nobody, a body over the platform's limit, an image that is not an image, a
scheduled time in the past) is refused with the reason, and nothing is stored.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from backend.catalogue import name, register
from backend.clock import Clock
from backend.errors import IllegalMove, Invalid, NotFound
from backend.models import GroupChat, Household, Notice, NoticeDelivery, NoticeMute, Resident, Staff
from backend.services import audience as audiences
from backend.services import notice_text
from backend.services.audience import AudienceCount
from backend.services.notice_text import WeChatPlan

CATEGORIES = ("outage", "safety", "fee", "event", "tip")
MAX_TITLE = 100
# Telegram: 4096 characters per message; the title, a blank line and the "收到" prompt share it.
TELEGRAM_MAX_CHARS = 4096
MAX_BODY_CHARS = 3900
# WeChat's customer-service text holds 2048 bytes: longer texts go as numbered parts, or as a template message
# linking to the notice's page (backend/services/notice_text.py).
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # WeChat's and Telegram's photo limit
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # Telegram's bot download/upload comfort zone
PAST_GRACE = timedelta(minutes=1)  # "now" typed a few seconds ago is not the past
MAX_AHEAD = timedelta(days=366)
IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))
ACTIVE = ("fanning", "sending", "sent")
STATUSES = ("draft", "scheduled", "fanning", "sending", "sent", "cancelled")
DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "unreachable")
# A WeCom customer group's row is 'sent' once its group-send task exists; `via` says whether the group's owner
# has confirmed it yet (set by bot/wecom/group_send.py and its poller).
VIA_AWAITING_OWNER, VIA_OWNER_CONFIRMED = "owner_confirm", "owner_confirmed"

register({
    "notices.category.outage": ("停水停电/设施维护", "outage / maintenance"),
    "notices.category.safety": ("安全提示", "safety"),
    "notices.category.fee": ("费用", "fees"),
    "notices.category.event": ("社区活动", "community events"),
    "notices.category.tip": ("温馨提示", "tips"),
    "notices.status.draft": ("草稿", "draft"),
    "notices.status.scheduled": ("待发送", "scheduled"),
    "notices.status.fanning": ("准备发送", "preparing"),
    "notices.status.sending": ("发送中", "sending"),
    "notices.status.sent": ("已发送", "sent"),
    "notices.status.cancelled": ("已取消", "cancelled"),
    "notices.delivery.queued": ("排队中", "queued"),
    "notices.delivery.sending": ("发送中", "sending"),
    "notices.delivery.sent": ("已送达", "sent"),
    "notices.delivery.failed": ("发送失败", "failed"),
    "notices.delivery.unreachable": ("无法送达", "unreachable"),
    "notices.delivery.owner_confirm": ("待群主确认", "awaiting the group owner's confirmation"),
    "notices.delivery.owner_confirmed": ("群主已确认发送", "sent (confirmed by the group owner)"),
    "notices.no_target": ("请选择通知对象（全小区、楼栋、单元、楼层、欠费住户、活动报名者、部门或业主群）。",
                          "Choose who the notice is for (community, buildings, units, floors, arrears, an event, "
                          "departments or owners' groups)."),
    "notices.nobody": ("通知对象没有匹配到任何人（{what}），未发送。", "The audience matches nobody ({what_en}); nothing sent."),
    "notices.unknown_place": ("小区里没有{places}，请检查通知对象。", "The community has no {places}; check the audience."),
    "notices.bad_category": ("类别须为：停水停电/设施维护、安全提示、费用、社区活动、温馨提示。",
                             "The category must be one of outage, safety, fee, event, tip."),
    "notices.empty": ("通知的{what}不能为空。", "The notice's {what_en} must not be empty."),
    "notices.too_long_title": ("标题最多 {limit} 字（现在 {length} 字）。", "The title is at most {limit} characters ({length})."),
    "notices.too_long_body": (
        "正文 {length} 字，超过 Telegram 单条消息 {limit} 字的上限，请精简或分成几条通知发送。",
        "The body has {length} characters, over Telegram's {limit}-character message limit; shorten it or split it "
        "into several notices."),
    "notices.past": ("发送时间 {when} 已经过去，请选择现在或将来的时间。", "The send time {when} is in the past."),
    "notices.too_far": ("发送时间不能超过一年以后。", "The send time must be within a year."),
    "notices.bad_expiry": ("有效期须晚于发送时间。", "The expiry must be after the send time."),
    "notices.not_image": ("「{filename}」不是图片（只支持 PNG、JPEG、GIF），未发送。",
                          "\"{filename}\" is not an image (PNG, JPEG or GIF only); nothing sent."),
    "notices.too_big": ("「{filename}」超过 {mb}MB 上限。", "\"{filename}\" is over the {mb} MB limit."),
    "notices.cannot_cancel": ("通知 #{id} 当前为「{status}」，不能取消。", "Notice #{id} is {status_en}; it cannot be cancelled."),
    # How a WeChat row was delivered (NoticeDelivery.via), for the report
    "notices.via.customer_service": ("客服消息", "one customer-service message"),
    "notices.via.cs_parts": ("分段客服消息", "numbered customer-service messages"),
    "notices.via.template": ("模板消息（附全文链接）", "template message with the link"),
    "notices.via.cs_link": ("客服消息（附全文链接）", "customer-service message with the link"),
    "notices.via.parts_link": ("部分分段＋全文链接", "some parts, then the link"),
    "notices.mute_safety": ("安全提示关系到您和家人的安全，不能关闭。", "Safety notices cannot be muted."),
})


WECHAT_VIA = ("customer_service", "cs_parts", "template", "cs_link", "parts_link")


def category_name(category: str, lang: str = "zh") -> str:
    return name(f"notices.category.{category}", lang) if category in CATEGORIES else category


def via_name(via: str, lang: str = "zh") -> str:
    """How a WeChat row went, as the office reads it (the code itself when unknown)."""
    return name(f"notices.via.{via}", lang) if via in WECHAT_VIA else via


def page_url(base_url: str, notice: Notice) -> str:
    """The notice's public read-only page (what the WeChat template message links to)."""
    return notice_text.page_url(base_url, notice.page_token)


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Draft:
    """What the composer typed; `scheduled_at` None means now. Times are naive UTC."""

    title: str
    body: str
    category: str
    audience: dict[str, Any]
    urgent: bool = False
    scheduled_at: datetime | None = None
    expires_at: datetime | None = None
    image: Upload | None = None
    attachment: Upload | None = None
    kind: str = "notice"
    event_id: int | None = None


@dataclass
class Checked:
    """A draft that passed every check, with its audience count (the preview)."""

    draft: Draft
    audience: dict[str, Any]
    scheduled_at: datetime
    count: AudienceCount
    wechat_parts: int = 1  # customer-service messages a WeChat resident gets inside the window (notice_text)

    def wechat(self, templates: dict[str, Any]) -> WeChatPlan:
        """What WeChat residents get, given the configured template messages (settings.wechat_templates)."""
        return WeChatPlan(self.wechat_parts, bool(templates.get(self.draft.kind)))


def image_kind(data: bytes) -> str | None:
    """'png' | 'jpg' | 'gif' from the file's first bytes, None when it is not one of those images."""
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _nobody_detail(count: AudienceCount) -> dict[str, str]:
    if count.muted:
        return {"what": f"{count.muted} 位住户已关闭此类通知",
                "what_en": f"{count.muted} resident(s) muted this category"}
    return {"what": "没有住户、员工或群", "what_en": "no resident, staff member or group"}


def check(session: Session, clock: Clock, community_id: int, draft: Draft) -> Checked:
    """Every refusal a notice can meet, before anything is stored or sent."""
    draft.title, draft.body = draft.title.strip(), draft.body.strip()
    if draft.category not in CATEGORIES:
        raise Invalid(draft.category, key="notices.bad_category")
    for value, what, what_en in ((draft.title, "标题", "title"), (draft.body, "正文", "body")):
        if not value or "\x00" in value:
            raise Invalid(what_en, key="notices.empty", what=what, what_en=what_en)
    if len(draft.title) > MAX_TITLE:
        raise Invalid("title", key="notices.too_long_title", limit=MAX_TITLE, length=len(draft.title))
    if len(draft.body) > MAX_BODY_CHARS:
        raise Invalid("body", key="notices.too_long_body", limit=MAX_BODY_CHARS, length=len(draft.body))
    now = clock.now()
    when = draft.scheduled_at or now
    if when.year >= 9999 or (draft.expires_at is not None and draft.expires_at.year >= 9999):
        raise Invalid("scheduled_at", key="notices.too_far")
    if when < now - PAST_GRACE:
        raise Invalid("scheduled_at", key="notices.past", when=when.strftime("%Y-%m-%d %H:%M UTC"))
    when = max(when, now)
    if when > now + MAX_AHEAD:
        raise Invalid("scheduled_at", key="notices.too_far")
    if draft.expires_at is not None and draft.expires_at <= when:
        raise Invalid("expires_at", key="notices.bad_expiry")
    for upload, limit in ((draft.image, MAX_IMAGE_BYTES), (draft.attachment, MAX_ATTACHMENT_BYTES)):
        if upload is not None and len(upload.data) > limit:
            raise Invalid("file", key="notices.too_big", filename=upload.filename, mb=limit // 1024 // 1024)
    if draft.image is not None and image_kind(draft.image.data) is None:
        raise Invalid("image", key="notices.not_image", filename=draft.image.filename)
    spec = audiences.normalise(draft.audience)
    if audiences.is_empty(spec):
        raise Invalid("audience", key="notices.no_target")
    missing = audiences.unknown_places(session, community_id, spec)
    if missing:
        raise Invalid("audience", key="notices.unknown_place", places="、".join(missing))
    count = audiences.count(session, community_id, spec, draft.category, when)
    if count.nobody:
        raise Invalid("audience", key="notices.nobody", **_nobody_detail(count))
    parts = len(notice_text.wechat_parts(notice_text.text(draft)))
    return Checked(draft, spec, when, count, parts)


def _save(media_dir: Path, upload: Upload, suffix: str) -> str:
    """Store an upload under media_dir/notices with an unguessable name; the path relative to media_dir."""
    folder = media_dir / "notices"
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"notices/{secrets.token_urlsafe(18)}.{suffix}"
    (media_dir / relative).write_bytes(upload.data)
    return relative


def _attachment_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lstrip(".").lower()
    return suffix if re.fullmatch(r"[a-z0-9]{1,8}", suffix) else "bin"


def create(session: Session, clock: Clock, community_id: int, draft: Draft, *, created_by: int | None,
           media_dir: Path) -> tuple[Notice, Checked]:
    """Check the draft and store it as a scheduled notice; the engine sends it at `scheduled_at`."""
    checked = check(session, clock, community_id, draft)
    image_path = _save(media_dir, draft.image, image_kind(draft.image.data) or "bin") if draft.image else ""
    attachment_path = (_save(media_dir, draft.attachment, _attachment_suffix(draft.attachment.filename))
                       if draft.attachment else "")
    notice = Notice(
        community_id=community_id, kind=draft.kind, category=draft.category, title=draft.title, body=draft.body,
        image_path=image_path, attachment_path=attachment_path, urgent=draft.urgent, audience=checked.audience,
        event_id=draft.event_id or checked.audience.get("event_id"), status="scheduled",
        scheduled_at=checked.scheduled_at, expires_at=draft.expires_at, created_by=created_by,
        created_at=clock.now(),
    )
    session.add(notice)
    session.flush()
    return notice, checked


def get(session: Session, community_id: int | None, notice_id: int) -> Notice:
    """The notice if it belongs to the community (None: any, for the operator); NotFound otherwise."""
    notice = session.get(Notice, notice_id)
    if notice is None or (community_id is not None and notice.community_id != community_id):
        raise NotFound("通知")
    return notice


PAGE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def for_page(session: Session, clock: Clock, token: str) -> tuple[Notice | None, str]:
    """The notice its public page (/n/<token>) may show now: (notice, "") while it is live, else why not:
    "unknown" (no such token, or not published yet), "cancelled", or "expired" (with the notice)."""
    if not PAGE_TOKEN.fullmatch(token or ""):
        return None, "unknown"
    notice = session.scalar(select(Notice).where(Notice.page_token == token))
    now = clock.now()
    if notice is None or notice.status == "draft" or notice.scheduled_at is None:
        return None, "unknown"
    if notice.status == "cancelled":
        return notice, "cancelled"
    if notice.scheduled_at > now:
        return None, "unknown"
    if notice.expires_at is not None and notice.expires_at <= now:
        return notice, "expired"
    return notice, ""


def listing(session: Session, community_id: int | None, *, status: str | None = None, limit: int = 50,
            offset: int = 0) -> tuple[list[Notice], int]:
    query = select(Notice)
    if community_id is not None:
        query = query.where(Notice.community_id == community_id)
    if status:
        query = query.where(Notice.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Notice.id.desc()).limit(limit).offset(offset)))
    return rows, total


def cancel(session: Session, clock: Clock, notice: Notice) -> Notice:
    """Cancel a notice the engine has not started on; a single conditional update wins any race with it."""
    done = session.execute(
        update(Notice).where(Notice.id == notice.id, Notice.status.in_(("draft", "scheduled")))
        .values(status="cancelled").execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(notice)
    if not done:
        raise IllegalMove("notices.cannot_cancel", id=notice.id, status=name(f"notices.status.{notice.status}"),
                          status_en=name(f"notices.status.{notice.status}", "en"))
    return notice


# ---- the delivery record -----------------------------------------------------------------------


@dataclass
class RecordRow:
    """One delivery row as the office reads it."""

    recipient: str  # 住户 / 员工 / 群
    name: str
    place: str  # household label, department or group title
    channel: str
    status: str
    via: str
    sent_at: datetime | None
    acked_at: datetime | None
    error: str
    resident_id: int | None = None
    staff_id: int | None = None
    group_id: int | None = None
    state: str = ""  # the status as the office reads it (待群主确认 for a group send its owner has not confirmed)

    @property
    def awaiting_owner(self) -> bool:
        return self.status == "sent" and self.via == VIA_AWAITING_OWNER


def delivery_state(status: str, via: str) -> str:
    if status == "sent" and via in (VIA_AWAITING_OWNER, VIA_OWNER_CONFIRMED):
        return name(f"notices.delivery.{via}")
    return name(f"notices.delivery.{status}") if status in DELIVERY_STATUSES else status


@dataclass
class Report:
    notice_id: int
    status: str
    deliveries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    # WeChat rows delivered, by how: one message, numbered parts, or the page link (notices.via.*)
    wechat_via: dict[str, int] = field(default_factory=dict)
    residents: int = 0  # residents with at least one row
    residents_reached: int = 0  # residents with at least one sent row
    acknowledged: int = 0  # residents who pressed 收到
    not_reached: list[RecordRow] = field(default_factory=list)  # residents with no sent row: why
    failed_reasons: dict[str, int] = field(default_factory=dict)
    groups: list[RecordRow] = field(default_factory=list)  # every group row, with its state and reason
    awaiting_owner: int = 0  # WeCom customer groups whose owner has not confirmed the send yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice_id, "status": self.status, "deliveries": self.deliveries,
            "by_status": self.by_status, "sent_by_channel": self.sent_by_channel, "wechat_via": self.wechat_via,
            "residents": self.residents,
            "residents_reached": self.residents_reached, "acknowledged": self.acknowledged,
            "not_reached": len(self.not_reached), "reasons": self.failed_reasons,
            "awaiting_owner_confirm": self.awaiting_owner,
        }


def record(session: Session, notice: Notice) -> list[RecordRow]:
    """Every delivery row of the notice with who it was for, in a stable order."""
    rows = session.execute(
        select(NoticeDelivery, Resident.name, Household.label, Staff.name, Staff.department, GroupChat.title)
        .outerjoin(Resident, Resident.id == NoticeDelivery.resident_id)
        .outerjoin(Household, Household.id == Resident.household_id)
        .outerjoin(Staff, Staff.id == NoticeDelivery.staff_id)
        .outerjoin(GroupChat, GroupChat.id == NoticeDelivery.group_id)
        .where(NoticeDelivery.notice_id == notice.id).order_by(NoticeDelivery.id)).all()
    # Residents, then staff, then groups, each by id (NULLs sort differently on SQLite and PostgreSQL).
    rows.sort(key=lambda r: (r[0].resident_id is None, r[0].staff_id is None, r[0].resident_id or 0,
                             r[0].staff_id or 0, r[0].group_id or 0, r[0].id))
    out = []
    for d, resident_name, label, staff_name, department, group_title in rows:
        if d.resident_id is not None:
            who, person, place = "住户", resident_name or "", label or ""
        elif d.staff_id is not None:
            who, person, place = "员工", staff_name or "", name(f"dept.{department}") if department else ""
        else:
            who, person, place = "群", group_title or "", ""
        out.append(RecordRow(who, person, place, d.channel, d.status, d.via, d.sent_at, d.acked_at, d.error,
                             d.resident_id, d.staff_id, d.group_id, delivery_state(d.status, d.via)))
    return out


def report(session: Session, notice: Notice, rows: list[RecordRow] | None = None) -> Report:
    rows = record(session, notice) if rows is None else rows
    result = Report(notice.id, notice.status, deliveries=len(rows))
    result.by_status = dict(Counter(r.status for r in rows))
    # Sent means it reached the chat: a group send still waiting for its owner is counted apart.
    result.sent_by_channel = dict(Counter(r.channel for r in rows if r.status == "sent" and not r.awaiting_owner))
    result.groups = [r for r in rows if r.group_id is not None]
    result.awaiting_owner = sum(r.awaiting_owner for r in rows)
    result.wechat_via = dict(Counter(r.via or "customer_service" for r in rows
                                     if r.channel == "wechat" and r.status == "sent"))
    by_resident: dict[int, list[RecordRow]] = {}
    for r in rows:
        if r.resident_id is not None:
            by_resident.setdefault(r.resident_id, []).append(r)
    result.residents = len(by_resident)
    for resident_rows in by_resident.values():
        if any(r.status == "sent" for r in resident_rows):
            result.residents_reached += 1
        elif all(r.status in ("failed", "unreachable") for r in resident_rows):
            result.not_reached.append(resident_rows[0])
            for r in resident_rows:
                reason = r.error or name(f"notices.delivery.{r.status}")
                result.failed_reasons[reason] = result.failed_reasons.get(reason, 0) + 1
        if any(r.acked_at is not None for r in resident_rows):
            result.acknowledged += 1
    return result


EXPORT_HEADER = ("对象", "姓名", "房屋/部门/群", "渠道", "状态", "方式", "发送时间(UTC)", "确认收到(UTC)", "原因")


def _export_values(row: RecordRow) -> list[str]:
    def iso(dt: datetime | None) -> str:
        return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else ""

    status = row.state or delivery_state(row.status, row.via)
    return [row.recipient, row.name, row.place, row.channel, status, row.via, iso(row.sent_at), iso(row.acked_at),
            row.error]


def _safe_cell(value: str) -> str:
    """A cell Excel will not run as a formula (=, +, -, @ at the start)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def export_csv(rows: list[RecordRow]) -> bytes:
    """UTF-8 with BOM so Excel on Chinese Windows opens it as Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow([_safe_cell(v) for v in _export_values(row)])
    return "\ufeff".encode() + buffer.getvalue().encode()


def export_xlsx(rows: list[RecordRow], title: str = "通知送达记录") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "record")
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        sheet.append([_safe_cell(v) for v in _export_values(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- residents -----------------------------------------------------------------------------------


def acknowledge(session: Session, clock: Clock, resident: Resident, notice_id: int) -> Notice:
    """Record that the resident pressed 收到 on the notice (all their rows of it); NotFound if it was not theirs."""
    notice = get(session, resident.community_id, notice_id)
    rows = session.execute(
        update(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id, NoticeDelivery.resident_id == resident.id,
                                     NoticeDelivery.acked_at.is_(None))
        .values(acked_at=clock.now()).execution_options(synchronize_session=False)
    ).rowcount
    if not rows and not session.scalar(select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == notice.id, NoticeDelivery.resident_id == resident.id).limit(1)):
        raise NotFound("通知")
    return notice


def _current(community_id: int, now: datetime, category: str | None) -> Select[tuple[Notice]]:
    query = (select(Notice).where(Notice.community_id == community_id, Notice.status.in_(ACTIVE),
                                  (Notice.expires_at.is_(None)) | (Notice.expires_at > now),
                                  Notice.scheduled_at <= now, Notice.scheduled_at > now - timedelta(days=30))
             .order_by(Notice.urgent.desc(), Notice.scheduled_at.desc(), Notice.id.desc()).limit(100))
    return query.where(Notice.category == category) if category else query


def any_current(session: Session, clock: Clock, community_id: int, category: str | None = None) -> bool:
    """Whether the community has any unexpired notice (of the category), whoever it went to."""
    return session.scalar(_current(community_id, clock.now(), category).with_only_columns(Notice.id)) is not None


def current_for(session: Session, clock: Clock, resident: Resident, *, category: str | None = None,
                limit: int = 5) -> list[Notice]:
    """Unexpired notices that went out to the resident's audience, newest first."""
    query = _current(resident.community_id, clock.now(), category)
    found = []
    for notice in session.scalars(query):
        condition = audiences.resident_condition(notice.community_id, notice.audience or {}, notice.scheduled_at)
        reached = session.scalar(select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == notice.id, NoticeDelivery.resident_id == resident.id).limit(1))
        if reached or session.scalar(select(Resident.id).where(Resident.id == resident.id, condition)):
            found.append(notice)
        if len(found) >= limit:
            break
    return found


def mute(session: Session, clock: Clock, resident: Resident, category: str) -> bool:
    """Stop a category for the resident; False when it was muted already. Safety cannot be muted."""
    if category == audiences.SAFETY:
        raise Invalid("category", key="notices.mute_safety")
    if category not in CATEGORIES:
        raise Invalid(category, key="notices.bad_category")
    if session.scalar(select(NoticeMute.id).where(NoticeMute.resident_id == resident.id,
                                                  NoticeMute.category == category)):
        return False
    session.add(NoticeMute(resident_id=resident.id, category=category, created_at=clock.now()))
    session.flush()
    return True


def unmute(session: Session, resident: Resident, category: str) -> bool:
    """Receive the category again; False when it was not muted."""
    found = session.scalar(select(NoticeMute).where(NoticeMute.resident_id == resident.id,
                                                    NoticeMute.category == category))
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def muted(session: Session, resident: Resident) -> list[str]:
    return sorted(session.scalars(select(NoticeMute.category).where(NoticeMute.resident_id == resident.id)))
