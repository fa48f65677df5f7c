"""NLU benchmarks: training time, cache load time, RSS, in-process latency, HTTP throughput.

    .venv/bin/python bench/nlu.py            # everything
    .venv/bin/python bench/nlu.py --no-http  # skip the uvicorn run

The HTTP part starts uvicorn (2 workers) on 127.0.0.1 serving nlu.api's router and drives it
with a bounded raw-asyncio keep-alive client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def create_app():
    """uvicorn factory: FastAPI app with the NLU router (cache from $GUANJIA_NLU_CACHE_DIR)."""
    from fastapi import FastAPI

    from nlu import load_nlu
    from nlu.api import make_router

    nlu = load_nlu("builtin", cache_dir=Path(os.environ.get("GUANJIA_NLU_CACHE_DIR", "var/nlu-cache")))
    app = FastAPI()
    app.include_router(make_router(lambda: nlu))
    return app


def messages() -> list[str]:
    from nlu.rasa_yaml import load_jsonl

    rows = load_jsonl(REPO / "nlu" / "data" / "heldout" / "heldout.jsonl")
    return [r.text for r in rows]


async def _http_load(port: int, texts: list[str], total: int, conns: int) -> tuple[float, int, list[float]]:
    bodies = [json.dumps({"text": t}, ensure_ascii=False).encode() for t in texts]
    reqs = [b"POST /model/parse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(b)).encode() + b"\r\n\r\n" + b for b in bodies]
    counter = iter(range(total))
    lat: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in counter:
            t0 = time.perf_counter()
            writer.write(reqs[i % len(reqs)])
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
            lat.append(time.perf_counter() - t0)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conns))), timeout=120)
    return time.perf_counter() - t0, errors, lat


def bench_http(cache_dir: Path, texts: list[str], total: int = 20000, conns: int = 16) -> dict:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, GUANJIA_NLU_CACHE_DIR=str(cache_dir), PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.nlu:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(2.0)  # let both workers finish loading
        try:
            import uvloop

            run = uvloop.run
        except ImportError:
            run = asyncio.run
        run(_http_load(port, texts, 1000, conns))  # warm-up
        elapsed, errors, lat = run(_http_load(port, texts, total, conns))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    lat.sort()
    return {"requests": total, "seconds": round(elapsed, 2), "req_per_s": round(total / elapsed),
            "errors": errors, "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2), "connections": conns}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--conns", type=int, default=16)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    base_rss = rss_mb()
    import jieba  # noqa: F401  (counted in the NLU's RSS below: it is loaded for the NLU only)

    from nlu.builtin import BuiltinNLU

    out: dict = {}
    with tempfile.TemporaryDirectory() as td:
        cache = Path(td)
        t0, c0 = time.perf_counter(), time.process_time()
        BuiltinNLU.load_or_train(cache)
        out["train_s"] = round(time.perf_counter() - t0, 2)
        out["train_cpu_s"] = round(time.process_time() - c0, 2)  # the machine may be shared
        # load from cache in a fresh process, RSS measured there too
        code = (f"import time,sys;sys.path.insert(0,{str(REPO)!r});from bench.nlu import rss_mb;r0=rss_mb();"
                "t=time.perf_counter();from nlu.builtin import BuiltinNLU;"
                f"n=BuiltinNLU.load_or_train(__import__('pathlib').Path({str(cache)!r}));"
                "t1=time.perf_counter()-t;n.parse('3号楼水管漏水');print(t1, rss_mb()-r0)")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
        load_s, rss_delta = map(float, res.stdout.split())
        out["load_from_cache_s"] = round(load_s, 3)
        out["rss_added_mb"] = round(rss_delta, 1)
        nlu = BuiltinNLU.load_or_train(cache)
        from nlu.rasa_yaml import load_jsonl

        texts = messages()
        extra = ["", "😂" * 10, "漏" * 100_000, "<script>alert(1)</script>", "3-2-1502 " * 200]
        for t in texts[:50]:
            nlu.parse(t)
        lat = []
        for _ in range(5):
            for t in texts + extra:
                t0 = time.perf_counter()
                nlu.parse(t)
                lat.append(time.perf_counter() - t0)
        lat.sort()
        out["parse_n"] = len(lat)
        out["parse_p50_ms"] = round(statistics.median(lat) * 1000, 3)
        out["parse_p99_ms"] = round(lat[int(len(lat) * 0.99)] * 1000, 3)
        out["parse_max_ms"] = round(lat[-1] * 1000, 3)
        # short messages and ~300-character resident posts, each on its own budget (1 ms / 5 ms p50)
        short = [t for t in texts if len(t) <= 40]
        posts = [r.text for r in load_jsonl(REPO / "nlu" / "data" / "heldout" / "real_posts.jsonl")]
        long_posts = [(p + p)[:300] for p in posts]
        for name, group in (("short", short), ("post", posts), ("300", long_posts)):
            lat = []
            for _ in range(3):
                for t in group:
                    t0 = time.perf_counter()
                    nlu.parse(t)
                    lat.append(time.perf_counter() - t0)
            lat.sort()
            out[f"parse_{name}_p50_ms"] = round(statistics.median(lat) * 1000, 3)
            out[f"parse_{name}_p99_ms"] = round(lat[int(len(lat) * 0.99)] * 1000, 3)
        t0 = time.perf_counter()
        nlu.parse("漏" * 100_000)
        out["parse_100k_chars_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        out["bench_process_rss_mb"] = round(rss_mb() - base_rss, 1)
        if not args.no_http:
            out["http"] = bench_http(cache, texts, total=args.requests, conns=args.conns)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
