"""Roster import from real CSV (UTF-8, BOM, GBK) and XLSX files: all rows or none."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.clock import FrozenClock
from backend.models import Building, Community, Household, HouseholdPhone, Resident, Staff, Unit
from backend.services.roster_import import import_residents, import_staff, parse_buildings

RESIDENTS_ZH = """楼栋,单元,房号,面积,姓名,电话,关系
3,2,1502,126,王芳,13900321502,业主
3,2,1502,126,李雷,139 1234 5678,租户
3号楼,1单元,0801,98.5,张伟,+86 138-0000-1111,
"""


@pytest.fixture
def community(session: Session, clock: FrozenClock) -> Community:
    c = Community(code="c1", name="测试小区", created_at=clock.now())
    session.add(c)
    session.commit()
    return c


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_residents_csv(session: Session, community: Community, tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path, "住户.csv", RESIDENTS_ZH, encoding)
    report = import_residents(session, community.id, path)
    session.commit()
    assert report.ok, report.summary()
    assert report.rows == 3
    assert report.created == {"buildings": 1, "units": 2, "households": 2, "phones": 3, "residents": 3}

    h = session.scalars(select(Household).where(Household.label == "3-2-1502")).one()
    assert (h.floor, h.area_m2) == (15, Decimal("126"))
    assert sorted(p.phone for p in h.phones) == ["13900321502", "13912345678"]
    residents = {r.name: r for r in session.scalars(select(Resident))}
    assert (residents["李雷"].relation, residents["李雷"].household_id) == ("tenant", h.id)
    assert (residents["王芳"].relation, residents["张伟"].relation) == ("owner", "owner")
    assert residents["张伟"].phone == "13800001111"
    low = session.scalars(select(Household).where(Household.label == "3-1-0801")).one()
    assert (low.floor, low.area_m2) == (8, Decimal("98.50"))
    assert session.scalars(select(Building)).one().name == "3号楼"


def test_residents_reimport_updates_in_place(session: Session, community: Community, tmp_path: Path) -> None:
    path = _write(tmp_path, "r.csv", RESIDENTS_ZH)
    assert import_residents(session, community.id, path).ok
    session.commit()
    changed = _write(tmp_path, "r2.csv", RESIDENTS_ZH.replace("126,李雷", "126,李雷雷").replace("126", "127"))
    report = import_residents(session, community.id, changed)
    session.commit()
    assert report.ok, report.summary()
    assert report.created == {}
    assert report.updated == {"households": 1, "residents": 1}
    assert (_count(session, Household), _count(session, HouseholdPhone), _count(session, Resident)) == (2, 3, 3)


def test_residents_xlsx_english_headers(session: Session, community: Community, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Building", "Unit", "Room", "Area (m²)", "Name", "Phone", "Relation"])
    ws.append([6, 1, 801, 98.0, "Zhao Lei", 13900610801, "family"])
    ws.append([None, None, None, None, None, None, None])
    ws.append(["6", "1", "1802", "126", "钱多多", "13900611802", "owner"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)

    report = import_residents(session, community.id, path)
    session.commit()
    assert report.ok, report.summary()
    labels = set(session.scalars(select(Household.label)))
    assert labels == {"6-1-801", "6-1-1802"}
    assert set(session.scalars(select(Resident.phone))) == {"13900610801", "13900611802"}
    assert session.scalars(select(Resident).where(Resident.name == "Zhao Lei")).one().relation == "family"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("4,1,0302,98,赵六,,业主", "missing phone"),
        ("4,1,0302,98,赵六,12345,业主", "bad phone"),
        ("4,1,0302,九十八,赵六,13900410302,业主", "bad area"),
        ("4,1,0302,-5,赵六,13900410302,业主", "bad area"),
        ("4,,0302,98,赵六,13900410302,业主", "missing unit"),
        ("4,1,0302,98,赵六,13900410302,邻居", "unknown relation"),
    ],
)
def test_residents_bad_row_imports_nothing(
    session: Session, community: Community, tmp_path: Path, bad_line: str, message: str
) -> None:
    path = _write(tmp_path, "bad.csv", RESIDENTS_ZH + bad_line + "\n")
    report = import_residents(session, community.id, path)
    session.commit()
    assert not report.ok
    assert [e.line for e in report.errors] == [5]
    assert message in report.errors[0].message
    assert "line 5" in report.summary() and "nothing imported" in report.summary()
    assert (_count(session, Building), _count(session, Household), _count(session, Resident)) == (0, 0, 0)


def test_residents_conflicting_area_and_missing_column(session: Session, community: Community, tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", RESIDENTS_ZH + "3,2,1502,90,某人,13900000000,家属\n")
    report = import_residents(session, community.id, path)
    assert [(e.line, "differs from line 2" in e.message) for e in report.errors] == [(5, True)]

    path = _write(tmp_path, "b.csv", "楼栋,单元,房号,姓名\n1,1,0101,某人\n")
    report = import_residents(session, community.id, path)
    assert report.errors[0].line == 1 and "area" in report.errors[0].message and "phone" in report.errors[0].message
    assert _count(session, Household) == 0


STAFF_ZH = """工号,姓名,岗位,部门,电话,管辖楼栋
mgr,王建国,项目经理,管理处,13800000001,
kf-lead,李静,客服主管,客服部,13800000011,
kf1,张敏,客服专员,客服部,13800000012,"1-3"
kf2,刘洋,管家,客服,13800000013,4、5
bao1,杨勇,保安,秩序部,,
"""


def _buildings(session: Session, community: Community, codes: str) -> None:
    session.add_all(Building(community_id=community.id, code=c, name=f"{c}号楼") for c in codes)
    session.commit()


def test_staff_csv(session: Session, community: Community, tmp_path: Path) -> None:
    _buildings(session, community, "12345")
    report = import_staff(session, community.id, _write(tmp_path, "staff.csv", STAFF_ZH, "gbk"))
    session.commit()
    assert report.ok, report.summary()
    assert report.created == {"staff": 5}
    staff = {s.login: s for s in session.scalars(select(Staff))}
    assert (staff["mgr"].role, staff["mgr"].department) == ("manager", "management")
    assert (staff["kf-lead"].role, staff["kf-lead"].department) == ("supervisor", "customer_service")
    assert (staff["kf2"].role, staff["bao1"].department, staff["bao1"].phone) == ("agent", "security", "")
    stewards = {b.code: b.steward_id for b in session.scalars(select(Building))}
    assert stewards == {"1": staff["kf1"].id, "2": staff["kf1"].id, "3": staff["kf1"].id,
                        "4": staff["kf2"].id, "5": staff["kf2"].id}  # fmt: skip

    again = import_staff(session, community.id, _write(tmp_path, "s2.csv", STAFF_ZH.replace("杨勇", "杨永")))
    session.commit()
    assert again.ok and again.created == {} and again.updated == {"staff": 1}
    assert _count(session, Staff) == 5


def test_staff_xlsx_english(session: Session, community: Community, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["login", "name", "role", "department", "phone", "buildings"])
    ws.append(["tech1", "吴涛", "agent", "engineering", 13800000032, None])
    ws.append(["env-lead", "马丽", "Supervisor", "Environment", "13800000041", ""])
    path = tmp_path / "staff.xlsx"
    wb.save(path)
    report = import_staff(session, community.id, path)
    session.commit()
    assert report.ok, report.summary()
    assert {(s.login, s.role, s.department) for s in session.scalars(select(Staff))} == {
        ("tech1", "agent", "engineering"), ("env-lead", "supervisor", "environment"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("kf1,重复,客服专员,客服部,13800000099,", "duplicate login 'kf1' (also on line 4)"),
        ("x1,某人,专员,财务部,13800000099,", "unknown department"),
        ("x1,某人,实习生,客服部,13800000099,", "unknown role"),
        ("x1,,专员,客服部,13800000099,", "missing name"),
        ("x1,某人,专员,客服部,1380000,", "bad phone"),
        ("x1,某人,专员,客服部,,9", "unknown building '9'"),
        ("x1,某人,专员,客服部,,2", "building 2 already has a steward on line 4"),
    ],
)
def test_staff_bad_row_imports_nothing(
    session: Session, community: Community, tmp_path: Path, bad_line: str, message: str
) -> None:
    _buildings(session, community, "12345")
    report = import_staff(session, community.id, _write(tmp_path, "bad.csv", STAFF_ZH + bad_line + "\n"))
    session.commit()
    assert [e.line for e in report.errors] == [7], report.summary()
    assert message in report.errors[0].message
    assert _count(session, Staff) == 0
    assert set(session.scalars(select(Building.steward_id))) == {None}


def test_unreadable_files(session: Session, community: Community, tmp_path: Path) -> None:
    report = import_staff(session, community.id, tmp_path / "missing.csv")
    assert not report.ok and "cannot read" in report.errors[0].message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert not import_residents(session, community.id, broken).ok
    empty = _write(tmp_path, "empty.csv", "\n\n")
    assert "empty" in import_residents(session, community.id, empty).errors[0].message
    assert _count(session, Unit) == 0


def test_parse_buildings() -> None:
    assert parse_buildings("1-3") == ["1", "2", "3"]
    assert parse_buildings("4～6号楼") == ["4", "5", "6"]
    assert parse_buildings("1，2、7号楼 B") == ["1", "2", "7", "B"]
    assert parse_buildings("") == []
