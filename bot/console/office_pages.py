"""Office data: ticket categories (deadlines, departments), binding requests, the FAQ, staff duty and stewards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

from backend.domain import Department
from backend.errors import DomainError, Forbidden, NotFound
from backend.models import BindRequest, Building, FaqEntry, Household, Resident, Staff
from backend.services import binding, category_admin, faq, permissions
from backend.services.audit import recent, record
from backend.services.binding import mask_phone
from backend.services.permissions import Perm
from backend.services.tickets import clear_category_cache
from bot.console.deps import Console, ConsoleDep, render
from bot.console.tickets_pages import local

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=4000)]


# ---- categories ------------------------------------------------------------------------------


def _categories_page(request: Request, console: Console, *, error: tuple[str, str] | None = None,
                     saved: str = "", status_code: int = 200, drafts: dict[int, dict[str, str]] | None = None
                     ) -> HTMLResponse:
    console.require(Perm.CATEGORY_EDIT)
    s, cid = console.session, console.community.id
    people = {st.id: st.name for st in s.scalars(select(Staff).where(Staff.community_id == cid))}
    return render(request, "console/categories.html", status_code=status_code,
                  categories=category_admin.categories(s, cid), departments=[d.value for d in Department],
                  audit=recent(s, cid, prefix="category:", limit=30), people=people, error=error, saved=saved,
                  drafts=drafts or {}, local=lambda d: local(d, console.settings.timezone))


@router.get("/categories")
def categories_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    return _categories_page(request, console)


@router.post("/categories/{category_id}")
def edit_category(request: Request, console: ConsoleDep, category_id: int,
                  version: Annotated[int, Form(ge=0, le=10**9)] = 0,
                  respond_minutes: Annotated[str, Form(max_length=10)] = "",
                  resolve_minutes: Annotated[str, Form(max_length=10)] = "",
                  department: Annotated[str, Form(max_length=30)] = "",
                  name_zh: Annotated[str, Form(max_length=100)] = "",
                  name_en: Annotated[str, Form(max_length=100)] = "") -> Response:
    console.require(Perm.CATEGORY_EDIT)
    draft = {"respond_minutes": respond_minutes, "resolve_minutes": resolve_minutes, "department": department,
             "name_zh": name_zh, "name_en": name_en}
    try:
        if not respond_minutes.strip().isdigit() or not resolve_minutes.strip().isdigit():
            raise category_admin.Invalid("minutes", key="console.minutes_range", max=category_admin.MAX_MINUTES)
        edit = category_admin.CategoryEdit(int(respond_minutes), int(resolve_minutes), department, name_zh, name_en)
        with console.session.begin_nested():
            category_admin.edit_category(console.session, console.clock, console.staff, console.community.id,
                                         category_id, version, edit)
    except DomainError as exc:
        # The editor's own values stay in the form (a conflict shows the stored ones beside them).
        return _categories_page(request, console, error=(exc.text("zh"), exc.text("en")),
                                status_code=exc.http_status, drafts={category_id: draft})
    # Cleared again once the edit is committed (the response is sent after the commit), so a ticket made
    # in between cannot put the old deadlines back in this process's cache.
    return RedirectResponse(f"/console/categories?saved={category_id}#cat-{category_id}", status_code=303,
                            background=BackgroundTask(clear_category_cache))


# ---- binding requests ------------------------------------------------------------------------


@router.get("/bindings")
def bindings_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    console.require(Perm.BINDING_DECIDE)
    s, cid = console.session, console.community.id
    rows = s.execute(
        select(BindRequest, Household.label, Resident.name)
        .join(Household, Household.id == BindRequest.household_id)
        .join(Resident, Resident.id == BindRequest.resident_id)
        .where(BindRequest.community_id == cid, BindRequest.status == "pending").order_by(BindRequest.created_at)
    ).all()
    items = [{"r": r, "household": label, "name": r.name or rname or "—", "phone": mask_phone(r.phone)}
             for r, label, rname in rows]
    return render(request, "console/bindings.html", items=items, done=done[:40])


@router.post("/bindings/{request_id}/{decision}")
def decide(request: Request, console: ConsoleDep, request_id: int, decision: str) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFound("操作")
    s = console.session
    bind_request = s.get(BindRequest, request_id)
    if bind_request is None or bind_request.community_id != console.community.id:
        raise NotFound("绑定申请")
    staff = console.staff
    try:
        with s.begin_nested():
            binding.decide(s, console.clock, console.local_staff, request_id, decision == "approve")
            record(s, console.clock, console.community.id, staff, f"binding.{decision}", f"binding:{request_id}")
    except DomainError as exc:
        return render(request, "console/message.html", status_code=exc.http_status, text=(exc.text("zh"),
                                                                                          exc.text("en")))
    return RedirectResponse(f"/console/bindings?done={decision}", status_code=303)


# ---- FAQ -----------------------------------------------------------------------------------


@router.get("/faq")
def faq_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    console.require(Perm.FAQ_WRITE)
    entries = list(console.session.scalars(select(FaqEntry).where(FaqEntry.community_id == console.community.id)
                                           .order_by(FaqEntry.id)))
    return render(request, "console/faq.html", entries=entries)


def _faq_values(question: str, answer: str, keywords: str, active: str) -> dict[str, object]:
    if not question.strip() or not answer.strip():
        raise category_admin.Invalid("question and answer", key="console.faq.required")
    return {"question": question.strip()[:200], "answer": answer.strip(), "keywords": keywords.strip()[:300],
            "active": active in ("1", "on", "true")}


@router.post("/faq")
def faq_save(request: Request, console: ConsoleDep, entry_id: Annotated[str, Form(max_length=12)] = "",
             question: Short = "", answer: Long = "", keywords: Short = "", active: Short = "",
             delete: Short = "") -> Response:
    console.require(Perm.FAQ_WRITE)
    s, now = console.session, console.clock.now()
    editor = console.local_staff
    try:
        with s.begin_nested():
            if entry_id:
                entry = s.get(FaqEntry, int(entry_id)) if entry_id.isdigit() else None
                if entry is None or entry.community_id != console.community.id:
                    raise NotFound("常见问题")
                if delete:
                    faq.delete(s, editor, entry)
                    record(s, console.clock, console.community.id, console.staff, "faq.delete", f"faq:{entry_id}")
                else:
                    faq.update(s, editor, entry, now, **_faq_values(question, answer, keywords, active))
                    record(s, console.clock, console.community.id, console.staff, "faq.edit", f"faq:{entry_id}")
            else:
                entry = faq.create(s, editor, console.community.id, now,
                                   **_faq_values(question, answer, keywords, active or "on"))
                record(s, console.clock, console.community.id, console.staff, "faq.create", f"faq:{entry.id}")
    except DomainError as exc:
        return render(request, "console/message.html", status_code=exc.http_status,
                      text=(exc.text("zh"), exc.text("en")))
    return RedirectResponse("/console/faq", status_code=303)


# ---- staff duty and stewards ---------------------------------------------------------------------


@router.get("/staff")
def staff_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    s, cid = console.session, console.community.id
    members = list(s.scalars(select(Staff).where(Staff.community_id == cid, Staff.active.is_(True))
                             .order_by(Staff.department, Staff.login)))
    may_duty = {m.id for m in members if console.may(Perm.DUTY_SET, permissions.of_staff(m))}
    if not may_duty and not console.may(Perm.STAFF_MANAGE):
        raise Forbidden()
    buildings = list(s.scalars(select(Building).where(Building.community_id == cid).order_by(Building.id)))
    stewards = [m for m in members if m.department == Department.CUSTOMER_SERVICE]
    return render(request, "console/staff.html", members=members, may_duty=may_duty, buildings=buildings,
                  stewards=stewards, may_stewards=console.may(Perm.STAFF_MANAGE))


@router.post("/staff/{staff_id}/duty")
def toggle_duty(console: ConsoleDep, staff_id: int) -> Response:
    s = console.session
    member = s.get(Staff, staff_id)
    if member is None or member.community_id != console.community.id:
        raise NotFound("员工")
    console.require(Perm.DUTY_SET, permissions.of_staff(member))
    member.on_duty = not member.on_duty
    record(s, console.clock, member.community_id, console.staff, "staff.duty", f"staff:{member.login}",
           on_duty=member.on_duty)
    return RedirectResponse("/console/staff", status_code=303)


@router.post("/buildings/{building_id}/steward")
def set_steward(console: ConsoleDep, building_id: int,
                steward: Annotated[str, Form(max_length=12)] = "") -> Response:
    console.require(Perm.STAFF_MANAGE)
    s = console.session
    building = s.get(Building, building_id)
    if building is None or building.community_id != console.community.id:
        raise NotFound("楼栋")
    member = s.get(Staff, int(steward)) if steward.isdigit() else None
    if steward and (member is None or member.community_id != building.community_id or not member.active):
        raise NotFound("员工")
    before = building.steward_id
    building.steward_id = member.id if member else None
    record(s, console.clock, building.community_id, console.staff, "building.steward", f"building:{building.code}",
           before=before, after=building.steward_id)
    return RedirectResponse("/console/staff", status_code=303)


# ---- audit trail ---------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    """The latest office-data edits, phone reveals, sign-ins and lock-outs of the community."""
    console.require(Perm.AUDIT_SEE)
    s, cid = console.session, console.community.id
    people = {st.id: f"{st.name} ({st.login})" for st in s.scalars(select(Staff).where(Staff.community_id == cid))}
    return render(request, "console/audit.html", entries=recent(s, cid, limit=200), people=people,
                  local=lambda d: local(d, console.settings.timezone))
