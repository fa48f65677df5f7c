"""The FAQ the office maintains (the assistant answers residents' questions from it)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.access import Principal
from backend.api.deps import (
    ClockDep,
    CommunityQuery,
    IdPath,
    Limit,
    Offset,
    PrincipalDep,
    SessionDep,
    community_filter,
    community_target,
)
from backend.api.schemas.common import Id, Input, Output, Page, UtcDatetime, text
from backend.models import FaqEntry
from backend.services import faq

router = APIRouter(prefix="/faq", tags=["faq"])

Question = text(200, 1)
Answer = text(4000, 1)
Keywords = text(300)


class FaqCreate(Input):
    question: Question  # type: ignore[valid-type]
    answer: Answer  # type: ignore[valid-type]
    keywords: Keywords = ""  # type: ignore[valid-type]
    active: bool = True


class FaqUpdate(Input):
    question: Question | None = None  # type: ignore[valid-type]
    answer: Answer | None = None  # type: ignore[valid-type]
    keywords: Keywords | None = None  # type: ignore[valid-type]
    active: bool | None = None


class FaqPublic(Output):
    id: Id
    community_id: Id
    question: str
    answer: str
    keywords: str
    active: bool
    updated_at: UtcDatetime


class FaqMatch(Output):
    entry: FaqPublic | None
    score: float = Field(description="similarity 0–100; an answer is given from the threshold up")
    threshold: float


def _public(entry: FaqEntry) -> FaqPublic:
    return FaqPublic.model_validate(entry, from_attributes=True)


def _load(session: Session, principal: Principal, entry_id: int) -> FaqEntry:
    return principal.visible(session.get(FaqEntry, entry_id), "问答")


@router.get("", response_model=Page[FaqPublic])
def list_faq(session: SessionDep, principal: PrincipalDep, community: CommunityQuery = None,
             limit: Limit = 100, offset: Offset = 0) -> Page[FaqPublic]:
    query = select(FaqEntry)
    community_id = community_filter(session, principal, community)
    if community_id is not None:
        query = query.where(FaqEntry.community_id == community_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(FaqEntry.community_id, FaqEntry.id).limit(limit).offset(offset))
    return Page(items=[_public(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/match", response_model=FaqMatch)
def match_faq(session: SessionDep, principal: PrincipalDep, q: str = Query(min_length=1, max_length=500),
              community: CommunityQuery = None) -> FaqMatch:
    """Which entry a resident's question would be answered with (to tune questions and keywords)."""
    community_id = community_target(session, principal, community)
    found = faq.match(session, community_id, q, threshold=0.0)
    return FaqMatch(entry=_public(found.entry) if found and found.score >= faq.THRESHOLD else None,
                    score=round(found.score, 1) if found else 0.0, threshold=faq.THRESHOLD)


@router.post("", response_model=FaqPublic, status_code=status.HTTP_201_CREATED)
def create_faq(body: FaqCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
               community: CommunityQuery = None) -> FaqPublic:
    community_id = community_target(session, principal, community)
    return _public(faq.create(session, principal.staff, community_id, clock.now(), **body.model_dump()))


@router.get("/{entry_id}", response_model=FaqPublic)
def get_faq(entry_id: IdPath, session: SessionDep, principal: PrincipalDep) -> FaqPublic:
    return _public(_load(session, principal, entry_id))


@router.put("/{entry_id}", response_model=FaqPublic)
def update_faq(entry_id: IdPath, body: FaqUpdate, session: SessionDep, principal: PrincipalDep,
               clock: ClockDep) -> FaqPublic:
    entry = _load(session, principal, entry_id)
    return _public(faq.update(session, principal.staff, entry, clock.now(), **body.model_dump(exclude_none=True)))


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_faq(entry_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    faq.delete(session, principal.staff, _load(session, principal, entry_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


__all__ = ["router"]
