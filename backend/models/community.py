"""The tenant and its places: community, building, unit, household."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, BigId, community_fk, pk


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    hotline: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    code: Mapped[str] = mapped_column(String(16))  # "3", "12", "B"
    name: Mapped[str] = mapped_column(String(50))
    steward_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff.id", ondelete="SET NULL", use_alter=True), nullable=True
    )


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("building_id", "code"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("building.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))


class Household(Base):
    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("unit_id", "room"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("building.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    room: Mapped[str] = mapped_column(String(16))  # "1502"
    floor: Mapped[int]
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    label: Mapped[str] = mapped_column(String(50))  # "3-2-1502"

    phones: Mapped[list[HouseholdPhone]] = relationship(
        back_populates="household", cascade="all, delete-orphan"
    )


class HouseholdPhone(Base):
    """A phone number the office registered for a household (used to verify binding)."""

    __tablename__ = "household_phone"
    __table_args__ = (UniqueConstraint("household_id", "phone"),)

    id: Mapped[int] = pk()
    community_id: Mapped[int] = community_fk()
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("household.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    holder_name: Mapped[str] = mapped_column(String(50), default="")

    household: Mapped[Household] = relationship(back_populates="phones")
