"""Draining the search queue never makes posters wait behind an index commit (SQLite + Whoosh).

The drain holds the index's writer while it reads the queue and the posts and writes the index,
but the database only for reading: another connection can take SQLite's write lock at once
meanwhile. The queue rows go only once the index is saved.
"""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import SearchQueueEntry
from forum.search.factory import search_backend
from forum.search.query import parse_query
from forum.services import indexing
from tests.conftest import migrated_app
from tests.factories import make_board, make_thread, make_user


@pytest.fixture
def file_app(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'drain.db'}", tmp_path)
    yield app, tmp_path / "drain.db"
    with app.app_context():
        db.engine.dispose()


def test_posting_can_write_while_the_drain_writes_the_index(file_app):
    app, path = file_app
    with app.app_context():
        session = db.session
        board = make_board(session, "Radiation")
        make_thread(session, board, make_user(session, "drainer"), title="Marigold therapy")
        assert session.scalar(select(func.count()).select_from(SearchQueueEntry)) > 0
        backend = search_backend()
        seen: list[str] = []
        holding = backend.writing

        def poster_can_write() -> None:
            # While the drain writes the index (its reads done, its read transaction still
            # open): a poster's connection gets SQLite's write lock without waiting at all.
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.append("write lock free")
            except sqlite3.OperationalError as exc:
                seen.append(str(exc))
            finally:
                other.close()
            queued = session.scalar(select(func.count()).select_from(SearchQueueEntry))
            seen.append(f"{queued} still queued")

        @contextlib.contextmanager
        def writing_then_check():
            with holding() as index:
                add = index.add

                def checked_add(docs):
                    poster_can_write()
                    add(docs)

                index.add = checked_add
                yield index

        backend.writing = writing_then_check
        try:
            done = indexing.drain_all(session, backend)
        finally:
            del backend.writing
        assert done > 0
        assert seen[0] == "write lock free" and seen[1] != "0 still queued"
        assert session.scalar(select(func.count()).select_from(SearchQueueEntry)) == 0
        results = backend.search(parse_query("marigold"), include_members_only=True)
        assert [h.thread_title for h in results.hits] == ["Marigold therapy"]
