"""Backups taken while the forum runs: ``flask --app wsgi forum backup [DEST]``.

**SQLite (the embedded default).** sqlite3's online backup API copies the database in one step
from a single read snapshot: in WAL mode that never blocks the gunicorn workers' writes, and the
copy holds exactly the transactions committed when it began -- never half of one. The copy is
written beside its destination under a temporary name, switched to a self-contained single file
(``journal_mode=DELETE``), checked with ``PRAGMA integrity_check``, synced to disk, and only
then given its name.

**The search index is not copied.** It is derived entirely from the database, and no copy of it
taken while the forum runs can match the database copy: it would hold posts newer than the
snapshot (phantom hits after a restore) or miss ones the queue no longer lists. After a restore,
``flask --app wsgi forum reindex`` rebuilds it from the restored database (search keeps working
meanwhile).

**PostgreSQL.** ``pg_dump --format=custom`` when it is on PATH (the password, if the URL holds
one, goes to pg_dump through ``PGPASSWORD``, never on its command line); otherwise the error
says what to install and run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

REINDEX_NOTE = (
    "The search index is not part of a backup: after restoring, rebuild it with "
    "`flask --app wsgi forum reindex`."
)
COUNTED_TABLES = ("users", "threads", "posts")


class BackupError(Exception):
    """A backup that could not be taken; the message says why and what to do."""


@dataclass
class BackupReport:
    path: Path
    size: int
    kind: str  # "sqlite" | "postgresql"
    verified: str  # how the copy was checked
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [f"Wrote {self.path} ({_human(self.size)}, {self.kind}).", self.verified]
        if self.counts:
            lines.append("Holds " + ", ".join(f"{n} {t}" for t, n in self.counts.items()) + ".")
        lines.append(REINDEX_NOTE)
        return lines


def backup(url: str | URL, dest: Path | None, *, instance_dir: Path) -> BackupReport:
    """Back up the database at ``url`` to ``dest`` (a new file, or an existing folder to put
    it in); without ``dest``, to ``instance_dir/backups/cairn-YYYYmmdd-HHMMSS.db|.dump``."""
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return backup_sqlite(_sqlite_path(url), _destination(dest, instance_dir, ".db"))
    if backend == "postgresql":
        return backup_postgres(url, _destination(dest, instance_dir, ".dump"))
    raise BackupError(f"Backups are made for SQLite and PostgreSQL, not {backend}.")


def backup_sqlite(source: Path, dest: Path) -> BackupReport:
    """A consistent copy of the SQLite database ``source``, safe while others write to it."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if dest.resolve() in {source.resolve(), *(Path(f"{source}{s}") for s in ("-wal", "-shm"))}:
        raise BackupError(f"{dest} is the live database; choose another destination.")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        _copy_sqlite(source, partial)
        counts = _verify_sqlite(partial)
        if dest.exists():  # appeared meanwhile: never overwrite a backup
            raise BackupError(f"{dest} already exists; choose a new name.")
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
    except OSError as exc:
        raise BackupError(f"Could not write {dest}: {exc.strerror or exc}.") from exc
    except sqlite3.Error as exc:
        raise BackupError(f"Could not back up {source}: {exc}.") from exc
    finally:
        partial.unlink(missing_ok=True)
    verified = "PRAGMA integrity_check: ok."
    return BackupReport(dest, dest.stat().st_size, "sqlite", verified, counts)


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=15)
    try:
        dst = sqlite3.connect(target)
        try:
            # One step (pages=-1): the whole copy comes from one read snapshot. Stepwise
            # copying would restart whenever a worker commits, never finishing on a busy forum.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def _verify_sqlite(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"The copy failed its integrity check: {'; '.join(problems[:5])}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in COUNTED_TABLES
            if table in tables
        }
    finally:
        conn.close()


def backup_postgres(url: URL, dest: Path) -> BackupReport:
    """``pg_dump --format=custom`` of ``url`` into ``dest``."""
    pg_dump = shutil.which("pg_dump")
    libpq = url.set(drivername="postgresql", password=None)
    shown = libpq.render_as_string(hide_password=True)
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not on PATH. Install the PostgreSQL client tools (Debian: apt-get "
            "install postgresql-client, the same major version as the server or newer), then "
            f"run this again, or run: pg_dump --format=custom --file {dest} '{shown}'"
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    partial = dest.with_name(f".{dest.name}.partial")
    command = [pg_dump, "--format=custom", "--file", str(partial), "--dbname", shown]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
        pg_restore = shutil.which("pg_restore")
        verified = "Not verified: pg_restore is not on PATH."
        if pg_restore is not None:
            listed = subprocess.run(  # noqa: S603
                [pg_restore, "--list", str(partial)], capture_output=True, text=True, check=False
            )
            if listed.returncode != 0:
                raise BackupError(f"pg_restore cannot read the dump: {listed.stderr.strip()}")
            verified = "pg_restore --list reads it."
        if dest.exists():
            raise BackupError(f"{dest} already exists; choose a new name.")
        os.replace(partial, dest)
    except OSError as exc:
        raise BackupError(f"Could not write {dest}: {exc.strerror or exc}.") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(dest, dest.stat().st_size, "postgresql", verified)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"Cannot back up the SQLite database {url.database or ':memory:'!r}.")
    return Path(url.database).resolve()


def _destination(dest: Path | None, instance_dir: Path, suffix: str) -> Path:
    name = f"cairn-{datetime.now(UTC):%Y%m%d-%H%M%S}{suffix}"
    if dest is None:
        folder = instance_dir / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / name
    elif dest.is_dir():
        dest = dest / name
    if dest.exists():
        raise BackupError(f"{dest} already exists; choose a new name.")
    if not dest.parent.is_dir():
        raise BackupError(f"The folder {dest.parent} does not exist.")
    if not os.access(dest.parent, os.W_OK):
        raise BackupError(f"The folder {dest.parent} is not writable.")
    return dest


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
