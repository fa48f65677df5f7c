"""Per-community sequences (ticket numbers), incremented under a row lock."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId


class Counter(Base):
    __tablename__ = "counter"

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
