"""Editing ticket categories (deadlines, department, names) with an audit trail and optimistic concurrency.

Every edit names the version it was made from; when someone saved in between, the edit is refused
(EditConflict) and the editor is shown what is stored now, never silently overwritten. New tickets use
the edited deadlines at once in this process (the category cache is cleared) and within
tickets.CATEGORY_TTL seconds in the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.domain import Department
from backend.errors import DomainError, Invalid, NotFound
from backend.models import Staff, TicketCategory
from backend.services import permissions
from backend.services.audit import record
from backend.services.permissions import Perm
from backend.services.tickets import clear_category_cache

MAX_MINUTES = 90 * 24 * 60  # 90 days


class EditConflict(DomainError):
    http_status = 409

    def __init__(self, current: TicketCategory) -> None:
        super().__init__("console.edit_conflict", name=current.name_zh, version=current.version)
        self.current = current


@dataclass(frozen=True)
class CategoryEdit:
    respond_minutes: int
    resolve_minutes: int
    department: str
    name_zh: str
    name_en: str


def categories(session: Session, community_id: int) -> list[TicketCategory]:
    return list(session.scalars(select(TicketCategory).where(TicketCategory.community_id == community_id)
                                .order_by(TicketCategory.kind, TicketCategory.code)))


def check(edit: CategoryEdit) -> CategoryEdit:
    if not 1 <= edit.respond_minutes <= MAX_MINUTES or not 1 <= edit.resolve_minutes <= MAX_MINUTES:
        raise Invalid("minutes", key="console.minutes_range", max=MAX_MINUTES)
    if edit.resolve_minutes < edit.respond_minutes:
        raise Invalid("resolve < respond", key="console.resolve_before_respond")
    if edit.department not in {d.value for d in Department}:
        raise Invalid(f"unknown department {edit.department}")
    if not edit.name_zh.strip() or len(edit.name_zh) > 30 or not edit.name_en.strip() or len(edit.name_en) > 50:
        raise Invalid("name", key="console.name_length")
    return edit


def edit_category(session: Session, clock: Clock, editor: Staff, community_id: int, category_id: int,
                  version: int, edit: CategoryEdit) -> TicketCategory:
    category = session.get(TicketCategory, category_id)
    if category is None or category.community_id != community_id:
        raise NotFound("工单类别")
    permissions.require(editor, Perm.CATEGORY_EDIT, permissions.community(community_id))
    check(edit)
    before = _fields(category)
    after = {"respond_minutes": edit.respond_minutes, "resolve_minutes": edit.resolve_minutes,
             "department": edit.department, "name_zh": edit.name_zh.strip(), "name_en": edit.name_en.strip()}
    # Compare-and-set on the version: of two editors of the same version exactly one wins.
    won = session.execute(
        update(TicketCategory).where(TicketCategory.id == category.id, TicketCategory.version == version)
        .values(**after, version=TicketCategory.version + 1).execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(category)
    if won != 1:
        raise EditConflict(category)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    record(session, clock, community_id, editor, "category.edit", f"category:{category.code}",
           version=category.version, changed=changed)
    clear_category_cache()
    return category


def _fields(category: TicketCategory) -> dict[str, Any]:
    return {key: getattr(category, key) for key in
            ("respond_minutes", "resolve_minutes", "department", "name_zh", "name_en")}
