"""Who may speak as which web chat user: anyone in demo mode, otherwise only the holder of a server-signed token.

The token is HMAC-SHA256(secret_key, user id); the server issues ids ("w-<random>") and their
tokens, so outside demo mode nobody can claim someone else's id. Outside demo mode only issued ids
are accepted at all: the demo's ready-made chats (`staff:<login>`, `resident:<home>`, see
backend/services/demo.py) stay unreachable even in a database that was once seeded in demo mode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request

from backend.settings import Settings

COOKIE_TOKEN = "guanjia_webchat"
COOKIE_USER = "guanjia_webchat_user"
ISSUED_PREFIX = "w-"
COOKIE_MAX_AGE = 365 * 24 * 3600


def sign(settings: Settings, user: str) -> str:
    mac = hmac.new(settings.secret_key.encode(), f"webchat:{user}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_user() -> str:
    return ISSUED_PREFIX + secrets.token_urlsafe(12)


def presented_token(request: Request) -> str:
    """The token from `Authorization: Bearer` or, for the page, the HttpOnly cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_TOKEN, "")


def token_matches(settings: Settings, user: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token.encode(), sign(settings, user).encode())


def may_speak_as(settings: Settings, request: Request, user: str) -> bool:
    if settings.demo_mode:
        return True
    return user.startswith(ISSUED_PREFIX) and token_matches(settings, user, presented_token(request))
