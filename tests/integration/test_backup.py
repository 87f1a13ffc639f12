"""``flask --app wsgi forum backup``: a consistent copy while the forum writes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from config import TestingConfig
from forum import create_app
from forum.services import backup

BATCH = 10  # the writer commits rows ten at a time: a consistent copy holds whole batches


def _make_live_db(path: Path, rows: int = 20_000) -> None:
    """A WAL database with a few MB of rows, like the forum's."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, batch INTEGER, body TEXT)")
    conn.executemany(
        "INSERT INTO posts (batch, body) VALUES (?, ?)",
        [(n // BATCH, "x" * 200) for n in range(rows)],
    )
    conn.commit()
    conn.close()


class Writer(threading.Thread):
    """Another process's connection, committing batches of rows as fast as it can."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.batches = 0
        self.errors: list[str] = []

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                batch = conn.execute("SELECT max(batch) + 1 FROM posts").fetchone()[0]
                conn.executemany(
                    "INSERT INTO posts (batch, body) VALUES (?, ?)",
                    [(batch, "written during the backup")] * BATCH,
                )
                conn.execute("COMMIT")
                self.batches += 1
        except sqlite3.Error as exc:
            self.errors.append(repr(exc))
        finally:
            conn.close()

    def wait_for(self, batches: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.batches < batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.batches >= batches, self.errors


def _rows(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*), min(id), max(id) FROM posts").fetchone()
    finally:
        conn.close()


def test_backup_while_another_connection_writes(tmp_path):
    live = tmp_path / "cairn.db"
    _make_live_db(live)
    writer = Writer(live)
    writer.start()
    try:
        writer.wait_for(5)
        before = writer.batches
        report = backup.backup(f"sqlite:///{live}", tmp_path / "copy.db", instance_dir=tmp_path)
        writer.wait_for(before + 5)  # the writer went on: the backup never blocked it
    finally:
        writer.stop.set()
        writer.join()
    assert not writer.errors

    copy = tmp_path / "copy.db"
    assert report.path == copy and report.size == copy.stat().st_size
    assert report.counts["posts"] == _rows(copy)[0]
    count, first, last = _rows(copy)
    # Whole transactions only, none torn, none missing in the middle.
    assert count % BATCH == 0 and (first, last) == (1, count)
    assert 20_000 + 5 * BATCH <= count < _rows(live)[0]
    # One self-contained file: no -wal beside it is needed to read it.
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert not list(tmp_path.glob(".copy.db.partial*"))


def _cli_app(tmp_path: Path, url: str) -> Flask:
    config = type(
        "BackupConfig",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(tmp_path / "search-index")},
    )
    app = create_app(config)
    app.instance_path = str(tmp_path / "instance")
    return app


def test_backup_command_writes_a_verified_copy_to_the_instance_folder(tmp_path):
    live = tmp_path / "cairn.db"
    _make_live_db(live, rows=50)
    app = _cli_app(tmp_path, f"sqlite:///{live}")
    result = app.test_cli_runner().invoke(args=["forum", "backup"])
    assert result.exit_code == 0, result.output
    copies = list((tmp_path / "instance" / "backups").glob("cairn-*.db"))
    assert len(copies) == 1
    assert copies[0].name[len("cairn-") : -len(".db")].replace("-", "").isdigit()
    assert f"Wrote {copies[0]}" in result.output
    assert "integrity_check: ok" in result.output
    assert "50 posts" in result.output and "forum reindex" in result.output
    assert _rows(copies[0]) == (50, 1, 50)

    # An existing folder as DEST: the copy goes inside it, under the same kind of name.
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    result = app.test_cli_runner().invoke(args=["forum", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in folder.iterdir()] == [".db"]


@pytest.mark.parametrize(
    ("dest", "message"),
    [
        ("missing/folder/copy.db", "does not exist"),
        ("taken.db", "already exists"),
        ("cairn.db", "already exists"),  # the live database itself
        ("readonly/copy.db", "not writable"),
    ],
)
def test_bad_destination_is_a_clear_error(tmp_path, dest, message):
    live = tmp_path / "cairn.db"
    _make_live_db(live, rows=10)
    (tmp_path / "taken.db").write_text("an earlier backup")
    (tmp_path / "readonly").mkdir(mode=0o500)
    if message == "not writable" and os.access(tmp_path / "readonly", os.W_OK):
        pytest.skip("running as a user who may write anywhere (root)")
    app = _cli_app(tmp_path, f"sqlite:///{live}")
    result = app.test_cli_runner().invoke(args=["forum", "backup", str(tmp_path / dest)])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert (tmp_path / "taken.db").read_text() == "an earlier backup"
    assert _rows(live)[0] == 10


def test_postgres_without_pg_dump_says_what_to_run(tmp_path, monkeypatch):
    app = _cli_app(tmp_path, "postgresql+psycopg://cairn:s3cret@db.internal/cairn")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = app.test_cli_runner().invoke(args=["forum", "backup"])
    assert result.exit_code == 1
    assert "pg_dump is not on PATH" in result.output
    assert "pg_dump --format=custom --file" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")
def test_postgres_backup_runs_pg_dump(tmp_path):
    app = _cli_app(tmp_path, os.environ["TEST_DATABASE_URL"])
    result = app.test_cli_runner().invoke(args=["forum", "backup", str(tmp_path / "c.dump")])
    assert result.exit_code == 0, result.output
    assert "pg_restore --list reads it" in result.output
    assert (tmp_path / "c.dump").read_bytes()[:5] == b"PGDMP"
