"""Loading and saving a chat's dialogue state; idle forms expire.

The state is read once per message (row-locked on PostgreSQL, so one message of a chat is handled at a
time) into a plain ChatState, changed in memory by the flows and written back with one UPDATE at the end.
Core statements keep this per-message work off the ORM's unit of work.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.hot_sql import Prebuilt
from backend.models import DialogueState
from backend.settings import Settings

TABLE = DialogueState.__table__
_SELECT = select(TABLE).where(
    TABLE.c.community_id == bindparam("community_id"), TABLE.c.channel == bindparam("channel"),
    TABLE.c.chat_key == bindparam("chat_key"),
)
_SELECT_LOCKED = _SELECT.with_for_update()
_INSERT = insert(TABLE).returning(TABLE.c.id)
_SAVED = ("flow", "step", "slots", "stack", "version", "updated_at", "expires_at")
_UPDATE = update(TABLE).where(TABLE.c.id == bindparam("state_id")).values(
    {key: bindparam(key, type_=TABLE.c[key].type) for key in _SAVED})
_SAVE = Prebuilt(lambda _dialect: _UPDATE)


@dataclass
class ChatState:
    community_id: int
    channel: str
    chat_key: str
    identity_id: int | None
    updated_at: datetime
    flow: str | None = None
    step: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    stack: list[Any] = field(default_factory=list)
    version: int = 1
    expires_at: datetime | None = None
    id: int | None = None


FIELDS = tuple(f.name for f in fields(ChatState))


def load(session: Session, community_id: int, channel: str, chat_key: str, identity_id: int,
         clock: Clock) -> ChatState:
    """The chat's state, created when new; locked until the transaction ends on PostgreSQL."""
    key = {"community_id": community_id, "channel": channel, "chat_key": chat_key[:200]}
    locked = session.get_bind().dialect.name == "postgresql"
    row = session.execute(_SELECT_LOCKED if locked else _SELECT, key).mappings().first()
    if row is not None:
        return ChatState(**{name: row[name] for name in FIELDS})
    state = ChatState(**key, identity_id=identity_id, updated_at=clock.now())
    session.flush()  # the identity it refers to may be new in this transaction
    try:
        with session.begin_nested():  # a concurrent first message may create it meanwhile
            state.id = session.execute(_INSERT, _values(state, exclude_id=True)).scalar_one()
        return state
    except IntegrityError:
        pass  # it did: use the winner's row
    row = session.execute(_SELECT_LOCKED if locked else _SELECT, key).mappings().one()
    return ChatState(**{name: row[name] for name in FIELDS})


def save(session: Session, state: ChatState) -> None:
    _SAVE.rows(session, {"state_id": state.id, **{key: getattr(state, key) for key in _SAVED}})


def snapshot(state: ChatState) -> dict[str, Any]:
    return copy.deepcopy({key: getattr(state, key) for key in ("flow", "step", "slots", "stack")})


def restore(state: ChatState, saved: dict[str, Any]) -> None:
    """Undo a failed message's changes to the state (its database work was rolled back too)."""
    for key, value in saved.items():
        setattr(state, key, value)


def expired(state: ChatState, clock: Clock) -> bool:
    return bool(state.flow) and state.expires_at is not None and clock.now() > state.expires_at


def touch(state: ChatState, clock: Clock, settings: Settings) -> None:
    now = clock.now()
    state.updated_at = now
    state.expires_at = now + timedelta(minutes=settings.dialogue_idle_minutes) if state.flow else None
    state.version += 1


MEMO = "_memo"  # the chat's memory across flows (counters, locks), carried over by every set_flow


def set_flow(state: ChatState, flow: str | None, step: str = "", slots: dict[str, Any] | None = None) -> None:
    memo = state.slots.get(MEMO)
    state.flow, state.step, state.slots = flow, step, dict(slots or {})
    if memo:
        state.slots[MEMO] = memo


def memo(state: ChatState) -> dict[str, Any]:
    """A copy of the chat's memory; write it back with remember()."""
    return dict(state.slots.get(MEMO) or {})


def remember(state: ChatState, **values: Any) -> None:
    state.slots = {**state.slots, MEMO: {**memo(state), **values}}


def push(state: ChatState) -> None:
    """Suspend the current flow (a topic switch) so it can be resumed later."""
    if state.flow:
        slots = {k: v for k, v in state.slots.items() if k != MEMO}
        state.stack = [*state.stack[-2:], {"flow": state.flow, "step": state.step, "slots": slots}]
    set_flow(state, None)


def pop(state: ChatState) -> bool:
    if not state.stack:
        return False
    *rest, top = state.stack
    state.stack = rest
    set_flow(state, top["flow"], top["step"], top["slots"])
    return True


def clear(state: ChatState) -> None:
    set_flow(state, None)
    state.stack = []


def _values(state: ChatState, *, exclude_id: bool) -> dict[str, Any]:
    values = {name: getattr(state, name) for name in FIELDS}
    if exclude_id:
        values.pop("id")
    return values
