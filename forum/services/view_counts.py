"""Thread view counts, buffered in memory and written in batches.

A page view never writes to the database inside the request: counts collect here and are added
with one UPDATE per thread at most every few seconds, in a short transaction of their own, once
a response has gone out (never from inside a request: see forum/web/__init__.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine

from forum.models import Thread


class ViewCounter:
    def __init__(self, flush_seconds: float = 5.0) -> None:
        self.flush_seconds = flush_seconds
        self._pending: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def record(self, thread_id: int) -> None:
        with self._lock:
            self._pending[thread_id] += 1

    def pending(self, thread_id: int) -> int:
        with self._lock:
            return self._pending.get(thread_id, 0)

    def due(self) -> bool:
        return time.monotonic() - self._last_flush >= self.flush_seconds

    def maybe_flush(self, engine: Engine) -> int:
        if not self.due():
            return 0
        return self.flush(engine)

    def flush(self, engine: Engine) -> int:
        with self._lock:
            batch, self._pending = self._pending, Counter()
            self._last_flush = time.monotonic()
        if not batch:
            return 0
        statement = (
            update(Thread.__table__)
            .where(Thread.__table__.c.id == bindparam("tid"))
            .values(view_count=Thread.__table__.c.view_count + bindparam("n"))
        )
        try:
            with engine.begin() as connection:
                connection.execute(statement, [{"tid": k, "n": v} for k, v in batch.items()])
        except Exception:
            with self._lock:  # keep the counts for the next try
                self._pending.update(batch)
            raise
        return sum(batch.values())
