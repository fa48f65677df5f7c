"""`guanjia import`: the office's resident and staff rosters (CSV or XLSX)."""

from __future__ import annotations

from pathlib import Path

import typer

from backend.services.disclosure import import_ledger
from backend.services.roster_import import ImportReport, import_residents, import_staff
from bot.cli.common import COMMUNITY_OPTION, community_by_code, load_settings, unit_of_work

app = typer.Typer(
    help="Import rosters from CSV (UTF-8 or GBK) or XLSX; a bad row imports nothing.", no_args_is_help=True
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
