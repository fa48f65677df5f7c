"""The monthly shared-income disclosure (每月公示公共收益): import the ledger, publish the month as a notice.

The ledger comes from the office's CSV or XLSX, read like the rosters (backend.services.roster_tables) and
imported all or nothing: a bad row imports nothing, and re-importing a month replaces that month's lines.
On the configured day of each month the worker publishes the previous month's table as a notice to the whole
community and its owners' groups, once per month: as text, and as a PNG of the table (backend.services.
table_image) when a CJK font is installed; without one the text goes alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock, SystemClock
from backend.db import transaction
from backend.errors import DomainError
from backend.models import Community, Notice, SharedIncomeLine
from backend.services import notices, table_image
from backend.services.fees import yuan
from backend.services.roster_import import ImportReport, RowError, read_rows, require_cells
from backend.settings import Settings

LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    "period": ("月份", "期间", "所属月份", "年月", "month"),
    "item": ("项目", "收益项目", "名称", "来源", "收入项目", "name"),
    "amount": ("金额", "收入金额", "金额元", "amount_yuan"),
    "kind": ("类型", "收支", "收支类型", "type"),
    "note": ("备注", "说明", "remark"),
}
LEDGER_REQUIRED = ("period", "item", "amount")
KINDS = {"income": ("收入", "收益", "income", ""), "expense": ("支出", "成本", "费用", "expense", "cost")}
MAX_AMOUNT = Decimal("100000000")
PERIOD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]\d{1,2})?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")


def parse_period(text: str) -> str:
    """'2026-11', '2026/11', '2026年11月', Excel's '2026-11-01 00:00:00' -> '2026-11'."""
    m = PERIOD.fullmatch(text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise ValueError(f"bad month {text!r} (use 2026-11)")
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def parse_amount(text: str) -> Decimal:
    cleaned = re.sub(r"[\s,，¥￥元]", "", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"bad amount {text!r}") from exc
    if not value.is_finite() or value <= 0 or value >= MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"bad amount {text!r} (a positive number of yuan, at most two decimals)")
    return value


def parse_kind(text: str) -> str:
    lowered = text.strip().lower()
    for kind, words in KINDS.items():
        if lowered in words:
            return kind
    raise ValueError(f"bad type {text!r} (收入 or 支出)")


def import_ledger(session: Session, community_id: int, path: Path | str, clock: Clock | None = None) -> ImportReport:
    """Replace the months the file covers with its lines; any bad row and nothing is imported."""
    report = ImportReport("shared income")
    rows = read_rows(Path(path), LEDGER_COLUMNS, LEDGER_REQUIRED, report)
    parsed: list[tuple[str, str, str, Decimal, str]] = []
    for row in rows:
        v = row.values
        try:
            require_cells(v, LEDGER_REQUIRED)
            if len(v["item"]) > 100 or len(v["note"]) > 200:
                raise ValueError("item or note too long (100 / 200 characters)")
            parsed.append((parse_period(v["period"]), v["item"], parse_kind(v["kind"]), parse_amount(v["amount"]),
                           v["note"]))
        except ValueError as exc:
            report.errors.append(RowError(row.line, str(exc)))
    if not parsed and not report.errors:
        report.errors.append(RowError(1, "no ledger lines in the file"))
    if report.errors:
        return report
    now = (clock or SystemClock()).now()
    with session.begin_nested():
        periods = sorted({p for p, *_ in parsed})
        session.execute(delete(SharedIncomeLine).where(SharedIncomeLine.community_id == community_id,
                                                       SharedIncomeLine.period.in_(periods)))
        for period, item, kind, amount, note in parsed:
            session.add(SharedIncomeLine(community_id=community_id, period=period, item=item, kind=kind,
                                         amount=amount, note=note, imported_at=now))
            report.count(report.created, "line")
    report.rows = len(parsed)
    return report


@dataclass
class MonthTable:
    period: str
    income: list[SharedIncomeLine] = field(default_factory=list)
    expense: list[SharedIncomeLine] = field(default_factory=list)

    @property
    def total_income(self) -> Decimal:
        return sum((line.amount for line in self.income), Decimal("0"))

    @property
    def total_expense(self) -> Decimal:
        return sum((line.amount for line in self.expense), Decimal("0"))

    @property
    def net(self) -> Decimal:
        return self.total_income - self.total_expense

    @property
    def title(self) -> str:
        year, month = self.period.split("-")
        return f"{year}年{int(month)}月公共收益公示"


def month_table(session: Session, community_id: int, period: str) -> MonthTable:
    table = MonthTable(period)
    for line in session.scalars(select(SharedIncomeLine).where(
            SharedIncomeLine.community_id == community_id, SharedIncomeLine.period == period)
            .order_by(SharedIncomeLine.id)):
        (table.income if line.kind == "income" else table.expense).append(line)
    return table


def as_text(table: MonthTable, community_name: str) -> str:
    """The month's table as lines a chat shows well (no column alignment: chat fonts are proportional)."""
    def lines(items: list[SharedIncomeLine]) -> list[str]:
        return [f"· {x.item}：{yuan(x.amount)}" + (f"（{x.note}）" if x.note else "") for x in items]

    out = [f"{community_name}{table.title}", "", "一、收入"]
    out += lines(table.income) or ["· 无"]
    out.append(f"收入合计：{yuan(table.total_income)}")
    if table.expense:
        out += ["", "二、支出", *lines(table.expense), f"支出合计：{yuan(table.total_expense)}"]
    out += ["", f"本月公共收益净额：{yuan(table.net)}",
            "公共收益归全体业主所有，明细可到物业服务中心查阅。如有疑问请联系客服。"]
    return "\n".join(out)


def as_image(table: MonthTable, community_name: str) -> bytes | None:
    """The month's table as a PNG for chats; None without a CJK font."""
    rows = [table_image.TableRow("收入项目", "金额", band=True)]
    rows += [table_image.TableRow(x.item[:24], yuan(x.amount)) for x in table.income]
    rows.append(table_image.TableRow("收入合计", yuan(table.total_income), strong=True))
    if table.expense:
        rows.append(table_image.TableRow("支出项目", "金额", band=True))
        rows += [table_image.TableRow(x.item[:24], yuan(x.amount)) for x in table.expense]
        rows.append(table_image.TableRow("支出合计", yuan(table.total_expense), strong=True))
    rows.append(table_image.TableRow("本月公共收益净额", yuan(table.net), strong=True, band=True))
    return table_image.render(f"{community_name}{table.title}", rows,
                              "公共收益归全体业主所有，明细可到物业服务中心查阅。如有疑问请联系客服。")


def publish(session: Session, clock: Clock, community_id: int, period: str, *, media_dir: Path,
            created_by: int | None = None) -> Notice | None:
    """The month's disclosure as a scheduled notice (community and owners' groups); None when there is
    nothing to disclose or it was disclosed already."""
    if session.get_bind().dialect.name == "postgresql":  # one worker at a time decides per community
        session.execute(select(Community.id).where(Community.id == community_id).with_for_update())
    table = month_table(session, community_id, period)
    if not table.income and not table.expense:
        return None
    if session.scalar(select(Notice.id).where(Notice.community_id == community_id, Notice.kind == "disclosure",
                                              Notice.title == table.title, Notice.status != "cancelled")):
        return None
    community = session.get(Community, community_id)
    assert community is not None
    png = as_image(table, community.name)
    draft = notices.Draft(title=table.title, body=as_text(table, community.name), category="fee",
                          audience={"community": True, "groups": True}, kind="disclosure",
                          image=notices.Upload(f"{period}.png", png) if png else None)
    notice, _ = notices.create(session, clock, community_id, draft, created_by=created_by, media_dir=media_dir)
    return notice


def previous_period(local: datetime) -> str:
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year}-{month:02d}"


def publish_due(session_factory: sessionmaker[Session], clock: Clock, settings: Settings) -> int:
    """From the configured day of the month on, publish last month's disclosure for every community that
    has its ledger and has not had it yet. Returns the notices made. Run by the worker with the sweep."""
    if settings.disclosure_day <= 0:
        return 0
    local = clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo(settings.timezone))
    if local.day < settings.disclosure_day:
        return 0
    period = previous_period(local)
    made = 0
    with transaction(session_factory) as session:
        communities = list(session.scalars(select(SharedIncomeLine.community_id).where(
            SharedIncomeLine.period == period).distinct()))
    for community_id in communities:
        try:
            with transaction(session_factory) as session:
                made += publish(session, clock, community_id, period, media_dir=settings.media_dir) is not None
        except DomainError:  # e.g. nobody to tell yet: tried again next sweep
            continue
    return made
