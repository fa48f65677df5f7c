"""Satisfaction per area (safety; environment and facilities; community life) against the service plan's targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.domain import SATISFACTION_TARGETS, SatisfactionArea
from backend.models import Ticket, TicketCategory

SATISFIED = 4  # a rating of 4 or 5


@dataclass(frozen=True)
class AreaSatisfaction:
    area: str
    rated: int
    satisfied: int
    target: float

    @property
    def share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    @property
    def met(self) -> bool | None:
        return None if self.share is None else self.share >= self.target


def satisfaction(session: Session, community_id: int, since: datetime | None = None) -> list[AreaSatisfaction]:
    """Rated tickets (by rating time: their last update) per area since `since`; every area listed."""
    query = (
        select(TicketCategory.satisfaction_area, func.count(Ticket.id),
               func.count(Ticket.id).filter(Ticket.rating >= SATISFIED))
        .join(TicketCategory, Ticket.category_id == TicketCategory.id)
        .where(Ticket.community_id == community_id, Ticket.rating.is_not(None))
        .group_by(TicketCategory.satisfaction_area)
    )
    if since is not None:
        query = query.where(Ticket.updated_at >= since)
    counts = {area: (int(rated), int(ok)) for area, rated, ok in session.execute(query)}
    return [AreaSatisfaction(area.value, *counts.get(area.value, (0, 0)), SATISFACTION_TARGETS[area])
            for area in SatisfactionArea]
