"""No secret and no full phone number reaches a log line.

- httpx/httpcore log one INFO line per request with the full URL, whose query carries the WeChat app
  secret or an access token (and whose path carries the Telegram bot token): they log warnings only;
- every record is scrubbed of the configured secrets, of secret-looking query parameters
  (access_token=, secret=, signature=, nonce=, openid=, ...) and of mainland mobile numbers
  (13900321502 -> 139****1502);
- the access log keeps the path of the platform callbacks (/wechat/..., /telegram/...) but not their
  query (signature, timestamp, nonce, openid).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from backend.settings import PLACEHOLDER_SECRETS, Settings

REDACTED = "<redacted>"
SECRET_FIELDS = ("admin_token", "secret_key", "telegram_token", "telegram_webhook_secret", "wechat_app_secret",
                 "wechat_token", "wechat_encoding_aes_key", "wecom_secret", "wecom_token", "wecom_encoding_aes_key",
                 "wecom_contact_secret")
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words
CALLBACK_PREFIXES = ("/wechat/", "/telegram/")
_SECRET_PARAMS = re.compile(
    r"(?i)\b(access_token|secret|corpsecret|appsecret|signature|msg_signature|timestamp|nonce|openid|echostr"
    r"|encrypt_type|token)=([^&\s\"'<>]+)")
_PHONE = re.compile(r"(?<![\d])(1[3-9]\d)\d{4}(\d{4})(?![\d])")

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def scrub(message: str) -> str:
    """The message with secrets, secret query parameters and mobile numbers masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in message:
            message = message.replace(secret, REDACTED)
    message = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={REDACTED}", message)
    return _PHONE.sub(r"\1****\2", message)


def _access_path(path: Any) -> Any:
    if isinstance(path, str) and "?" in path and path.startswith(CALLBACK_PREFIXES):
        return path.split("?", 1)[0] + "?" + REDACTED
    return path


def install(settings: Settings | None = None) -> None:
    """Scrub every log record of this process from now on (idempotent; call again to add secrets)."""
    global _installed
    if settings is not None:
        with _lock:
            for name in SECRET_FIELDS:
                value = str(getattr(settings, name, "") or "")
                if len(value) >= MIN_SECRET_LENGTH and value not in PLACEHOLDER_SECRETS:
                    _secrets.add(value)
    for noisy in ("httpx", "httpcore"):  # one INFO line per request, each with the full URL
        if logging.getLogger(noisy).getEffectiveLevel() < logging.WARNING:
            logging.getLogger(noisy).setLevel(logging.WARNING)
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            # uvicorn's formatter reads these positional args: change the path only, keep the shape
            record.args = (*record.args[:2], _access_path(record.args[2]), *record.args[3:])
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed record is logging's problem, not ours
        clean = scrub(message)
        if clean != message:
            if record.name == "uvicorn.access":
                record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args or ())
            else:
                record.msg, record.args = clean, ()
        return record

    logging.setLogRecordFactory(factory)
