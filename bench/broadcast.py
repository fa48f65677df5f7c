"""Broadcast benchmark: one notice to 10,000 residents through a fake Telegram on 127.0.0.1 that keeps limits.

The fake (tests/telegram/fake_bot_api.py, the real Bot API wire format, served on an asyncio loop by
tests/telegram/fake_bot_api_async.py) enforces the real limits scaled
up: 1,000 messages/s overall and 1/s per chat, answering 429 with retry_after when one is broken. The
workers are real `guanjia worker` processes (the broadcast engine inside them), told the same rates.

Runs, each in a throwaway database:
  1. throughput: PostgreSQL, `--workers` processes (limits in Redis when more than one): seconds from
     the notice becoming due to the last message accepted by the fake, against the minimum the limit
     allows (recipients / rate); target <= 1.1x and no 429;
  2. crash: PostgreSQL, 4 worker processes sharing the limits through Redis; one is SIGKILLed midway
     and restarted; every recipient must receive the notice exactly once, counted at the fake;
  3. SQLite, one worker (in-process limits).
Also reported: the time to fan out the 10,000 rows (notice due -> fan-out done, notice.sent_at), and
each worker's peak memory (VmHWM). The last line sums up runs 1 (seconds, ratio) and 2 (duplicates,
lost, kills), with the 429s of every run:

    broadcast: recipients=10000 seconds=S minimum_seconds=M ratio=R http_429=N duplicates=D lost=L kills=K

    PYTHONPATH=. python bench/broadcast.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis redis://127.0.0.1:6379/0] [--recipients 10000] [--rate 1000] [--workers 2] [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, delete, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.clock import SystemClock  # noqa: E402
from backend.db import make_engine, make_session_factory, transaction  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.models import Notice, NoticeDelivery  # noqa: E402
from bot.delivery import fanout  # noqa: E402
from tests.bot import broadcast_setup as bs  # noqa: E402
from tests.telegram.fake_bot_api import FakeBotApi  # noqa: E402
from tests.telegram.fake_bot_api_async import AsyncFakeBotApi  # noqa: E402

TOKEN = "123456789:AAbench-token_for-the-fake"
# Messages the fake lets arrive back to back (100 ms worth at 1,000/s), as Telegram tolerates short bursts:
# on a loaded machine the fake, like the network, reads requests that queued up together.
FAKE_BURST = 100
WORKER_BURST = 10  # the workers' own overall burst (catching up after a pause), below the fake's


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    first_seconds: float = 0.0  # due -> first message accepted
    fanout_seconds: float = 0.0
    http_429: int = 0
    duplicates: int = 0
    lost: int = 0
    kills: int = 0
    peak_kib: int = 0
    in_doubt: int = 0
    fanout_alone: float = 0.0  # fan-out with nothing else running
    cpu_seconds: float = 0.0  # the workers' CPU time from the notice being due to the end of the run
    fake_cpu_seconds: float = 0.0  # this process's (the fake Telegram's) CPU time over the same span
    services_cpu_seconds: float = 0.0  # PostgreSQL's and Redis's over the same span
    broken: dict[str, int] | None = None  # 429s by the limit broken (overall, per chat)


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _services_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL and Redis server process on the machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name in ("postgres", "redis-server"):
                found[int(entry.name)] = _cpu_seconds(int(entry.name))
    return found


class Workers:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log.open("ab")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.peak_kib = 0
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds used (user + system), last seen
        self.cpu_before: dict[int, float] = {}  # pid -> CPU seconds used when the workers were ready

    def start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "worker"], env=self.env, cwd=ROOT,
                                stdout=self.log, stderr=self.log)
        self.procs.append(proc)
        return proc

    def ready(self, count: int, timeout: float) -> None:
        """Wait until `count` workers have said they are running (their start is no part of the broadcast)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.log.flush()
            if Path(self.log.name).read_bytes().count(b"worker sweeping") >= count:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # and have polled once
        self.cpu_before = {proc.pid: _cpu_seconds(proc.pid) for proc in self.procs}  # start-up is no part of it

    def sample(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.peak_kib = max(self.peak_kib, _peak_kib(proc.pid))
                self.cpu[proc.pid] = _cpu_seconds(proc.pid) or self.cpu.get(proc.pid, 0.0)

    def stop(self) -> None:
        self.sample()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


def _env(db_url: str, api: FakeBotApi, rate: float, redis_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANJIA_")}
    env.update({
        "PYTHONPATH": str(ROOT), "GUANJIA_DATABASE_URL": db_url, "GUANJIA_MEDIA_DIR": str(tmp / "media"),
        "GUANJIA_TELEGRAM_TOKEN": TOKEN, "GUANJIA_TELEGRAM_API_URL": api.url,
        "GUANJIA_TELEGRAM_MESSAGES_PER_SECOND": str(rate), "GUANJIA_TELEGRAM_BURST": str(WORKER_BURST),
        "GUANJIA_REDIS_URL": redis_url, "GUANJIA_SWEEP_INTERVAL_SECONDS": "3600",
        "GUANJIA_BROADCAST_POLL_SECONDS": "0.1", "GUANJIA_BROADCAST_LEASE_SECONDS": "3",
        "GUANJIA_DELIVERY_LEASE_SECONDS": "3",
    })
    # The engine's own knobs pass through, to compare settings (e.g. GUANJIA_BROADCAST_UNRECORDED_MAX=1).
    env.update({k: v for k, v in os.environ.items() if k.startswith("GUANJIA_BROADCAST_")})
    return env


def _seed(db_url: str, recipients: int) -> tuple[int, object]:
    upgrade(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    now = SystemClock().now()
    with transaction(factory) as s:
        place = bs.community(s, now)
        for start in range(0, recipients, 5000):
            bs.add_residents(s, place, min(5000, recipients - start), now, ("telegram",), start=start)
        community_id = place.id
    engine.dispose()
    return community_id, factory


def _schedule(db_url: str, community_id: int, title: str) -> tuple[int, float]:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    now = SystemClock().now()
    with transaction(factory) as s:
        note = Notice(community_id=community_id, kind="notice", category="outage", title=title,
                      body="明天 9:00-12:00 停水，请提前储水。", audience={"community": True}, status="scheduled",
                      scheduled_at=now, created_at=now)
        s.add(note)
        s.flush()
        note_id = note.id
    due = time.monotonic()
    engine.dispose()
    return note_id, due


def _notice(db_url: str, note_id: int) -> tuple[str, float]:
    """The notice's status, and how long its fan-out took (due -> all rows written)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        status, scheduled, fanned = conn.execute(text(
            "SELECT status, scheduled_at, sent_at FROM notice WHERE id = :i"), {"i": note_id}).one()
    engine.dispose()
    if isinstance(scheduled, str):  # SQLite
        scheduled, fanned = datetime.fromisoformat(scheduled), fanned and datetime.fromisoformat(fanned)
    return status, (fanned - scheduled).total_seconds() if fanned else 0.0


def _in_doubt(db_url: str, note_id: int) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT coalesce(sum(in_doubt), 0) FROM notice_delivery WHERE notice_id = :i"),
                             {"i": note_id}).scalar()
    engine.dispose()
    return int(value or 0)


def _fanout_alone(db_url: str, community_id: int, batch: int) -> float:
    """Seconds to fan a notice out to every resident with nothing else running (then the rows are removed)."""
    note_id, _ = _schedule(db_url, community_id, "fan-out probe")
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    started = time.monotonic()
    stats = fanout.fan_out_once(factory, SystemClock(), "bench#probe", 60, batch)
    seconds = time.monotonic() - started
    with transaction(factory) as s:
        s.execute(delete(NoticeDelivery).where(NoticeDelivery.notice_id == note_id))
        s.execute(update(Notice).where(Notice.id == note_id).values(status="cancelled"))
    engine.dispose()
    print(f"  fan-out alone: {stats.rows} rows in {seconds:.2f} s ({batch} residents a transaction)", flush=True)
    return seconds


def broadcast(name: str, db_url: str, api: FakeBotApi, args: argparse.Namespace, workers: int, redis_url: str,
              kill: bool, tmp: Path) -> Run:
    run = Run(name)
    community_id, _factory = _seed(db_url, args.recipients)
    if name == "throughput":
        run.fanout_alone = _fanout_alone(db_url, community_id, 500)
    api.clear()
    api.http_429 = 0
    api.broken = {"overall": 0, "chat": 0}
    title = f"停水通知 {uuid.uuid4().hex[:6]}"
    pool = Workers(_env(db_url, api, args.rate, redis_url, tmp), tmp / f"{name}.log")
    try:
        for _ in range(workers):
            pool.start()
        pool.ready(workers, args.warmup)
        note_id, due = _schedule(db_url, community_id, title)
        fake_cpu, services_cpu = time.process_time(), _services_cpu()
        killed = False
        deadline = due + args.recipients / args.rate * 6 + 60
        while time.monotonic() < deadline:
            delivered = api.accepted  # a counter: polling must not hold the fake's lock over 10,000 calls
            if kill and not killed and delivered >= args.recipients // 2:
                victim = pool.procs[0]
                pool.sample()
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                run.kills += 1
                killed = True
                pool.start()  # restarted at once, as a supervisor would
            if delivered >= args.recipients and _notice(db_url, note_id)[0] == "sent":
                break
            pool.sample()
            time.sleep(0.02)
        run.fake_cpu_seconds = time.process_time() - fake_cpu
        run.services_cpu_seconds = sum(cpu - services_cpu.get(pid, 0.0) for pid, cpu in _services_cpu().items())
        calls = api.delivered()
        if calls:
            run.seconds = max(c.at for c in calls) - due
            run.first_seconds = min(c.at for c in calls) - due
        status, run.fanout_seconds = _notice(db_url, note_id)
        counts = Counter(c.chat_id for c in calls if title in c["text"])
        expected = {str(bs.TELEGRAM_BASE + i) for i in range(args.recipients)}
        run.lost = len(expected - set(counts))
        run.duplicates = sum(n - 1 for n in counts.values() if n > 1)
        run.http_429 = api.http_429
        run.broken = dict(api.broken)
        run.in_doubt = _in_doubt(db_url, note_id)
        if status != "sent":
            print(f"  {name}: notice still {status} at the deadline", flush=True)
    finally:
        pool.stop()
        run.peak_kib = pool.peak_kib
        run.cpu_seconds = sum(cpu - pool.cpu_before.get(pid, 0.0) for pid, cpu in pool.cpu.items())
    minimum = args.recipients / args.rate
    print(f"  {name}: {workers} worker(s), {run.seconds:.2f} s (minimum {minimum:.2f} s, ratio "
          f"{run.seconds / minimum:.3f}); first message after {run.first_seconds:.2f} s; fan-out of "
          f"{args.recipients} rows {run.fanout_seconds:.2f} s; 429s {run.http_429} {run.broken}; duplicates {run.duplicates} "
          f"(rows in doubt {run.in_doubt}); lost {run.lost}; kills {run.kills}; worker peak memory "
          f"{run.peak_kib / 1024:.0f} MiB; worker CPU {run.cpu_seconds:.1f} s "
          f"({run.cpu_seconds / args.recipients * 1000:.2f} ms a message); fake Telegram CPU "
          f"{run.fake_cpu_seconds:.1f} s; PostgreSQL and Redis CPU {run.services_cpu_seconds:.1f} s", flush=True)
    return run


def _pg_database(admin_url: str) -> tuple[str, str]:
    name = f"guanjia_bcast_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match="guanjia:rl:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("GUANJIA_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the throughput run (one per core)")
    parser.add_argument("--crash-workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds to wait at most for the workers to start")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()

    load = os.getloadavg()
    print(f"broadcast bench: {args.recipients} recipients at {args.rate:g} msg/s overall, 1/s per chat; "
          f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    # The fake on an asyncio loop: the same answers as the tests' threaded one at a fraction of its CPU, which on
    # two cores would otherwise be taken from the workers and the database it measures.
    api = AsyncFakeBotApi(TOKEN).start()
    api.enforce(args.rate, 1.0, burst=FAKE_BURST)
    runs: list[Run] = []
    tmp = Path(tempfile.mkdtemp(prefix="guanjia-bench-broadcast-"))
    print(f"worker logs in {tmp}", flush=True)
    try:
        for name, workers, kill in (("throughput", args.workers, False), ("crash", args.crash_workers, True)):
            if not workers:
                runs.append(Run(name))
                continue
            url, db = _pg_database(args.pg)
            try:
                redis_url = args.redis if workers > 1 else ""
                if redis_url:
                    _flush_redis(redis_url)
                runs.append(broadcast(name, url, api, args, workers, redis_url, kill, tmp))
            finally:
                _drop(args.pg, db)
        if not args.skip_sqlite:
            runs.append(broadcast("sqlite", f"sqlite:///{tmp / 'bench.db'}", api, args, 1, "", False, tmp))
    finally:
        api.stop()
    throughput, crash = runs[0], runs[1]
    minimum = args.recipients / args.rate
    load = os.getloadavg()
    print(f"load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"broadcast: recipients={args.recipients} seconds={throughput.seconds:.2f} minimum_seconds={minimum:.2f} "
          f"ratio={throughput.seconds / minimum:.3f} http_429={sum(r.http_429 for r in runs)} "
          f"duplicates={crash.duplicates} lost={crash.lost} kills={crash.kills}")


if __name__ == "__main__":
    main()
