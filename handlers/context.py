"""Everything a flow needs for one message: who, what was said, state, services and the replies."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from backend.catalogue import render
from backend.clock import Clock
from backend.models import Community, Household, Resident, Staff
from backend.services.actor import Actor
from backend.services.tickets import TicketService
from backend.settings import Settings
from handlers.identity import Who, ensure_resident
from handlers.messages import Button, Inbound, Outbound
from handlers.state import ChatState

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORDS = re.compile(r"[A-Za-z]{2,}")  # "ok" alone stays Chinese; "hello", "thanks", "my tap leaks" do not
_ENGLISH_ALONE = frozenset({"hello", "hey", "hi", "thanks", "help", "goodbye", "bye"})


def written_in(text: str) -> str | None:
    """"en" for a message in English words with no Chinese in it (answered in English); None otherwise."""
    if not text or text.startswith("/") or _CJK.search(text):
        return None
    words = _LATIN_WORDS.findall(text)
    return "en" if len(words) >= 2 or (len(words) == 1 and words[0].lower() in _ENGLISH_ALONE) else None


class NLU(Protocol):
    def parse(self, text: str, reference_time: datetime | None = None) -> dict[str, Any]: ...


@dataclass
class Context:
    session: Session
    clock: Clock
    settings: Settings
    nlu: NLU
    inbound: Inbound
    who: Who
    state: ChatState
    text: str = ""
    parse: dict[str, Any] | None = None
    replies: list[Outbound] = field(default_factory=list)
    must_confirm: bool = False  # the policy was not sure enough to act on this message without asking

    # ---- who --------------------------------------------------------------------------------
    @property
    def community(self) -> Community:
        return self.who.community

    @property
    def staff(self) -> Staff | None:
        return self.who.staff

    @property
    def resident(self) -> Resident:
        return ensure_resident(self.session, self.who, self.clock)

    @property
    def household(self) -> Household | None:
        resident = self.who.resident
        if resident is None or resident.household_id is None:
            return None
        home = self.who.home
        if home is None or home.id != resident.household_id:  # none loaded, or bound during this message
            home = self.who.home = self.session.get(Household, resident.household_id)
        return home

    @property
    def lang(self) -> str:
        resident = self.who.resident
        return self.inbound.lang or written_in(self.text) or (resident.language if resident else "zh") or "zh"

    def resident_actor(self) -> Actor:
        return Actor.of_resident(self.resident)

    def staff_actor(self) -> Actor:
        assert self.staff is not None
        return Actor.of_staff(self.staff)

    def tickets(self) -> TicketService:
        return TicketService(self.session, self.clock, self.settings)

    def now(self) -> datetime:
        return self.clock.now()

    # ---- saying -----------------------------------------------------------------------------
    def t(self, key: str, **params: Any) -> str:
        return render(key, self.lang, **params)

    def say(self, key: str, *buttons: Button, image_url: str | None = None, **params: Any) -> Outbound:
        out = Outbound(self.t(key, **params), list(buttons), image_url)
        self.replies.append(out)
        return out

    def say_text(self, text: str, *buttons: Button) -> Outbound:
        out = Outbound(text, list(buttons))
        self.replies.append(out)
        return out

    def button(self, key: str, payload: str, **params: Any) -> Button:
        return Button(self.t(key, **params), payload)

    # ---- state ------------------------------------------------------------------------------
    @property
    def slots(self) -> dict[str, Any]:
        return self.state.slots

    def set_slots(self, **values: Any) -> None:
        """Replace the slots (a new dict, so a snapshot taken before the message stays intact)."""
        self.state.slots = {**self.state.slots, **values}

    def goto(self, step: str) -> None:
        self.state.step = step

    # ---- parse helpers ----------------------------------------------------------------------
    def entities(self, name: str) -> list[dict[str, Any]]:
        return [e for e in (self.parse or {}).get("entities", []) if e.get("entity") == name]

    def entity(self, name: str) -> str | None:
        found = self.entities(name)
        return str(found[0]["value"]) if found else None

    @property
    def intent(self) -> str:
        return ((self.parse or {}).get("intent") or {}).get("name") or "out_of_scope"

    @property
    def confidence(self) -> float:
        return float(((self.parse or {}).get("intent") or {}).get("confidence") or 0.0)
