"""Every button the app shows, pressed in the state it was shown in: none may answer "这个按钮已失效".

Scripted conversations of residents and staff run through the real conversation engine and NLU; after each
step the worker delivers the outbox to the web chat inboxes. Every button of every reply and every push is
then pressed by the person it was shown to, each against a copy of the database as it was when the button
appeared (SQLite's backup API), so one press never makes another stale. SQLite only: the copy is the point.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.clock import FrozenClock
from backend.db import make_engine, make_session_factory
from backend.models import Base
from backend.services.demo import seed_demo
from backend.services.tickets import clear_category_cache
from backend.settings import Settings
from bot.delivery import inbox
from bot.worker import Worker
from handlers.conversation import Conversation
from handlers.messages import Inbound, Outbound

STAFF = ("staff:cs1", "staff:cs-lead", "staff:tech1", "staff:guard1", "staff:eng-lead", "staff:manager")
STALE = "失效"

# (who, what): text, or "!payload" for a button pressed in the main line of the story
SCRIPT: tuple[tuple[str, str], ...] = (
    *((login, "你好") for login in STAFF),
    ("r1", "你好"),
    ("r1", "帮我绑定 3-2-1502 13900321502"),
    ("r1", "厨房水管漏水了"),
    ("r1", "明天下午我妈来"),
    ("r1", "不开车"),
    ("r1", "还有什么活动"),
    ("r1", "我要报名义诊"),
    ("r1", "我的工单"),
    ("staff:cs1", "我的任务"),
    ("staff:tech1", "我的任务"),
    ("r2", "我要投诉"),
    ("r2", "楼上装修太吵了 天天电钻"),
    ("r3", "我要报修"),
    ("r3", "门禁坏了"),
    ("r4", "物业费还欠多少"),
    ("r4", "6-1-0801"),
    ("r5", "着火了 5号楼楼道冒烟"),
    ("r6", "帮我绑定 6-1-0802 13911112222"),
    ("r7", "转人工"),
    ("r8", "卫生间漏水了"),
    ("staff:cs1", "!t:a:1"),
    ("staff:cs1", "!t:d:1"),
    ("staff:cs1", "已更换水管接头"),
    ("staff:cs1", "跳过"),
    ("r1", "!r:ok:1"),
    ("r1", "取消刚才的访客登记"),
    ("r1", "解绑"),
)


@dataclass
class World:
    conversation: Conversation
    worker: Worker
    db: Path
    engine_dispose: object
    cursors: dict[str, int]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from nlu import load_nlu
    from tests.handlers.conftest import NLU_CACHE

    clear_category_cache()
    db = tmp_path / "buttons.db"
    settings = Settings(database_url=f"sqlite:///{db}", demo_mode=True, media_dir=tmp_path / "media",
                        run_worker_in_app=False)
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    clock = FrozenClock()
    with factory() as s:
        seed_demo(s, settings, clock)
        s.commit()
    conversation = Conversation(factory, load_nlu("builtin", cache_dir=NLU_CACHE), clock, settings)
    yield World(conversation, Worker(factory, clock, settings), db, engine.dispose, {})
    engine.dispose()


def _send(world: World, user: str, what: str) -> list[Outbound]:
    kw = {"payload": what[1:]} if what.startswith("!") else {"text": what}
    return world.conversation.handle(Inbound(channel="web", chat_id=user, sender_id=user, **kw))


def _pushes(world: World, users: set[str]) -> dict[str, list[dict]]:
    """Deliver the outbox, then what each user was pushed since last time."""
    world.worker.run_once()
    out: dict[str, list[dict]] = {}
    with world.conversation.session_factory() as s:
        for user in users:
            rows = inbox.fetch(s, "web", user, after=world.cursors.get(user, 0))
            if rows:
                world.cursors[user] = rows[-1].id
                out[user] = [r.body for r in rows]
    return out


def _copy(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def test_every_button_shown_works_when_pressed(world: World, tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.db"
    users = {who for who, _ in SCRIPT}
    pressed: list[tuple[str, str, str]] = []
    for who, what in SCRIPT:
        shown = [(who, b.payload) for o in _send(world, who, what) for b in o.buttons]
        for user, bodies in _pushes(world, users).items():
            shown += [(user, b["payload"]) for body in bodies for b in body.get("buttons", [])]
        world.engine_dispose()  # type: ignore[operator]
        _copy(world.db, snapshot)
        for user, payload in dict.fromkeys(shown):
            reply = "\n".join(o.text for o in _send(world, user, "!" + payload))
            pressed.append((user, payload, reply))
            world.engine_dispose()  # type: ignore[operator]
            _copy(snapshot, world.db)
    scopes = {payload.split(":")[0] for _user, payload, _reply in pressed}
    assert {"m", "r", "t", "v", "e", "u", "b", "f"} <= scopes, scopes
    assert any(p.startswith("r:rate:") for _u, p, _r in pressed) and any(p.startswith("r:reopen:") for _u, p, _r in pressed)  # the story shows every kind of button
    assert len(pressed) >= 60
    stale = [(user, payload, reply) for user, payload, reply in pressed if STALE in reply or not reply.strip()]
    assert not stale, "\n".join(f"{u} {p}: {r}" for u, p, r in stale)
