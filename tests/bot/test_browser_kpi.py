"""The KPI dashboard in a real headless Chromium against a real uvicorn over `guanjia demo`'s ticket history.

The manager's page draws every chart with the vendored ECharts, fits a phone's width, filters by date
and offers the XLSX; screenshots (phone and desktop) are saved as test artefacts under
$GUANJIA_TEST_ARTEFACTS (default var/test-artefacts). Skipped only where Chromium is missing and CI is not set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from bot.console.deps import COOKIE
from tests.bot.test_browser_chat import CHROME_FLAGS, CHROMEDRIVER, CHROMIUM, HAVE_BROWSER, REPO, _free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_BROWSER and not os.environ.get("CI"),
                       reason="chromium and chromium-driver are not installed (scripts/test installs them)"),
]
ARTEFACTS = Path(os.environ.get("GUANJIA_TEST_ARTEFACTS", REPO / "var" / "test-artefacts"))
WAIT = 30.0
CHARTS = 8


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "GUANJIA_DATABASE_URL": f"sqlite:///{tmp_path / 'kpi.db'}",
           "GUANJIA_NLU_CACHE_DIR": str(REPO / "var" / "nlu-cache"), "GUANJIA_MEDIA_DIR": str(tmp_path / "media"),
           "GUANJIA_DEMO_MODE": "true", "GUANJIA_RUN_WORKER_IN_APP": "true",
           "GUANJIA_SECRET_KEY": "browser-test-secret", "PYTHONPATH": str(REPO)}
    seeded = subprocess.run([sys.executable, "-m", "bot.cli.main", "demo", "--no-serve"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    assert "weeks of ticket history" in seeded.stdout
    minted = subprocess.run([sys.executable, "-m", "bot.cli.main", "staff", "token", "manager"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert minted.returncode == 0, minted.stderr
    token = next(word for word in minted.stdout.split() if word.startswith("gj_"))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "uvicorn exited"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "uvicorn did not come up"
            time.sleep(0.2)
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:  # a phone-sized window
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(what, timeout: float = WAIT):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _charts_drawn(driver) -> bool:  # type: ignore[no-untyped-def]
    drawn = driver.execute_script(
        "return document.getElementById('kpi') && document.getElementById('kpi').getAttribute('data-charts')")
    canvases = driver.execute_script("return document.querySelectorAll('.chart canvas').length")
    return drawn == str(CHARTS) and canvases >= CHARTS


def test_the_dashboard_in_a_browser(server, browser) -> None:
    base, token = server
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{base}/healthz")  # the cookie's site first
    browser.add_cookie({"name": COOKIE, "value": token, "path": "/"})
    browser.get(f"{base}/console/dashboard")
    _wait(lambda: _charts_drawn(browser))
    cards = {e.get_attribute("id"): e.text for e in browser.find_elements("css selector", ".card[id]")}
    assert cards["card-e-respond"].split("\n")[0].endswith("%"), cards
    assert int(cards["card-total"].split("\n")[0]) > 100  # four weeks of the demo's history
    assert int(cards["card-escalated"].split("\n")[0]) >= 1
    rows = browser.find_elements("css selector", "#table-staff tbody tr")
    assert len(rows) >= 8
    assert len(browser.find_elements("css selector", "#table-satisfaction tbody tr")) == 3
    # A phone's width: nothing wider than the screen but the tables' own scrolling boxes.
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    browser.save_screenshot(str(ARTEFACTS / "kpi-dashboard-phone.png"))

    browser.set_window_size(1280, 1000)
    browser.refresh()
    _wait(lambda: _charts_drawn(browser))
    browser.save_screenshot(str(ARTEFACTS / "kpi-dashboard-desktop.png"))

    # Filter: the last week only.
    end = browser.find_element("css selector", "input[name=end]").get_attribute("value")
    browser.execute_script(
        "var s = document.querySelector('input[name=start]'); var d = new Date(arguments[0]);"
        "d.setDate(d.getDate() - 6); s.value = d.toISOString().slice(0, 10);", end)
    browser.find_element("css selector", "#kpi-filter button").click()
    _wait(lambda: "start=" in browser.current_url and _charts_drawn(browser))
    week_total = int(browser.find_element("css selector", "#card-total b").text)
    assert 0 < week_total < int(cards["card-total"].split("\n")[0])
    assert len(browser.find_elements("css selector", "#chart-weeks canvas")) == 1

    href = browser.find_element("css selector", "#kpi-xlsx").get_attribute("href")
    assert "/console/dashboard/export.xlsx?start=" in href
    r = httpx.get(href, cookies={COOKIE: token}, timeout=30)
    assert r.status_code == 200
    summary = {row[0]: row[1] for row in load_workbook(BytesIO(r.content))["概览 Summary"].iter_rows(
        min_row=2, values_only=True)}
    assert summary["工单总数 Tickets"] == week_total
