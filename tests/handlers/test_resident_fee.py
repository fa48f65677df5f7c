"""Fee questions: arrears with the computation, periods, fee types, payments, how to pay, binding first."""

from __future__ import annotations

from decimal import Decimal

from backend.services import fees
from backend.services.demo import seed_demo  # noqa: F401  (the demo fixture seeds it)


def bound(chat, user: str, address: str, phone: str):
    person = chat(user)
    person.say("/bind")
    person.say(address)
    assert "绑定成功" in person.say(phone)
    return person


def test_building_6_household_owes_three_months_of_property_fee(chat):
    ann = bound(chat, "u-ann", "6-1-0801", "13900610801")
    reply = ann.say("我家物业费还欠多少")
    assert "3个月 × 98㎡ × 2.80元/㎡/月 = 823.20元" in reply
    assert "2026-10至2026-12" in reply and "合计：823.20元" in reply
    assert "微信缴费" in reply and "400-800-1234" in reply


def test_paid_up_household_is_told_with_the_last_payment(chat):
    bo = bound(chat, "u-bo", "3-2-1502", "13900321502")
    reply = bo.say("物业费还欠多少钱")
    assert "已缴清，没有欠费" in reply and "最近一次缴费" in reply and "352.80元" in reply and "微信支付" in reply  # 126 m²


def test_a_month_and_a_year(chat):
    cy = bound(chat, "u-cy", "6-1-0801", "13900610801")
    reply = cy.say("上个月的物业费交了吗")
    assert "2026年11月" in reply and "尚欠 274.40元" in reply
    reply = cy.say("2026年10月的物业费")
    assert "2026年10月" in reply and "274.40元" in reply
    reply = cy.say("今年交了多少物业费")
    assert "缴费记录" in reply and "合计：2,469.60元" in reply  # 9 paid months × 274.40


def test_a_fee_type_without_bills(chat):
    di = bound(chat, "u-di", "6-1-0801", "13900610801")
    reply = di.say("停车费还欠多少")
    assert "停车费已缴清" in reply


def test_how_to_pay(chat):
    ed = bound(chat, "u-ed", "1-1-0101", "13900110101")
    reply = ed.say("怎么交物业费")
    assert "物业服务中心前台" in reply and "微信缴费" in reply and "银行转账" in reply and "400-800-1234" in reply


def test_unbound_user_binds_first_then_gets_the_answer(chat):
    fi = chat("u-fi")
    assert "先绑定" in fi.say("我家物业费还欠多少")
    fi.say("6号楼1单元0801")
    reply = fi.say("13900610801")
    assert "绑定成功" in reply and "823.20元" in reply


def test_arrears_service_uses_decimal(session_factory, demo):
    from sqlalchemy import select

    from backend.models import Household

    with session_factory() as s:
        household = s.scalar(select(Household).where(Household.label == "6-2-1802"))
        owed = fees.arrears(s, household)
        assert [(a.fee_type, a.amount) for a in owed] == [("property", Decimal("1058.40"))]
        assert owed[0].computation == "3个月 × 126㎡ × 2.80元/㎡/月 = 1,058.40元"
        assert fees.fee_type_code("停车废") == "parking" and fees.fee_type_code("钱") is None
