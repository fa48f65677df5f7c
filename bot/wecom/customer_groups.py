"""WeCom customer groups (客户群): read them from WeCom and register them as a community's owners' groups.

A customer group is an external group owned by a staff member (its 群主); residents join it with their
ordinary WeChat. The office cannot post into it through an app: a notice reaches it as a 企业群发 task the
owner confirms (bot/wecom/group_send.py), so each registered group remembers its owner's userid.

* groupchat/list: https://developer.work.weixin.qq.com/document/path/92120 (status_filter, owner_filter,
  cursor, limit 1-1000; each item's status: 0 normal, 1 owner left awaiting transfer, 2 transfer under way,
  3 transferred)
* groupchat/get: https://developer.work.weixin.qq.com/document/path/92122 (group_chat: chat_id, name, owner)

Both need the customer-contact (客户联系) secret, or an app listed among that API's 可调用应用
(GUANJIA_WECOM_CONTACT_SECRET, else GUANJIA_WECOM_SECRET).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from backend.models import GroupChat
from backend.settings import Settings
from bot.wechat.api import PlatformApi

CHANNEL = "wecom_customer"
LIST_PATH = "/cgi-bin/externalcontact/groupchat/list"
GET_PATH = "/cgi-bin/externalcontact/groupchat/get"
LIST_LIMIT = 1000  # groupchat/list: at most 1000 a page
OWNER_FILTER_MAX = 100  # owner_filter.userid_list: at most 100 userids a call
MAX_PAGES = 200  # a cursor that never ends is a broken answer, not a reason to loop forever
OWNER_LEFT = (1, 2)  # 离职待继承, 离职继承中


class BadAnswer(Exception):
    """A platform answer without the documented shape (errcode 0, but fields missing or of the wrong type)."""


@dataclass(frozen=True)
class CustomerGroup:
    chat_id: str
    name: str
    owner: str
    status: int = 0  # groupchat/list's status

    @property
    def owner_left(self) -> bool:
        return self.status in OWNER_LEFT


def make_contact_api(settings: Settings, session_factory: sessionmaker[Session], clock: Clock) -> PlatformApi | None:
    """The customer-contact API client, or None when WeCom is not configured.

    With its own secret its token is cached apart from the app's (another secret, another token)."""
    secret = settings.wecom_contact_secret or settings.wecom_secret
    if not (settings.wecom_corp_id and secret):
        return None
    channel = "wecom_contact" if settings.wecom_contact_secret else "wecom"
    return PlatformApi(settings.wecom_api_url, channel, settings.wecom_corp_id, secret, session_factory, clock,
                       enterprise=True)


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _status(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def list_chat_ids(api: PlatformApi, owners: Sequence[str] = ()) -> list[tuple[str, int]]:
    """(chat_id, status) of every customer group, or only those of `owners`; in the platform's order."""
    found: dict[str, int] = {}
    for owner_batch in _batches(list(owners), OWNER_FILTER_MAX) or [[]]:
        cursor, seen = "", set()
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {"status_filter": 0, "limit": LIST_LIMIT}
            if owner_batch:
                body["owner_filter"] = {"userid_list": owner_batch}
            if cursor:
                body["cursor"] = cursor
            data = api.post(LIST_PATH, body)
            items = data.get("group_chat_list")
            if not isinstance(items, list):
                raise BadAnswer("groupchat/list: no group_chat_list")
            for item in items:
                chat_id = item.get("chat_id") if isinstance(item, dict) else None
                if isinstance(chat_id, str) and 0 < len(chat_id) <= 200:
                    found.setdefault(chat_id, _status(item.get("status")))
            cursor = data.get("next_cursor") or ""
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                break
            seen.add(cursor)
    return list(found.items())


def get_group(api: PlatformApi, chat_id: str, status: int = 0) -> CustomerGroup:
    data = api.post(GET_PATH, {"chat_id": chat_id})
    info = data.get("group_chat")
    if not isinstance(info, dict) or not isinstance(info.get("owner"), str) or not info["owner"]:
        raise BadAnswer(f"groupchat/get {chat_id[:40]}: no group_chat.owner")
    name = info.get("name")
    return CustomerGroup(chat_id, (name if isinstance(name, str) else "")[:200], info["owner"][:64], status)


def fetch(api: PlatformApi, owners: Sequence[str] = (), chat_ids: Iterable[str] = (),
          name_contains: str = "") -> list[CustomerGroup]:
    """The customer groups (of `owners`, or these `chat_ids`, whose name contains `name_contains`) with their
    names and owners."""
    wanted = set(chat_ids)
    listed = list_chat_ids(api, owners)
    groups = []
    for chat_id, status in listed:
        if wanted and chat_id not in wanted:
            continue
        group = get_group(api, chat_id, status)
        if name_contains in group.name:
            groups.append(group)
    return groups


@dataclass
class Registration:
    added: list[CustomerGroup] = field(default_factory=list)
    updated: list[CustomerGroup] = field(default_factory=list)
    elsewhere: list[CustomerGroup] = field(default_factory=list)  # registered to another community: left alone


def registered(session: Session, community_id: int) -> dict[str, GroupChat]:
    return {g.chat_id: g for g in session.scalars(select(GroupChat).where(
        GroupChat.community_id == community_id, GroupChat.channel == CHANNEL))}


def register(session: Session, community_id: int, groups: Iterable[CustomerGroup], now: datetime) -> Registration:
    """Record the groups as the community's owners' groups (channel 'wecom_customer'), with their names and
    owners; a group already registered here is refreshed (a new owner after a transfer, a new name)."""
    result = Registration()
    for group in groups:
        row = session.scalar(select(GroupChat).where(GroupChat.channel == CHANNEL, GroupChat.chat_id == group.chat_id))
        if row is not None and row.community_id != community_id:
            result.elsewhere.append(group)
            continue
        if row is None:
            row = GroupChat(community_id=community_id, channel=CHANNEL, chat_id=group.chat_id, created_at=now)
            session.add(row)
            result.added.append(group)
        else:
            result.updated.append(group)
        row.purpose, row.department, row.title, row.owner_id, row.active = "owners", None, group.name, group.owner, True
    return result
