"""Web chat benchmark: messages per second and latency through POST /api/webchat/messages on PostgreSQL.

Starts uvicorn (`--workers 2`) serving bot.app:create_app in demo mode on 127.0.0.1 against a throwaway
PostgreSQL database (created, migrated with Alembic, seeded with the demo community, dropped at the end),
then drives 200 simulated users with asyncio + httpx. Each user has one message in flight at a time and
follows a realistic script: greetings, binding a home, repairs, fee questions, status checks, button
presses, small talk; a few are staff asking for their tasks. Two phases:

  * saturation: every user sends its next message as soon as the reply arrives (the most msg/s);
  * paced: the users together offer --rate msg/s (Poisson arrivals); latency at that load.

Targets on the 2-core machine: >= 300 msg/s and p99 <= 100 ms.

    .venv/bin/python bench/chat.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--users 200] [--messages 6000] [--rate 300] [--seconds 120] [--workers 2]

Measured 2026-12-02 on the shared 2-core machine while other work kept its load average at 5-8:
about 21-26 msg/s saturated (far below target); ~13 msg/s offered 15/s with p99 ~2 s. A profile of
Conversation.handle (cProfile + per-statement timing) shows ~10 SQL statements per message (identity,
community, resident, dialogue state, savepoint, state update) at 1-2 ms each under that load, plus
~15 ms of Python (mostly SQLAlchemy ORM) per message; the NLU parse is ~0.7 ms.

Delivery (the outbox worker) is off in the server (GUANJIA_RUN_WORKER_IN_APP=false): this measures the
chat path alone; every message still runs in one database transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ENDPOINT = "/api/webchat/messages"
STAFF = ("staff:tech1", "staff:tech2", "staff:tech3", "staff:cs1", "staff:cs2", "staff:guard1",
         "staff:guard2", "staff:cleaner1")
STAFF_LINES = ("我的任务", "今天有哪些待办", "超时工单", "你好", "谢谢")
RESIDENT_LINES = (
    ("text", "你好"), ("text", "物业费还欠多少"), ("text", "我的工单进度怎么样了"), ("text", "谢谢"),
    ("text", "厨房水管漏水了"), ("payload", "m:fee"), ("payload", "m:status"), ("text", "停车费怎么交"),
    ("text", "楼道灯不亮了"), ("text", "算了不报了"), ("payload", "m:repair"), ("text", "取消"),
    ("text", "上个月交了多少钱"), ("payload", "m:events"), ("text", "再见"),
)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    last_reply: float = 0.0


def household(i: int) -> tuple[str, str, str]:
    """A distinct demo household per simulated resident (6 buildings x 2 units x 18 floors x 2 rooms)."""
    building, rest = divmod(i, 72)
    unit, rest = divmod(rest, 36)
    floor, room = divmod(rest, 2)
    return str(building % 6 + 1), str(unit + 1), f"{floor + 1:02d}{room + 1:02d}"


def script(user_index: int, rng: random.Random) -> list[tuple[str, str]]:
    """What one person says, in order: a resident binds first, then mixes questions, repairs and buttons."""
    if user_index < len(STAFF):
        return [("text", rng.choice(STAFF_LINES)) for _ in range(200)]
    b, u, r = household(user_index)
    lines: list[tuple[str, str]] = [("text", "你好"), ("text", "/bind"), ("text", f"{b}号楼{u}单元{r}"),
                                    ("text", f"1390{int(b):02d}{u}{r}")]
    lines += [rng.choice(RESIDENT_LINES) for _ in range(200)]
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(admin_url: str) -> str:
    name = f"guanjia_bench_chat_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def prepare(url: str) -> None:
    from backend import migrate
    from backend.clock import SystemClock
    from backend.db import make_engine, make_session_factory, transaction
    from backend.services.demo import seed_demo
    from backend.settings import Settings

    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        seed_demo(session, Settings(database_url=url, demo_mode=True, _env_file=None), SystemClock())
    engine.dispose()


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GUANJIA_DATABASE_URL=url, GUANJIA_DEMO_MODE="true", GUANJIA_RUN_WORKER_IN_APP="false",
               GUANJIA_NLU_CACHE_DIR=str(REPO / "var" / "nlu-cache"), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
           "--loop", "uvloop", "--http", "httptools"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the server did not come up")


async def drive(port: int, users: list[str], scripts: dict[str, list[tuple[str, str]]], positions: dict[str, int],
                total: int, seconds: float, rate: float, results: Results) -> float:
    """Send up to `total` messages in at most `seconds`; rate 0 = each user as fast as replies come."""
    budget = iter(range(total))
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(users), max_keepalive_connections=len(users))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:

        async def person(user: str) -> None:
            rng = random.Random(user)
            per_user = rate / len(users) if rate else 0.0
            next_at = time.perf_counter() + (rng.expovariate(per_user) if per_user else 0.0)
            for _ in budget:
                if per_user:
                    if next_at > stop_at:
                        return
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at = max(next_at, time.perf_counter() - 1.0) + rng.expovariate(per_user)
                if time.perf_counter() > stop_at:
                    return
                lines = scripts[user]
                kind, value = lines[positions[user] % len(lines)]
                positions[user] += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post(ENDPOINT, json={"user": user, kind: value})
                    results.statuses[r.status_code] = results.statuses.get(r.status_code, 0) + 1
                    if r.status_code != 200 or not r.json().get("replies"):
                        results.errors += 1
                except httpx.HTTPError:
                    results.errors += 1
                results.latencies.append(time.perf_counter() - t0)
                results.last_reply = time.perf_counter()

        t0 = time.perf_counter()
        await asyncio.gather(*(person(u) for u in users))
        return (results.last_reply or time.perf_counter()) - t0


def report(name: str, elapsed: float, results: Results) -> dict[str, float]:
    lat = sorted(results.latencies)
    if not lat:
        print(f"{name}: no messages")
        return {}

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000

    figures = {"messages": len(lat), "seconds": elapsed, "msg_per_s": len(lat) / elapsed, "p50_ms": pct(0.5),
               "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000, "errors": results.errors}
    print(f"{name:>11}: {figures['messages']:5d} messages in {elapsed:6.1f} s = {figures['msg_per_s']:6.0f} msg/s | "
          f"p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms  "
          f"max {figures['max_ms']:6.0f} ms | errors {results.errors} {dict(sorted(results.statuses.items()))}")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                    help="PostgreSQL server (its database is only used to create and drop the throwaway one)")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--messages", type=int, default=6000, help="per phase")
    ap.add_argument("--rate", type=float, default=300.0, help="offered msg/s in the paced phase")
    ap.add_argument("--seconds", type=float, default=120.0, help="time bound per phase")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--phase", choices=("both", "saturation", "paced"), default="both")
    args = ap.parse_args()
    if not args.url.startswith("postgresql"):
        raise SystemExit("--url must be a PostgreSQL URL")

    url = make_database(args.url)
    proc = None
    try:
        prepare(url)
        port = free_port()
        proc = start_server(url, port, args.workers)
        rng = random.Random(7)
        users = [*STAFF, *(f"u-bench-{i}" for i in range(len(STAFF), args.users))][: args.users]
        scripts = {u: script(i, rng) for i, u in enumerate(users)}
        positions = dict.fromkeys(users, 0)
        print(f"uvicorn x{args.workers} on 127.0.0.1:{port}, PostgreSQL {url.rsplit('@', 1)[-1]}, "
              f"{len(users)} users ({len(STAFF)} staff), CPUs: {os.cpu_count()}")
        # Warm-up: every worker loads the NLU, every user says hello and binds (the first four lines).
        warm = Results()
        asyncio.run(drive(port, users, scripts, positions, len(users) * 4, args.seconds, 0, warm))
        print(f"warm-up: {len(warm.latencies)} messages (binding every resident), errors {warm.errors}")
        if args.phase in ("both", "saturation"):
            results = Results()
            elapsed = asyncio.run(drive(port, users, scripts, positions, args.messages, args.seconds, 0, results))
            report("saturation", elapsed, results)
        if args.phase in ("both", "paced"):
            results = Results()
            elapsed = asyncio.run(drive(port, users, scripts, positions, args.messages, args.seconds, args.rate,
                                        results))
            report(f"paced {args.rate:g}/s", elapsed, results)
        print("targets: >= 300 msg/s, p99 <= 100 ms")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        drop_database(args.url, url)


if __name__ == "__main__":
    main()
