"""Browser tests' shared parts: Debian's Chromium through selenium, a demo server as a real process, waiting.

Skipped only where Chromium is missing and CI is not set (scripts/test installs chromium and
chromium-driver with apt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import REPO, free_port, wait_healthy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
NEEDS_BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_BROWSER and not os.environ.get("CI"),
                       reason="chromium and chromium-driver are not installed (scripts/test installs them)"),
]
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=420,900")  # a phone-sized window
WAIT = 30.0


@dataclass
class DemoServer:
    base: str
    env: dict[str, str]
    seeded: str  # what `guanjia demo --no-serve` printed (the console's one-time sign-in link among it)
    tmp: Path

    def guanjia(self, *args: str, stdin: str | None = None) -> str:
        """Run a `guanjia` command against this server's database; its standard output."""
        done = subprocess.run([sys.executable, "-m", "bot.cli.main", *args], env=self.env, cwd=self.tmp,
                              input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout


@contextmanager
def demo_server(tmp_path: Path, **extra_env: str) -> Iterator[DemoServer]:
    """`guanjia demo --no-serve` into a temp SQLite file, then uvicorn on a free port until /healthz is 200."""
    env = {**os.environ, "GUANJIA_DATABASE_URL": f"sqlite:///{tmp_path / 'browser.db'}",
           "GUANJIA_NLU_CACHE_DIR": str(REPO / "var" / "nlu-cache"), "GUANJIA_MEDIA_DIR": str(tmp_path / "media"),
           "GUANJIA_DEMO_MODE": "true", "GUANJIA_RUN_WORKER_IN_APP": "true", "GUANJIA_WEBCHAT_POLL_SECONDS": "0.5",
           "GUANJIA_SECRET_KEY": "browser-test-secret", "PYTHONPATH": str(REPO), **extra_env}
    seeded = subprocess.run([sys.executable, "-m", "bot.cli.main", "demo", "--no-serve"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, timeout=60)
        yield DemoServer(base, env, seeded.stdout, tmp_path)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def chrome(tmp_path: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(what, timeout: float = WAIT):  # type: ignore[no-untyped-def]
    """What `what` returns once truthy; elements replaced meanwhile (a page loading, htmx swapping rows)
    are looked up again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            found = what()
        except (StaleElementReferenceException, NoSuchElementException):
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


class Tab:
    def __init__(self, driver, handle: str) -> None:
        self.driver, self.handle = driver, handle

    def focus(self) -> None:
        self.driver.switch_to.window(self.handle)

    def bot_texts(self) -> list[str]:
        self.focus()
        return [e.text for e in self.driver.find_elements("css selector", ".msg.bot")]

    def pushed_texts(self) -> list[str]:
        self.focus()
        return [e.text for e in self.driver.find_elements("css selector", ".msg.pushed")]

    def wait_for(self, what, timeout: float = WAIT):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            self.focus()
            found = what()
            if found:
                return found
            assert time.monotonic() < deadline, f"timed out; page shows: {self.bot_texts()}"
            time.sleep(0.2)

    def say(self, text: str, expect: str) -> str:
        self.focus()
        before = len(self.bot_texts())
        box = self.driver.find_element("id", "text")
        box.send_keys(text)
        self.driver.find_element("css selector", "#composer button").click()
        return self.wait_for(lambda: next((t for t in self.bot_texts()[before:] if expect in t), None))

    def pick(self, selector: str):  # type: ignore[no-untyped-def]
        self.focus()
        self.wait_for(lambda: not self.driver.find_element("id", "picks").get_attribute("hidden"))
        return self.driver.find_element("css selector", f"#picks button{selector}")

    def become(self, user: str) -> None:
        self.pick(f'[data-user="{user}"]').click()
        assert self.driver.find_element("id", "user").get_attribute("value") == user

    def become_new_visitor(self) -> str:
        self.pick("[data-visitor]").click()
        user = self.driver.find_element("id", "user").get_attribute("value")
        assert user.startswith("u-")
        return user
