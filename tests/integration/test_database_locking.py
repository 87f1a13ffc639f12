"""SQLite transactions that may write take the write lock when they begin (forum/database.py).

In WAL mode a transaction that reads, and only later writes, cannot wait for the write lock:
if another connection committed meanwhile, SQLite answers "database is locked" at once, busy
timeout or not. Jobs outside a request (mail after the response, scheduled commands) read and
then write, so they begin IMMEDIATE and wait their turn instead.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading

import pytest
from sqlalchemy import text

from config import TestingConfig
from forum import create_app
from forum.database import begin_mode, transactions
from forum.extensions import db


@pytest.fixture
def file_app(tmp_path):
    config = type(
        "LockingConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'locking.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
        },
    )
    app = create_app(config)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counters VALUES (1, 0)"))
    yield app, tmp_path / "locking.db"
    with app.app_context():
        db.engine.dispose()


def test_begin_mode_follows_the_context(file_app):
    app, _ = file_app
    assert begin_mode() == "deferred"  # a bare engine (the test suite's outer connection)
    with app.app_context():
        assert begin_mode() == "immediate"  # commands, mail after the response
        with transactions("deferred"):
            assert begin_mode() == "deferred"  # a long read such as forum reindex
    for method, mode in [("GET", "deferred"), ("HEAD", "deferred"), ("POST", "immediate")]:
        with app.test_request_context("/", method=method):
            assert begin_mode() == mode
            with transactions("immediate"):
                assert begin_mode() == "immediate"  # the search queue's drain
    with pytest.raises(ValueError), transactions("exclusive"):  # type: ignore[arg-type]
        pass


def _read_then_write_while_another_commits(app, path, mode: str | None) -> list[str]:
    """A job reads, another connection commits, the job writes what it read plus one."""
    errors: list[str] = []
    job_has_read = threading.Event()
    other_committed = threading.Event()

    def other_writer() -> None:
        job_has_read.wait(10)
        conn = sqlite3.connect(path, timeout=15, isolation_level=None)
        try:
            conn.execute("UPDATE counters SET n = n + 100 WHERE id = 1")
            other_committed.set()
        except sqlite3.Error as exc:
            errors.append(f"other writer: {exc}")
        finally:
            conn.close()

    other = threading.Thread(target=other_writer)
    other.start()
    with app.app_context():
        session = db.session
        try:
            if mode is None:
                n = session.execute(text("SELECT n FROM counters WHERE id = 1")).scalar_one()
            else:
                with transactions(mode):  # type: ignore[arg-type]
                    n = session.execute(text("SELECT n FROM counters WHERE id = 1")).scalar_one()
            job_has_read.set()
            # The other writer commits now (DEFERRED) or waits for our lock (IMMEDIATE).
            other_committed.wait(2)
            session.execute(text("UPDATE counters SET n = :n WHERE id = 1"), {"n": n + 1})
            session.commit()
        except Exception as exc:
            session.rollback()
            errors.append(f"job: {exc}")
        finally:
            job_has_read.set()
            other.join()
    return errors


def test_a_job_that_reads_then_writes_waits_its_turn(file_app):
    app, path = file_app
    assert _read_then_write_while_another_commits(app, path, None) == []
    conn = sqlite3.connect(path)
    # Both writes count: the job's (0 + 1), then the other connection's (+ 100).
    assert conn.execute("SELECT n FROM counters").fetchone()[0] == 101
    conn.close()


def test_without_the_write_lock_up_front_the_same_job_fails(file_app):
    """What the IMMEDIATE default prevents (and why reads that later write must not be
    DEFERRED): the job's write fails at once with "database is locked"."""
    app, path = file_app
    errors = _read_then_write_while_another_commits(app, path, "deferred")
    assert len(errors) == 1 and "database is locked" in errors[0]


@pytest.fixture
def migrated_file_app(tmp_path):
    """The whole schema in a SQLite file, view counts flushed after every response."""
    from tests.conftest import migrated_app

    app = migrated_app(
        f"sqlite:///{tmp_path / 'views.db'}",
        tmp_path,
        VIEW_COUNT_FLUSH_SECONDS=0.0,
        SQLITE_BUSY_TIMEOUT_MS=2000,  # a self-deadlock fails in 2 s, not 15
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_view_count_flush_never_waits_on_the_request_that_triggers_it(migrated_file_app, caplog):
    """The flush used to run in the request's teardown. After a POST the request's session
    still held the write lock (unsafe requests begin IMMEDIATE), so the flush's own connection
    waited for it until the busy timeout, blocking every other writer meanwhile, failed, and
    kept its counts to fail again five seconds later. It runs after the response now."""
    from tests.conftest import ServerLikeClient, login
    from tests.factories import make_thread, make_user

    app = migrated_file_app
    with app.app_context():
        member = make_user(db.session, "viewer")
        thread = make_thread(db.session, author=member, title="Counting views")
        db.session.commit()
        thread_id, page = thread.id, f"/t/{thread.id}/{thread.slug}"
    client = ServerLikeClient(app, app.response_class, use_cookies=True)
    login(client, "viewer")
    counter = app.extensions["cairn_views"]

    with app.app_context():
        before = db.session.get(type(thread), thread_id).view_count
    assert client.get(page).status_code == 200  # one view, flushed after this response
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).text).group(1)
    counter.record(thread_id)  # and one pending when the reply comes
    with caplog.at_level(logging.WARNING):
        reply = client.post(f"/t/{thread_id}/reply", data={"csrf_token": token, "body": "Hello."})
    assert reply.status_code == 302 and "/p/" in reply.headers["Location"]
    assert "view count flush failed" not in caplog.text
    assert counter.pending(thread_id) == 0
    with app.app_context():
        assert db.session.get(type(thread), thread_id).view_count == before + 3
