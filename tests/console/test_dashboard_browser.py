"""The KPI dashboard in a real headless Chromium against a real uvicorn over `guanjia demo`'s ticket history.

The manager's page draws every chart with the vendored ECharts, fits a phone's width, filters by date
and offers the XLSX; screenshots (phone and desktop) are saved as test artefacts under
$GUANJIA_TEST_ARTEFACTS (default var/test-artefacts). Signed in through the demo's one-time console link. Skipped only where Chromium is missing and CI is not set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from bot.console.deps import COOKIE
from tests.browser import NEEDS_BROWSER, chrome, demo_server, wait
from tests.processes import REPO

pytestmark = NEEDS_BROWSER
ARTEFACTS = Path(os.environ.get("GUANJIA_TEST_ARTEFACTS", REPO / "var" / "test-artefacts"))
CHARTS = 8


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with demo_server(tmp_path) as running:
        assert "weeks of ticket history" in running.seeded
        enter = next(word for word in running.seeded.split() if "/console/enter?code=" in word)
        yield running.base, "/console/" + enter.split("/console/", 1)[1]


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    with chrome(tmp_path) as driver:
        yield driver


def _charts_drawn(driver) -> bool:  # type: ignore[no-untyped-def]
    drawn = driver.execute_script(
        "return document.getElementById('kpi') && document.getElementById('kpi').getAttribute('data-charts')")
    canvases = driver.execute_script("return document.querySelectorAll('.chart canvas').length")
    return drawn == str(CHARTS) and canvases >= CHARTS


def test_the_dashboard_in_a_browser(server, browser) -> None:
    base, enter = server
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(base + enter)  # signed in as the manager
    wait(lambda: "/console/login" not in browser.current_url and browser.get_cookie(COOKIE))
    token = browser.get_cookie(COOKIE)["value"]
    browser.get(f"{base}/console/dashboard")
    wait(lambda: _charts_drawn(browser))
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
    wait(lambda: _charts_drawn(browser))
    browser.save_screenshot(str(ARTEFACTS / "kpi-dashboard-desktop.png"))

    # Filter: the last week only.
    end = browser.find_element("css selector", "input[name=end]").get_attribute("value")
    browser.execute_script(
        "var s = document.querySelector('input[name=start]'); var d = new Date(arguments[0]);"
        "d.setDate(d.getDate() - 6); s.value = d.toISOString().slice(0, 10);", end)
    browser.find_element("css selector", "#kpi-filter button").click()
    wait(lambda: "start=" in browser.current_url and _charts_drawn(browser))
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
