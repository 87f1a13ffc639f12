"""Where the page cache keeps its entries: Redis (shared by every server) behind an LRU in each
process, or the LRU alone.

An entry is the response's headers (JSON) and body bytes, packed into one value.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes) -> None: ...


class LocalStore:
    """A bounded LRU in this process (each gunicorn worker has its own)."""

    def __init__(self, max_entries: int, ttl: float) -> None:
        self.max_entries = max(1, max_entries)
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class RedisStore:
    """Entries in Redis, shared by every server, expiring after ``ttl`` seconds.

    A Redis that fails or is slow never fails a page: the request renders as if it missed, and
    Redis is left alone for a few seconds before the next try.
    """

    RETRY_AFTER = 5.0

    def __init__(self, url: str, ttl: float, prefix: str = "cairn:page:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl = max(1, int(ttl))
        self.prefix = prefix
        self._down_until = 0.0

    def _call(self, action: Callable[[], Any]) -> Any:
        if self._down_until > time.monotonic():
            return None
        import redis

        try:
            return action()
        except redis.RedisError:
            log.warning("page cache: Redis unavailable, rendering pages", exc_info=True)
            self._down_until = time.monotonic() + self.RETRY_AFTER
            return None

    def get(self, key: str) -> bytes | None:
        return self._call(lambda: self.client.get(self.prefix + key))

    def set(self, key: str, value: bytes) -> None:
        self._call(lambda: self.client.set(self.prefix + key, value, ex=self.ttl))


class TieredStore:
    """This process's LRU in front of Redis: a page read often costs no round trip to Redis.

    As exact as Redis alone: a key names one version of one page, so any copy of it is right.
    """

    def __init__(self, near: LocalStore, far: RedisStore) -> None:
        self.near = near
        self.far = far

    def get(self, key: str) -> bytes | None:
        value = self.near.get(key)
        if value is None:
            value = self.far.get(key)
            if value is not None:
                self.near.set(key, value)
        return value

    def set(self, key: str, value: bytes) -> None:
        self.near.set(key, value)
        self.far.set(key, value)


def store_from_config(config: Any) -> Store:
    ttl = float(config["PAGE_CACHE_TTL"])
    near = LocalStore(int(config["PAGE_CACHE_MAX_ENTRIES"]), ttl)
    if config.get("REDIS_URL"):
        return TieredStore(near, RedisStore(config["REDIS_URL"], ttl, config["PAGE_CACHE_PREFIX"]))
    return near


def pack(headers: list[tuple[str, str]], body: bytes) -> bytes:
    return json.dumps(headers).encode() + b"\0" + body  # JSON escapes any NUL of its own


def unpack(raw: bytes) -> tuple[list[tuple[str, str]], bytes]:
    head, _, body = raw.partition(b"\0")
    return [(name, value) for name, value in json.loads(head)], body
