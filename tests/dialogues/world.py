"""The dialogue tests' world: the served app, its database and worker, and the results tally."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import FrozenClock
from backend.models import ChannelMessage, Notification, Ticket
from backend.settings import Settings
from bot.worker import Worker


@dataclass
class Marks:
    """Where the database stood when a scenario began: it owns only rows after these ids."""

    ticket: int
    message: int
    notification: int


@dataclass
class DialogueWorld:
    db: str
    base_url: str
    http: httpx.Client
    session_factory: sessionmaker[Session]
    clock: FrozenClock
    settings: Settings
    worker: Worker
    staff_logins: list[str]
    seq: int = 0  # scenarios run so far: a fresh user-id prefix for each

    def post(self, user: str, *, text: str | None = None, payload: str | None = None) -> list[dict]:
        body: dict[str, str] = {"user": user}
        if payload is not None:
            body["payload"] = payload
        else:
            body["text"] = text or ""
        r = self.http.post("/api/webchat/messages", json=body)
        assert r.status_code == 200, f"POST {body!r}: HTTP {r.status_code} {r.text[:300]}"
        replies = r.json()["replies"]
        self.settle()  # pushes reach the inboxes before the next turn
        return replies

    def settle(self, rounds: int = 10) -> None:
        """Run the worker until a round delivers nothing (periodic reminders may fill a round's batch)."""
        for _ in range(rounds):
            if not self.worker.run_once()[1]:
                return

    def pushed(self, user: str, after: int) -> tuple[list[dict], int]:
        r = self.http.get("/api/webchat/messages", params={"user": user, "after": str(after)})
        assert r.status_code == 200, r.text
        data = r.json()
        return data["messages"], int(data["cursor"])

    def marks(self) -> Marks:
        with self.session_factory() as s:
            return Marks(
                ticket=s.scalar(select(func.coalesce(func.max(Ticket.id), 0))) or 0,
                message=s.scalar(select(func.coalesce(func.max(ChannelMessage.id), 0))) or 0,
                notification=s.scalar(select(func.coalesce(func.max(Notification.id), 0))) or 0,
            )


@dataclass
class Outcome:
    db: str
    file: str
    name: str
    ok: bool
    turns: int
    why: str = ""


@dataclass
class Tally:
    results: list[Outcome] = field(default_factory=list)


TALLY = Tally()
