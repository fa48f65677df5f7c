"""Importing the office's resident and staff rosters, all or nothing.

Every row is checked before anything is written; one bad row (reported with its line number)
means nothing is imported. Re-importing the same file updates in place instead of duplicating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock, SystemClock
from backend.domain import Department, Role
from backend.models import Building, Household, HouseholdPhone, Resident, Staff, Unit
from backend.services.roster_tables import Row, TableError, read_table

RESIDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼", "栋"),
    "unit": ("单元",),
    "room": ("房号", "房间", "房间号", "室"),
    "area": ("面积", "建筑面积", "area_m2"),
    "name": ("姓名", "住户", "业主"),
    "phone": ("电话", "手机", "手机号", "联系电话", "mobile"),
    "relation": ("关系", "身份"),
}
RESIDENT_REQUIRED = ("building", "unit", "room", "area", "phone")

STAFF_COLUMNS: dict[str, tuple[str, ...]] = {
    "login": ("工号", "账号", "登录名", "用户名"),
    "name": ("姓名",),
    "role": ("岗位", "职位", "角色"),
    "department": ("部门",),
    "phone": ("电话", "手机", "手机号", "联系电话", "mobile"),
    "buildings": ("管辖楼栋", "负责楼栋", "楼栋", "building"),
}
STAFF_REQUIRED = ("login", "name", "role", "department")

RELATIONS = {
    "owner": ("业主", "户主", "房主"),
    "tenant": ("租户", "租客", "承租人"),
    "family": ("家属", "家人", "家庭成员", "亲属"),
}
# Checked in order: the first keyword found in the cell decides ("客服主管" is a supervisor).
ROLE_KEYWORDS: tuple[tuple[Role, tuple[str, ...]], ...] = (
    (Role.ADMIN, ("公司管理员", "总部管理员", "company admin")),  # every community (the console's company view)
    (Role.MANAGER, ("经理", "项目负责人")),
    (Role.SUPERVISOR, ("主管", "领班", "队长", "组长")),
    (Role.AGENT, ("员工", "专员", "客服", "管家", "保安", "秩序员", "门岗", "维修", "技工", "电工", "水电工",
                  "工程师", "保洁", "绿化", "园艺")),
)  # fmt: skip
DEPARTMENT_KEYWORDS: tuple[tuple[Department, tuple[str, ...]], ...] = (
    (Department.CUSTOMER_SERVICE, ("客服", "客户服务")),
    (Department.SECURITY, ("秩序", "安保", "保安", "安全")),
    (Department.ENGINEERING, ("工程", "维修")),
    (Department.ENVIRONMENT, ("环境", "保洁", "绿化")),
    (Department.MANAGEMENT, ("管理", "项目", "综合", "经理")),
)

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{9,11}")
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,49}")
MAX_AREA = Decimal("10000")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    kind: str  # residents | staff | bills | payments
    rows: int = 0
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False  # checked and counted, nothing kept

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, bucket: dict[str, int], what: str) -> None:
        bucket[what] = bucket.get(what, 0) + 1

    def summary(self) -> str:
        if self.errors:
            lines = [f"{self.kind}: {len(self.errors)} error(s), nothing imported"]
            return "\n".join(lines + [f"  {e}" for e in self.errors])
        made = ", ".join(f"{n} {what}" for what, n in self.created.items()) or "nothing new"
        changed = ", ".join(f"{n} {what}" for what, n in self.updated.items()) or "nothing"
        if self.dry_run:
            return f"{self.kind} (dry run, nothing written): {self.rows} row(s) would import; " \
                   f"would create {made}; would update {changed}"
        return f"{self.kind}: {self.rows} row(s) imported; created {made}; updated {changed}"


# ---- cell parsers: return the clean value or raise ValueError with a message for the office


def normalize_phone(text: str) -> str:
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if MOBILE.fullmatch(digits) or LANDLINE.fullmatch(digits):
        return digits
    raise ValueError(f"bad phone {text!r}")


def _place_code(text: str, suffixes: tuple[str, ...], what: str) -> str:
    code = text.strip()
    for suffix in suffixes:
        code = code.removesuffix(suffix)
    code = code.strip().upper()
    if not code or len(code) > 16 or not re.fullmatch(r"[0-9A-Z\-]+", code):
        raise ValueError(f"bad {what} {text!r}")
    return code


def parse_building(text: str) -> str:
    return _place_code(text, ("号楼", "栋", "幢", "楼", "号"), "building")


def parse_unit(text: str) -> str:
    return _place_code(text, ("单元",), "unit")


def parse_room(text: str) -> str:
    return _place_code(text, ("室", "号"), "room")


def floor_of(room: str) -> int:
    """'1502' -> 15, '0801' -> 8, '301' -> 3; 0 when the room number says nothing about the floor."""
    return int(room[:-2]) if room.isdigit() and len(room) >= 3 else 0


def parse_area(text: str) -> Decimal:
    cleaned = re.sub(r"(平方米|平米|㎡|m²|m2)$", "", text.strip(), flags=re.IGNORECASE).strip()
    try:
        area = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"bad area {text!r}") from None
    if not area.is_finite() or area <= 0 or area >= MAX_AREA:
        raise ValueError(f"bad area {text!r}")
    return area.quantize(Decimal("0.01"))


def parse_relation(text: str) -> str:
    value = text.strip().lower()
    if not value:
        return "owner"
    for relation, words in RELATIONS.items():
        if value == relation or value in words:
            return relation
    raise ValueError(f"unknown relation {text!r} (业主/租户/家属 or owner/tenant/family)")


def _by_keyword(text: str, table: tuple[tuple[E, tuple[str, ...]], ...], enum: type[E], what: str) -> E:
    value = text.strip()
    english = re.sub(r"[\s\-]+", "_", value.lower())
    if english in {m.value for m in enum}:
        return enum(english)
    for member, words in table:
        if any(w in value for w in words):
            return member
    choices = ", ".join(m.value for m in enum)
    raise ValueError(f"unknown {what} {text!r} ({choices})")


def parse_role(text: str) -> Role:
    return _by_keyword(text, ROLE_KEYWORDS, Role, "role")


def parse_department(text: str) -> Department:
    return _by_keyword(text, DEPARTMENT_KEYWORDS, Department, "department")


def parse_buildings(text: str) -> list[str]:
    """'1,2,3', '1、2', '1-3号楼', '4～6' -> building codes."""
    codes: list[str] = []
    for part in re.split(r"[,，、;；/\s]+", text.strip()):
        if not part:
            continue
        span = re.fullmatch(r"(\d+)\s*[-~～至到]\s*(\d+)(号楼|栋|幢)?", part)
        if span and int(span[1]) <= int(span[2]):
            codes.extend(str(n) for n in range(int(span[1]), int(span[2]) + 1))
        else:
            codes.append(parse_building(part))
    return codes


# ---- residents


@dataclass(frozen=True)
class _ResidentRow:
    line: int
    building: str
    unit: str
    room: str
    area: Decimal
    name: str
    phone: str
    relation: str


def import_residents(session: Session, community_id: int, path: Path | str, clock: Clock | None = None) -> ImportReport:
    """Create buildings, units and households as needed, their registered phones and resident records."""
    report = ImportReport("residents")
    rows = read_rows(Path(path), RESIDENT_COLUMNS, RESIDENT_REQUIRED, report)
    parsed: list[_ResidentRow] = []
    areas: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    for row in rows:
        v = row.values
        try:
            require_cells(v, RESIDENT_REQUIRED)
            item = _ResidentRow(
                row.line, parse_building(v["building"]), parse_unit(v["unit"]), parse_room(v["room"]),
                parse_area(v["area"]), v["name"][:50], normalize_phone(v["phone"]), parse_relation(v["relation"]),
            )  # fmt: skip
        except ValueError as exc:
            report.errors.append(RowError(row.line, str(exc)))
            continue
        key = (item.building, item.unit, item.room)
        if key in areas and areas[key][0] != item.area:
            label = "-".join(key)
            report.errors.append(RowError(row.line, f"area of {label} differs from line {areas[key][1]}"))
            continue
        areas.setdefault(key, (item.area, item.line))
        parsed.append(item)
    if report.errors:
        return report

    now = (clock or SystemClock()).now()
    with session.begin_nested():
        for item in parsed:
            _write_resident(session, community_id, item, now, report)
    report.rows = len(parsed)
    return report


def _write_resident(
    session: Session, community_id: int, item: _ResidentRow, now: datetime, report: ImportReport
) -> None:
    building = session.scalar(
        select(Building).where(Building.community_id == community_id, Building.code == item.building)
    )
    if building is None:
        building = Building(community_id=community_id, code=item.building, name=f"{item.building}号楼")
        session.add(building)
        session.flush()
        report.count(report.created, "buildings")
    unit = session.scalar(select(Unit).where(Unit.building_id == building.id, Unit.code == item.unit))
    if unit is None:
        unit = Unit(community_id=community_id, building_id=building.id, code=item.unit)
        session.add(unit)
        session.flush()
        report.count(report.created, "units")
    household = session.scalar(select(Household).where(Household.unit_id == unit.id, Household.room == item.room))
    if household is None:
        household = Household(
            community_id=community_id, building_id=building.id, unit_id=unit.id, room=item.room,
            floor=floor_of(item.room), area_m2=item.area, label=f"{item.building}-{item.unit}-{item.room}",
        )  # fmt: skip
        session.add(household)
        session.flush()
        report.count(report.created, "households")
    elif household.area_m2 != item.area:
        household.area_m2 = item.area
        report.count(report.updated, "households")

    registered = session.scalar(
        select(HouseholdPhone).where(HouseholdPhone.household_id == household.id, HouseholdPhone.phone == item.phone)
    )
    if registered is None:
        session.add(HouseholdPhone(community_id=community_id, household_id=household.id, phone=item.phone,
                                   holder_name=item.name))  # fmt: skip
        report.count(report.created, "phones")
    elif item.name and registered.holder_name != item.name:
        registered.holder_name = item.name

    resident = session.scalar(
        select(Resident).where(Resident.household_id == household.id, Resident.phone == item.phone)
    )
    if resident is None:
        session.add(Resident(community_id=community_id, household_id=household.id, name=item.name,
                             phone=item.phone, relation=item.relation, created_at=now))  # fmt: skip
        report.count(report.created, "residents")
    elif (resident.name, resident.relation) != (item.name, item.relation):
        resident.name, resident.relation = item.name, item.relation
        report.count(report.updated, "residents")
    session.flush()


# ---- staff


@dataclass(frozen=True)
class _StaffRow:
    line: int
    login: str
    name: str
    role: Role
    department: Department
    phone: str
    buildings: list[str]


def import_staff(session: Session, community_id: int, path: Path | str, clock: Clock | None = None) -> ImportReport:
    """Create or update staff by login; 管辖楼栋 makes them the steward of those buildings."""
    report = ImportReport("staff")
    rows = read_rows(Path(path), STAFF_COLUMNS, STAFF_REQUIRED, report)
    buildings = {b.code: b for b in session.scalars(select(Building).where(Building.community_id == community_id))}
    parsed: list[_StaffRow] = []
    logins: dict[str, int] = {}
    stewards: dict[str, int] = {}
    for row in rows:
        v = row.values
        try:
            require_cells(v, STAFF_REQUIRED)
            login = v["login"]
            if not LOGIN.fullmatch(login):
                raise ValueError(f"bad login {login!r} (letters, digits, . _ -)")
            if login.lower() in logins:
                raise ValueError(f"duplicate login {login!r} (also on line {logins[login.lower()]})")
            item = _StaffRow(
                row.line, login, v["name"][:50], parse_role(v["role"]), parse_department(v["department"]),
                normalize_phone(v["phone"]) if v["phone"] else "", parse_buildings(v["buildings"]),
            )  # fmt: skip
            for code in item.buildings:
                if code not in buildings:
                    raise ValueError(f"unknown building {code!r}")
                if code in stewards:
                    raise ValueError(f"building {code} already has a steward on line {stewards[code]}")
        except ValueError as exc:
            report.errors.append(RowError(row.line, str(exc)))
            continue
        logins[login.lower()] = row.line
        stewards.update({code: row.line for code in item.buildings})
        parsed.append(item)
    if report.errors:
        return report

    now = (clock or SystemClock()).now()
    with session.begin_nested():
        existing = {
            s.login.lower(): s for s in session.scalars(select(Staff).where(Staff.community_id == community_id))
        }
        for item in parsed:
            member = existing.get(item.login.lower())
            if member is None:
                member = Staff(community_id=community_id, login=item.login, created_at=now)
                session.add(member)
                report.count(report.created, "staff")
            elif (member.name, member.role, member.department, member.phone, member.active) != (
                item.name, item.role, item.department, item.phone, True,
            ):  # fmt: skip
                report.count(report.updated, "staff")
            member.name, member.role, member.department = item.name, item.role, item.department
            member.phone, member.active = item.phone, True
            session.flush()
            for code in item.buildings:
                if buildings[code].steward_id != member.id:
                    buildings[code].steward_id = member.id
                    report.count(report.updated, "stewards")
        session.flush()
    report.rows = len(parsed)
    return report


# ---- shared


def read_rows(
    path: Path, columns: dict[str, tuple[str, ...]], required: tuple[str, ...], report: ImportReport
) -> list[Row]:
    try:
        return read_table(path, columns, required)
    except TableError as exc:
        report.errors.append(RowError(exc.line, str(exc)))
    except OSError as exc:
        report.errors.append(RowError(0, f"cannot read {path}: {exc.strerror or exc}"))
    return []


def require_cells(values: dict[str, str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if not values[c]]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
