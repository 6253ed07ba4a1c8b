"""Rate limits per key: a token bucket (``rate`` tokens a second up to ``burst``) and a quota
of instances per UTC day. One instance costs one token, so a batch of 50 costs 50.

:class:`MemoryLimiter` holds the buckets in this process (one lock: exact under concurrency);
:class:`RedisLimiter` holds them in Redis and updates them in one Lua script, with Redis' own
clock, so several gateway replicas behind one load balancer share one bucket per key.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from miaudit.errors import InputError, require
from miaudit.gateway.db import ApiKey

DAY = 86400.0


@dataclass(frozen=True)
class Decision:
    """Whether the request may go on; if not, why and in how many seconds to retry."""

    allowed: bool
    retry_after: float = 0.0
    reason: str = ""

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class Limiter(Protocol):
    def take(self, key: ApiKey, cost: int) -> Decision: ...


def _over_burst(key: ApiKey, cost: int) -> Decision | None:
    if cost > key.burst:
        return Decision(
            False,
            DAY,
            f"{cost} instances in one request exceed this key's burst of {key.burst}; "
            "send smaller batches",
        )
    return None


def _until_tomorrow(now: float) -> float:
    return DAY - (now % DAY)


class MemoryLimiter:
    """Buckets and daily counts in this process; ``clock`` (Unix seconds, injectable for tests)
    refills the buckets and tells the UTC day."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._days: dict[str, tuple[int, int]] = {}

    def take(self, key: ApiKey, cost: int) -> Decision:
        refused = _over_burst(key, cost)
        if refused is not None:
            return refused
        with self._lock:
            now = self._clock()
            day = int(now // DAY)
            used_day, used = self._days.get(key.name, (day, 0))
            used = used if used_day == day else 0
            if key.quota is not None and used + cost > key.quota:
                return Decision(
                    False, _until_tomorrow(now), f"daily quota of {key.quota} instances used"
                )
            tokens, last = self._buckets.get(key.name, (float(key.burst), now))
            tokens = min(float(key.burst), tokens + max(0.0, now - last) * key.rate)
            if tokens < cost:
                self._buckets[key.name] = (tokens, now)
                wait = (cost - tokens) / key.rate if key.rate > 0 else DAY
                return Decision(False, wait, f"rate limit of {key.rate:g}/s (burst {key.burst})")
            self._buckets[key.name] = (tokens - cost, now)
            self._days[key.name] = (day, used + cost)
        return Decision(True)


# KEYS: bucket hash, day counter. ARGV: rate, burst, cost, quota (-1: none).
# Returns {allowed (1/0), seconds to wait (text), why (text)}.
_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1e6
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, quota = tonumber(ARGV[3]), tonumber(ARGV[4])
local day_key = KEYS[2] .. ':' .. math.floor(now / 86400)
if quota >= 0 then
  local used = tonumber(redis.call('GET', day_key) or '0')
  if used + cost > quota then
    return {0, tostring(86400 - (now % 86400)), 'quota'}
  end
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'time')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
if tokens < cost then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'time', tostring(now))
  local wait = 86400
  if rate > 0 then wait = (cost - tokens) / rate end
  return {0, tostring(wait), 'rate'}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'time', tostring(now))
redis.call('EXPIRE', KEYS[1], 172800)
if quota >= 0 then
  redis.call('INCRBY', day_key, cost)
  redis.call('EXPIRE', day_key, 172800)
end
return {1, '0', ''}
"""


class RedisLimiter:
    """Buckets and daily counts in Redis, shared by every gateway that uses the same Redis."""

    def __init__(self, url: str, prefix: str = "miaudit") -> None:
        redis: Any = require("redis", "redis", "Sharing rate limits through Redis")
        try:
            self._client = redis.Redis.from_url(url, socket_timeout=5)
            self._client.ping()
        except (redis.exceptions.RedisError, ValueError) as exc:
            raise InputError(f"cannot reach Redis at {url}: {exc}") from None
        self._script = self._client.register_script(_SCRIPT)
        self._prefix = prefix

    def take(self, key: ApiKey, cost: int) -> Decision:
        refused = _over_burst(key, cost)
        if refused is not None:
            return refused
        keys = [f"{self._prefix}:bucket:{key.name}", f"{self._prefix}:day:{key.name}"]
        quota = -1 if key.quota is None else key.quota
        allowed, wait, why = self._script(keys=keys, args=[key.rate, key.burst, cost, quota])
        if int(allowed):
            return Decision(True)
        reason = (
            f"daily quota of {key.quota} instances used"
            if why == b"quota"
            else f"rate limit of {key.rate:g}/s (burst {key.burst})"
        )
        return Decision(False, float(wait), reason)
