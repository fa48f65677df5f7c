"""The service plan's KPIs as JSON and as an XLSX workbook (the console's dashboard shows the same figures)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.api.deps import ClockDep, CommunityQuery, PrincipalDep, SessionDep, SettingsDep
from backend.api.schemas.kpi import KpiOut
from backend.catalogue import name
from backend.services import kpi
from backend.services.kpi_xlsx import XLSX_TYPE, workbook

router = APIRouter(prefix="/kpi", tags=["kpi"])

DEFAULT_WEEKS = 4
StartQuery = Annotated[date | None, Query(description="First local day (default: four weeks before `end`)")]
EndQuery = Annotated[date | None, Query(description="Last local day, inclusive (default: today)")]


def period(start: date | None, end: date | None, now_local: date, tz: str) -> kpi.Period:
    end = end or (start + timedelta(days=7 * DEFAULT_WEEKS - 1) if start and start <= now_local else now_local)
    start = start or end - timedelta(days=7 * DEFAULT_WEEKS - 1)
    return kpi.Period.of(start, end, tz)


def _dashboard(session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
               community: str | None, start: date | None, end: date | None) -> kpi.Dashboard:
    ids = kpi.communities_for(session, principal.staff, community)
    now = clock.now()
    return kpi.dashboard(session, ids, period(start, end, kpi.local_date(now, settings.timezone), settings.timezone),
                         now, settings)


@router.get("", response_model=KpiOut,
            responses={403: {"description": "The role has no kpi.view"}, 404: {"description": "No such community"}})
def get_kpi(session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
            community: CommunityQuery = None, start: StartQuery = None, end: EndQuery = None,
            ) -> KpiOut:
    """Every dashboard figure for the caller's community (admin: all, or `community`) over local days
    `start`..`end`: emergencies against 15 min / 24 h, other tickets against their own deadlines,
    overdue and escalated now, satisfaction against the plan's targets, volumes, staff workload."""
    return KpiOut.model_validate(_dashboard(session, principal, clock, settings, community, start, end).as_dict())


@router.get(".xlsx", response_class=Response,
            responses={200: {"content": {XLSX_TYPE: {}}, "description": "One sheet per figure group"}})
def get_kpi_xlsx(session: SessionDep, principal: PrincipalDep, clock: ClockDep, settings: SettingsDep,
                 community: CommunityQuery = None, start: StartQuery = None, end: EndQuery = None,
                 ) -> Response:
    """The same figures as GET /api/kpi, as an XLSX workbook."""
    d = _dashboard(session, principal, clock, settings, community, start, end)
    label = ", ".join(d.communities) if len(d.communities) == 1 else name("kpi.all_communities")
    which = re.sub(r"[^A-Za-z0-9_-]", "_", d.communities[0]) if len(d.communities) == 1 else "all"
    filename = f"kpi-{which}-{d.first}-{d.last}.xlsx"
    return Response(workbook(d, label), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
