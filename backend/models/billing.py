"""Bills and payments of a household, by fee type and period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, community_fk, pk


class FeeRate(Base):
    """Price of a fee type: per m² per month for property fee, flat otherwise."""

    __tablename__ = "fee_rate"
    __table_args__ = (UniqueConstraint("community_id", "fee_type"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    fee_type: Mapped[str] = mapped_column(String(20))  # property, parking, water, electricity, shared
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    basis: Mapped[str] = mapped_column(String(10))  # per_m2 | flat


class Bill(Base):
    __tablename__ = "bill"
    __table_args__ = (UniqueConstraint("household_id", "fee_type", "period"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"), index=True)
    fee_type: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7))  # "2026-11"
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # m² or units
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    due_date: Mapped[datetime]
    created_at: Mapped[datetime]


class Payment(Base):
    __tablename__ = "payment"

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"), index=True)
    bill_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bill.id", ondelete="SET NULL"), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str] = mapped_column(String(20), default="wechat_pay")
    paid_at: Mapped[datetime]
    reference: Mapped[str] = mapped_column(String(64), default="")
