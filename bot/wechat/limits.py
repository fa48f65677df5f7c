"""Every WeChat / WeCom platform limit we obey, by name (reference/style-and-ecosystem.md B2–B4)."""

from __future__ import annotations

# Callbacks
MAX_CALLBACK_BYTES = 64 * 1024  # real callbacks are a few hundred bytes; refuse anything larger before parsing
PLATFORM_DEADLINE_SECONDS = 5.0  # WeChat drops the connection after 5 s and retries (3 tries in total)
PASSIVE_TEXT_MAX_BYTES = 2048  # WeCom truncates passive text beyond this; WeChat's limit is similar
SUCCESS = "success"  # the body that tells WeChat "received, nothing to reply, do not retry"

# Customer-service (客服) windows since 2023-06-12
MESSAGE_WINDOW_SECONDS = 48 * 3600  # a user message opens 48 h ...
MESSAGE_WINDOW_SENDS = 5  # ... with 5 messages
EVENT_WINDOW_SECONDS = 60  # a menu click, follow or scan opens 1 min ...
EVENT_WINDOW_SENDS = 3  # ... with 3 messages
CS_TEXT_MAX_BYTES = 2048

# Template messages since 2023-05-04: each field ≤ 20 characters, no line breaks; first/remark dropped
TEMPLATE_FIELD_MAX_CHARS = {
    "thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "amount": 32,
    "phrase": 5, "name": 10, "phone_number": 17, "car_number": 8, "time": 32, "date": 32, "const": 20,
}
TEMPLATE_DEFAULT_MAX_CHARS = 20

# WeCom app messages: 30 a minute and 1000 an hour to one member, excess silently dropped
WECOM_MEMBER_PER_MINUTE = 30
WECOM_MEMBER_PER_HOUR = 1000
WECOM_GROUP_PER_MINUTE = 20  # our own conservative cap per appchat
WECOM_TEXT_MAX_BYTES = 2048
WECOM_CARD_TITLE_MAX_CHARS = 26
WECOM_CARD_DESC_MAX_CHARS = 120
WECOM_CARD_BUTTON_TEXT_MAX_CHARS = 10
WECOM_CARD_MAX_BUTTONS = 6
WECOM_TASK_ID_MAX_BYTES = 128

# WeCom 企业群发 to customer groups (externalcontact/add_msg_template, chat_type "group"):
# https://developer.work.weixin.qq.com/document/path/92135
WECOM_GROUP_SEND_TEXT_MAX_BYTES = 4000  # text.content
WECOM_GROUP_SEND_MAX_CHATS = 2000  # chat_id_list of one task
WECOM_GROUP_SEND_PER_GROUP_PER_DAY = 1  # a customer group takes one group send a day (see docs/broadcast.md)
WECOM_IMAGE_MAX_BYTES = 10 * 1024 * 1024  # media/upload type=image: JPG/PNG, 10 MB

# Access tokens
TOKEN_REFRESH_MARGIN_SECONDS = 300  # refresh when within 5 minutes of expiry
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid / expired access token: refresh once, retry once
OUT_OF_WINDOW_ERRCODES = frozenset({45015, 45047})  # 客服: no window / over the window's count
RECIPIENT_GONE_ERRCODES = frozenset({40003, 43004, 43101})  # invalid openid, unsubscribed, refused
BUSY_ERRCODES = frozenset({-1, 45009, 45011})  # system busy, API quota, frequency: retry later
DAILY_QUOTA_ERRCODES = frozenset({45009})  # the API's daily call quota is used up: it resets at 00:00 Beijing time
QUOTA_RESET_UTC_OFFSET_HOURS = 8  # Beijing time, where the platform's day begins

MEDIA_MAX_BYTES = 10 * 1024 * 1024  # images the platform hands us
HTTP_TIMEOUT_SECONDS = 5.0
