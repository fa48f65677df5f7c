"""Notices to WeCom customer groups (客户群): one 企业群发 task per group owner, confirmed by the owner.

The broadcast engine hands this sender one delivery row at a time (channel 'wecom_customer', one row per
registered owners' group). WeCom takes a group send only as a task for the group's owner
(externalcontact/add_msg_template, chat_type "group", sender = the owner, chat_id_list = the groups;
https://developer.work.weixin.qq.com/document/path/92135): nothing reaches the group until the owner
confirms it in the WeCom client. So:

* the first row of an owner makes one task for all of that owner's groups in the notice that are still
  open (at most 2000 a task), with the notice's text (cut to 4000 bytes) and its image (media/upload,
  https://developer.work.weixin.qq.com/document/path/90253); the task row (group_send_task) is inserted
  before the platform call and is the claim: another row, worker or process finds it and waits for it, or
  shares its msgid, instead of making a second task;
* every row of the task is then recorded as an ordinary final outcome: status 'sent' with
  via 'owner_confirm' and the task's msgid as external_id ("待群主确认"). The poller
  (bot/wecom/group_send_poll.py) later turns each into confirmed (via 'owner_confirmed'), failed or
  unreachable with WeCom's reason;
* a customer group takes one group send a day (WECOM_GROUP_SEND_PER_GROUP_PER_DAY, counted per local
  day in channel_quota): a group that already had one today is left out of the task and its row fails
  with that reason, never silently;
* WeCom's refusals are clean outcomes: busy and network errors are retried; an owner WeCom does not know
  (left the company) is 'unreachable'; anything else, including an answer without a msgid or one that is
  not JSON, is 'failed' with what WeCom said.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.catalogue import register, render
from backend.clock import Clock
from backend.db import transaction
from backend.models import GroupChat, GroupSendTask, NoticeDelivery
from backend.services.notices import image_kind
from backend.settings import Settings
from bot.delivery.broadcast_rows import Outcome, Row
from bot.telegram.outbound import media_file
from bot.wechat import quota
from bot.wechat.api import ApiError, PlatformApi
from bot.wechat.limits import (
    BUSY_ERRCODES,
    TOKEN_ERRCODES,
    WECOM_GROUP_SEND_MAX_CHATS,
    WECOM_GROUP_SEND_PER_GROUP_PER_DAY,
    WECOM_GROUP_SEND_TEXT_MAX_BYTES,
    WECOM_IMAGE_MAX_BYTES,
)
from bot.wecom.customer_groups import CHANNEL, make_contact_api
from handlers.messages import Outbound

log = logging.getLogger("guanjia.wecom.group_send")

ADD_PATH = "/cgi-bin/externalcontact/add_msg_template"
UPLOAD_PATH = "/cgi-bin/media/upload"
VIA_WAITING = "owner_confirm"  # the task exists; the owner has not sent it yet
VIA_CONFIRMED = "owner_confirmed"  # the owner sent it and WeCom says the group got it
QUOTA_WINDOW = "day"
CREATE_LEASE_SECONDS = 60.0  # a task 'creating' longer than this was left by a dead worker: taken over
WAIT_FOR_CREATOR_SECONDS = 3.0  # another row is creating this owner's task: look again then
RETRY_SECONDS = 30.0
MEDIA_KEEP_SECONDS = 2.5 * 24 * 3600  # a temporary media_id lives 3 days
LOCK_STRIPES = 64
OWNER_GONE_ERRCODES = frozenset({40003, 60111})  # invalid userid / userid not found (the owner left)
NO_PERMISSION_ERRCODES = frozenset({48002, 60011})  # API forbidden / no privilege (the secret lacks 客户联系)
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg"}  # media/upload type=image takes JPG and PNG

register({
    "wecom_group.truncated": ("……（全文较长，请向物业管家询问“最近有什么通知”查看全文）",
                              "... (the full text is longer: ask the assistant for recent notices)"),
    "wecom_group.no_owner": ("未登记群主，请运行 guanjia wechat wecom-owner-groups --register 重新同步",
                             "no group owner on record: sync the groups again (guanjia wechat wecom-owner-groups)"),
    "wecom_group.day_limit": (
        "该客户群今天已有一条企业群发（企业微信每个客户群每天 1 条），本通知今天不能再发到此群",
        "this customer group already had a group send today (WeCom allows one a day); not sent to it"),
    "wecom_group.creating": ("同一群主的群发任务正在创建，稍后再看", "the owner's group-send task is being created"),
    "wecom_group.owner_gone": (
        "群主 {owner} 已不在企业微信（离职？）：请在企业微信后台分配新群主后重新同步客户群",
        "the group owner {owner} is no longer in WeCom (left?): transfer the group and sync again"),
    "wecom_group.no_permission": (
        "应用没有客户联系权限（errcode {code}）：请设置 GUANJIA_WECOM_CONTACT_SECRET（客户联系 secret）",
        "no customer-contact permission (errcode {code}): set GUANJIA_WECOM_CONTACT_SECRET"),
    "wecom_group.refused_chat": ("企业微信不接受此群（无效或无法发送）", "WeCom refused this group (invalid or not sendable)"),
    "wecom_group.platform_error": ("企业微信拒绝群发：errcode {code} {message}", "WeCom refused the send: errcode {code} {message}"),
    "wecom_group.bad_answer": ("企业微信的应答无法识别（{what}），未能创建群发任务",
                               "WeCom's answer was not understood ({what}); no group-send task"),
})


@dataclass(frozen=True)
class Plan:
    """A task row this worker claimed: make the platform call for it."""

    task_id: int
    owner: str
    chats: list[str]


class _Busy(Exception):
    """Another worker inserted the same task part at the same moment: this transaction is rolled back."""


def local_day_end(now: datetime, tz: str) -> datetime:
    """The end of `now`'s local day, as naive UTC (WeCom counts a group's sends per natural day)."""
    zone = ZoneInfo(tz)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def group_text(message: Outbound) -> str:
    """The notice as the group send's text: at most 4000 bytes, cut at a line end with a note saying so."""
    text = message.text.strip()
    if len(text.encode()) <= WECOM_GROUP_SEND_TEXT_MAX_BYTES:
        return text
    note = "\n" + render("wecom_group.truncated")
    room = WECOM_GROUP_SEND_TEXT_MAX_BYTES - len(note.encode())
    head = text.encode()[:room].decode("utf-8", "ignore")
    cut = head.rfind("\n", len(head) // 2)
    return (head[:cut] if cut > 0 else head).rstrip() + note


def outcome_for(row: Row, task: GroupSendTask) -> Outcome:
    """A row whose group is in this task: its final result if the poller has one, else awaiting the owner."""
    result = (task.results or {}).get(row.chat_id)
    if isinstance(result, dict) and result.get("status") in ("sent", "failed", "unreachable"):
        if result["status"] == "sent":
            return Outcome(row, "sent", external_id=task.msgid, via=VIA_CONFIRMED)
        return Outcome(row, str(result["status"]), error=str(result.get("error", ""))[:300])
    return Outcome(row, "sent", external_id=task.msgid, via=VIA_WAITING)


class GroupSendBroadcast:
    """The broadcast engine's sender for channel 'wecom_customer'."""

    channel = CHANNEL

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], clock: Clock,
                 api: PlatformApi) -> None:
        self.settings, self.session_factory, self.clock, self.api = settings, session_factory, clock, api
        # Rows of one owner arrive together: in this process they take turns (striped by notice and owner), so
        # the second finds the task the first made instead of waiting for it in the queue.
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._media: dict[tuple[int, str], tuple[str, float]] = {}

    def reserve(self, row: Row, ahead: float = 0.0) -> float:
        return 0.0  # one task per owner, not one call per group: nothing to pace

    async def send(self, row: Row, message: Outbound) -> Outcome:
        try:
            return await asyncio.to_thread(self.deliver, row, message)
        except Exception as exc:  # a database hiccup or a bug: retried, never a crash of the round
            log.exception("wecom group send for row %s failed", row.id)
            return Outcome(row, "retry", retry_after=RETRY_SECONDS, error=f"wecom group send: {type(exc).__name__}")

    async def aclose(self) -> None:
        return None

    # ---- one row ------------------------------------------------------------------------------------

    def deliver(self, row: Row, message: Outbound) -> Outcome:
        with self.session_factory() as session:
            group = session.get(GroupChat, row.group_id) if row.group_id is not None else None
            owner = group.owner_id if group is not None else ""
        if not owner:
            return Outcome(row, "unreachable", error=render("wecom_group.no_owner"))
        with self._stripes[hash((row.notice_id, owner)) % LOCK_STRIPES]:
            try:
                with transaction(self.session_factory) as session:
                    plan = self._plan(session, row, owner)
            except _Busy:
                return Outcome(row, "unmark", retry_after=WAIT_FOR_CREATOR_SECONDS, error=render("wecom_group.creating"))
            if isinstance(plan, Outcome):
                return plan
            return self._create(row, plan, message)

    def _plan(self, session: Session, row: Row, owner: str) -> Plan | Outcome:
        now = self.clock.now()
        tasks = list(session.scalars(select(GroupSendTask).where(
            GroupSendTask.notice_id == row.notice_id, GroupSendTask.owner_id == owner).order_by(GroupSendTask.part)))
        for task in tasks:
            if row.chat_id in task.chat_ids:
                return self._covered(session, row, task, now)
        if not self._take_day(session, row.chat_id, now):
            # Another process may have just taken this group's day for a task of this very notice (its
            # commit is what the quota waited for): a fresh look finds that task.
            for task in session.scalars(select(GroupSendTask).where(
                    GroupSendTask.notice_id == row.notice_id, GroupSendTask.owner_id == owner)
                    .execution_options(populate_existing=True)):
                if row.chat_id in task.chat_ids:
                    return self._covered(session, row, task, now)
            return Outcome(row, "failed", error=render("wecom_group.day_limit"))
        covered = {chat for task in tasks for chat in task.chat_ids}
        chats = [row.chat_id]
        others = session.scalars(
            select(NoticeDelivery.chat_id).join(GroupChat, GroupChat.id == NoticeDelivery.group_id)
            .where(NoticeDelivery.notice_id == row.notice_id, NoticeDelivery.channel == CHANNEL,
                   NoticeDelivery.status.in_(("queued", "sending")), NoticeDelivery.chat_id != row.chat_id,
                   GroupChat.owner_id == owner)
            .order_by(NoticeDelivery.id))
        for chat in others:
            if len(chats) >= WECOM_GROUP_SEND_MAX_CHATS:
                break
            if chat not in covered and self._take_day(session, chat, now):
                chats.append(chat)
        task = GroupSendTask(notice_id=row.notice_id, channel=CHANNEL, owner_id=owner,
                             part=max((t.part for t in tasks), default=-1) + 1, status="creating", chat_ids=chats,
                             results={}, claimed_until=now + timedelta(seconds=CREATE_LEASE_SECONDS), created_at=now)
        session.add(task)
        try:
            session.flush()
        except IntegrityError as exc:
            raise _Busy from exc
        return Plan(task.id, owner, chats)

    def _covered(self, session: Session, row: Row, task: GroupSendTask, now: datetime) -> Plan | Outcome:
        if task.status != "creating":
            return outcome_for(row, task)
        if task.claimed_until is not None and task.claimed_until > now:
            return Outcome(row, "unmark", retry_after=WAIT_FOR_CREATOR_SECONDS, error=render("wecom_group.creating"))
        # Left 'creating' by a worker that died: its platform call may or may not have gone out (in doubt).
        taken = session.execute(
            update(GroupSendTask).where(GroupSendTask.id == task.id, GroupSendTask.status == "creating",
                                        GroupSendTask.claimed_until == task.claimed_until)
            .values(claimed_until=now + timedelta(seconds=CREATE_LEASE_SECONDS)),
            execution_options={"synchronize_session": False})
        if not taken.rowcount:  # type: ignore[attr-defined]
            return Outcome(row, "unmark", retry_after=WAIT_FOR_CREATOR_SECONDS, error=render("wecom_group.creating"))
        log.warning("taking over group-send task %s of notice %s (its worker died)", task.id, task.notice_id)
        return Plan(task.id, task.owner_id, list(task.chat_ids))

    def _take_day(self, session: Session, chat_id: str, now: datetime) -> bool:
        seconds = max(int((local_day_end(now, self.settings.timezone) - now).total_seconds()), 1)
        return not quota.take_rate(session, CHANNEL, chat_id, QUOTA_WINDOW, WECOM_GROUP_SEND_PER_GROUP_PER_DAY,
                                   seconds, now)

    # ---- the platform call ----------------------------------------------------------------------------

    def _create(self, row: Row, plan: Plan, message: Outbound) -> Outcome:
        body: dict[str, Any] = {"chat_type": "group", "sender": plan.owner, "chat_id_list": plan.chats,
                                "allow_select": False, "text": {"content": group_text(message)}}
        try:
            media_id = self._image(row.notice_id, message)
        except ApiError as err:
            if err.errcode in BUSY_ERRCODES:
                return self._release(row, plan, f"{UPLOAD_PATH} {err.errcode}")
            log.warning("notice %s: WeCom refused its image (%s); text only", row.notice_id, err.errcode)
            media_id = ""
        except (httpx.HTTPError, OSError) as exc:
            return self._release(row, plan, f"{UPLOAD_PATH} {type(exc).__name__}")
        except ValueError:
            log.warning("notice %s: WeCom's media/upload answer was not understood; text only", row.notice_id)
            media_id = ""
        if media_id:
            body["attachments"] = [{"msgtype": "image", "image": {"media_id": media_id}}]
        try:
            data = self.api.post(ADD_PATH, body)
        except ApiError as err:
            if err.errcode in BUSY_ERRCODES:
                return self._release(row, plan, f"{ADD_PATH} {err.errcode}")
            if err.errcode in OWNER_GONE_ERRCODES:
                return self._refuse(row, plan, "unreachable", render("wecom_group.owner_gone", owner=plan.owner))
            if err.errcode in NO_PERMISSION_ERRCODES:
                return self._refuse(row, plan, "failed", render("wecom_group.no_permission", code=err.errcode))
            return self._refuse(row, plan, "failed", render("wecom_group.platform_error", code=err.errcode,
                                                            message=err.errmsg[:100]))
        except (httpx.HTTPError, OSError) as exc:
            return self._release(row, plan, f"{ADD_PATH} {type(exc).__name__}")
        except ValueError:  # a body that is not JSON (or an errcode that is not a number)
            return self._refuse(row, plan, "failed", render("wecom_group.bad_answer", what="malformed"))
        msgid = data.get("msgid")
        if not isinstance(msgid, str) or not msgid.strip() or len(msgid) > 100:
            return self._refuse(row, plan, "failed", render("wecom_group.bad_answer", what="no msgid"))
        fail_list = data.get("fail_list")
        refused = {c for c in fail_list if isinstance(c, str)} & set(plan.chats) if isinstance(fail_list, list) else set()
        return self._created(row, plan, msgid, refused)

    def _created(self, row: Row, plan: Plan, msgid: str, refused: set[str]) -> Outcome:
        now = self.clock.now()
        error = render("wecom_group.refused_chat")
        results = {chat: {"status": "unreachable", "error": error, "at": now.isoformat()} for chat in refused}
        with transaction(self.session_factory) as session:
            session.execute(update(GroupSendTask).where(GroupSendTask.id == plan.task_id).values(
                status="waiting" if len(refused) < len(plan.chats) else "done", msgid=msgid, results=results,
                claimed_until=None, next_check_at=now + timedelta(seconds=self.settings.wecom_group_send_poll_seconds),
                give_up_at=now + timedelta(hours=self.settings.wecom_group_send_wait_hours)))
            for chat in refused:
                quota.give_back(session, CHANNEL, chat, QUOTA_WINDOW, now)
            task = session.get(GroupSendTask, plan.task_id, populate_existing=True)
            assert task is not None
            log.info("group-send task %s for %d group(s) of %s: msgid %s", plan.task_id, len(plan.chats), plan.owner,
                     msgid)
            return outcome_for(row, task)

    def _release(self, row: Row, plan: Plan, error: str) -> Outcome:
        """A passing failure: the claim goes (the next row plans again) and the groups' day is given back."""
        now = self.clock.now()
        with transaction(self.session_factory) as session:
            session.execute(delete(GroupSendTask).where(GroupSendTask.id == plan.task_id,
                                                        GroupSendTask.status == "creating"))
            for chat in plan.chats:
                quota.give_back(session, CHANNEL, chat, QUOTA_WINDOW, now)
        return Outcome(row, "retry", retry_after=RETRY_SECONDS, error=error[:300])

    def _refuse(self, row: Row, plan: Plan, status: str, error: str) -> Outcome:
        """WeCom refused the task for good: every group of it gets the reason (rows recorded later too)."""
        now = self.clock.now()
        log.warning("group-send task %s refused: %s", plan.task_id, error)
        results = {chat: {"status": status, "error": error[:300], "at": now.isoformat()} for chat in plan.chats}
        with transaction(self.session_factory) as session:
            session.execute(update(GroupSendTask).where(GroupSendTask.id == plan.task_id).values(
                status="refused", error=error[:300], results=results, claimed_until=None))
            for chat in plan.chats:
                quota.give_back(session, CHANNEL, chat, QUOTA_WINDOW, now)
        return Outcome(row, status, error=error[:300])

    # ---- the notice's image ----------------------------------------------------------------------------

    def _image(self, notice_id: int, message: Outbound) -> str:
        """The notice's image as a temporary media_id (uploaded once per notice and process), or ''."""
        if not message.image_url:
            return ""
        key = (notice_id, message.image_url)
        cached = self._media.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        path = media_file(message.image_url, self.settings.media_dir)
        data = path.read_bytes() if path is not None else b""
        kind = image_kind(data) if data else None
        if kind not in IMAGE_TYPES or len(data) > WECOM_IMAGE_MAX_BYTES:
            log.info("notice %s: image not sendable to WeCom (%s); text only", notice_id, kind or "missing")
            return ""
        media_id = upload_image(self.api, data, f"notice-{notice_id}.{kind}", IMAGE_TYPES[str(kind)])
        if len(self._media) > 100:
            self._media.clear()
        self._media[key] = (media_id, time.monotonic() + MEDIA_KEEP_SECONDS)
        return media_id


def upload_image(api: PlatformApi, data: bytes, filename: str, content_type: str) -> str:
    """media/upload?type=image (multipart field `media`): the media_id. An expired token is refreshed once."""
    token = api.tokens.get()
    for attempt in (1, 2):
        response = api.http.post(f"{api.base_url}{UPLOAD_PATH}", params={"access_token": token, "type": "image"},
                                 files={"media": (filename, data, content_type)})
        response.raise_for_status()
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("media/upload: not a JSON object")
        code = int(answer.get("errcode") or 0)
        if code in TOKEN_ERRCODES and attempt == 1:
            token = api.tokens.get(rejected=token)
            continue
        if code:
            raise ApiError(code, str(answer.get("errmsg", "")))
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise ValueError("media/upload: no media_id")
        return media_id
    raise AssertionError("unreachable")


def factory(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> GroupSendBroadcast | None:
    """The sender when WeCom's corp id and a secret with customer-contact rights are set."""
    api = make_contact_api(settings, session_factory, clock)
    return None if api is None else GroupSendBroadcast(settings, session_factory, clock, api)
