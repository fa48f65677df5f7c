"""Rate limits shared by every process of a deployment: in this process (the embedded default) or in Redis.

Two shapes, both keyed by a plain string:
* a pace (GCRA, a "theoretical arrival time" per key): `reserve` books one event on several buckets at
  once when all of them allow it now (or, with `ahead`, within that many seconds: the event is booked
  for then and the wait returned), else books nothing and says how long to wait; `pause` holds a
  bucket back (a platform's 429 retry_after). Used for platform sending rates.
* a window count: `hit` records an event when fewer than `limit` happened in the last `window` seconds,
  else says how long until one expires; `record` records one unconditionally; `count` counts them.
  Used for the gate-code checks.

`limits_for(settings)` gives the process's shared instance: Redis when GUANJIA_REDIS_URL is set, so
any number of workers and web processes stay within one budget; otherwise a dictionary in this
process. Times are seconds: `now` may be passed (tests, a fake clock); else the backend's own clock
(Redis's TIME, so that processes on several machines agree).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PREFIX = "guanjia:rl:"
MAX_TRACKED_KEYS = 50_000  # in-process: idle keys are forgotten beyond this many


@dataclass(frozen=True)
class Rate:
    interval: float  # seconds between events in the long run
    burst: int = 1  # events allowed back to back

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval

    @classmethod
    def per_second(cls, n: float, burst: int = 1) -> Rate:
        return cls(1.0 / n, burst)

    @classmethod
    def per_minute(cls, n: float, burst: int = 1) -> Rate:
        return cls(60.0 / n, burst)


Bucket = tuple[str, Rate]


class Limits(Protocol):
    def reserve(self, buckets: Sequence[Bucket], now: float | None = None, ahead: float = 0.0) -> float:
        """The seconds until every bucket allows one more event; booked for then when that is <= `ahead`."""

    def pause(self, buckets: Sequence[Bucket], seconds: float, now: float | None = None) -> None: ...

    def hit(self, key: str, window: float, limit: int, now: float | None = None) -> float: ...

    def record(self, key: str, window: float, now: float | None = None) -> None: ...

    def count(self, key: str, window: float, now: float | None = None) -> tuple[int, float]: ...

    def reset(self) -> None: ...


class LocalLimits:
    """This process's view only: the embedded default (one worker, or tests)."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}
        self._events: dict[str, deque[float]] = {}

    def reserve(self, buckets: Sequence[Bucket], now: float | None = None, ahead: float = 0.0) -> float:
        with self._lock:
            now = self._now() if now is None else now
            wait = max(0.0, *(self._tat.get(k, 0.0) - rate.tolerance - now for k, rate in buckets))
            if wait > ahead:
                return wait  # nothing booked: a key waiting for its turn must not hold up the others
            for k, rate in buckets:
                self._tat[k] = max(self._tat.get(k, 0.0), now + wait) + rate.interval
            if len(self._tat) > MAX_TRACKED_KEYS:
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return wait

    def pause(self, buckets: Sequence[Bucket], seconds: float, now: float | None = None) -> None:
        with self._lock:
            now = self._now() if now is None else now
            for k, rate in buckets:
                self._tat[k] = max(self._tat.get(k, 0.0), now + seconds + rate.tolerance)

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - window:
            events.popleft()
        return events

    def hit(self, key: str, window: float, limit: int, now: float | None = None) -> float:
        with self._lock:
            now = self._now() if now is None else now
            events = self._recent(key, window, now)
            if len(events) >= limit:
                return max(events[0] + window - now, 1e-3)
            events.append(now)
            return 0.0

    def record(self, key: str, window: float, now: float | None = None) -> None:
        with self._lock:
            now = self._now() if now is None else now
            self._recent(key, window, now).append(now)

    def count(self, key: str, window: float, now: float | None = None) -> tuple[int, float]:
        """(events in the window, the oldest one's time) — (0, now) when none."""
        with self._lock:
            now = self._now() if now is None else now
            events = self._recent(key, window, now)
            return len(events), (events[0] if events else now)

    def reset(self) -> None:
        with self._lock:
            self._tat.clear()
            self._events.clear()


# ---- Redis: every operation is one Lua script, atomic on the server -----------------------------

_NOW = """
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""
_RESERVE = _NOW + """
local ahead = tonumber(ARGV[2 * #KEYS + 2] or '0')
local wait = 0
local tats = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  tats[i] = tat
  local w = tat - tonumber(ARGV[2 * i + 1]) - now
  if w > wait then wait = w end
end
if wait > ahead then return string.format('%.6f', wait) end
for i = 1, #KEYS do
  local new = math.max(tats[i], now + wait) + tonumber(ARGV[2 * i])
  redis.call('SET', KEYS[i], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
end
return string.format('%.6f', wait)
"""
_PAUSE = _NOW + """
local seconds = tonumber(ARGV[2])
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  local new = math.max(tat, now + seconds + tonumber(ARGV[2 + i]))
  redis.call('SET', KEYS[i], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
end
return '0'
"""
_WINDOW = _NOW + """
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now - window))
local n = redis.call('ZCARD', KEYS[1])
if limit >= 0 and n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return string.format('%.6f', math.max(tonumber(oldest[2]) + window - now, 0.001))
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], string.format('%.6f', now), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
end
if limit < 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local first = now
  if oldest[2] then first = tonumber(oldest[2]) end
  return string.format('%d %.6f', n, first)
end
return '0'
"""


class RedisLimits:
    """Shared by every process that talks to the same Redis (GUANJIA_REDIS_URL)."""

    def __init__(self, url: str, client: Any = None) -> None:
        import redis  # only needed when Redis is configured

        self.client = client or redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._reserve = self.client.register_script(_RESERVE)
        self._pause = self.client.register_script(_PAUSE)
        self._window = self.client.register_script(_WINDOW)

    @staticmethod
    def _now(now: float | None) -> str:
        return "" if now is None else repr(float(now))

    def reserve(self, buckets: Sequence[Bucket], now: float | None = None, ahead: float = 0.0) -> float:
        if not buckets:
            return 0.0
        args: list[str] = [self._now(now)]
        for _key, rate in buckets:
            args += [repr(rate.interval), repr(rate.tolerance)]
        args.append(repr(float(ahead)))
        return float(self._reserve(keys=[PREFIX + k for k, _ in buckets], args=args))

    def pause(self, buckets: Sequence[Bucket], seconds: float, now: float | None = None) -> None:
        if buckets:
            self._pause(keys=[PREFIX + k for k, _ in buckets],
                        args=[self._now(now), repr(float(seconds)), *(repr(r.tolerance) for _, r in buckets)])

    def hit(self, key: str, window: float, limit: int, now: float | None = None) -> float:
        return float(self._window(keys=[PREFIX + key], args=[self._now(now), repr(window), limit,
                                                              uuid.uuid4().hex]))

    def record(self, key: str, window: float, now: float | None = None) -> None:
        self._window(keys=[PREFIX + key], args=[self._now(now), repr(window), 2**31, uuid.uuid4().hex])

    def count(self, key: str, window: float, now: float | None = None) -> tuple[int, float]:
        raw = self._window(keys=[PREFIX + key], args=[self._now(now), repr(window), -1, ""])
        n, first = (raw.decode() if isinstance(raw, bytes) else str(raw)).split()
        return int(n), float(first)

    def reset(self) -> None:
        keys = list(self.client.scan_iter(match=PREFIX + "*", count=1000))
        if keys:
            self.client.delete(*keys)


_SHARED: dict[str, Limits] = {}
_SHARED_LOCK = threading.Lock()


def limits_for(redis_url: str = "") -> Limits:
    """The process's shared limits for a deployment: one per Redis URL, or the in-process one."""
    with _SHARED_LOCK:
        found = _SHARED.get(redis_url)
        if found is None:
            found = _SHARED[redis_url] = RedisLimits(redis_url) if redis_url else LocalLimits()
        return found
