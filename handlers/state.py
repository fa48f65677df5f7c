"""Loading and saving a chat's dialogue state; idle forms expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.clock import Clock
from backend.models import DialogueState
from backend.settings import Settings


def load(session: Session, community_id: int, channel: str, chat_key: str, identity_id: int,
         clock: Clock) -> DialogueState:
    query = select(DialogueState).where(
        DialogueState.community_id == community_id, DialogueState.channel == channel,
        DialogueState.chat_key == chat_key[:200],
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # one message of a chat at a time
    state = session.scalar(query)
    if state is None:
        state = DialogueState(community_id=community_id, channel=channel, chat_key=chat_key[:200],
                              identity_id=identity_id, flow=None, step="", slots={}, stack=[],
                              updated_at=clock.now())
        session.add(state)
        session.flush()
    return state


def expired(state: DialogueState, clock: Clock) -> bool:
    return bool(state.flow) and state.expires_at is not None and clock.now() > state.expires_at


def touch(state: DialogueState, clock: Clock, settings: Settings) -> None:
    now = clock.now()
    state.updated_at = now
    state.expires_at = now + timedelta(minutes=settings.dialogue_idle_minutes) if state.flow else None
    state.version += 1


def set_flow(state: DialogueState, flow: str | None, step: str = "", slots: dict[str, Any] | None = None) -> None:
    state.flow, state.step, state.slots = flow, step, dict(slots or {})


def push(state: DialogueState) -> None:
    """Suspend the current flow (a topic switch) so it can be resumed later."""
    if state.flow:
        state.stack = [*state.stack[-2:], {"flow": state.flow, "step": state.step, "slots": state.slots}]
    set_flow(state, None)


def pop(state: DialogueState) -> bool:
    if not state.stack:
        return False
    *rest, top = state.stack
    state.stack = rest
    set_flow(state, top["flow"], top["step"], top["slots"])
    return True


def clear(state: DialogueState) -> None:
    set_flow(state, None)
    state.stack = []
