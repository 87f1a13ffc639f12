"""Concurrent writers on the embedded default (issue #9).

A real ``gunicorn --workers 4 wsgi:app`` on SQLite (WAL) with the Whoosh index in its instance
folder; 16 members post replies at once. No request may fail with a 5xx or "database is locked",
and every acknowledged post must be in the database and, once the search queue has drained, in
search -- also when a worker is killed with SIGKILL in the middle of the load.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import TestingConfig
from forum import create_app
from forum.extensions import db
from forum.models import Post, Thread
from forum.search.factory import search_backend
from forum.search.query import parse_query
from forum.services import indexing
from tests.factories import PASSWORD, make_board, make_thread, make_user
from tests.load.harness import (
    LOCKED,
    Gunicorn,
    LoadResult,
    flask_cli,
    private_kib,
    rss_kib,
    run_load,
)

pytestmark = pytest.mark.slow

MEMBERS = 16
WORKERS = 4
LOAD_SECONDS = 8.0
RSS_LIMIT_KIB = 120 * 1024


@dataclass
class Forum:
    instance: Path
    app: Flask  # in-process, on the same database and index, for checking what the server did
    server: Gunicorn
    members: list[str]
    thread_ids: list[int]


def _instance_app(instance: Path) -> Flask:
    config = type(
        "InstanceConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'cairn.db'}",
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "MAIL_FOLDER": str(instance / "mail"),
            "VOCABULARY_OVERRIDE": str(instance / "vocabulary.toml"),
        },
    )
    return create_app(config)


@pytest.fixture(scope="module")
def forum(tmp_path_factory) -> Iterator[Forum]:
    instance = tmp_path_factory.mktemp("instance")
    began = time.monotonic()
    flask_cli(instance, "db", "upgrade")
    migrated = time.monotonic()
    app = _instance_app(instance)
    with app.app_context():
        session = db.session
        board = make_board(session, "Living with AN")
        members = [make_user(session, f"loadmember{n:02d}") for n in range(MEMBERS)]
        thread_ids = [
            make_thread(session, board, members[n], title=f"Load thread {n}").id for n in range(4)
        ]
        names = [m.username for m in members]
        db.engine.dispose()  # no connection of ours stays open while the server runs
    seeded = time.monotonic()
    server = Gunicorn(instance, workers=WORKERS)
    try:
        server.start()
        print(
            f"\nmigrations {migrated - began:.1f}s, members and threads "
            f"{seeded - migrated:.1f}s, gunicorn ready {time.monotonic() - seeded:.1f}s"
        )
        yield Forum(instance, app, server, names, thread_ids)
    finally:
        server.stop()
        with app.app_context():
            search_backend().close()
            db.engine.dispose()


def _load(forum: Forum, **kw) -> LoadResult:
    result = run_load(
        forum.server.port, forum.members, PASSWORD, forum.thread_ids, LOAD_SECONDS, **kw
    )
    posts = sum(n for (method, status), n in result.statuses.items() if method == "POST")
    print(
        f"\n{len(result.acked)} acknowledged posts of {posts} POSTs in {result.seconds:.1f}s; "
        f"statuses {dict(result.statuses)}; {result.connection_errors} connection errors; "
        f"slowest acknowledged POST {result.slowest_post:.2f}s"
    )
    return result


def _assert_no_errors(result: LoadResult, log: str) -> None:
    assert not result.failures, "\n".join(result.failures[:20])
    assert not [key for key in result.statuses if key[1] >= 500]
    assert LOCKED not in log, log[-5000:]
    assert "Traceback" not in log, log[-5000:]


def _assert_in_database(forum: Forum, acked: dict[int, str]) -> None:
    with forum.app.app_context():
        rows = dict(
            db.session.execute(
                select(Post.id, Post.body).where(Post.id.in_(acked), Post.deleted_at.is_(None))
            ).all()
        )
        db.session.remove()
    missing = {pid: word for pid, word in acked.items() if word not in rows.get(pid, "")}
    assert not missing, f"{len(missing)} acknowledged posts missing from the database: {missing}"


def _pending(forum: Forum) -> int:
    with forum.app.app_context():
        try:
            return indexing.pending(db.session)
        finally:
            db.session.remove()


def _assert_searchable(forum: Forum, acked: dict[int, str]) -> None:
    """Each acknowledged post is the hit for its own word; the index holds every visible post."""
    with forum.app.app_context():
        backend = search_backend()
        lost = {}
        for post_id, word in acked.items():
            results = backend.search(parse_query(word), include_members_only=True)
            if [hit.post_id for hit in results.hits] != [post_id]:
                lost[post_id] = (word, [hit.post_id for hit in results.hits])
        visible = indexing.visible_post_count(db.session)
        indexed = backend.doc_count()
        db.session.remove()
    assert not lost, f"{len(lost)} acknowledged posts not found by search: {lost}"
    assert indexed == visible, f"index holds {indexed} documents, database {visible} posts"


class BackgroundBackup(threading.Thread):
    """`flask --app wsgi forum backup DEST` while the workers write: it must neither block
    them nor fail."""

    def __init__(self, instance: Path, dest: Path) -> None:
        super().__init__(daemon=True)
        self.instance, self.dest = instance, dest
        self.posts_before = 0
        self.output = ""
        self.error: BaseException | None = None
        self.finished: float | None = None

    def run(self) -> None:
        self.posts_before = _count_posts(self.instance / "cairn.db")
        try:
            self.output = flask_cli(self.instance, "forum", "backup", str(self.dest))
        except BaseException as exc:  # reported by the test's assertions
            self.error = exc
        self.finished = time.monotonic()


def _count_posts(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
    try:
        return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        conn.close()


def _report_rss(server: Gunicorn) -> dict[int, int]:
    """Each worker's VmRSS (and, in brackets, what it holds privately), printed in MiB."""
    rss = {pid: rss_kib(pid) for pid in server.worker_pids()}
    assert server.process is not None
    print(
        f"RSS in MiB: master {rss_kib(server.process.pid) / 1024:.1f}; workers "
        + ", ".join(
            f"{k / 1024:.1f} ({private_kib(pid) / 1024:.1f} private)" for pid, k in rss.items()
        )
    )
    return rss


def test_sixteen_members_post_at_once_without_errors(forum: Forum) -> None:
    backup = BackgroundBackup(forum.instance, forum.instance / "during-load.db")

    def start_a_backup(elapsed: float) -> None:
        if elapsed > 2 and not backup.is_alive() and backup.finished is None:
            backup.start()

    result = _load(forum, run="a", during=start_a_backup)
    load_ended = time.monotonic()
    _assert_no_errors(result, forum.server.log())
    backup.join(60)
    assert backup.error is None, backup.error
    assert backup.finished is not None and "PRAGMA integrity_check: ok." in backup.output
    copied = _count_posts(backup.dest)
    print(
        f"forum backup during the load: {copied} posts copied ({backup.posts_before} committed "
        f"when it started), finished {load_ended - backup.finished:.1f}s before the load ended"
    )
    # A consistent snapshot from while it ran: at least what was committed when it started.
    assert backup.posts_before <= copied <= _count_posts(forum.instance / "cairn.db")
    per_member = {word[3:5] for word in result.acked.values()}
    assert len(per_member) == MEMBERS, "every member got posts through"
    _assert_in_database(forum, result.acked)

    # The server applies the queue itself, after each request that wrote to it.
    deadline = time.monotonic() + 15
    while _pending(forum) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _pending(forum) == 0
    _assert_searchable(forum, result.acked)

    rss = _report_rss(forum.server)
    assert len(rss) == WORKERS
    assert max(rss.values()) < RSS_LIMIT_KIB, rss


def test_killing_a_worker_mid_load_loses_no_acknowledged_post(forum: Forum) -> None:
    server = forum.server
    before = server.worker_pids()
    killed: list[int] = []
    mid_index_write: list[bool] = []

    def kill_workers(elapsed: float) -> None:
        # From 2.5 s, then from 5 s: kill a worker caught writing to the search index (it
        # holds the Whoosh write lock file open: its post is committed, its index update
        # half-written) or, failing that within a second, any worker.
        due = 2.5 * (len(killed) + 1)
        if len(killed) >= 2 or elapsed < due:
            return
        workers = [p for p in server.worker_pids() if p not in killed]
        writing = [p for p in workers if server.holds_file(p, "_WRITELOCK")]
        if writing or elapsed > due + 1:
            victim = (writing or workers)[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            mid_index_write.append(bool(writing))

    result = _load(forum, run="b", during=kill_workers)
    print(f"killed {killed}; caught writing to the index: {mid_index_write}")
    assert len(killed) == 2
    log = server.log()
    assert not result.failures, "\n".join(result.failures[:20])
    assert not [key for key in result.statuses if key[1] >= 500]
    assert LOCKED not in log, log[-5000:]
    for pid in killed:
        assert f"Worker (pid:{pid}) was sent SIGKILL" in log, log[-3000:]
    after = server.wait_for_workers()
    assert not set(killed) & set(after) and set(after) != set(before)

    _assert_in_database(forum, result.acked)
    # Whatever a killed worker committed but never indexed is still queued; the drain
    # command (or the next start) applies it.
    left = _pending(forum)
    output = flask_cli(forum.instance, "forum", "index", "--drain")
    print(f"{left} change(s) queued after the load; forum index --drain: {output.strip()}")
    assert output.rstrip().endswith("0 left.")
    assert _pending(forum) == 0
    _assert_searchable(forum, result.acked)
    with forum.app.app_context():
        threads = db.session.scalar(select(func.count()).select_from(Thread))
        db.session.remove()
    assert threads == 4
    _report_rss(server)
