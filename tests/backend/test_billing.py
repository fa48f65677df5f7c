"""Bills and payments imports (all or nothing, dry run, line numbers) and arrears reminders (催缴)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from backend.models import ArrearsReminder, Bill, Notification, Payment, Resident
from backend.services import arrears, billing
from tests.builders import build_world

BILLS = """楼栋,单元,房号,费用类型,账期,数量,单价,金额,到期日
1,1,0101,物业费,2026-10,98,2.80,,2026-10-31
1,1,0101,停车费,2026年11月,,,300,2026-11-30
2号楼,1单元,0101,property,202611,98,2.80,274.40,
"""


@pytest.fixture
def world(session_factory, clock, settings):
    with session_factory() as s:
        return build_world(s, clock, settings)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(s, model):
    return s.scalar(select(func.count()).select_from(model))


def import_bills(session_factory, clock, settings, world, path, **kw):
    with session_factory() as s, s.begin():
        return billing.import_bills(s, world.community.id, path, clock, settings.timezone, **kw)


def test_bills_import_dry_run_then_for_real_then_again(session_factory, clock, settings, world, tmp_path):
    path = write(tmp_path, "bills.csv", BILLS)
    preview = import_bills(session_factory, clock, settings, world, path, dry_run=True)
    assert preview.ok and preview.rows == 3 and preview.created == {"bills": 3} and "dry run" in preview.summary()
    with session_factory() as s:
        assert count(s, Bill) == 0
    report = import_bills(session_factory, clock, settings, world, path)
    assert report.ok and report.created == {"bills": 3}
    with session_factory() as s:
        october = s.scalar(select(Bill).where(Bill.period == "2026-10"))
        assert october.amount == Decimal("274.40") and october.fee_type == "property"
        assert s.scalar(select(Bill.fee_type).where(Bill.period == "2026-11", Bill.amount == 300)) == "parking"
    again = import_bills(session_factory, clock, settings, world, path)
    assert again.updated == {"bills": 3} and again.created == {}


def test_a_bad_bill_row_imports_nothing_and_names_its_line(session_factory, clock, settings, world, tmp_path):
    text = BILLS + "9,1,0101,物业费,2026-11,,,10,\n1,1,0101,燃气费,2026-11,,,10,\n1,1,0101,物业费,2026-13,,,1,\n" \
                   "1,1,0101,物业费,2026-10,,,-5,\n1,1,0101,物业费,2026-10,,,5,\n"
    report = import_bills(session_factory, clock, settings, world, write(tmp_path, "b.csv", text))
    assert not report.ok
    assert [(e.line, e.message.split(" ")[0]) for e in report.errors] == [
        (5, "unknown"), (6, "unknown"), (7, "bad"), (8, "bad"), (9, "the")]
    with session_factory() as s:
        assert count(s, Bill) == 0


def test_payments_reduce_the_bill_skip_known_references_and_refuse_overpaying(session_factory, clock, settings,
                                                                              world, tmp_path):
    import_bills(session_factory, clock, settings, world, write(tmp_path, "bills.csv", BILLS))
    book = Workbook()
    sheet = book.active
    sheet.append(["楼栋", "单元", "房号", "收费项目", "账期", "实收金额", "支付方式", "缴费日期", "流水号"])
    sheet.append([1, 1, "0101", "物业费", "2026-10", 200, "微信", "2026-11-02", "T1"])
    sheet.append([1, 1, "0101", "停车费", "2026-11", 300, "现金", "", "T2"])
    book.save(tmp_path / "pay.xlsx")
    with session_factory() as s, s.begin():
        report = billing.import_payments(s, world.community.id, tmp_path / "pay.xlsx", clock, settings.timezone)
    assert report.ok and report.created == {"payments": 2}, report.summary()
    with session_factory() as s, s.begin():
        again = billing.import_payments(s, world.community.id, tmp_path / "pay.xlsx", clock, settings.timezone)
    assert again.ok and again.created == {} and again.updated == {"already recorded (skipped)": 2}
    with session_factory() as s:
        october = s.scalar(select(Bill).where(Bill.period == "2026-10"))
        assert october.paid_amount == Decimal("200.00") and count(s, Payment) == 2
        assert s.scalar(select(Payment.method).where(Payment.reference == "T2")) == "cash"
    over = "楼栋,单元,房号,费用类型,账期,金额,流水号\n1,1,0101,物业费,2026-10,100,T3\n1,1,0101,水费,2026-10,1,T4\n"
    with session_factory() as s, s.begin():
        bad = billing.import_payments(s, world.community.id, write(tmp_path, "p.csv", over), clock,
                                      settings.timezone)
    assert [e.line for e in bad.errors] == [2, 3] and "more than the bill still owes" in bad.errors[0].message


def test_arrears_reminders_private_once_per_interval_opt_out_and_stopped_by_payment(
        session_factory, clock, settings, world, tmp_path):
    settings.arrears_reminder_interval_days = 7
    import_bills(session_factory, clock, settings, world, write(tmp_path, "bills.csv", BILLS))
    clock.advance(days=400)  # every bill is past due
    assert arrears.remind_once(session_factory, clock, settings) == 2  # households 1 and 2
    assert arrears.remind_once(session_factory, clock, settings) == 0  # not again within the interval
    with session_factory() as s:
        notes = s.scalars(select(Notification).where(Notification.kind == arrears.KIND)
                          .order_by(Notification.id)).all()
        assert {n.recipient_type for n in notes} == {"resident"}  # private, never a group
        first = notes[0].params
        assert first["household"] == "1-1-0101" and "物业费" in first["lines"] and first["total"] == "574.40元"
    clock.advance(days=8)
    with session_factory() as s, s.begin():
        assert arrears.opt_out(s, clock, s.get(Resident, world.residents["2"].id))
        assert not arrears.opt_out(s, clock, s.get(Resident, world.residents["2"].id))
        bill = s.scalar(select(Bill).where(Bill.household_id == world.households["1"].id, Bill.period == "2026-10"))
        billing.pay(s, clock, bill, Decimal("274.40"))
    assert arrears.remind_once(session_factory, clock, settings) == 1  # household 1 still owes parking
    with session_factory() as s, s.begin():
        parking = s.scalar(select(Bill).where(Bill.fee_type == "parking"))
        billing.pay(s, clock, parking, Decimal("300"))
        pending = s.scalars(select(Notification.status).where(Notification.kind == arrears.KIND)).all()
        # nothing was delivered yet: the payment and the opt-out withdrew every queued reminder
        assert pending == ["cancelled"] * 3
    clock.advance(days=8)
    assert arrears.remind_once(session_factory, clock, settings) == 0  # paid, and household 2 opted out
    with session_factory() as s, s.begin():
        assert s.scalar(select(ArrearsReminder.sent_count).where(
            ArrearsReminder.household_id == world.households["1"].id)) == 2
        arrears.opt_in(s, s.get(Resident, world.residents["2"].id))
    assert arrears.remind_once(session_factory, clock, settings) == 1


def test_a_household_nobody_lives_in_keeps_its_turn(session_factory, clock, settings, world, tmp_path):
    import_bills(session_factory, clock, settings, world, write(tmp_path, "bills.csv", BILLS))
    clock.advance(days=400)
    with session_factory() as s, s.begin():
        s.delete(s.get(Resident, world.residents["2"].id))
    assert arrears.remind_once(session_factory, clock, settings) == 1  # household 1 only
    with session_factory() as s, s.begin():
        s.add(Resident(community_id=world.community.id, household_id=world.households["2"].id, name="新住户",
                       bound_at=clock.now(), created_at=clock.now()))
    assert arrears.remind_once(session_factory, clock, settings) == 1  # household 2 at once, not next month
