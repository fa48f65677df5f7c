"""GET /console/dashboard: the service plan's KPIs in the browser (charts by the vendored ECharts), with
community and date filters and an XLSX download. Same figures and scope as GET /api/kpi."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from starlette.exceptions import HTTPException

from backend.catalogue import name
from backend.errors import DomainError, Invalid
from backend.models import Community, Staff
from backend.services import kpi
from backend.services.kpi_texts import department_name, percent
from backend.services.kpi_xlsx import XLSX_TYPE, workbook
from bot.console.deps import console_staff, render, templates

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
ASSETS = {  # name -> (file, media type)
    "echarts.min.js": (STATIC / "vendor" / "echarts.min.js", "text/javascript; charset=utf-8"),
    "dashboard.js": (STATIC / "dashboard.js", "text/javascript; charset=utf-8"),
    "dashboard.css": (STATIC / "dashboard.css", "text/css; charset=utf-8"),
}
DEFAULT_WEEKS = 4
templates.env.globals.update(zh=name, en=lambda key: name(key, "en"), percent=percent, dept=department_name)

router = APIRouter(prefix="/console/dashboard", include_in_schema=False)
StaffDep = Annotated[Staff, Depends(console_staff)]
TextQuery = Annotated[str | None, Query(max_length=32)]


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("", key="kpi.bad_date", value=value[:32]) from None


def _figures(request: Request, staff: Staff, community: str | None, start: str | None,
             end: str | None) -> tuple[kpi.Dashboard, list[tuple[str, str]]]:
    settings, clock = request.app.state.settings, request.app.state.clock
    now = clock.now()
    today = kpi.local_date(now, settings.timezone)
    last = _day(end) or today
    first = _day(start) or last - timedelta(days=7 * DEFAULT_WEEKS - 1)
    session = request.state.console.session  # the request's own (SQLite allows one writer at a time)
    ids = kpi.communities_for(session, staff, community or None)
    d = kpi.dashboard(session, ids, kpi.Period.of(first, last, settings.timezone), now, settings)
    choices = [(code, label) for code, label in session.execute(
        select(Community.code, Community.name).where(Community.id.in_(ids)).order_by(Community.id))]
    return d, choices


@router.get("", response_class=HTMLResponse)
def dashboard_page(request: Request, staff: StaffDep, community: TextQuery = None,
                   start: TextQuery = None, end: TextQuery = None) -> HTMLResponse:
    error, status = "", 200
    try:
        d, choices = _figures(request, staff, community, start, end)
    except DomainError as exc:  # a bad date or period: say so, and show the default period
        if exc.http_status in (403, 404):
            raise HTTPException(status_code=exc.http_status, detail=exc.text("zh")) from None
        error, status = f"{exc.text('zh')} {exc.text('en')}", 422
        d, choices = _figures(request, staff, community, None, None)
    query = {"start": d.first.isoformat(), "end": d.last.isoformat()}
    if community:
        query["community"] = community
    xlsx = "/console/dashboard/export.xlsx?" + "&".join(f"{k}={v}" for k, v in query.items())
    return render(request, "console/dashboard.html", status_code=status,
                  # the figures for the charts, as plain JSON types for `| tojson`
                  staff=staff, d=d, data=json.loads(json.dumps(d.as_dict(), default=str)), labels=_chart_labels(),
                  choices=choices, community=community or "", error=error, xlsx_url=xlsx)


@router.get("/export.xlsx")
def dashboard_xlsx(request: Request, staff: StaffDep, community: TextQuery = None,
                   start: TextQuery = None, end: TextQuery = None) -> Response:
    try:
        d, _ = _figures(request, staff, community, start, end)
    except DomainError as exc:
        raise HTTPException(status_code=exc.http_status, detail=exc.text("zh")) from None
    which = re.sub(r"[^A-Za-z0-9_-]", "_", d.communities[0]) if len(d.communities) == 1 else "all"
    label = ", ".join(d.communities) if len(d.communities) == 1 else name("kpi.all_communities")
    return Response(workbook(d, label), media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="kpi-{which}-{d.first}-{d.last}.xlsx"'})


@router.get("/static/{asset}")
def dashboard_asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise HTTPException(status_code=404, detail="Not Found")
    path, media_type = ASSETS[asset]
    cache = "public, max-age=86400" if asset == "echarts.min.js" else "no-cache"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})


def _chart_labels() -> dict[str, Any]:
    """The few words the charts draw themselves (axis and series names), Chinese first."""
    keys = ("kpi.count", "kpi.emergencies", "kpi.total", "kpi.respond", "kpi.resolve", "kpi.share",
            "kpi.satisfied_share", "kpi.target", "kpi.handled", "kpi.open_now", "kpi.avg_accept", "kpi.bucket_open",
            "kpi.area.safety", "kpi.area.environment", "kpi.area.community")
    return {key.removeprefix("kpi."): f"{name(key)} {name(key, 'en')}" for key in keys}
