"""The console in a real headless Chromium against a real uvicorn (demo community, temp SQLite, worker on).

The manager's password is set with `guanjia staff password manager` (stdin). In the browser: a wrong
password is refused, then the manager signs in; the board is filtered; a resident reports a leak in the
web chat in another tab and the ticket appears on the board without a reload; the manager accepts it;
edits the plumbing deadline and the next reported ticket carries it; imports a roster with an error, then
a good one; cancels a demo event (a reason, then a confirmation); previews a notice to building 3 (the
audience counted) and sends it (scheduled for the engine).
Screenshots of every page go to var/artefacts/console/. Skipped only where Chromium is missing and CI is
not set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import NEEDS_BROWSER, Tab, chrome, demo_server, wait
from tests.processes import REPO

pytestmark = NEEDS_BROWSER
SHOTS = REPO / "var" / "artefacts" / "console"
PASSWORD = "demo-manager-pw"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    with demo_server(tmp_path, GUANJIA_CONSOLE_POLL_SECONDS="1") as running:
        enter = next(word for word in running.seeded.split() if "/console/enter?code=" in word)  # the demo's link
        running.guanjia("staff", "password", "manager", stdin=PASSWORD + "\n")
        yield running.base, tmp_path, enter.split("/console/", 1)[1]


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    with chrome(tmp_path) as driver:
        yield driver


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_console_in_a_browser(server, browser):
    base, tmp, demo_link = server
    by = "css selector"
    browser.get(f"{base}/console/tickets")
    assert "/console/login" in browser.current_url
    shot(browser, "01-login")
    browser.find_element(by, "input[name=login]").send_keys("manager")
    browser.find_element(by, "input[name=password]").send_keys("wrong-password")
    browser.find_element(by, "#sign-in").click()
    assert "账号或密码不正确" in wait(lambda: browser.find_element(by, "#error").text)
    browser.find_element(by, "input[name=password]").send_keys(PASSWORD)
    browser.find_element(by, "#sign-in").click()
    wait(lambda: browser.current_url.endswith("/console/tickets"))
    assert "manager" in browser.find_element(by, "#who").text
    shot(browser, "02-tickets")
    console = Tab(browser, browser.current_window_handle)

    # filter: open plumbing tickets in building 3 (the demo's history may hold some already)
    browser.get(f"{base}/console/tickets?status=open&category=plumbing&building=3")
    before = {r.get_attribute("data-number") for r in browser.find_elements(by, "#rows tr.ticket")}
    browser.get(f"{base}/console/tickets?status=open&category=plumbing&building=99")
    assert "没有符合条件的工单" in browser.find_element(by, "#rows").text
    browser.get(f"{base}/console/tickets?status=open&category=plumbing&building=3")
    pages_loaded = browser.execute_script("return performance.timeOrigin")

    # a resident reports a leak in the web chat, in another tab
    browser.switch_to.new_window("tab")
    browser.get(f"{base}/chat")
    resident = Tab(browser, browser.current_window_handle)
    resident.become_new_visitor()
    resident.say("你好", "欢迎使用和谐家园")
    resident.say("绑定房屋", "楼栋")
    resident.say("三号楼二单元1502", "手机号")
    resident.say("13900321502", "绑定成功")
    resident.say("厨房水管漏水了", "工单号")

    console.focus()  # the row appears without a reload
    number = wait(lambda: next((r.get_attribute("data-number") for r in browser.find_elements(by, "#rows tr.ticket")
                                if "漏水" in r.text and r.get_attribute("data-number") not in before), None))
    assert browser.execute_script("return performance.timeOrigin") == pages_loaded
    shot(browser, "03-tickets-live")
    browser.find_element(by, "input[name=q]").send_keys("水管")
    browser.find_element(by, "#apply").click()
    wait(lambda: "q=" in browser.current_url and browser.find_elements(by, f'#rows tr[data-number="{number}"]'))
    browser.get(f"{base}/console/tickets/{number}")
    wait(lambda: browser.find_elements(by, "#accept")).__getitem__(0).click()
    wait(lambda: browser.find_elements(by, "#done"))
    assert "已受理" in browser.find_element(by, "#status").text
    assert "接单" in browser.find_element(by, "#done").text
    assert "****" in browser.find_element(by, "#phone").text
    browser.find_element(by, "#reveal").click()
    wait(lambda: not browser.find_elements(by, "#reveal"))
    wait(lambda: browser.find_element(by, "#phone").text == "13900321502")
    shot(browser, "04-ticket")
    resident.wait_for(lambda: any("已受理" in t for t in resident.pushed_texts()))

    # the plumbing deadline: 24 h -> 5 h; the next plumbing ticket is due 5 h after it was made
    console.focus()
    browser.get(f"{base}/console/categories")
    row = browser.find_element(by, 'tr[data-code="plumbing"]')
    field = row.find_element(by, "input[name=resolve_minutes]")
    field.clear()
    field.send_keys("300")
    row.find_element(by, "button.save").click()
    wait(lambda: browser.find_elements(by, "#saved"))
    assert "resolve_minutes: 1440 → 300" in browser.find_element(by, "#audit").text
    shot(browser, "05-categories")
    resident.say("卫生间下水道堵了", "工单号")
    console.focus()
    browser.get(f"{base}/console/tickets?category=plumbing")
    newest = wait(lambda: next((r.get_attribute("data-number") for r in browser.find_elements(by, "#rows tr.ticket")
                                if "下水道" in r.text), None))
    browser.get(f"{base}/console/tickets/{newest}")
    created = browser.find_element(by, "#history td").text  # "MM-DD HH:MM" of the creation
    due = browser.find_element(by, "#resolve-due").text
    hours = (int(due[-5:-3]) - int(created[-5:-3])) % 24
    assert hours in (4, 5), (created, due)  # 300 minutes (a minute boundary may fall between)

    # a roster with an error, then a good one
    bad = tmp / "roster.csv"
    bad.write_text("楼栋,单元,房号,面积,姓名,电话\n7,1,0101,98,张三,13900000001\n7,1,0102,abc,李四,13900000002\n",
                   encoding="utf-8")
    browser.get(f"{base}/console/imports")
    browser.find_element(by, "input[type=file]").send_keys(str(bad))
    browser.find_element(by, "#preview-button").click()
    errors = wait(lambda: browser.find_elements(by, "#errors"))[0]  # a fresh page: the element is new
    assert "line 3" in errors.text
    shot(browser, "06-import-error")
    good = tmp / "roster-good.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("abc", "126"), encoding="utf-8")
    browser.find_element(by, "input[type=file]").send_keys(str(good))
    browser.find_element(by, "#preview-button").click()
    wait(lambda: browser.find_elements(by, "#confirm"))[0].click()
    wait(lambda: browser.find_elements(by, "#done"))
    assert "已导入" in browser.find_element(by, "#done").text
    shot(browser, "07-import-done")

    for page in ("bindings", "faq", "staff", "gate", "events"):
        browser.get(f"{base}/console/{page}")
        assert browser.find_elements(by, "main h1")
        shot(browser, f"08-{page}")
    # cancel a demo event: a reason, then the confirmation step, then it shows as cancelled
    browser.find_element(by, "#events tr.event a").click()
    wait(lambda: browser.find_elements(by, "#cancel-event summary"))[0].click()
    browser.find_element(by, "#cancel-event textarea[name=reason]").send_keys("场地临时维修")
    browser.find_element(by, "#cancel-event-button").click()
    confirm = wait(lambda: browser.find_elements(by, "#confirm-cancel"))[0]
    assert "场地临时维修" in confirm.text and "目前没有人报名" in confirm.text  # the demo's events start empty
    shot(browser, "08-event-cancel-confirm")
    browser.find_element(by, "#confirm-cancel-button").click()
    assert "活动已取消" in wait(lambda: browser.find_elements(by, "#cancelled"))[0].text
    assert not browser.find_elements(by, "#edit-event")
    browser.get(f"{base}/console/audit")
    assert "phone.reveal" in browser.find_element(by, "#audit").text
    shot(browser, "08-audit")

    # a notice to building 3: the preview counts the audience (the form stays filled), then it is sent
    browser.get(f"{base}/console/notices")
    browser.find_element(by, "input[name=title]").send_keys("三号楼电梯维保")
    browser.find_element(by, "textarea[name=body]").send_keys("明天上午9点至11点三号楼电梯维保，请走楼梯。")
    browser.find_element(by, "input[name=targets]").send_keys("3栋")
    browser.find_element(by, "#preview-button").click()
    residents = wait(lambda: browser.find_elements(by, "#preview-residents"))[0].text
    assert int(re.search(r"住户 (\d+) 人", residents).group(1)) >= 1, residents  # the resident bound above, at least
    assert "网页聊天" in browser.find_element(by, "#preview").text  # reachable in the web chat
    assert browser.find_element(by, "input[name=title]").get_attribute("value") == "三号楼电梯维保"
    shot(browser, "08-notices-preview")
    browser.find_element(by, "#send-button").click()
    wait(lambda: browser.find_elements(by, "#sent"))
    newest = browser.find_element(by, "#notices tr.notice")
    assert "三号楼电梯维保" in newest.text and "3栋" in newest.text
    assert any(word in newest.text for word in ("待发送", "准备发送", "发送中", "已发送"))  # the engine may be quick
    notice_id = newest.get_attribute("data-id")
    shot(browser, "08-notices-sent")
    # The resident of 3-2-1502 (building 3) gets it in the web chat, pushed by the broadcast engine.
    resident.wait_for(lambda: any("三号楼电梯维保" in t for t in resident.pushed_texts()))
    console.focus()
    browser.get(f"{base}/console/notices/{notice_id}")
    assert browser.find_elements(by, "#report")
    shot(browser, "08-notice-report")
    browser.set_window_size(1280, 900)
    browser.get(f"{base}/console/tickets")
    shot(browser, "09-tickets-desktop")

    # signed out, the demo's one-time link opens the console as the manager (once)
    browser.find_element(by, "header form button").click()
    wait(lambda: "/console/login" in browser.current_url)
    browser.get(f"{base}/console/{demo_link}")
    wait(lambda: browser.current_url.endswith("/console/tickets"))
    assert "manager" in browser.find_element(by, "#who").text
