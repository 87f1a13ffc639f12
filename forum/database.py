"""Engine tuning: SQLite in WAL mode with a busy timeout and write-first transactions.

With several gunicorn workers on the embedded SQLite database, the one failure to avoid is a
transaction that *reads first and writes later*: in WAL mode it cannot wait for the write lock
(its snapshot may be stale by then), so SQLite answers "database is locked" at once, whatever
the busy timeout. So a transaction that may write takes the write lock when it begins
(``BEGIN IMMEDIATE``) and waits its turn for up to ``busy_timeout`` instead:

* in a request: POST and the other unsafe methods begin IMMEDIATE, GET/HEAD/OPTIONS DEFERRED
  (pages only read; the few writes on a GET -- read marks, view counts, an opened
  notification -- run in transactions of their own whose first statement is the write);
* outside a request but inside the app (``flask forum …`` commands, mail sent after the
  response): IMMEDIATE, as those jobs read and then write;
* anything else (a bare engine, the test suite's outer connection): DEFERRED.

``transactions("immediate" | "deferred")`` overrides this for the transactions begun inside
it: the search queue's drain always begins IMMEDIATE (it may run at the start of a GET), a long
read-only pass such as ``forum reindex`` begins DEFERRED so posting goes on meanwhile.

One rule follows: nothing inside a request opens a connection of its own to write. After an
unsafe request's first statement its session holds the write lock until the request's teardown,
so a second connection in the same thread would wait for its own request until the busy timeout
(``SQLITE_BUSY_TIMEOUT_MS``), blocking every other writer meanwhile. Such work (view counts, the
search drain, mail) runs once the response has gone out (forum/web/after_response.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from flask import Flask, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

BeginMode = Literal["immediate", "deferred"]
_begin_mode: ContextVar[BeginMode | None] = ContextVar("cairn_sqlite_begin", default=None)


@contextmanager
def transactions(mode: BeginMode) -> Iterator[None]:
    """SQLite transactions begun inside this block begin ``mode`` (no effect elsewhere).

    A transaction already open when the block starts keeps the mode it began with.
    """
    if mode not in ("immediate", "deferred"):
        raise ValueError(f"mode must be 'immediate' or 'deferred', not {mode!r}")
    token = _begin_mode.set(mode)
    try:
        yield
    finally:
        _begin_mode.reset(token)


def begin_mode() -> BeginMode:
    """How a SQLite transaction begun here and now begins (see the module docstring)."""
    mode = _begin_mode.get()
    if mode is not None:
        return mode
    if has_request_context():
        return "deferred" if request.method in SAFE_METHODS else "immediate"
    return "immediate" if has_app_context() else "deferred"


def configure_engine(app: Flask, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    busy_timeout_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if begin_mode() == "immediate":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
