"""LINE's monthly push quota: read from the platform, cached, watched.

Pushes cost money (replies do not), so merchants are warned once a month when
consumption passes the configured share of the quota. The platform's figures are
cached in Redis for a few minutes and advanced locally after each push, so the
hot path never waits on a quota call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import redis

from bot.platforms import Platforms
from flows.keys import KeyBuilder

log = logging.getLogger("chatcart.quota")


@dataclass(frozen=True)
class QuotaStatus:
    limit: int | None  # None: no monthly limit
    used: int

    @property
    def percent(self) -> float | None:
        return None if not self.limit else 100.0 * self.used / self.limit


class QuotaMonitor:
    def __init__(self, client: redis.Redis, keys: KeyBuilder, platforms: Platforms,
                 warn: Callable[[str, QuotaStatus], None], *, warn_percent: int = 80,
                 cache_seconds: int = 600,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._redis, self._keys, self._platforms = client, keys, platforms
        self._warn, self._percent = warn, warn_percent
        self._cache_seconds, self._clock = cache_seconds, clock

    def _key(self, account: str) -> str:
        return self._keys.build("line:quota", account)

    def status(self, account: str) -> QuotaStatus:
        cached = self._redis.hgetall(self._key(account))
        if cached:
            limit = int(cached[b"limit"])
            return QuotaStatus(None if limit < 0 else limit, int(cached[b"used"]))
        return self.refresh(account)

    def refresh(self, account: str) -> QuotaStatus:
        channel = self._platforms.line_channel(account)
        if channel is None:
            raise KeyError(account)
        limit = channel.client.quota()
        used = channel.client.quota_consumption()
        key = self._key(account)
        pipe = self._redis.pipeline()
        pipe.hset(key, mapping={"limit": -1 if limit is None else limit, "used": used})
        pipe.expire(key, self._cache_seconds)
        pipe.execute()
        return QuotaStatus(limit, used)

    def after_push(self, account: str) -> None:
        """Count one push and warn the merchant the first time the share is passed."""
        try:
            status = self.status(account)
            used = self._redis.hincrby(self._key(account), "used", 1)
            status = QuotaStatus(status.limit, used)
        except Exception:  # noqa: BLE001 - quota bookkeeping must never block delivery
            log.warning("could not read the LINE quota", extra={"account": account})
            return
        if status.limit and status.used * 100 >= status.limit * self._percent:
            month = self._clock().strftime("%Y%m")
            flag = self._keys.build("line:quota:warned", f"{account}:{month}")
            if self._redis.set(flag, 1, nx=True, ex=40 * 24 * 3600):
                self._warn(account, status)
