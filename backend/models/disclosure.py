"""The monthly shared-income ledger (公共收益) the office discloses to residents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, community_fk, pk


class SharedIncomeLine(Base):
    """One line of a month's shared income or its costs (advertising in lifts, parking rent, ...)."""

    __tablename__ = "shared_income_line"
    __table_args__ = (Index("ix_shared_income_line_period", "community_id", "period"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    period: Mapped[str] = mapped_column(String(7))  # "2026-11"
    item: Mapped[str] = mapped_column(String(100))  # 电梯广告, 场地租赁, 快递柜
    kind: Mapped[str] = mapped_column(String(8), default="income")  # income | expense
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # yuan, positive
    note: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime]
