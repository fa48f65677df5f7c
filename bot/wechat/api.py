"""A small synchronous client for the WeChat / WeCom HTTP APIs we call (httpx; base URL from settings).

wechatpy 1.8.18's client is synchronous too and keeps its token in process memory; ours keeps
it in the database (tokens.TokenCache) and is only ever called from worker threads, never
from the event loop.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from backend.clock import Clock
from bot.wechat.limits import HTTP_TIMEOUT_SECONDS, MEDIA_MAX_BYTES, TOKEN_ERRCODES
from bot.wechat.tokens import TokenCache

log = logging.getLogger("guanjia.wechat.api")


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"errcode {errcode}: {errmsg[:200]}")
        self.errcode, self.errmsg = errcode, errmsg


class PlatformApi:
    """One app's API: WeChat (`/cgi-bin/token`) or WeCom (`/cgi-bin/gettoken`)."""

    def __init__(self, base_url: str, channel: str, app_id: str, secret: str,
                 session_factory: sessionmaker[Session], clock: Clock, *, enterprise: bool = False,
                 http: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id, self._secret, self.enterprise = app_id, secret, enterprise
        self.http = http or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, trust_env=False)
        self.tokens = TokenCache(session_factory, clock, channel, app_id, self._fetch_token)

    def _fetch_token(self) -> tuple[str, int]:
        """WeChat: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
        WeCom: https://developer.work.weixin.qq.com/document/path/91039 (expires_in 7200 s)."""
        if self.enterprise:
            params = {"corpid": self.app_id, "corpsecret": self._secret}
            path = "/cgi-bin/gettoken"
        else:
            params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
            path = "/cgi-bin/token"
        data = self._json(self.http.get(self.base_url + path, params=params))
        if data.get("errcode") or not data.get("access_token"):
            raise ApiError(int(data.get("errcode") or -1), str(data.get("errmsg", "no access_token")))
        return str(data["access_token"]), int(data.get("expires_in") or 7200)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ApiError(-1, "not a JSON object")
        return data

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the access token; on an invalid/expired token refresh once and retry once."""
        token = self.tokens.get()
        for attempt in (1, 2):
            data = self._json(self.http.post(self.base_url + path, params={"access_token": token}, json=body))
            code = int(data.get("errcode") or 0)
            if code in TOKEN_ERRCODES and attempt == 1:
                log.info("%s: access token rejected (%s), refreshing once", path, code)
                token = self.tokens.get(rejected=token)
                continue
            if code:
                raise ApiError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")

    def download(self, path: str, params: dict[str, str], limit: int = MEDIA_MAX_BYTES) -> tuple[bytes, str]:
        """GET a file (media/get) with the token; (bytes, content type). JSON bodies are errors."""
        token = self.tokens.get()
        for attempt in (1, 2):
            with self.http.stream("GET", self.base_url + path, params={**params, "access_token": token}) as resp:
                resp.raise_for_status()
                kind = resp.headers.get("content-type", "")
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(-2, "media larger than the cap")
                    chunks.append(chunk)
            body = b"".join(chunks)
            if kind.startswith(("application/json", "text/plain")):
                data = httpx.Response(200, content=body).json()
                code = int(data.get("errcode") or -1)
                if code in TOKEN_ERRCODES and attempt == 1:
                    token = self.tokens.get(rejected=token)
                    continue
                raise ApiError(code, str(data.get("errmsg", "")))
            return body, kind
        raise AssertionError("unreachable")
