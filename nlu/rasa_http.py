"""NLU backed by a Rasa server's POST /model/parse, falling back to the built-in engine."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import httpx

log = logging.getLogger(__name__)

ENTITY_KEYS = ("entity", "value", "start", "end", "confidence_entity", "extractor", "role", "group")


class RasaHTTPNLU:
    name = "rasa"

    def __init__(self, url: str, *, timeout: float = 0.5, fallback: Callable[[], object] | None = None,
                 retry_after: float = 5.0) -> None:
        self.url = url.rstrip("/")
        if not self.url.endswith("/model/parse"):
            self.url += "/model/parse"
        self.timeout = timeout
        self._fallback_factory = fallback
        self._fallback = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.retry_after = retry_after
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), trust_env=False)

    def _get_fallback(self):
        if self._fallback is None:
            with self._lock:
                if self._fallback is None and self._fallback_factory is not None:
                    self._fallback = self._fallback_factory()
        return self._fallback

    def parse(self, text: str, reference_time: datetime | None = None) -> dict:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if time.monotonic() >= self._down_until:
            try:
                r = self._client.post(self.url, json={"text": text})
                r.raise_for_status()
                return self._clean(r.json(), text)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                log.warning("Rasa NLU at %s failed (%s); using the built-in engine", self.url, exc)
                self._down_until = time.monotonic() + self.retry_after
        fb = self._get_fallback()
        if fb is None:
            return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.0},
                    "entities": [], "intent_ranking": []}
        return fb.parse(text, reference_time)

    @staticmethod
    def _clean(data: dict, text: str) -> dict:
        intent = data.get("intent") or {}
        name = intent.get("name") or "out_of_scope"
        if name == "nlu_fallback":
            name = "out_of_scope"
        out = {"text": data.get("text", text),
               "intent": {"name": name, "confidence": float(intent.get("confidence") or 0.0)}}
        ents = []
        for e in data.get("entities") or []:
            d = {k: e[k] for k in ENTITY_KEYS if k in e}
            d["value"] = str(d.get("value", ""))
            ents.append(d)
        out["entities"] = ents
        ranking = [{"name": ("out_of_scope" if r.get("name") == "nlu_fallback" else r.get("name")),
                    "confidence": float(r.get("confidence") or 0.0)} for r in data.get("intent_ranking") or []]
        ranking.sort(key=lambda r: -r["confidence"])
        out["intent_ranking"] = ranking[:10]
        return out

    def close(self) -> None:
        self._client.close()
