"""Notices in the console: the list, the composer with its audience preview, the delivery report and its export.

The composer takes targets as typed in chat (notice_targets.parse); "preview" counts the audience without
storing anything and keeps the form (an uploaded image is kept under media_dir/console-drafts/ until sent);
"send" goes through notices.create, which checks everything and refuses with reasons. Times typed in the
form are the community's local time and are stored as naive UTC.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from backend.errors import DomainError, Invalid, NotFound
from backend.models import Notice, NoticeDelivery, Staff
from backend.services import audience as audiences
from backend.services import notice_targets, notice_text, notices
from backend.services.audit import record
from backend.services.permissions import Perm
from bot.console.deps import Console, ConsoleDep, render
from bot.console.tickets_pages import local

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=20000)]  # the service says when a body is too long
DRAFT_TTL = 3600.0
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BLANK = {"category": "tip", "title": "", "body": "", "targets": "", "urgent": "", "when": "now", "send_at": "",
         "expires_at": "", "image_token": "", "image_name": ""}


def to_utc(value: str, tz: str, what: str) -> datetime | None:
    """A datetime-local value (the community's local time) as naive UTC; None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(what, key="console.notices.bad_time", value=value[:30]) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    try:
        return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    except OverflowError as exc:  # year 1 in a zone east of UTC
        raise Invalid(what, key="console.notices.bad_time", value=value[:30]) from exc


def _drafts(console: Console) -> Path:
    folder = Path(console.settings.media_dir) / "console-drafts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(console: Console, data: bytes) -> str:
    """Keep a previewed image for the send that follows; the uploader's stale drafts are removed meanwhile."""
    folder = _drafts(console)
    for old in folder.glob(f"{console.staff.id}-*.img"):
        if time.time() - old.stat().st_mtime > DRAFT_TTL:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(18)
    (folder / f"{console.staff.id}-{token}.img").write_bytes(data)
    return token


def _draft_path(console: Console, token: str) -> Path | None:
    if not TOKEN.fullmatch(token):
        return None
    path = _drafts(console) / f"{console.staff.id}-{token}.img"
    return path if path.is_file() and time.time() - path.stat().st_mtime < DRAFT_TTL else None


def _short_reports(console: Console, ids: list[int]) -> dict[int, dict[str, int]]:
    """Per notice: delivery rows by status, and how many were acknowledged (one query)."""
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return out
    rows = console.session.execute(
        select(NoticeDelivery.notice_id, NoticeDelivery.status, func.count(), func.count(NoticeDelivery.acked_at))
        .where(NoticeDelivery.notice_id.in_(ids)).group_by(NoticeDelivery.notice_id, NoticeDelivery.status))
    for notice_id, status, n, acked in rows:
        out[notice_id][status] = int(n)
        out[notice_id]["acked"] = out[notice_id].get("acked", 0) + int(acked)
    return out


def _page(request: Request, console: Console, *, form: dict[str, str] | None = None, status_code: int = 200,
          **context: Any) -> HTMLResponse:
    console.require(Perm.NOTICE_READ)
    s, tz = console.session, console.settings.timezone
    rows, total = notices.listing(s, console.community.id, limit=100)
    authors = {st.id: st.name for st in s.scalars(select(Staff).where(Staff.id.in_(
        {n.created_by for n in rows if n.created_by})))}
    return render(request, "console/notices.html", status_code=status_code, notices=rows, total=total,
                  reports=_short_reports(console, [n.id for n in rows]), authors=authors,
                  form={**BLANK, **(form or {})}, categories=notices.CATEGORIES,
                  category_name=notices.category_name, describe=notice_targets.describe,
                  may_send=console.may(Perm.NOTICE_SEND), local=lambda d: local(d, tz), **context)


@router.get("/notices")
def notices_page(request: Request, console: ConsoleDep, sent: str = "") -> HTMLResponse:
    return _page(request, console, sent=int(sent) if sent.isdigit() and len(sent) < 12 else None)


def _refusal(exc: DomainError) -> tuple[str, str]:
    return exc.text("zh"), exc.text("en")


@router.post("/notices")
async def compose(request: Request, console: ConsoleDep, image: UploadFile | None = None,
                  category: Annotated[str, Form(max_length=12)] = "", title: Short = "", body: Long = "",
                  targets: Short = "", urgent: Short = "", when: Annotated[str, Form(max_length=8)] = "now",
                  send_at: Annotated[str, Form(max_length=40)] = "",
                  expires_at: Annotated[str, Form(max_length=40)] = "",
                  image_token: Annotated[str, Form(max_length=64)] = "",
                  image_name: Annotated[str, Form(max_length=200)] = "",
                  action: Annotated[str, Form(max_length=10)] = "preview") -> Response:
    console.require(Perm.NOTICE_SEND)
    form = {"category": category, "title": title, "body": body, "targets": targets, "urgent": urgent,
            "when": "later" if when == "later" else "now", "send_at": send_at, "expires_at": expires_at,
            "image_token": image_token if TOKEN.fullmatch(image_token) else "", "image_name": image_name[-100:]}
    upload: notices.Upload | None = None
    if image is not None and image.filename:
        data = await image.read(notices.MAX_IMAGE_BYTES + 1)
        upload = notices.Upload(image.filename[-100:], data)
    return _compose(request, console, form, upload, send=action == "send")


def _compose(request: Request, console: Console, form: dict[str, str], upload: notices.Upload | None, *,
             send: bool) -> Response:
    s, clock, tz, cid = console.session, console.clock, console.settings.timezone, console.community.id
    preview: dict[str, Any] | None = None
    try:
        if upload is not None:  # checked at once, kept for the send that follows a preview
            if len(upload.data) > notices.MAX_IMAGE_BYTES:
                raise Invalid("image", key="notices.too_big", filename=upload.filename,
                              mb=notices.MAX_IMAGE_BYTES // 1024 // 1024)
            if notices.image_kind(upload.data) is None:
                raise Invalid("image", key="notices.not_image", filename=upload.filename)
            form["image_token"], form["image_name"] = _keep(console, upload.data), upload.filename
        elif form["image_token"]:
            kept = _draft_path(console, form["image_token"])
            if kept is None:
                form["image_token"] = form["image_name"] = ""
                raise Invalid("image", key="console.notices.image_expired")
            upload = notices.Upload(form["image_name"] or "image", kept.read_bytes())
        spec = notice_targets.parse(form["targets"])
        scheduled_at = to_utc(form["send_at"], tz, "send_at") if form["when"] == "later" else None
        if form["when"] == "later" and scheduled_at is None:
            raise Invalid("send_at", key="console.notices.pick_time")
        expires_at = to_utc(form["expires_at"], tz, "expires_at")
        if not send:
            spec = audiences.normalise(spec)
            if audiences.is_empty(spec):
                raise Invalid("audience", key="notices.no_target")
            missing = audiences.unknown_places(s, cid, spec)
            if missing:
                raise Invalid("audience", key="notices.unknown_place", places="、".join(missing))
            category = form["category"] if form["category"] in notices.CATEGORIES else audiences.SAFETY
            count = audiences.count(s, cid, spec, category, scheduled_at or clock.now())
            preview = {"count": count, "zh": notice_targets.describe(spec), "en": notice_targets.describe(spec, "en")}
            if count.by_channel.get("wechat"):  # one message, numbered parts, or the page link
                plan = notice_text.wechat_plan(
                    notices.Draft(title=form["title"].strip(), body=form["body"], category=category, audience=spec,
                                  urgent=form["urgent"] in ("1", "on", "true"), expires_at=expires_at),
                    "notice", console.settings.wechat_templates)
                preview["wechat"] = (plan.describe("zh"), plan.describe("en"))
            # The rest of the checks a send would meet (nobody, the time, the image), the text left aside.
            notices.check(s, clock, cid, notices.Draft(title=form["title"].strip()[:100] or "-", body="-",
                                                       category=category, audience=spec, scheduled_at=scheduled_at,
                                                       expires_at=expires_at, image=upload))
            return _page(request, console, form=form, preview=preview)
        draft = notices.Draft(title=form["title"], body=form["body"], category=form["category"], audience=spec,
                              urgent=form["urgent"] in ("1", "on", "true"), scheduled_at=scheduled_at,
                              expires_at=expires_at, image=upload)
        with s.begin_nested():
            notice, checked = notices.create(s, clock, cid, draft, created_by=console.staff.id,
                                             media_dir=Path(console.settings.media_dir))
            record(s, clock, cid, console.staff, "notice.create", f"notice:{notice.id}",
                   category=notice.category, title=notice.title[:60], targets=notice_targets.describe(notice.audience),
                   scheduled_at=checked.scheduled_at.isoformat(timespec="minutes"),
                   residents=checked.count.residents, urgent=notice.urgent)
    except DomainError as exc:
        return _page(request, console, form=form, status_code=exc.http_status, refusal=_refusal(exc),
                     preview=preview)
    if form["image_token"]:
        (_drafts(console) / f"{console.staff.id}-{form['image_token']}.img").unlink(missing_ok=True)
    return RedirectResponse(f"/console/notices?sent={notice.id}", status_code=303)


def _notice(console: Console, notice_id: int) -> Notice:
    if not 0 < notice_id < 2**63:
        raise NotFound("通知")
    return notices.get(console.session, console.community.id, notice_id)


@router.get("/notices/{notice_id}")
def report_page(request: Request, console: ConsoleDep, notice_id: int, cancelled: str = "") -> HTMLResponse:
    console.require(Perm.NOTICE_READ)
    s, tz = console.session, console.settings.timezone
    notice = _notice(console, notice_id)
    rows = notices.record(s, notice)
    author = s.get(Staff, notice.created_by) if notice.created_by else None
    return render(request, "console/notice.html", notice=notice, rows=rows[:500], total=len(rows),
                  report=notices.report(s, notice, rows), author=author, cancelled=bool(cancelled),
                  may_cancel=console.may(Perm.NOTICE_SEND) and notice.status in ("draft", "scheduled"),
                  category_name=notices.category_name, describe=notice_targets.describe,
                  page_url=notices.page_url(console.settings.base_url, notice), via_name=notices.via_name,
                  local=lambda d: local(d, tz))


@router.post("/notices/{notice_id}/cancel")
def cancel(request: Request, console: ConsoleDep, notice_id: int) -> Response:
    console.require(Perm.NOTICE_SEND)
    s = console.session
    notice = _notice(console, notice_id)
    try:
        with s.begin_nested():
            notices.cancel(s, console.clock, notice)
            record(s, console.clock, console.community.id, console.staff, "notice.cancel", f"notice:{notice.id}",
                   title=notice.title[:60])
    except DomainError as exc:
        return render(request, "console/message.html", status_code=exc.http_status, text=_refusal(exc))
    return RedirectResponse(f"/console/notices/{notice.id}?cancelled=1", status_code=303)


@router.get("/notices/{notice_id}/record.{fmt}")
def download(console: ConsoleDep, notice_id: int, fmt: str) -> Response:
    console.require(Perm.NOTICE_READ)
    if fmt not in ("csv", "xlsx"):
        raise NotFound("文件")
    notice = _notice(console, notice_id)
    rows = notices.record(console.session, notice)
    data, media = ((notices.export_csv(rows), "text/csv; charset=utf-8") if fmt == "csv"
                   else (notices.export_xlsx(rows), XLSX_TYPE))
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="notice-{notice.id}.{fmt}"', "Cache-Control": "no-store"})
