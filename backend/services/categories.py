"""Default ticket categories: which department handles what, and how fast."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain import Department, Kind, SatisfactionArea
from backend.models import TicketCategory
from backend.settings import Settings, get_settings


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name_zh: str
    name_en: str
    kind: Kind
    department: Department
    respond_minutes: int
    resolve_minutes: int
    area: SatisfactionArea


_E, _S, _C = SatisfactionArea.ENVIRONMENT, SatisfactionArea.SAFETY, SatisfactionArea.COMMUNITY
_ENG, _SEC, _ENV, _CS = Department.ENGINEERING, Department.SECURITY, Department.ENVIRONMENT, Department.CUSTOMER_SERVICE

DEFAULT_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("plumbing", "水管/下水", "Plumbing", Kind.REPAIR, _ENG, 30, 24 * 60, _E),
    CategorySpec("electrical", "电路/照明", "Electrical", Kind.REPAIR, _ENG, 30, 24 * 60, _E),
    CategorySpec("lift", "电梯", "Lift", Kind.REPAIR, _ENG, 30, 12 * 60, _S),
    CategorySpec("access_control", "门禁/门锁", "Access control", Kind.REPAIR, _SEC, 30, 12 * 60, _S),
    CategorySpec("gas", "燃气", "Gas", Kind.REPAIR, _ENG, 30, 12 * 60, _S),
    CategorySpec("public_facility", "公共设施", "Public facilities", Kind.REPAIR, _ENG, 60, 3 * 24 * 60, _E),
    CategorySpec("general_repair", "其他维修", "Other repair", Kind.REPAIR, _ENG, 60, 48 * 60, _E),
    CategorySpec("emergency", "紧急事件", "Emergency", Kind.EMERGENCY, _ENG, 15, 24 * 60, _S),
    CategorySpec("security_emergency", "治安紧急", "Security emergency", Kind.EMERGENCY, _SEC, 15, 24 * 60, _S),
    CategorySpec("noise", "噪音扰民", "Noise", Kind.COMPLAINT, _SEC, 60, 24 * 60, _C),
    CategorySpec("parking", "停车秩序", "Parking", Kind.COMPLAINT, _SEC, 60, 24 * 60, _S),
    CategorySpec("cleaning", "保洁卫生", "Cleaning", Kind.COMPLAINT, _ENV, 60, 24 * 60, _E),
    CategorySpec("greening", "绿化", "Greening", Kind.COMPLAINT, _ENV, 120, 3 * 24 * 60, _E),
    CategorySpec("pets", "宠物", "Pets", Kind.COMPLAINT, _SEC, 120, 48 * 60, _C),
    CategorySpec("renovation", "装修管理", "Renovation", Kind.COMPLAINT, _SEC, 60, 24 * 60, _C),
    CategorySpec("service", "服务态度", "Service", Kind.COMPLAINT, _CS, 60, 48 * 60, _C),
    CategorySpec("security", "治安安全", "Security", Kind.COMPLAINT, _SEC, 30, 24 * 60, _S),
    CategorySpec("fees", "收费", "Fees", Kind.COMPLAINT, _CS, 120, 3 * 24 * 60, _C),
    CategorySpec("general_complaint", "其他投诉", "Other complaint", Kind.COMPLAINT, _CS, 120, 3 * 24 * 60, _C),
    CategorySpec("suggestion", "建议", "Suggestion", Kind.SUGGESTION, _CS, 24 * 60, 7 * 24 * 60, _C),
    CategorySpec("inquiry", "咨询", "Inquiry", Kind.INQUIRY, _CS, 60, 24 * 60, _C),
)

DEFAULT_CATEGORY_BY_KIND = {
    Kind.REPAIR: "general_repair",
    Kind.EMERGENCY: "emergency",
    Kind.COMPLAINT: "general_complaint",
    Kind.SUGGESTION: "suggestion",
    Kind.INQUIRY: "inquiry",
}


def seed_categories(session: Session, community_id: int, settings: Settings | None = None) -> int:
    """Create the default categories a community lacks; returns how many were added."""
    settings = settings or get_settings()
    have = set(session.scalars(select(TicketCategory.code).where(TicketCategory.community_id == community_id)))
    added = 0
    for spec in DEFAULT_CATEGORIES:
        if spec.code in have:
            continue
        respond, resolve = spec.respond_minutes, spec.resolve_minutes
        if spec.kind is Kind.EMERGENCY:
            respond, resolve = settings.emergency_respond_minutes, settings.emergency_resolve_minutes
        session.add(
            TicketCategory(
                community_id=community_id,
                code=spec.code,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                kind=spec.kind,
                department=spec.department,
                respond_minutes=respond,
                resolve_minutes=resolve,
                satisfaction_area=spec.area,
            )
        )
        added += 1
    session.flush()
    return added
