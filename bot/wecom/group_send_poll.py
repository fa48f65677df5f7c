"""Following WeCom customer-group sends up: did the owner confirm, and did each group get it?

A task waiting for its owner (group_send_task.status 'waiting') is looked at every
GUANJIA_WECOM_GROUP_SEND_POLL_SECONDS by the worker's periodic step:

* get_groupmsg_task (https://developer.work.weixin.qq.com/document/path/93338, 获取群发成员发送任务列表):
  the owner's status, 0 not sent yet, 2 sent;
* once sent, get_groupmsg_send_result (same page, 获取企业群发成员执行结果): per group, 0 not sent,
  1 sent, 2 failed because the customer is not a friend (for a group: the owner no longer has it),
  3 failed because it already received another group send (the per-day limit).

Each group's result is kept on the task and written to its delivery row: 'sent' via 'owner_confirmed'
(sent_at = WeCom's send time), or 'failed' / 'unreachable' with the reason. Not confirmed within
GUANJIA_WECOM_GROUP_SEND_WAIT_HOURS, or by the notice's expiry, the task is stopped (cancel_groupmsg_send,
https://developer.work.weixin.qq.com/document/path/97611) and its groups' rows fail with that reason.
An answer WeCom should not give (errcode, not JSON, fields missing) is logged on the task and looked at
again later; it never fails a row by itself before the task gives up.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register, render
from backend.clock import Clock
from backend.db import transaction
from backend.models import GroupSendTask, Notice, NoticeDelivery
from backend.settings import Settings
from bot.wechat.api import ApiError, PlatformApi
from bot.wecom.customer_groups import CHANNEL, BadAnswer, make_contact_api
from bot.wecom.group_send import VIA_CONFIRMED, VIA_WAITING

log = logging.getLogger("guanjia.wecom.group_send")

TASK_PATH = "/cgi-bin/externalcontact/get_groupmsg_task"
RESULT_PATH = "/cgi-bin/externalcontact/get_groupmsg_send_result"
CANCEL_PATH = "/cgi-bin/externalcontact/cancel_groupmsg_send"
PAGE_LIMIT = 1000
MAX_PAGES = 50
BATCH = 50  # tasks looked at per periodic step
OWNER_SENT = 2  # get_groupmsg_task: 0 not sent, 2 sent
SENT, NOT_FRIEND, OTHER_SEND = 1, 2, 3  # get_groupmsg_send_result

register({
    "wecom_group.not_friend": ("发送失败：群主已不在此群或群已解散（企业微信：客户不是好友）",
                               "not sent: the owner no longer has this group (WeCom: not a friend)"),
    "wecom_group.other_send": ("发送失败：该群今天已收到其他群发（企业微信每个客户群每天 1 条）",
                               "not sent: the group already had a group send today (WeCom allows one a day)"),
    "wecom_group.not_confirmed": ("群主 {hours} 小时内未确认发送，群发任务已停止",
                                  "the group owner did not confirm within {hours} hours; the send was stopped"),
    "wecom_group.notice_expired": ("通知已过期，群主仍未确认发送，群发任务已停止",
                                   "the notice expired before the group owner confirmed; the send was stopped"),
    "wecom_group.not_delivered": ("群主已确认，但企业微信没有发到此群", "the owner confirmed, but WeCom did not deliver it here"),
    "wecom_group.check_failed": ("查询群发结果失败：{error}", "could not read the send result: {error}"),
})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pages(api: PlatformApi, path: str, body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list; BadAnswer when the list is missing or not a list."""
    items: list[dict[str, Any]] = []
    cursor, seen = "", set()
    for _ in range(MAX_PAGES):
        data = api.post(path, {**body, "limit": PAGE_LIMIT, **({"cursor": cursor} if cursor else {})})
        page = data.get(key)
        if not isinstance(page, list):
            raise BadAnswer(f"{path.rsplit('/', 1)[-1]}: no {key}")
        items += [item for item in page if isinstance(item, dict)]
        cursor = data.get("next_cursor") or ""
        if not isinstance(cursor, str) or not cursor or cursor in seen:
            break
        seen.add(cursor)
    return items


def _when(epoch: int | None, fallback: datetime) -> datetime:
    if epoch is None or epoch <= 0:
        return fallback
    try:
        return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return fallback


class GroupSendPoller:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 api: PlatformApi | None = None) -> None:
        self.settings, self.session_factory, self.clock = settings, session_factory, clock
        self.api = api if api is not None else make_contact_api(settings, session_factory, clock)

    def poll_once(self) -> int:
        """Look at the waiting tasks that are due; how many rows got their final result."""
        if self.api is None:
            return 0
        now = self.clock.now()
        with self.session_factory() as session:
            due = list(session.scalars(select(GroupSendTask.id).where(
                GroupSendTask.status == "waiting", GroupSendTask.next_check_at <= now)
                .order_by(GroupSendTask.next_check_at).limit(BATCH)))
        finished = 0
        for task_id in due:
            try:
                finished += self.check(task_id)
            except Exception:  # one task's trouble (the database, a bug) must not stop the others
                log.exception("checking group-send task %s failed", task_id)
        return finished + self.reconcile()

    def reconcile(self) -> int:
        """Rows recorded 'awaiting the owner' just after the poller had finished their task (the engine's
        journal writes a moment after the send): they take the task's result now."""
        finished = 0
        with transaction(self.session_factory) as session:
            late = session.execute(
                select(NoticeDelivery.id, NoticeDelivery.chat_id, GroupSendTask.results)
                .join(GroupSendTask, (GroupSendTask.notice_id == NoticeDelivery.notice_id)
                      & (GroupSendTask.msgid == NoticeDelivery.external_id))
                .where(NoticeDelivery.channel == CHANNEL, NoticeDelivery.status == "sent",
                       NoticeDelivery.via == VIA_WAITING, GroupSendTask.status.in_(("done", "expired")))
                .limit(BATCH * 10)).all()
            for row_id, chat, results in late:
                result = (results or {}).get(chat)
                if not isinstance(result, dict) or result.get("status") not in ("sent", "failed", "unreachable"):
                    continue
                values: dict[str, Any] = {"status": result["status"], "error": str(result.get("error", ""))[:300]}
                if result["status"] == "sent":
                    values["via"] = VIA_CONFIRMED
                session.execute(update(NoticeDelivery).where(NoticeDelivery.id == row_id,
                                                             NoticeDelivery.via == VIA_WAITING).values(**values),
                                execution_options={"synchronize_session": False})
                finished += 1
        return finished

    def check(self, task_id: int) -> int:
        now = self.clock.now()
        with transaction(self.session_factory) as session:  # the turn: two workers never check one task at once
            taken = session.execute(
                update(GroupSendTask).where(GroupSendTask.id == task_id, GroupSendTask.status == "waiting",
                                            GroupSendTask.next_check_at <= now)
                .values(next_check_at=now + timedelta(seconds=self.settings.wecom_group_send_poll_seconds)),
                execution_options={"synchronize_session": False})
            if not taken.rowcount:  # type: ignore[attr-defined]
                return 0
            task = session.get(GroupSendTask, task_id, populate_existing=True)
            notice = session.get(Notice, task.notice_id) if task is not None else None
            if task is None:
                return 0
            session.expunge(task)
            expires_at = notice.expires_at if notice is not None else None
        pending = [c for c in task.chat_ids if c not in (task.results or {})]
        error = ""
        owner_sent = False
        results: dict[str, tuple[str, str, datetime]] = {}
        try:
            owner_sent = self._owner_sent(task)
            if owner_sent:
                results = self._results(task, set(pending), now)
        except (ApiError, BadAnswer, httpx.HTTPError, OSError, ValueError) as exc:
            error = render("wecom_group.check_failed", error=str(exc)[:150] or type(exc).__name__)
            log.warning("group-send task %s: %s", task_id, error)
        still = [c for c in pending if c not in results]
        give_up = ""
        if still and task.give_up_at is not None and task.give_up_at <= now:
            give_up = render("wecom_group.not_delivered") if owner_sent else render(
                "wecom_group.not_confirmed", hours=f"{self.settings.wecom_group_send_wait_hours:g}")
        elif still and not owner_sent and expires_at is not None and expires_at <= now:
            give_up = render("wecom_group.notice_expired")
        if give_up:
            if not owner_sent:
                self._cancel(task)
            if error:
                give_up = f"{give_up}（{error}）"
            results.update({c: ("failed", give_up, now) for c in still})
        return self._record(task, results, error, stopped=bool(give_up), now=now)

    def _owner_sent(self, task: GroupSendTask) -> bool:
        items = _pages(self.api, TASK_PATH, {"msgid": task.msgid}, "task_list")  # type: ignore[arg-type]
        return any(item.get("userid") == task.owner_id and _int(item.get("status")) == OWNER_SENT for item in items)

    def _results(self, task: GroupSendTask, pending: set[str], now: datetime) -> dict[str, tuple[str, str, datetime]]:
        items = _pages(self.api, RESULT_PATH, {"msgid": task.msgid, "userid": task.owner_id},  # type: ignore[arg-type]
                       "send_list")
        out: dict[str, tuple[str, str, datetime]] = {}
        for item in items:
            chat, status = item.get("chat_id"), _int(item.get("status"))
            if not isinstance(chat, str) or chat not in pending or chat in out:
                continue  # a group that is not ours (or not waiting) is no business of this task
            if status == SENT:
                out[chat] = ("sent", "", _when(_int(item.get("send_time")), now))
            elif status == NOT_FRIEND:
                out[chat] = ("unreachable", render("wecom_group.not_friend"), now)
            elif status == OTHER_SEND:
                out[chat] = ("failed", render("wecom_group.other_send"), now)
        return out

    def _cancel(self, task: GroupSendTask) -> None:
        """Stop the task, so the owner cannot send a stale notice later; a refusal changes nothing here."""
        try:
            self.api.post(CANCEL_PATH, {"msgid": task.msgid})  # type: ignore[union-attr]
        except (ApiError, httpx.HTTPError, OSError, ValueError) as exc:
            log.info("could not stop group-send task %s: %s", task.id, exc)

    def _record(self, task: GroupSendTask, results: dict[str, tuple[str, str, datetime]], error: str, *,
                stopped: bool, now: datetime) -> int:
        merged = dict(task.results or {})
        merged.update({chat: {"status": status, "error": reason[:300], "at": at.isoformat()}
                       for chat, (status, reason, at) in results.items()})
        finished = 0
        with transaction(self.session_factory) as session:
            values: dict[str, Any] = {"results": merged, "error": error[:300]}
            if all(c in merged for c in task.chat_ids):
                values["status"] = "expired" if stopped else "done"
            session.execute(update(GroupSendTask).where(GroupSendTask.id == task.id, GroupSendTask.status == "waiting")
                            .values(**values), execution_options={"synchronize_session": False})
            for chat, (status, reason, at) in results.items():
                row = {"status": status, "error": reason[:300]}
                if status == "sent":
                    row.update(via=VIA_CONFIRMED, sent_at=at)
                done = session.execute(
                    update(NoticeDelivery).where(
                        NoticeDelivery.notice_id == task.notice_id, NoticeDelivery.channel == CHANNEL,
                        NoticeDelivery.chat_id == chat, NoticeDelivery.status == "sent",
                        NoticeDelivery.via == VIA_WAITING, NoticeDelivery.external_id == task.msgid)
                    .values(**row), execution_options={"synchronize_session": False})
                finished += int(done.rowcount or 0)  # type: ignore[attr-defined]
        if results:
            log.info("group-send task %s: %d group(s) final", task.id, len(results))
        return finished
