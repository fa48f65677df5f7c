"""A message arrives: who is writing and the chat's dialogue state, read in one round trip.

The common case, a known identity writing in a chat it has written in before, costs one statement: the
identity with its community, resident, the resident's home and staff member, and the chat's state row
(locked FOR UPDATE on PostgreSQL by a LATERAL sub-select, so one message of a chat runs at a time). The
row becomes ORM objects and a ChatState without the ORM's loading machinery. Anything else (a first
message from someone, a new chat) falls back to identity.join and state.load.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.hot_sql import Prebuilt, attach
from backend.models import ChatIdentity, Community, DialogueState, Household, Resident, Staff
from backend.settings import Settings
from handlers import identity
from handlers import state as state_store
from handlers.identity import Who
from handlers.messages import Inbound

_ENTITIES = (ChatIdentity, Community, Resident, Household, Staff)
_STATE = DialogueState.__table__


def read(session: Session, inbound: Inbound, clock: Clock,
         settings: Settings) -> tuple[Who | None, state_store.ChatState | None]:
    """(who, the chat's state); who is None when no community can be told, the state None when the chat
    has none yet (state.load creates it)."""
    wanted = identity.find_community(session, inbound.community_code, settings) if inbound.community_code else None
    params: dict[str, Any] = {"channel": inbound.channel, "sender_id": inbound.sender_id,
                              "chat_key": inbound.chat_key[:200]}
    if wanted is not None:
        params["community_id"] = wanted.id
    row = _READ[wanted is not None].first(session, params)
    if row is None:
        try:
            with session.begin_nested():  # simultaneous first messages: one insert wins, the others read it
                return identity.join(session, inbound, clock, settings, wanted), None
        except IntegrityError:
            row = _READ[wanted is not None].first(session, params)
            if row is None:
                raise
    values = iter(row)
    found: list[Any] = []
    for cls in _ENTITIES:
        columns = {c.key: next(values) for c in cls.__table__.c}
        found.append(attach(session, cls, columns) if columns["id"] is not None else None)
    chat_identity, community, resident, home, staff = found
    who = Who(community, chat_identity, resident, staff if staff is not None and staff.active else None, home=home)
    columns = {c.key: next(values) for c in _STATE.c}
    if columns["id"] is None:
        return who, None
    return who, state_store.ChatState(**{name: columns[name] for name in state_store.FIELDS})


def _statement(dialect: str, by_community: bool) -> Any:
    ci, com, res, home, staff = (cls.__table__ for cls in _ENTITIES)
    same_chat = [_STATE.c.community_id == ci.c.community_id, _STATE.c.channel == bindparam("channel"),
                 _STATE.c.chat_key == bindparam("chat_key")]
    if dialect == "postgresql":  # a locking clause may not sit on the nullable side of a join; a sub-select may
        chat: Any = select(_STATE).where(*same_chat).with_for_update().lateral("chat")
        on: Any = true()
    else:  # SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE)
        chat, on = _STATE, and_(*same_chat)
    source = (
        ci.join(com, com.c.id == ci.c.community_id)
        .outerjoin(res, res.c.id == ci.c.resident_id)
        .outerjoin(home, home.c.id == res.c.household_id)
        .outerjoin(staff, staff.c.id == ci.c.staff_id)
        .outerjoin(chat, on)
    )
    query = (
        select(*ci.c, *com.c, *res.c, *home.c, *staff.c, *chat.c).select_from(source)
        .where(ci.c.channel == bindparam("channel"), ci.c.external_id == bindparam("sender_id"))
    )
    if by_community:
        query = query.where(ci.c.community_id == bindparam("community_id"))
    return query.order_by(ci.c.id.desc()).limit(1)


_READ = {by_community: Prebuilt(lambda dialect, by=by_community: _statement(dialect, by))
         for by_community in (False, True)}  # keyed by: for one community
