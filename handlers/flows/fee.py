"""Fee questions for the bound household: arrears with the computation, a period's bills, payments, how to pay."""

from __future__ import annotations

import re
from decimal import Decimal

from backend.catalogue import register as register_texts
from backend.models import Household
from backend.services import faq, fees
from backend.services.visitors import local
from handlers.context import Context
from handlers.flows.base import Flow, Outcome, defer_until_bound, finish, register

register_texts({
    "fee.arrears": ("🏠 {household} 待缴费用：\n{lines}\n合计：{total}", "🏠 {household} owes:\n{lines}\nTotal: {total}"),
    "fee.arrears_line": ("· {fee}（{periods}）：{computation}", "· {fee_en} ({periods}): {computation}"),
    "fee.all_paid": (
        "🏠 {household} 的{scope}已缴清，没有欠费，谢谢！{last}", "🏠 {household}: {scope_en} all paid, nothing owed. {last_en}",
    ),
    "fee.last_payment": (
        "最近一次缴费：{date} {fee} {amount}（{method}）。", "Last payment: {date} {fee_en} {amount} ({method_en}).",
    ),
    "fee.scope_all": ("费用", "fees"),
    "fee.period": (
        "🏠 {household} {period}：\n{lines}", "🏠 {household}, {period}:\n{lines}",
    ),
    "fee.period_line": (
        "· {fee}：{count}期，应缴 {billed}，已缴 {paid}{owed}", "· {fee_en}: {count} bills, billed {billed}, paid {paid}{owed}",
    ),
    "fee.owed_part": ("，尚欠 {owed}（{computation}）", ", owing {owed} ({computation})"),
    "fee.settled": ("，✅ 已缴清", ", ✅ settled"),
    "fee.no_bills": ("没有找到 {household} {period}{fee}的账单。", "No {fee_en} bills for {household} in {period}."),
    "fee.payments": ("🏠 {household} 缴费记录{period}：\n{lines}\n合计：{total}", "🏠 {household} payments{period}:\n{lines}\nTotal: {total}"),
    "fee.payment_line": ("· {date} {fee}（{bill_period}）{amount}，{method}", "· {date} {fee_en} ({bill_period}) {amount}, {method_en}"),
    "fee.no_payments": ("{household} {period}还没有缴费记录。", "No payments for {household} {period}."),
    "fee.how_to_pay": (
        "缴费方式：\n① 物业服务中心前台（每天 8:30–18:00，支持刷卡、微信、支付宝）\n② 微信缴费：关注小区公众号 →「生活缴费」→ 选择房屋\n"
        "③ 银行转账：开户行及账号请向前台索取，附言请写房号\n如有疑问请拨打 {hotline}。",
        "How to pay:\n1. At the property service centre front desk (daily 8:30–18:00; card, WeChat, Alipay)\n"
        "2. WeChat: the community's official account → \"Payments\" → choose your home\n"
        "3. Bank transfer: ask the front desk for the account; put your room number in the note\nQuestions: {hotline}.",
    ),
    "fee.pay_hint": ("回复「怎么缴费」查看缴费方式。", "Reply \"how to pay\" for payment options."),
})

MINE = re.compile(r"我家|我的|我们家|欠|交了|缴了|交清|缴清|到账|账单|发票|收据|记录|查")
HOW_TO_PAY = re.compile(r"(怎么|如何|在哪|哪里|去哪|怎样|能不能|可以)(线上|网上|微信|手机)?(交|缴|付|支付|充值)|缴费方式|交费方式|支付方式|付款方式|缴费渠道")
PAYMENTS = re.compile(r"缴费记录|交费记录|付款记录|交了多少|缴了多少|付了多少|交过|缴过|收据|发票|交了哪些|缴了哪些")
PAID_YET = re.compile(r"交了吗|缴了吗|交了没|缴了没|到账|交上了吗")  # 交清了吗 is about arrears


class Fee(Flow):
    """How to pay and prices are for anyone; what a household owes or paid is for its bound residents."""

    name = "fee"
    intents = ("query_fee",)

    def start(self, ctx: Context) -> None:
        household = ctx.household
        text = ctx.text if ctx.parse is not None else ""
        if household is None:
            if HOW_TO_PAY.search(text):
                self.how_to_pay(ctx)
                finish(ctx)
                return
            found = faq.match(ctx.session, ctx.community.id, text) if text and not MINE.search(text) else None
            if found is not None:  # a price or rule anyone may know (停车费多少钱)
                ctx.say("faq.answer", answer=found.entry.answer)
                finish(ctx)
                return
            defer_until_bound(ctx, self.name)
            return
        fee_type = fees.fee_type_code(ctx.entity("fee_type")) or fees.fee_type_code(text)
        period = _period(ctx)
        if HOW_TO_PAY.search(text):
            self.how_to_pay(ctx)
        elif PAYMENTS.search(text) or (PAID_YET.search(text) and not period):
            self._payments(ctx, household, fee_type, period)
        elif period:
            self._period(ctx, household, fee_type, period)
        else:
            self._arrears(ctx, household, fee_type)
        finish(ctx)

    def step(self, ctx: Context) -> Outcome:
        self.start(ctx)
        return Outcome.HANDLED

    def how_to_pay(self, ctx: Context) -> None:
        ctx.say("fee.how_to_pay", hotline=ctx.community.hotline or ctx.settings.hotline)

    def _arrears(self, ctx: Context, household: Household, fee_type: str | None) -> None:
        owed = fees.arrears(ctx.session, household, fee_type=fee_type)
        if not owed:
            self._all_paid(ctx, household, fee_type)
            return
        lines = [ctx.t("fee.arrears_line", fee=fees.fee_name(a.fee_type), fee_en=fees.fee_name(a.fee_type, "en"),
                       periods=_periods(a.periods), computation=a.computation) for a in owed]
        total = sum((a.amount for a in owed), Decimal(0))
        ctx.say("fee.arrears", household=household.label, lines="\n".join(lines), total=fees.yuan(total))
        self.how_to_pay(ctx)

    def _all_paid(self, ctx: Context, household: Household, fee_type: str | None) -> None:
        last = fees.last_payment(ctx.session, household)
        params = {"last": "", "last_en": ""}
        if last is not None:
            payment, bill = last
            code = bill.fee_type if bill else ""
            when = f"{local(payment.paid_at, ctx.settings.timezone):%Y-%m-%d}"
            common = {"date": when, "amount": fees.yuan(payment.amount), "fee": fees.fee_name(code),
                      "fee_en": fees.fee_name(code, "en"), "method": fees.method_name(payment.method),
                      "method_en": fees.method_name(payment.method, "en")}
            line = ctx.t("fee.last_payment", **common)
            params = {"last": line, "last_en": line}
        scope = fees.fee_name(fee_type) if fee_type else ctx.t("fee.scope_all")
        ctx.say("fee.all_paid", household=household.label, scope=scope,
                scope_en=fees.fee_name(fee_type, "en") if fee_type else "fees", **params)

    def _period(self, ctx: Context, household: Household, fee_type: str | None, period: str) -> None:
        found = fees.summary(ctx.session, household, fee_type=fee_type, period=period)
        label = _period_label(period)
        if not found:
            ctx.say("fee.no_bills", household=household.label, period=label,
                    fee=fees.fee_name(fee_type) if fee_type else "", fee_en=fees.fee_name(fee_type or "", "en"))
            return
        lines = []
        for item in found:
            owed = ""
            if item.owed > 0:
                debt = fees.arrears(ctx.session, household, fee_type=item.fee_type, period=period)
                owed = ctx.t("fee.owed_part", owed=fees.yuan(item.owed),
                             computation=debt[0].computation if debt else "")
            else:
                owed = ctx.t("fee.settled")
            lines.append(ctx.t("fee.period_line", fee=fees.fee_name(item.fee_type),
                               fee_en=fees.fee_name(item.fee_type, "en"), count=len(item.periods),
                               billed=fees.yuan(item.billed), paid=fees.yuan(item.paid), owed=owed))
        ctx.say("fee.period", household=household.label, period=label, lines="\n".join(lines))
        if any(item.owed > 0 for item in found):
            ctx.say("fee.pay_hint")

    def _payments(self, ctx: Context, household: Household, fee_type: str | None, period: str | None) -> None:
        rows = fees.payments(ctx.session, household, fee_type=fee_type, period=period, limit=12)
        label = f"（{_period_label(period)}）" if period else ""
        if not rows:
            ctx.say("fee.no_payments", household=household.label, period=_period_label(period) if period else "")
            return
        lines = []
        for payment, bill in rows:
            code = bill.fee_type if bill else ""
            lines.append(ctx.t(
                "fee.payment_line", date=f"{local(payment.paid_at, ctx.settings.timezone):%Y-%m-%d}",
                fee=fees.fee_name(code), fee_en=fees.fee_name(code, "en"), bill_period=bill.period if bill else "—",
                amount=fees.yuan(payment.amount), method=fees.method_name(payment.method),
                method_en=fees.method_name(payment.method, "en"),
            ))
        total = sum((p.amount for p, _b in rows), Decimal(0))
        ctx.say("fee.payments", household=household.label, period=label, lines="\n".join(lines),
                total=fees.yuan(total))


def _period(ctx: Context) -> str | None:
    """"2026" for a year, "2026-11" for a month (a day or a time counts as its month)."""
    for ent in ctx.entities("datetime"):
        value = str(ent.get("value", ""))
        if re.fullmatch(r"\d{4}", value):
            return value
        if re.match(r"\d{4}-\d{2}(?!\d)(?!-W)", value) and "W" not in value:
            return value[:7]
    return None


def _period_label(period: str) -> str:
    return f"{period}年" if len(period) == 4 else f"{period[:4]}年{int(period[5:7])}月"


def _periods(periods: list[str]) -> str:
    if len(periods) <= 2:
        return "、".join(periods)
    return f"{periods[0]}至{periods[-1]}"


register(Fee())
