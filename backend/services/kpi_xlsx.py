"""The KPI dashboard as an XLSX workbook: one sheet per figure group, headers in Chinese and English."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from backend.catalogue import name
from backend.services.kpi import Dashboard, OnTime
from backend.services.kpi_texts import department_name, percent

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _h(key: str) -> str:
    return f"{name(key)} {name(key, 'en')}"


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append([_h(h) if h.startswith("kpi.") else h for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 4))
    sheet.freeze_panes = "A2"
    return sheet


def _on_time(figures: OnTime) -> list[Any]:
    return [figures.on_time, figures.late, figures.pending, figures.share]


ON_TIME = ["kpi.on_time", "kpi.late", "kpi.pending", "kpi.share"]


def workbook(d: Dashboard, community_label: str) -> bytes:
    """The workbook's bytes. Shares are fractions (0.95) formatted as percentages."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    e = d.emergency
    summary = _sheet(book, "概览 Summary", ["kpi.title", community_label], [
        [_h("kpi.period"), f"{d.first.isoformat()} – {d.last.isoformat()} ({d.tz})"],
        [_h("kpi.communities"), ", ".join(d.communities)],
        [_h("kpi.generated"), d.generated_at.strftime("%Y-%m-%d %H:%M UTC")],
        [_h("kpi.total"), d.total],
        [_h("kpi.cancelled"), d.cancelled],
        [_h("kpi.emergencies"), e.total],
        [f"{name('kpi.emergency_respond').format(minutes=e.respond_limit_minutes)}", e.respond.share],
        [f"{name('kpi.emergency_resolve').format(hours=e.resolve_limit_minutes // 60)}", e.resolve.share],
        [_h("kpi.other_respond"), d.other_respond.share],
        [_h("kpi.other_resolve"), d.other_resolve.share],
        [_h("kpi.open"), d.now.open],
        [_h("kpi.overdue"), d.now.overdue],
        [_h("kpi.escalated"), d.now.escalated],
        *[[f"{name(f'kpi.area.{a.area}')} {percent(a.target)}", a.share] for a in d.satisfaction],
    ])
    for row in summary.iter_rows(min_row=8, max_row=summary.max_row, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"

    rows = [[_h("kpi.respond"), *_on_time(e.respond)], [_h("kpi.resolve"), *_on_time(e.resolve)], []]
    rows += [[_h("kpi.respond_histogram"), b.label, b.count] for b in e.respond_histogram]
    rows += [[_h("kpi.resolve_histogram"), b.label, b.count] for b in e.resolve_histogram]
    _percent(_sheet(book, "紧急 Emergency", ["kpi.emergency", *ON_TIME], rows), "E")

    _percent(_sheet(book, "分类 Categories", [
        "kpi.category", "code", "kpi.respond_minutes", "kpi.resolve_minutes", "kpi.total",
        *(f"{name('kpi.respond')}·{name(k)}" for k in ON_TIME), *(f"{name('kpi.resolve')}·{name(k)}" for k in ON_TIME),
    ], [[f"{c.name_zh} {c.name_en}", c.code, c.respond_minutes, c.resolve_minutes, c.total, *_on_time(c.respond),
         *_on_time(c.resolve)] for c in d.categories]), "I", "M")

    _sheet(book, "当前 Now", ["kpi.community", "kpi.number", "kpi.category", "kpi.building", "kpi.status",
                              "kpi.deadline", "kpi.due", "kpi.level", "kpi.owner"],
           [[t.community, t.number, t.category, t.building, t.status, name(f"deadline.{t.deadline}"),
             t.due_at.strftime("%Y-%m-%d %H:%M UTC"), t.escalation_level, t.owner] for t in d.now.tickets])

    _percent(_sheet(book, "满意度 Satisfaction", ["kpi.area", "kpi.rated", "kpi.satisfied", "kpi.satisfied_share",
                                                 "kpi.target", "kpi.met"],
                    [[_h(f"kpi.area.{a.area}"), a.rated, a.satisfied, a.share, a.target,
                      "—" if a.met is None else name("kpi.yes" if a.met else "kpi.no")] for a in d.satisfaction]),
             "D", "E")

    volume = [[_h("kpi.by_category"), c.label, c.total, c.emergencies] for c in d.by_category]
    volume += [[_h("kpi.by_building"), c.label, c.total, c.emergencies] for c in d.by_building]
    volume += [[_h("kpi.by_week"), c.label, c.total, c.emergencies] for c in d.by_week]
    _sheet(book, "工单量 Volume", ["kpi.volume", "", "kpi.count", "kpi.emergencies"], volume)

    _percent(_sheet(book, "员工 Staff", ["kpi.name", "login", "kpi.community", "kpi.department", "kpi.handled",
                                        "kpi.resolved", "kpi.open_now", "kpi.avg_accept",
                                        *(f"{name('kpi.respond')}·{name(k)}" for k in ON_TIME)],
                    [[s.name, s.login, s.community, department_name(s.department), s.handled, s.resolved, s.open_now,
                      s.avg_accept_minutes, *_on_time(s.respond)] for s in d.staff]), "L")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _percent(sheet: Worksheet, *columns: str) -> Worksheet:
    for column in columns:
        for cell in sheet[column][1:]:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"
    return sheet
