"""The bot token never reaches a log line: httpx logs request URLs (which carry it), so records are redacted."""

from __future__ import annotations

import logging

REDACTED = "<telegram-token>"
_tokens: set[str] = set()
_installed = False


def protect(token: str) -> None:
    """Redact this token from every log record of the process from now on."""
    global _installed
    if not token:
        return
    _tokens.add(token)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request, each with the URL
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):  # type: ignore[no-untyped-def]
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed record is logging's problem, not ours
        if any(t in message for t in _tokens):
            for token in _tokens:
                message = message.replace(token, REDACTED)
            record.msg, record.args = message, ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
