"""Residents' satisfaction per area against the service plan's targets (95 %, 90 %, 90 %)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from backend.api.deps import CommunityQuery, PrincipalDep, SessionDep, community_target
from backend.api.schemas.common import Output
from backend.services.satisfaction import satisfaction

router = APIRouter(prefix="/satisfaction", tags=["satisfaction"])


class AreaPublic(Output):
    area: str
    rated: int
    satisfied: int
    share: float | None
    target: float
    met: bool | None


class SatisfactionPublic(Output):
    since: datetime | None
    areas: list[AreaPublic]


@router.get("", response_model=SatisfactionPublic)
def get_satisfaction(session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
                     since: datetime | None = Query(None, description="UTC; rated tickets updated since")
                     ) -> SatisfactionPublic:
    community_id = community_target(session, principal, community)
    if since is not None and since.tzinfo is not None:
        from datetime import UTC

        since = since.astimezone(UTC).replace(tzinfo=None)
    areas = [AreaPublic(area=a.area, rated=a.rated, satisfied=a.satisfied,
                        share=round(a.share, 4) if a.share is not None else None, target=a.target, met=a.met)
             for a in satisfaction(session, community_id, since)]
    return SatisfactionPublic(since=since, areas=areas)
