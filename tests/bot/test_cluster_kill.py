"""The production shape under a crash: 2 web processes and 2 workers on PostgreSQL, one of each killed midway.

1,000 web chat messages from 100 bound residents go to the two servers (`guanjia serve`, no in-app
worker); two `guanjia worker` processes deliver what they cause to the department groups on a fake
Telegram server (the real wire format on 127.0.0.1). Midway one server and one worker get SIGKILL.
A client whose request died resends it, with the same message id, to the server still up.

Counted at the end: every message answered and handled exactly once, every ticket a resident was
told about exists and no other, every notification delivered, and every Telegram message arrived
once — the only extra copies allowed are sends the killed worker had in flight (`delivery.in_doubt`).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from backend.clock import SystemClock
from backend.db import transaction
from backend.domain import Department
from backend.models import ChatIdentity, Delivery, GroupChat, Household, Notification, ProcessedUpdate, Resident, Ticket
from backend.services.demo import seed_demo
from backend.settings import Settings
from bot.webchat.identity import sign
from tests.processes import GUANJIA, NLU_CACHE, free_port, wait_healthy
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.slow

USERS = int(os.environ.get("GUANJIA_TEST_CLUSTER_USERS", "100"))
SECRET = "cluster-test-secret-key-0123456789abcdef"
TOKEN = "123456789:AAcluster-test_token"
# What each resident says, in order; the replies are whatever the conversation answers.
SCRIPT = (
    "你好",
    "家里厨房水管漏水了，地上都是水",
    "查询进度",
    "小区门口的垃圾好几天没人清理了，很臭",
    "是的",
    "物业费交了吗",
    "我要投诉，楼上装修噪音太大，晚上十点还在施工",
    "确认",
    "谢谢",
    "查询进度",
)
FILED = re.compile(r"(?:工单号|编号) #(\d+)")
FILED_PHRASES = ("已为您登记报修", "已登记您的投诉", "已登记，编号", "已紧急通知值班保安和工程人员")
GROUPS = {dept: str(-1001000000000 - i) for i, dept in enumerate(Department)}


def _seed(session_factory, settings: Settings) -> list[str]:
    clock = SystemClock()  # the processes run on the wall clock
    with transaction(session_factory) as s:
        community = seed_demo(s, settings, clock)
        for dept, chat in GROUPS.items():
            s.add(GroupChat(community_id=community.id, channel="telegram", chat_id=chat, purpose="department",
                            department=dept.value, title=f"{dept.value} group", created_at=clock.now()))
        homes = list(s.scalars(select(Household.id).where(Household.community_id == community.id)
                               .order_by(Household.id).limit(USERS)))
        users = []
        for i, home in enumerate(homes):
            resident = Resident(community_id=community.id, household_id=home, name=f"住户{i}", relation="owner",
                                bound_at=clock.now(), created_at=clock.now())
            s.add(resident)
            s.flush()
            user = f"w-cluster{i:04d}"
            s.add(ChatIdentity(community_id=community.id, channel="web", external_id=user, resident_id=resident.id,
                               created_at=clock.now()))
            users.append(user)
        return users


class Servers:
    """The client's view of the web processes: use the first that answers; a dead one is skipped."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.dead: set[str] = set()
        self.lock = threading.Lock()
        self.resent = 0

    def post(self, user: str, text: str, message_id: str, prefer: int) -> dict:
        token = sign(Settings(secret_key=SECRET), user)
        for attempt in range(40):
            alive = [b for b in self.bases if b not in self.dead] or self.bases
            base = alive[(prefer + attempt) % len(alive)]
            try:
                r = httpx.post(f"{base}/api/webchat/messages", timeout=30,
                               headers={"Authorization": f"Bearer {token}"},
                               json={"user": user, "text": text, "message_id": message_id})
            except httpx.TransportError:
                with self.lock:
                    self.dead.add(base)
                    self.resent += 1
                continue
            assert r.status_code == 200, r.text
            return r.json()
        raise AssertionError(f"no server answered {user}/{message_id}")


@pytest.fixture
def telegram():
    api = FakeBotApi(TOKEN).start()
    api.delay = 0.02
    yield api
    api.stop()


def test_two_servers_and_two_workers_one_of_each_killed_lose_and_duplicate_nothing(
        db_url, session_factory, settings, telegram, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("the production shape runs on PostgreSQL")
    users = _seed(session_factory, settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANJIA_")}
    env.update({
        "GUANJIA_DATABASE_URL": db_url, "GUANJIA_SECRET_KEY": SECRET, "GUANJIA_MEDIA_DIR": str(tmp_path / "media"),
        "GUANJIA_NLU_CACHE_DIR": str(NLU_CACHE), "GUANJIA_RUN_WORKER_IN_APP": "false",
        "GUANJIA_TELEGRAM_TOKEN": TOKEN, "GUANJIA_TELEGRAM_API_URL": telegram.url,
        "GUANJIA_DELIVERY_LEASE_SECONDS": "2", "GUANJIA_DELIVERY_BATCH": "5",
        "GUANJIA_SWEEP_INTERVAL_SECONDS": "3600", "GUANJIA_MAX_TICKETS_PER_HOUR": "100",
        "GUANJIA_MAX_MESSAGES_PER_MINUTE": "600",
        # The fake Telegram is not Telegram: department groups may take a message every 50 ms here, so the
        # run is about exactly-once, not about waiting out 20 messages a minute per group.
        "GUANJIA_TELEGRAM_MESSAGES_PER_MINUTE_PER_GROUP": "1200", "GUANJIA_TELEGRAM_MESSAGES_PER_SECOND": "300",
    })
    log = (tmp_path / "processes.log").open("ab")
    ports = [free_port(), free_port()]
    webs = [subprocess.Popen([str(GUANJIA), "serve", "--host", "127.0.0.1", "--port", str(p)], env=env,
                             cwd=tmp_path, stdout=log, stderr=log) for p in ports]
    workers = [subprocess.Popen([str(GUANJIA), "worker"], env=env, cwd=tmp_path, stdout=log, stderr=log)
               for _ in range(2)]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    servers = Servers(bases)
    answered: dict[tuple[str, str], dict] = {}
    done = threading.Event()
    try:
        for base, proc in zip(bases, webs, strict=True):
            wait_healthy(base, proc)

        def converse(index: int) -> None:
            user = users[index]
            for turn, text in enumerate(SCRIPT):
                message_id = f"m{turn}"
                answered[(user, message_id)] = servers.post(user, text, message_id, prefer=index)

        def kill_midway() -> None:
            rng = random.Random(15)
            while len(answered) < len(users) * len(SCRIPT) // 2 and not done.is_set():
                time.sleep(0.01)
            webs[0].send_signal(signal.SIGKILL)  # requests in flight there die with it
            time.sleep(rng.uniform(0.0, 0.3))
            workers[0].send_signal(signal.SIGKILL)  # mid-batch: its leased notifications wait for the lease

        killer = threading.Thread(target=kill_midway)
        killer.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(converse, range(len(users))))
        done.set()
        killer.join()

        def pending() -> int:
            with session_factory() as s:
                return int(s.scalar(select(func.count()).select_from(Notification)
                                    .where(Notification.status == "pending")) or 0)

        deadline = time.monotonic() + 180
        while pending() and time.monotonic() < deadline:
            assert workers[1].poll() is None, "the surviving worker died"
            time.sleep(0.2)
    finally:
        done.set()
        for proc in [*webs, *workers]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*webs, *workers]:
            proc.wait(20)
        log.close()

    assert webs[0].returncode == -signal.SIGKILL and workers[0].returncode == -signal.SIGKILL
    messages = len(users) * len(SCRIPT)
    told = {n for reply in answered.values() for m in reply["replies"] if any(p in m["text"] for p in FILED_PHRASES)
            for n in FILED.findall(m["text"])}
    with session_factory() as s:
        handled = int(s.scalar(select(func.count()).select_from(ProcessedUpdate)
                               .where(ProcessedUpdate.channel == "web")) or 0)
        reporters = select(Resident.id).join(ChatIdentity, ChatIdentity.resident_id == Resident.id) \
            .where(ChatIdentity.external_id.like("w-cluster%"))
        tickets = {str(n) for n in s.scalars(select(Ticket.number).where(Ticket.reporter_id.in_(reporters)))}
        statuses = Counter(s.scalars(select(Notification.status)))
        unreachable = Counter(s.scalars(select(Notification.kind).where(Notification.status == "unreachable")))
        sent_rows = Counter(s.scalars(select(Delivery.target).where(Delivery.status == "sent",
                                                                    Delivery.target.like("telegram:%"))))
        in_doubt = int(s.scalar(select(func.coalesce(func.sum(Delivery.in_doubt), 0))) or 0)
    arrived = Counter(f"telegram:{c.chat_id}" for c in telegram.sent("sendMessage"))
    extra = sum(max(0, n - sent_rows[target]) for target, n in arrived.items())
    missing = sum(max(0, n - arrived[target]) for target, n in sent_rows.items())
    print(f"\ncluster: {messages} messages, {len(answered)} answered, {servers.resent} resent after a dead server, "
          f"{handled} handled; {len(tickets)} tickets, {len(told)} told; notifications {dict(statuses)}; "
          f"telegram {sum(arrived.values())} arrived for {sum(sent_rows.values())} sent rows, "
          f"extra {extra}, missing {missing}, in doubt {in_doubt}; unreachable kinds {dict(unreachable)}")
    assert len(answered) == messages  # no message lost
    assert handled == messages  # each handled once: a resent message was answered from the first turn
    assert tickets and tickets == told  # every ticket announced exists; none was filed twice
    assert statuses.get("pending", 0) == 0 and statuses.get("sent", 0) > 0
    assert missing == 0
    assert extra <= in_doubt <= 1  # only a send in flight when the worker died
