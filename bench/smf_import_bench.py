"""SMF import benchmark: messages per second for N generated SMF messages.

    .venv/bin/python bench/smf_import_bench.py [--messages 100000] [--bodies mixed|bbcode]
        [--mariadb] [--version 2.1] [--workers 1] [--search]

The SMF side is an SQLite file (or, with --mariadb, a throwaway database on
TEST_MARIADB_URL / 127.0.0.1:3306, dropped afterwards); Cairn's side a fresh SQLite database
built by the migrations. Generation is not timed; the messages step (BBCode → Markdown →
sanitized HTML, bulk insert, import map) and the whole run (counters; the Whoosh search index
too with --search) are. Bodies are unique (numbered): "mixed" is half plain prose and half
BBCode, "bbcode" every message formatted (see ``tests/smf_fixtures.py``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import TestingConfig
from forum import create_app, current_vocabulary
from forum.extensions import db
from forum.importers.smf import SmfSource
from forum.importers.smf_writer import SmfImporter
from tests.smf_fixtures import SmfDatabase, add_bulk, build, mariadb_server_url


def _cpu_seconds() -> float:
    """CPU time of this process (worker processes are counted only once they have ended)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--version", choices=["2.0", "2.1"], default="2.1")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--mariadb", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="processes converting bodies")
    parser.add_argument("--bodies", choices=["mixed", "bbcode"], default="mixed")
    parser.add_argument("--search", action="store_true", help="also build the search index")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        smf = SmfDatabase(tmp_path, mariadb_server_url() if args.mariadb else None)
        try:
            started = time.perf_counter()
            build(smf.engine, args.version)
            add_bulk(smf.engine, args.version, args.messages, bodies=args.bodies)
            print(f"generated {args.messages} SMF messages in {time.perf_counter() - started:.1f}s")
            config = type(
                "BenchConfig",
                (TestingConfig,),
                {
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cairn.db'}",
                    "SEARCH_INDEX_DIR": str(tmp_path / "index"),
                },
            )
            app = create_app(config)
            with app.app_context():
                from flask_migrate import upgrade

                from forum.search.factory import search_backend

                upgrade()
                source = SmfSource(smf.engine)
                importer = SmfImporter(
                    db.session,
                    source,
                    vocabulary=current_vocabulary(),
                    batch_size=args.batch_size,
                    workers=args.workers,
                )
                timings, cpu = {}, {}
                total_start = time.perf_counter()
                for step in (
                    "categories",
                    "boards",
                    "members",
                    "topics",
                    "messages",
                    "personal_messages",
                ):
                    step_start, cpu_start = time.perf_counter(), _cpu_seconds()
                    getattr(importer, f"import_{step}")()
                    timings[step] = time.perf_counter() - step_start
                    cpu[step] = _cpu_seconds() - cpu_start
                importer.close()
                step_start = time.perf_counter()
                importer.finish(search_backend() if args.search else None)
                timings["finish" + (" + search" if args.search else "")] = (
                    time.perf_counter() - step_start
                )
                total = time.perf_counter() - total_start
                messages = importer.report.created["messages"]
                print(
                    f"SMF {source.version} source: {'MariaDB' if args.mariadb else 'SQLite'}; "
                    f"Cairn: SQLite; batch size {args.batch_size}; {args.workers} worker(s); "
                    f"{args.bodies} bodies"
                )
                for step, seconds in timings.items():
                    print(f"  {step:<18} {seconds:8.2f}s")
                print(f"messages step: {messages / timings['messages']:,.0f} messages/s")
                if args.workers == 1:  # steadier than the clock on a busy machine
                    rate = messages / cpu["messages"]
                    print(f"messages step: {rate:,.0f} messages per CPU second")
                print(f"whole import:  {messages / total:,.0f} messages/s ({total:.1f}s)")
                if importer.report.indexed is not None:
                    print(f"search index:  {importer.report.indexed} posts")
                db.engine.dispose()
        finally:
            smf.drop()


if __name__ == "__main__":
    main()
