"""The /chat page in a real headless Chromium against a real uvicorn (demo mode, temp SQLite, worker thread on).

A technician's tab and a new visitor's tab: the visitor types, sees replies, binds a home and reports a
repair; the task card appears in the technician's tab without a reload, the technician clicks 接单, and
已受理 appears in the resident's tab without a reload. The technician's tab then switches to customer
service (staff:cs1, whose page was never open): the card telling cs1 they own the ticket is waiting, and
the switcher showed it as unread before. The bound demo resident in arrears sees what is owed. Skipped
only where Chromium is missing and CI is not set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import NEEDS_BROWSER, Tab, chrome, demo_server

pytestmark = NEEDS_BROWSER


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with demo_server(tmp_path) as running:
        yield running.base


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    with chrome(tmp_path) as driver:
        yield driver


def test_chat_page_replies_buttons_and_pushes_without_reload(server, browser):
    browser.get(f"{server}/chat")
    tech = Tab(browser, browser.current_window_handle)
    assert "管家" in browser.title
    tech.become("staff:tech1")
    tech.say("你好", "我的任务")  # its chat exists from the start: a staff menu, no welcome

    browser.switch_to.new_window("tab")
    browser.get(f"{server}/chat")
    resident = Tab(browser, browser.current_window_handle)
    resident.wait_for(lambda: browser.find_element("id", "user").get_attribute("value") == "staff:tech1")
    visitor = resident.become_new_visitor()
    assert resident.become_new_visitor() != visitor  # each time a new person
    resident.say("你好", "欢迎使用和谐家园")
    menu = browser.find_elements("css selector", ".msg.bot .buttons button")
    assert any("报修" in b.text for b in menu)
    next(b for b in menu if "绑定" in b.text).click()  # a button sends its payload
    resident.wait_for(lambda: any("楼栋" in t for t in resident.bot_texts()[-2:]))
    resident.say("三号楼二单元1502", "手机号")
    resident.say("13900321502", "绑定成功")
    resident.say("厨房水管漏水了", "工单号")

    # the worker thread pushes the task card to the technician's open page
    card_text = tech.wait_for(lambda: next((t for t in tech.pushed_texts() if "3-2-1502" in t), None))
    assert "水管" in card_text
    accept = tech.wait_for(lambda: next((b for b in browser.find_elements("css selector", ".msg.pushed button")
                                         if "接单" in b.text), None))
    accept.click()
    tech.wait_for(lambda: any("已接单" in t for t in tech.bot_texts()))

    pushed = resident.wait_for(lambda: next((t for t in resident.pushed_texts() if "已受理" in t), None))
    assert "吴涛" in pushed
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1  # no reload

    # customer service never opened the page, yet its chat exists: the owner's card was pushed and waits
    cs1 = tech.pick('[data-user="staff:cs1"]')
    assert tech.wait_for(lambda: cs1.find_element("css selector", ".badge").text)  # shown as unread meanwhile
    tech.become("staff:cs1")
    owned = tech.wait_for(lambda: next((t for t in tech.pushed_texts() if "首问负责人" in t), None))
    assert "3-2-1502" in owned and "水管" in owned
    assert any("接单" in b.text for b in browser.find_elements("css selector", ".msg.pushed button"))
    assert not cs1.find_element("css selector", ".badge").text

    resident.become("resident:6-1-0801")  # a bound demo resident in arrears
    assert "823.20" in resident.say("物业费还欠多少", "823.20")
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
