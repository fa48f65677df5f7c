"""The customer-contact (客户联系) part of the fake WeCom: customer groups and 企业群发 tasks, in WeCom's JSON.

Served by tests/wechat/fake_wechat_api.py under /cgi-bin/externalcontact/ (and /cgi-bin/media/upload):
groupchat/list and groupchat/get, add_msg_template (chat_type "group"), get_groupmsg_task,
get_groupmsg_send_result, cancel_groupmsg_send, as documented at
https://developer.work.weixin.qq.com/document/path/92120, /92122, /92135, /93338, /97611.

What a person does in the WeCom client is a method here: `confirm(msgid, when)` is the group owner
tapping "send" on a task, with WeCom's rules applied then: a group that already received a group send
that day gets status 3, one the owner no longer has (`not_friend`) status 2, the others status 1.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_CHATS = 2000
TEXT_MAX_BYTES = 4000


@dataclass
class FakeGroup:
    chat_id: str
    name: str
    owner: str
    status: int = 0  # groupchat/list: 0 normal, 1 owner left awaiting transfer, ...


@dataclass
class FakeTask:
    msgid: str
    sender: str
    chat_ids: list[str]
    text: str
    attachments: list[dict[str, Any]]
    allow_select: bool
    send_time: int | None = None  # when the owner confirmed (epoch seconds)
    results: dict[str, int] = field(default_factory=dict)  # chat -> 1 sent, 2 not a friend, 3 already had one
    cancelled: bool = False


@dataclass
class FakeContact:
    groups: dict[str, FakeGroup] = field(default_factory=dict)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media_id -> (filename, bytes)
    received: dict[str, set[str]] = field(default_factory=dict)  # chat -> days (YYYY-MM-DD, UTC+8) with a send
    not_friend: set[str] = field(default_factory=set)  # groups the owner no longer has: status 2
    departed: set[str] = field(default_factory=set)  # userids that left the company: 60111
    page_size: int = 1000  # groupchat/list items per page (smaller to exercise the cursor)

    def add_group(self, chat_id: str, name: str, owner: str, status: int = 0) -> FakeGroup:
        group = self.groups[chat_id] = FakeGroup(chat_id, name, owner, status)
        return group

    def tasks_of(self, sender: str) -> list[FakeTask]:
        return [t for t in self.tasks.values() if t.sender == sender]

    def confirm(self, msgid: str, when: datetime) -> None:
        """The owner sends the task from the WeCom client at `when` (naive UTC)."""
        task = self.tasks[msgid]
        if task.cancelled or task.send_time is not None:
            return
        epoch = int(when.replace(tzinfo=UTC).timestamp())
        day = datetime.fromtimestamp(epoch + 8 * 3600, UTC).strftime("%Y-%m-%d")
        task.send_time = epoch
        for chat in task.chat_ids:
            if chat in self.not_friend:
                task.results[chat] = 2
            elif day in self.received.get(chat, set()):
                task.results[chat] = 3
            else:
                task.results[chat] = 1
                self.received.setdefault(chat, set()).add(day)

    # ---- the endpoints ------------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str], body: Any, raw: bytes, content_type: str) -> dict[str, Any]:
        name = path.rsplit("/", 1)[-1]
        if path == "/cgi-bin/media/upload":
            return self._upload(query, raw, content_type)
        if not isinstance(body, dict):
            return _error(47001, "data format error")
        handler = {"list": self._list, "get": self._get, "add_msg_template": self._add,
                   "get_groupmsg_task": self._task, "get_groupmsg_send_result": self._result,
                   "cancel_groupmsg_send": self._cancel}.get(name)
        return handler(body) if handler else _error(40058, f"unknown fake path {path}")

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = body.get("limit")
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return _error(40058, "invalid limit")
        owners = (body.get("owner_filter") or {}).get("userid_list") or []
        if len(owners) > 100:
            return _error(40058, "userid_list too long")
        chats = [g for g in self.groups.values() if not owners or g.owner in owners]
        start = int(body.get("cursor") or 0)
        page = chats[start:start + min(limit, self.page_size)]
        nxt = start + len(page)
        return {"errcode": 0, "errmsg": "ok", "group_chat_list": [{"chat_id": g.chat_id, "status": g.status}
                                                                   for g in page],
                "next_cursor": str(nxt) if nxt < len(chats) else ""}

    def _get(self, body: dict[str, Any]) -> dict[str, Any]:
        group = self.groups.get(str(body.get("chat_id")))
        if group is None:
            return _error(40050, "invalid chatid")
        return {"errcode": 0, "errmsg": "ok", "group_chat": {
            "chat_id": group.chat_id, "name": group.name, "owner": group.owner, "create_time": 1572505490,
            "notice": "", "member_list": [{"userid": group.owner, "type": 1, "join_time": 1572505491}],
            "admin_list": []}}

    def _add(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("chat_type") != "group":
            return _error(40058, "this fake only knows chat_type group")
        sender = body.get("sender")
        if not isinstance(sender, str) or not sender:
            return _error(40058, "sender is required for chat_type group")
        if sender in self.departed:
            return _error(60111, "userid not found")
        chats = body.get("chat_id_list") or []
        if not isinstance(chats, list) or len(chats) > MAX_CHATS:
            return _error(40058, "invalid chat_id_list")
        content = ((body.get("text") or {}).get("content") or "")
        if len(content.encode()) > TEXT_MAX_BYTES:
            return _error(45002, "content size out of limit")
        attachments = body.get("attachments") or []
        for item in attachments:
            if item.get("msgtype") == "image" and (item.get("image") or {}).get("media_id") not in self.media:
                return _error(40007, "invalid media_id")
        mine = [c for c in chats if c in self.groups and self.groups[c].owner == sender]
        fail = [c for c in chats if c not in mine]
        msgid = f"msgGROUP{len(self.tasks) + 1:04d}"
        self.tasks[msgid] = FakeTask(msgid, sender, mine, content, attachments, bool(body.get("allow_select")))
        return {"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": msgid}

    def _found(self, body: dict[str, Any]) -> FakeTask | None:
        return self.tasks.get(str(body.get("msgid")))

    def _task(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._found(body)
        if task is None:
            return _error(40058, "invalid msgid")
        item: dict[str, Any] = {"userid": task.sender, "status": 2 if task.send_time is not None else 0}
        if task.send_time is not None:
            item["send_time"] = task.send_time
        return {"errcode": 0, "errmsg": "ok", "next_cursor": "", "task_list": [item]}

    def _result(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._found(body)
        if task is None or body.get("userid") != task.sender:
            return _error(40058, "invalid msgid or userid")
        items = []
        for chat in task.chat_ids:
            status = task.results.get(chat, 0)
            item: dict[str, Any] = {"chat_id": chat, "userid": task.sender, "status": status}
            if status == 1:
                item["send_time"] = task.send_time
            items.append(item)
        return {"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": items}

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._found(body)
        if task is None:
            return _error(40058, "invalid msgid")
        task.cancelled = True
        return {"errcode": 0, "errmsg": "ok"}

    def _upload(self, query: dict[str, str], raw: bytes, content_type: str) -> dict[str, Any]:
        if query.get("type") != "image":
            return _error(40004, "invalid media type")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "media":
                data = part.get_payload(decode=True) or b""
                if not data:
                    return _error(40005, "invalid file type")
                media_id = f"MEDIA{len(self.media) + 1:03d}"
                self.media[media_id] = (part.get_filename() or "", data)
                return {"errcode": 0, "errmsg": "", "type": "image", "media_id": media_id, "created_at": "1380000000"}
        return _error(41005, "media data missing")


def _error(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}
