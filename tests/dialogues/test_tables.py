"""Dialogue tables: every tests/dialogues/*.yaml conversation, run through the real app over HTTP.

The format is the shared one of /work/shared/dialogues (run_dialogues.py), plus outcome checks read
from the database. A file is a list of scenarios; a scenario is ``{name, steps, [after], [user]}``.

A step is one of:

- ``say: TEXT`` or ``payload: PAYLOAD`` (a button pressed by its payload), sent as ``user`` (default:
  the scenario's ``user``, else ``me``), then
  - ``expect``: regex that must appear in the replies of this step (texts and button titles); named
    groups are remembered and usable later as ``{name}`` (in say/answers literally, in regexes escaped);
  - ``reject``: regex that must never appear in them;
  - ``answers``: ``{regex: text}``: when the latest replies match regex, the user types text;
  - otherwise a button whose title matches ``press`` is pressed (default: a confirmation word,
    CONFIRM below); ``press: ""`` presses nothing;
  - ``max_turns``: answers/presses allowed (default 4);
- ``push_expect: REGEX`` as ``user``: something pushed to that user's web chat since the scenario began
  matches; ``press_in_push: REGEX`` then presses that button of the push (and ``expect`` checks the reply);
- ``bind: "3-2-1502"``: setup, not part of the goal: ``user`` binds that household through the menu
  (button m:bind, the address, its registered phone) and the runner checks it is bound; these
  turns are not counted;
- only ``after:`` (no message): outcome checks at that point.

Any step may carry ``after:``, outcome checks once the step is done; a scenario may carry one too (run at
the end). Every check only sees what this scenario caused (rows written after it began):

- ``tickets: N`` or ``tickets: [SPEC, ...]``: exactly that many new tickets, each SPEC matched by a
  different one. SPEC keys: ``kind`` (repair|emergency|complaint|suggestion|inquiry), ``household``
  ("3-2-1502", or null for none), ``building`` ("3"), ``category`` (code), ``text`` (regex on
  description + location), ``status``, ``priority``; a list value means any one of them;
- ``no_new_tickets: true`` (= ``tickets: 0``); ``no_emergency: true``: no new emergency ticket;
- ``cancelled: N``: that many of the new tickets are cancelled;
- ``bound: "3-2-1502"``: the step's user is bound to that household; ``unbound: true``: to none;
- ``bind_requests: N``: binding requests waiting for staff approval made by the step's user;
- ``visitor_passes: N``: active visitor passes made by the step's user;
- ``pushed: {USER: REGEX}``: a message matching REGEX was pushed to USER's web chat; USER may end in
  ``*`` (``staff:guard*``: any of them); ``not_pushed: {USER: REGEX}``: none was;
- ``no_staff_push: true``: nothing at all was pushed to any staff member.

Users: ``staff:<login>`` is that demo staff member (shared by all scenarios); every other name is made
unique per scenario, so each scenario's residents start as strangers. Every reply and push is also
checked against GLOBAL_REJECT (ISO timestamps, the internal-error apology).

Turns are the messages the simulated users send; the summary line (conftest.py) gives the pass rate
and the average turns per conversation that reached its goal. GUANJIA_DIALOGUE_REPORT=path writes
every result as JSON lines.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from backend.models import BindRequest, ChannelMessage, ChatIdentity, Household, Resident, Ticket, VisitorPass
from backend.models.community import Building
from tests.dialogues.world import TALLY, DialogueWorld, Marks, Outcome

pytestmark = pytest.mark.dialogues

HERE = Path(__file__).parent
CONFIRM = r"确认|提交|是的|^是$|对的|好的|没问题|confirm|yes|OK|ok"  # the shared runner's words
GLOBAL_REJECT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|系统暂时出了点问题|something went wrong|Traceback"
STEP_KEYS = {"user", "bind", "say", "payload", "expect", "reject", "answers", "press", "max_turns", "push_expect",
             "press_in_push", "wait_s", "after"}
AFTER_KEYS = {"tickets", "no_new_tickets", "no_emergency", "cancelled", "bound", "unbound", "bind_requests",
              "visitor_passes", "pushed", "not_pushed", "no_staff_push"}
SPEC_KEYS = {"kind", "household", "building", "category", "text", "status", "priority"}


class Failed(AssertionError):
    pass


def texts(msgs: list[dict]) -> str:
    parts: list[str] = []
    for m in msgs:
        parts.append(m.get("text") or "")
        parts += [b.get("title", "") for b in m.get("buttons") or []]
    return "\n".join(parts)


def find_button(msgs: list[dict], pattern: str) -> dict | None:
    for m in reversed(msgs):
        for b in m.get("buttons") or []:
            if re.search(pattern, b.get("title", ""), re.I):
                return b
    return None


def fill_regex(s: str | None, memory: dict[str, str]) -> str | None:
    """{name} -> the remembered value, escaped; other braces (regex counts) stay."""
    if s is None:
        return None
    return re.sub(r"\{(\w+)\}", lambda m: re.escape(memory[m[1]]) if m[1] in memory else m[0], s)


def fill_text(s: str, memory: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: memory.get(m[1], m[0]), s)


def around(s: str, m: re.Match[str], n: int = 90) -> str:
    """The text around a match, so a failure shows what was said where."""
    start, end = max(0, m.start() - n), min(len(s), m.end() + n)
    return ("…" if start else "") + s[start:end].replace("\n", " ⏎ ") + ("…" if end < len(s) else "")


def short(s: str, n: int = 260) -> str:
    s = s.replace("\n", " ⏎ ")
    return s if len(s) <= n else s[: n // 2] + " … " + s[-n // 2:]


@dataclass
class Run:
    world: DialogueWorld
    scenario: dict[str, Any]
    marks: Marks
    prefix: str
    memory: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    turns: int = 0
    transcript: list[str] = field(default_factory=list)

    # ---- users and messages -------------------------------------------------------------

    def uid(self, alias: str) -> str:
        if alias.startswith("staff:"):
            return alias
        return f"{self.prefix}-{alias}"[:64]

    def default_user(self) -> str:
        return str(self.scenario.get("user", "me"))

    def send(self, alias: str, *, text: str | None = None, payload: str | None = None) -> list[dict]:
        self.turns += 1
        self.transcript.append(f"{alias}> {text if payload is None else '[' + payload + ']'}")
        msgs = self.world.post(self.uid(alias), text=text, payload=payload)
        self.transcript.append(f"bot> {short(texts(msgs), 400)}")
        self.global_check(texts(msgs))
        return msgs

    def global_check(self, said: str) -> None:
        m = re.search(GLOBAL_REJECT, said)
        if m:
            raise Failed(f"global reject matched {m[0]!r}: {around(said, m)!r}")

    def new_pushes(self, alias: str) -> list[dict]:
        user = self.uid(alias)
        msgs, cursor = self.world.pushed(user, self.cursors.get(user, self.marks.message))
        self.cursors[user] = cursor
        for m in msgs:
            self.global_check(texts([m]))
        return msgs

    # ---- steps --------------------------------------------------------------------------

    def step(self, step: dict[str, Any]) -> None:
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise Failed(f"unknown step keys {sorted(unknown)}")
        alias = str(step.get("user", self.default_user()))
        if "bind" in step:
            self.bind_step(alias, str(step["bind"]))
        elif "push_expect" in step:
            self.push_step(alias, step)
        elif "say" in step or "payload" in step:
            self.talk_step(alias, step)
        if "after" in step:
            self.check_after(alias, step["after"])

    def bind_step(self, alias: str, label: str) -> None:
        b, u, room = label.split("-")
        phone = f"1390{int(b):02d}{u}{room}"
        turns = self.turns
        msgs = self.send(alias, payload="m:bind")
        for _ in range(4):
            said = texts(msgs)
            if re.search(r"手机|电话|号码", said):
                msgs = self.send(alias, text=phone)
            elif re.search(r"楼|单元|房号|地址", said):
                msgs = self.send(alias, text=label)
            else:
                break
        self.turns = turns  # setup is not part of the goal
        with self.world.session_factory() as s:
            res = self.resident(s, alias)
            bound = s.get(Household, res.household_id).label if res and res.household_id else None
        if bound != label:
            raise Failed(f"setup: binding {alias} to {label} failed (bound to {bound}): {short(texts(msgs))!r}")

    def push_step(self, alias: str, step: dict[str, Any]) -> None:
        want = fill_regex(step["push_expect"], self.memory) or ""
        seen: list[dict] = []
        for _ in range(3):  # the worker runs after every turn; a further round catches chained notices
            seen += self.new_pushes(alias)
            if re.search(want, texts(seen), re.S):
                break
            self.world.settle()
        else:
            raise Failed(f"no push /{want}/ for {alias}; got {short(texts(seen))!r}")
        m = re.search(want, texts(seen), re.S)
        assert m is not None
        self.memory.update({k: v for k, v in m.groupdict().items() if v})
        if step.get("press_in_push"):
            button = find_button(seen, fill_regex(step["press_in_push"], self.memory) or "")
            if button is None:
                raise Failed(f"no button /{step['press_in_push']}/ in the push {short(texts(seen))!r}")
            reply = self.send(alias, payload=button["payload"])
            expect = fill_regex(step.get("expect"), self.memory)
            if expect and not re.search(expect, texts(reply), re.S):
                raise Failed(f"after pressing {button['title']!r}, wanted /{expect}/, got {short(texts(reply))!r}")

    def talk_step(self, alias: str, step: dict[str, Any]) -> None:
        expect = fill_regex(step.get("expect"), self.memory)
        reject = fill_regex(step.get("reject"), self.memory)
        answers: dict[str, Any] = step.get("answers") or {}
        press = step.get("press", CONFIRM)
        max_turns = int(step.get("max_turns", 4))
        if "payload" in step:
            msgs = self.send(alias, payload=fill_text(str(step["payload"]), self.memory))
        else:
            msgs = self.send(alias, text=fill_text(str(step["say"]), self.memory))
        seen = list(msgs)
        for turn in range(max_turns + 1):
            said = texts(seen)
            bad = re.search(reject, said, re.S) if reject else None
            if bad:
                raise Failed(f"said /{reject}/: {around(said, bad)!r}")
            if expect:
                m = re.search(expect, said, re.S)
                if m:
                    self.memory.update({k: v for k, v in m.groupdict().items() if v})
                    return
            if turn == max_turns:
                break
            last = texts(msgs)
            reply = next((a for q, a in answers.items() if re.search(q, last, re.S)), None)
            button = find_button(msgs, press) if press else None
            if reply is not None:
                msgs = self.send(alias, text=fill_text(str(reply), self.memory))
            elif button is not None:
                msgs = self.send(alias, payload=button["payload"])
            else:
                break
            seen += msgs
        if expect:
            raise Failed(f"wanted /{expect}/, the conversation ended with {short(texts(seen))!r}")

    # ---- outcomes -----------------------------------------------------------------------

    def resident(self, s, alias: str) -> Resident | None:
        return s.scalar(select(Resident).join(ChatIdentity, ChatIdentity.resident_id == Resident.id)
                        .where(ChatIdentity.channel == "web", ChatIdentity.external_id == self.uid(alias)))

    def check_after(self, alias: str, after: dict[str, Any]) -> None:
        unknown = set(after) - AFTER_KEYS
        if unknown:
            raise Failed(f"unknown after keys {sorted(unknown)}")
        with self.world.session_factory() as s:
            tickets = list(s.scalars(select(Ticket).where(Ticket.id > self.marks.ticket).order_by(Ticket.id)))
            labels = dict(s.execute(select(Household.id, Household.label)
                                    .where(Household.id.in_({t.household_id for t in tickets if t.household_id})))
                          .all())
            buildings = dict(s.execute(select(Building.id, Building.code)).all())
            rows = [self.ticket_row(t, labels, buildings) for t in tickets]
            listing = "; ".join(self.describe(r) for r in rows) or "none"
            if after.get("no_new_tickets") and rows:
                raise Failed(f"wanted no new ticket, got {listing}")
            want = after.get("tickets")
            if isinstance(want, int) and len(rows) != want:
                raise Failed(f"wanted {want} new ticket(s), got {len(rows)}: {listing}")
            if isinstance(want, list):
                self.match_tickets(want, rows, listing)
            if after.get("no_emergency") and any(r["kind"] == "emergency" for r in rows):
                raise Failed(f"wanted no emergency, got {listing}")
            if "cancelled" in after:
                n = sum(r["status"] == "cancelled" for r in rows)
                if n != after["cancelled"]:
                    raise Failed(f"wanted {after['cancelled']} cancelled ticket(s), got {n}: {listing}")
            if "bound" in after or "unbound" in after:
                res = self.resident(s, alias)
                label = s.get(Household, res.household_id).label if res and res.household_id else None
                if "bound" in after and label != after["bound"]:
                    raise Failed(f"wanted {alias} bound to {after['bound']}, bound to {label}")
                if after.get("unbound") and label is not None:
                    raise Failed(f"wanted {alias} bound to nothing, bound to {label}")
            if "bind_requests" in after:
                res = self.resident(s, alias)
                n = len(list(s.scalars(select(BindRequest.id).where(
                    BindRequest.resident_id == (res.id if res else -1), BindRequest.status == "pending"))))
                if n != after["bind_requests"]:
                    raise Failed(f"wanted {after['bind_requests']} pending binding request(s) by {alias}, got {n}")
            if "visitor_passes" in after:
                res = self.resident(s, alias)
                n = len(list(s.scalars(select(VisitorPass.id).where(
                    VisitorPass.resident_id == (res.id if res else -1), VisitorPass.status == "active"))))
                if n != after["visitor_passes"]:
                    raise Failed(f"wanted {after['visitor_passes']} active visitor pass(es) by {alias}, got {n}")
            if after.get("no_staff_push"):
                pushed = list(s.scalars(select(ChannelMessage).where(  # caused by this scenario, not a backlog
                    ChannelMessage.id > self.marks.message, ChannelMessage.pushed.is_(True),
                    ChannelMessage.notification_id > self.marks.notification,
                    ChannelMessage.chat_id.like("staff:%"))))
                if pushed:
                    raise Failed(f"wanted no staff push, {pushed[0].chat_id} got {short(texts([pushed[0].body]))!r}")
            for key, negate in (("pushed", False), ("not_pushed", True)):
                for who, pattern in (after.get(key) or {}).items():
                    self.check_pushed(s, str(who), fill_regex(str(pattern), self.memory) or "", negate)

    def check_pushed(self, s, who: str, pattern: str, negate: bool) -> None:
        target = self.uid(who)
        cond = ChannelMessage.chat_id.like(target[:-1].replace("_", r"\_") + "%", escape="\\") \
            if target.endswith("*") else ChannelMessage.chat_id == target
        rows = list(s.scalars(select(ChannelMessage).where(
            ChannelMessage.id > self.marks.message, ChannelMessage.pushed.is_(True), ChannelMessage.channel == "web",
            cond).order_by(ChannelMessage.id)))
        rows = [r for r in rows if fnmatch.fnmatchcase(r.chat_id, target)]
        hit = next((r for r in rows if re.search(pattern, texts([r.body]), re.S)), None)
        if negate and hit is not None:
            raise Failed(f"{hit.chat_id} was pushed /{pattern}/: {short(texts([hit.body]))!r}")
        if not negate and hit is None:
            got = "; ".join(f"{r.chat_id}: {short(texts([r.body]), 120)}" for r in rows[:4]) or "nothing"
            raise Failed(f"no push /{pattern}/ to {who}; pushed: {got}")

    @staticmethod
    def ticket_row(t: Ticket, labels: dict[int, str], buildings: dict[int, str]) -> dict[str, Any]:
        return {"number": t.number, "kind": t.kind, "household": labels.get(t.household_id or 0),
                "building": buildings.get(t.building_id or 0), "category": t.category.code, "status": t.status,
                "priority": t.priority, "text": f"{t.description} {t.location}"}

    @staticmethod
    def describe(r: dict[str, Any]) -> str:
        return (f"#{r['number']} {r['kind']}/{r['category']} at {r['household'] or r['building'] or '-'} "
                f"[{r['status']}] {short(r['text'], 60)!r}")

    def match_tickets(self, specs: list[dict[str, Any]], rows: list[dict[str, Any]], listing: str) -> None:
        if len(rows) != len(specs):
            raise Failed(f"wanted {len(specs)} new ticket(s), got {len(rows)}: {listing}")
        free = list(rows)
        for spec in specs:
            unknown = set(spec) - SPEC_KEYS
            if unknown:
                raise Failed(f"unknown ticket keys {sorted(unknown)}")
            found = next((r for r in free if self.fits(spec, r)), None)
            if found is None:
                raise Failed(f"no new ticket like {spec}; got {listing}")
            free.remove(found)

    @staticmethod
    def fits(spec: dict[str, Any], r: dict[str, Any]) -> bool:
        for key, want in spec.items():
            wants = want if isinstance(want, list) else [want]
            if key == "text":
                if not re.search(str(want), r["text"], re.S):
                    return False
            elif key == "building":
                if (r["building"] or "") not in [str(w) for w in wants]:
                    return False
            elif r[key] not in wants:
                return False
        return True


def load_tables() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("*.yaml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            params.append(pytest.param(path.stem, scenario, id=f"{path.stem}::{scenario['name']}"))
    return params


TABLES = load_tables()


@pytest.mark.parametrize(("table_file", "scenario"), TABLES)
def test_table(dialogue_world: DialogueWorld, table_file: str, scenario: dict[str, Any]) -> None:
    dialogue_world.seq += 1
    run = Run(dialogue_world, scenario, dialogue_world.marks(), prefix=f"d{dialogue_world.seq}")
    why = ""
    try:
        for i, step in enumerate(scenario["steps"], 1):
            try:
                run.step(step)
            except Failed as failed:
                raise Failed(f"step {i}: {failed}") from None
        if "after" in scenario:
            try:
                run.check_after(run.default_user(), scenario["after"])
            except Failed as failed:
                raise Failed(f"end: {failed}") from None
    except Failed as failed:
        why = str(failed)
    TALLY.results.append(Outcome(dialogue_world.db, table_file, scenario["name"], not why, run.turns, why))
    if why:
        pytest.fail(f"{why}\n--- transcript ---\n" + "\n".join(run.transcript[-16:]), pytrace=False)


@pytest.mark.parametrize("scenario", [
    {"steps": [{"say": "你好", "expect": "这句话不会出现"}]},
    {"steps": [{"say": "你好", "reject": "报修"}]},
    {"steps": [{"say": "你好", "after": {"tickets": 1}}]},
    {"steps": [{"bind": "6-2-1801"}, {"say": "厨房水管漏水了", "answers": {"时间|几点": "随时"}},
               {"after": {"no_new_tickets": True}}]},
    {"steps": [{"say": "你好", "after": {"pushed": {"staff:cs*": "."}}}]},
    {"steps": [{"user": "staff:cs1", "push_expect": "这句话不会出现"}]},
    {"steps": [{"say": "你好", "after": {"bound": "1-1-0101"}}]},
], ids=["expect", "reject", "tickets", "no_new_tickets", "pushed", "push_expect", "bound"])
def test_the_runner_notices_a_wrong_outcome(dialogue_world: DialogueWorld, scenario: dict[str, Any]) -> None:
    """The runner itself must be able to fail: each of these scenarios is wrong on purpose."""
    dialogue_world.seq += 1
    run = Run(dialogue_world, {"name": "wrong", **scenario}, dialogue_world.marks(), prefix=f"w{dialogue_world.seq}")
    with pytest.raises(Failed):
        for step in scenario["steps"]:
            run.step(step)


def test_tables_have_unique_names() -> None:
    names = [p.id for p in TABLES]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def households(scenario: dict[str, Any]) -> set[str]:
    """The demo households a scenario binds (by a bind step or a registered phone it types)."""
    found = {str(step["bind"]) for step in scenario["steps"] if "bind" in step}
    for phone in re.findall(r"(?<!\d)1390(\d{2})(\d)(\d{4})(?!\d)", yaml.safe_dump(scenario, allow_unicode=True)):
        found.add(f"{int(phone[0])}-{phone[1]}-{phone[2]}")
    return found


def test_tables_do_not_share_households() -> None:
    """Scenarios share the database: two binding the same home could see each other's tickets."""
    owner: dict[str, str] = {}
    clashes = []
    for p in TABLES:
        for label in households(p.values[1]):
            if label in owner:
                clashes.append(f"{label}: {owner[label]} and {p.id}")
            owner[label] = p.id
    assert not clashes, clashes
