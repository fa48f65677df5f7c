"""Every Telegram limit this channel obeys, in one place (https://core.telegram.org/bots/api, Bots FAQ)."""

from __future__ import annotations

from telegram.constants import FileSizeLimit, FloodLimit, InlineKeyboardButtonLimit, MessageLimit

# Message text, counted after entity parsing; longer texts are split.
MAX_TEXT_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH  # 4096
# Photo and document captions.
MAX_CAPTION_LENGTH: int = MessageLimit.CAPTION_LENGTH  # 1024
# Text of an answerCallbackQuery notification or alert.
MAX_CALLBACK_ANSWER_LENGTH: int = 200
# Inline button callback_data, in UTF-8 bytes.
MAX_CALLBACK_DATA_BYTES: int = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
# /start deep-link parameter: 1-64 characters of A-Z a-z 0-9 _ -.
MAX_DEEP_LINK_LENGTH: int = 64
# Files a bot may download through getFile.
MAX_DOWNLOAD_BYTES: int = FileSizeLimit.FILESIZE_DOWNLOAD  # 20 MB

# Sending rates (Bots FAQ, "My bot is hitting limits").
MESSAGES_PER_SECOND: int = FloodLimit.MESSAGES_PER_SECOND  # 30, all chats together
MESSAGES_PER_SECOND_PER_CHAT: int = FloodLimit.MESSAGES_PER_SECOND_PER_CHAT  # 1
MESSAGES_PER_MINUTE_PER_GROUP: int = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP  # 20
# "Short bursts" Telegram tolerates in one chat before 429s: a reply of a few messages goes out at once.
PER_CHAT_BURST: int = 3

# Retrying.
NETWORK_RETRIES: int = 3  # attempts within one send before the outbox retries later
NETWORK_BACKOFF_SECONDS: float = 0.5  # doubled after each failed attempt
OUTBOX_RETRY_SECONDS: float = 30.0  # when the network keeps failing
INLINE_RETRY_MAX_WAIT: float = 10.0  # an in-request reply waits out a 429 this long at most
SEND_TIMEOUT_SECONDS: float = 60.0  # one send from the delivery thread, waits and retries included

# Update ids are kept this long: after a week without updates Telegram restarts them at random.
PROCESSED_UPDATE_RETENTION_DAYS: int = 14

# Webhook secret token: 1-256 characters of A-Z a-z 0-9 _ -.
WEBHOOK_SECRET_MAX_LENGTH: int = 256
