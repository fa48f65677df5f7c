"""The REST API under /api: one router per resource, mounted by the composition root (bot.app)."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.routes import (
    billing,
    buildings,
    communities,
    events,
    faq,
    households,
    kpi,
    notices,
    residents,
    satisfaction,
    staff,
    tickets,
)

api_router = APIRouter()
for _module in (communities, buildings, households, residents, staff, tickets, faq, satisfaction, notices, events,
                billing, kpi):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
