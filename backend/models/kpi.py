"""The weekly KPI digest's ledger: one row per community and week, so the digest goes out exactly once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped

from backend.models.base import Base, community_fk, pk


class KpiDigest(Base):
    __tablename__ = "kpi_digest"
    __table_args__ = (UniqueConstraint("community_id", "week_start"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    week_start: Mapped[date]  # the Monday (local time) of the week the digest reports on
    sent_at: Mapped[datetime]
    recipients: Mapped[int]  # how many managers it was queued for
