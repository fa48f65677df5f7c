"""`guanjia import`: the office's resident and staff rosters, bills and payments (CSV or XLSX)."""

from __future__ import annotations

from pathlib import Path

import typer

from backend.clock import SystemClock
from backend.errors import DomainError
from backend.services import billing
from backend.services.disclosure import import_ledger
from backend.services.roster_import import ImportReport, import_residents, import_staff
from bot.cli.common import COMMUNITY_OPTION, community_by_code, fail, load_settings, staff_by_login, unit_of_work

app = typer.Typer(
    help="Import rosters, bills and payments from CSV (UTF-8 or GBK) or XLSX; a bad row imports nothing.", no_args_is_help=True
)

FILE_ARGUMENT = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or XLSX file.")


def _finish(report: ImportReport) -> None:
    if not report.ok:
        typer.secho(report.summary(), err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(report.summary())


class _Rollback(Exception):
    """Raised inside the transaction so a failed import leaves no trace."""


def _run(importer, file: Path, community: str | None) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings()
    report: ImportReport | None = None
    try:
        with unit_of_work(settings) as session:
            target = community_by_code(session, community, settings)
            report = importer(session, target.id, file)
            if not report.ok:
                raise _Rollback
    except _Rollback:
        pass
    assert report is not None
    _finish(report)


@app.command()
def residents(file: Path = FILE_ARGUMENT, community: str | None = COMMUNITY_OPTION) -> None:
    """Households, registered phones and residents: 楼栋 单元 房号 面积 姓名 电话 关系."""
    _run(import_residents, file, community)


@app.command()
def staff(file: Path = FILE_ARGUMENT, community: str | None = COMMUNITY_OPTION) -> None:
    """Staff by login: 工号 姓名 岗位 部门 电话 管辖楼栋."""
    _run(import_staff, file, community)


@app.command("shared-income")
def shared_income(file: Path = FILE_ARGUMENT, community: str | None = COMMUNITY_OPTION) -> None:
    """The shared-income ledger (公共收益): 月份 项目 金额 [类型 收入/支出] [备注]; a month re-imported is replaced."""
    _run(import_ledger, file, community)
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Check and count only; nothing is written.")
AS_OPTION = typer.Option(None, "--as", help="Act as this staff login (the permission matrix applies).")


def _run_books(importer, file: Path, community: str | None, dry_run: bool, login: str | None) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings()
    report: ImportReport | None = None
    try:
        with unit_of_work(settings) as session:
            target = community_by_code(session, community, settings)
            if login:
                try:
                    billing.require_books(staff_by_login(session, target, login), target.id)
                except DomainError as exc:
                    raise fail(f"{exc.text('zh')} / {exc}") from None
            report = importer(session, target.id, file, SystemClock(), settings.timezone, dry_run=dry_run)
            if not report.ok:
                raise _Rollback
    except _Rollback:
        pass
    assert report is not None
    _finish(report)


@app.command()
def bills(file: Path = FILE_ARGUMENT, community: str | None = COMMUNITY_OPTION, dry_run: bool = DRY_RUN_OPTION,
          login: str | None = AS_OPTION) -> None:
    """Bills by household, fee type and period: 楼栋 单元 房号 费用类型 账期 [数量 单价] 金额 [到期日]."""
    _run_books(billing.import_bills, file, community, dry_run, login)


@app.command()
def payments(file: Path = FILE_ARGUMENT, community: str | None = COMMUNITY_OPTION, dry_run: bool = DRY_RUN_OPTION,
             login: str | None = AS_OPTION) -> None:
    """Payments against bills: 楼栋 单元 房号 费用类型 账期 金额 [方式 日期 流水号]; known 流水号 are skipped."""
    _run_books(billing.import_payments, file, community, dry_run, login)
