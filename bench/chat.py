"""Web chat benchmark: messages per second and latency through POST /api/webchat/messages on PostgreSQL.

Starts uvicorn (`--workers 2`) serving bot.app:create_app in demo mode on 127.0.0.1 against a throwaway
PostgreSQL database (created, migrated with Alembic, seeded with the demo community, dropped at the end),
then drives 200 simulated users with asyncio (uvloop) over plain HTTP/1.1 keep-alive connections. Each user has one message in flight at a time and
follows a realistic script: greetings, binding a home, repairs, fee questions, status checks, button
presses, small talk; a few are staff asking for their tasks. After a warm-up (every resident binds),
two phases of --rounds runs each, every run printed, then median and range:

  * paced: the users together offer --rate msg/s (Poisson arrivals); latency at that load;
  * saturation: every user sends its next message as soon as the reply arrives (the most msg/s).

Before those, the first message after start-up: a server started as `guanjia serve` runs it (one
process), GET /healthz polled until it answers 200 (503 while the NLU loads and the app warms up), then
one new resident's first 100 messages timed one by one: the very first, the 100th, the median.

Targets on the 2-core machine: first message after start-up <= 100 ms; >= 300 msg/s and p99 <= 100 ms
at 300 msg/s.

    .venv/bin/python bench/chat.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--users 200] [--messages 6000] [--rate 300] [--seconds 120] [--workers 2] [--rounds 3]
        [--phase both|first|paced|saturation] [--first-count 100]

The server, PostgreSQL and this client share the machine's two cores; the client reports the CPU each
used per message (from /proc). The shared machine's speed wanders from minute to minute, so single runs
differ by a factor of two in p99; read the range. Figures are in the closing notes of issue 4.

Delivery (the outbox worker) is off in the server (GUANJIA_RUN_WORKER_IN_APP=false): this measures the
chat path alone; every message still runs in one database transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
import uvloop
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


@dataclass
class Startup:
    """How the server came up: seconds until /healthz said 200, and what it said before."""

    ready_after: float = 0.0
    refused: int = 0  # connection refused: not listening yet
    not_ready: int = 0  # 503: listening, still loading
    last_body: str = ""


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


def start_server(url: str, port: int, workers: int) -> tuple[subprocess.Popen[bytes], Startup]:
    """uvicorn serving the app; returns once GET /healthz answers 200 (the app has loaded and warmed up)."""
    env = dict(os.environ, GUANJIA_DATABASE_URL=url, GUANJIA_DEMO_MODE="true", GUANJIA_RUN_WORKER_IN_APP="false",
               GUANJIA_NLU_CACHE_DIR=str(REPO / "var" / "nlu-cache"), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
           "--loop", "uvloop", "--http", "httptools"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    startup = Startup()
    deadline = time.time() + 120
    with httpx.Client(timeout=1, trust_env=False) as client:
        while time.time() < deadline:
            try:
                response = client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.HTTPError:
                startup.refused += 1
            else:
                if response.status_code == 200:
                    startup.ready_after = time.perf_counter() - started
                    return proc, startup
                startup.not_ready += 1
                startup.last_body = response.text
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the server did not come up")


class Connection:
    """A minimal HTTP/1.1 keep-alive client for the load: one per simulated user.

    httpx spent about 9 ms of CPU per request on this machine, more than the server, so the client would
    have measured itself; this one writes the request bytes and reads the Content-Length body.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: dict[str, str]) -> tuple[int, bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.writer is None or self.reader is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.write(request)
            try:
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as err:
                self.close()
                unread = not isinstance(err, asyncio.IncompleteReadError) or not err.partial
                if reused and unread and attempt == 1:
                    continue  # the server had closed the idle keep-alive connection (uvicorn: after 5 s)
                raise
            try:
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                return status, await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(port: int, users: list[str], scripts: dict[str, list[tuple[str, str]]], positions: dict[str, int],
                total: int, seconds: float, rate: float, results: Results) -> float:
    """Send up to `total` messages in at most `seconds`; rate 0 = each user as fast as replies come."""
    budget = iter(range(total))
    stop_at = time.perf_counter() + seconds

    async def person(user: str) -> None:
        conn = Connection(port)
        rng = random.Random(user)
        per_user = rate / len(users) if rate else 0.0
        next_at = time.perf_counter() + (rng.expovariate(per_user) if per_user else 0.0)
        try:
            while True:
                if per_user:
                    if next_at > stop_at:
                        return
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at = max(next_at, time.perf_counter() - 1.0) + rng.expovariate(per_user)
                if time.perf_counter() > stop_at or next(budget, None) is None:  # a message from the budget
                    return
                lines = scripts[user]
                kind, value = lines[positions[user] % len(lines)]
                positions[user] += 1
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.post(ENDPOINT, {"user": user, kind: value}), 30)
                    results.statuses[status] = results.statuses.get(status, 0) + 1
                    if status != 200 or not json.loads(body).get("replies"):
                        results.errors += 1
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    conn.close()
                    results.errors += 1
                results.latencies.append(time.perf_counter() - t0)
                results.last_reply = time.perf_counter()
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(person(u) for u in users))
    return (results.last_reply or time.perf_counter()) - t0


async def timed_script(port: int, user: str, lines: list[tuple[str, str]]) -> list[float]:
    """One person's messages one after another on one connection; the latency of each (an error fails)."""
    conn = Connection(port)
    latencies = []
    try:
        for kind, value in lines:
            t0 = time.perf_counter()
            status, body = await conn.post(ENDPOINT, {"user": user, kind: value})
            latencies.append(time.perf_counter() - t0)
            if status != 200 or not json.loads(body).get("replies"):
                raise SystemExit(f"{user} said {value!r}: HTTP {status} {body[:200]!r}")
    finally:
        conn.close()
    return latencies


def first_messages(url: str, count: int) -> dict[str, float]:
    """Start a server as `guanjia serve` does (one process), wait for /healthz 200, then time the very first
    chat message and the ones after it: a new resident says hello, binds a home and goes on chatting."""
    port = free_port()
    proc, startup = start_server(url, port, 1)
    try:
        lines = script(len(STAFF) + 431, random.Random(11))[:count]
        lat = uvloop.run(timed_script(port, "u-first-message", lines))
        later = uvloop.run(timed_script(port, "u-later-newcomer", lines[:1]))  # the same first line, warm
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    ms = sorted(x * 1000 for x in lat)
    figures = {"ready_s": startup.ready_after, "first_ms": lat[0] * 1000, "last_ms": lat[-1] * 1000,
               "median_ms": ms[len(ms) // 2], "max_after_first_ms": max(lat[1:], default=0.0) * 1000,
               "newcomer_ms": later[0] * 1000}
    print(f"start-up: /healthz 200 after {startup.ready_after:.1f} s (before that: {startup.refused} refused, "
          f"{startup.not_ready} not ready, last said {startup.last_body or '-'})")
    print(f"first message after start-up: {figures['first_ms']:.1f} ms; message {len(lat)}: "
          f"{figures['last_ms']:.1f} ms; median of {len(lat)}: {figures['median_ms']:.1f} ms, slowest after the "
          f"first: {figures['max_after_first_ms']:.1f} ms; then another newcomer's first message: "
          f"{figures['newcomer_ms']:.1f} ms (target: first <= 100 ms)")
    return figures


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the server (uvicorn and its workers), PostgreSQL and this load client."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        procs[int(entry.name)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / tick)
    server = {server_pid} | {pid for pid, (ppid, _, _) in procs.items() if ppid == server_pid}
    own = os.times()
    return {
        "server": sum(procs[pid][2] for pid in server if pid in procs),
        "postgres": sum(cpu for _, comm, cpu in procs.values() if comm.startswith("postgres")),
        "client": own.user + own.system,
    }


def report_cpu(before: dict[str, float], after: dict[str, float], messages: int) -> None:
    if messages:
        used = {k: (after[k] - before[k]) * 1000 / messages for k in before}
        print("             CPU per message: " + ", ".join(f"{k} {v:.2f} ms" for k, v in used.items())
              + f" (total {sum(used.values()):.2f} ms on {os.cpu_count()} CPUs)")


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
    ap.add_argument("--phase", choices=("both", "first", "saturation", "paced"), default="both",
                    help="first: only the first-message latency after start-up; both: it and the two load phases")
    ap.add_argument("--first-count", type=int, default=100, help="messages timed after start-up")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each phase")
    args = ap.parse_args()
    if not args.url.startswith("postgresql"):
        raise SystemExit("--url must be a PostgreSQL URL")

    url = make_database(args.url)
    proc = None
    try:
        prepare(url)
        first_messages(url, args.first_count)
        if args.phase == "first":
            return
        port = free_port()
        proc, _ = start_server(url, port, args.workers)
        rng = random.Random(7)
        users = [*STAFF, *(f"u-bench-{i}" for i in range(len(STAFF), args.users))][: args.users]
        scripts = {u: script(i, rng) for i, u in enumerate(users)}
        positions = dict.fromkeys(users, 0)
        print(f"uvicorn x{args.workers} on 127.0.0.1:{port}, PostgreSQL {url.rsplit('@', 1)[-1]}, "
              f"{len(users)} users ({len(STAFF)} staff), CPUs: {os.cpu_count()}")
        # Warm-up: every worker loads the NLU, every user says hello and binds (the first four lines).
        warm = Results()
        uvloop.run(drive(port, users, scripts, positions, len(users) * 4, args.seconds, 0, warm))
        print(f"warm-up: {len(warm.latencies)} messages (binding every resident), errors {warm.errors}")
        summary: dict[str, list[dict[str, float]]] = {}
        for phase, rate in (("paced", args.rate), ("saturation", 0.0)):  # latency first, on a warm server
            if args.phase not in ("both", phase):
                continue
            for _ in range(args.rounds):  # the shared machine's speed wanders: every round is printed
                results = Results()
                before = cpu_seconds(proc.pid)
                elapsed = uvloop.run(drive(port, users, scripts, positions, args.messages, args.seconds, rate,
                                           results))
                name = "saturation" if not rate else f"paced {rate:g}/s"
                summary.setdefault(name, []).append(report(name, elapsed, results))
                report_cpu(before, cpu_seconds(proc.pid), len(results.latencies))
        for name, rounds in summary.items():
            rates = sorted(r["msg_per_s"] for r in rounds if r)
            p99s = sorted(r["p99_ms"] for r in rounds if r)
            if rates:
                print(f"{name:>11}: {len(rates)} rounds, msg/s median {rates[len(rates) // 2]:.0f} "
                      f"(range {rates[0]:.0f}-{rates[-1]:.0f}), p99 median {p99s[len(p99s) // 2]:.1f} ms "
                      f"(range {p99s[0]:.1f}-{p99s[-1]:.1f})")
        print("targets: first message after start-up <= 100 ms; >= 300 msg/s, p99 <= 100 ms at 300 msg/s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        drop_database(args.url, url)


if __name__ == "__main__":
    main()
