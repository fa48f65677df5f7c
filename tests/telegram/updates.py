"""Real Update JSON, as Telegram sends it, for the messages and button presses the tests need."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.telegram.fake_bot_api import BOT_ID, BOT_USER, BOT_USERNAME

_ids = itertools.count(500_000)
_message_ids = itertools.count(1)


def user(user_id: int, first_name: str = "住户", username: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
    if username:
        out["username"] = username
    return out


def private_chat(who: dict[str, Any]) -> dict[str, Any]:
    return {"id": who["id"], "type": "private", "first_name": who["first_name"]}


def group_chat(chat_id: int, title: str = "工程部工作群") -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def _message(chat: dict[str, Any], who: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"message_id": next(_message_ids), "date": int(time.time()), "chat": chat, "from": who, **fields}


def _commands(text: str) -> list[dict[str, Any]]:
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])})
    mention = f"@{BOT_USERNAME}"
    if mention in text and not text.startswith("/"):
        entities.append({"type": "mention", "offset": text.index(mention), "length": len(mention)})
    return entities


def _text_fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"text": text}
    if entities := _commands(text):
        fields["entities"] = entities
    return fields


def update(**body: Any) -> dict[str, Any]:
    return {"update_id": body.pop("update_id", None) or next(_ids), **body}


def text(who: dict[str, Any], words: str, *, chat: dict[str, Any] | None = None, update_id: int | None = None,
         reply_to_bot: bool = False) -> dict[str, Any]:
    fields = _text_fields(words)
    if reply_to_bot:
        fields["reply_to_message"] = _message(chat or private_chat(who), BOT_USER, text="请问有什么可以帮您？")
    return update(update_id=update_id, message=_message(chat or private_chat(who), who, **fields))


def photo(who: dict[str, Any], file_id: str, caption: str = "") -> dict[str, Any]:
    sizes = [{"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-us", "width": 90, "height": 90,
              "file_size": 1000},
             {"file_id": file_id, "file_unique_id": f"uniq-{file_id}", "width": 1280, "height": 960,
              "file_size": 20000}]
    fields: dict[str, Any] = {"photo": sizes}
    if caption:
        fields["caption"] = caption
    return update(message=_message(private_chat(who), who, **fields))


def location(who: dict[str, Any], latitude: float, longitude: float) -> dict[str, Any]:
    return update(message=_message(private_chat(who), who, location={"latitude": latitude, "longitude": longitude}))


def voice(who: dict[str, Any]) -> dict[str, Any]:
    return update(message=_message(private_chat(who), who, voice={
        "file_id": "voice-1", "file_unique_id": "uv1", "duration": 3, "mime_type": "audio/ogg", "file_size": 4000}))


def edited(who: dict[str, Any], words: str) -> dict[str, Any]:
    message = _message(private_chat(who), who, edit_date=int(time.time()), **_text_fields(words))
    return update(edited_message=message)


def press(who: dict[str, Any], data: str, *, chat: dict[str, Any], message_id: int, card_text: str = "工单",
          update_id: int | None = None) -> dict[str, Any]:
    message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT_USER, "text": card_text}
    return update(update_id=update_id, callback_query={
        "id": str(next(_ids)), "from": who, "message": message, "chat_instance": f"ci{chat['id']}", "data": data})


def bot_membership(chat: dict[str, Any], by: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    def member(status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"status": status, "user": {**BOT_USER, "id": BOT_ID}}
        if status == "kicked":
            body["until_date"] = 0
        if status == "administrator":
            body.update({k: True for k in ("can_be_edited", "can_manage_chat", "can_change_info",
                                           "can_delete_messages", "can_invite_users", "can_restrict_members",
                                           "can_pin_messages", "can_promote_members", "can_manage_video_chats",
                                           "is_anonymous", "can_post_stories", "can_edit_stories",
                                           "can_delete_stories")})
        return body

    return update(my_chat_member={"chat": chat, "from": by, "date": int(time.time()),
                                  "old_chat_member": member(old), "new_chat_member": member(new)})
