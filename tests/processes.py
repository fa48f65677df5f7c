"""Guanjia as real processes in tests: free ports, the `guanjia` command, waiting until a server is ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
GUANJIA = Path(sys.executable).parent / "guanjia"
NLU_CACHE = REPO / "var" / "nlu-cache"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Until GET /healthz answers 200 (the NLU loaded and the app warm); fails if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"the server at {base} exited with {proc.returncode}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the server at {base} did not come up in {timeout:.0f} s"
        time.sleep(0.2)
