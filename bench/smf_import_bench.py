"""SMF import benchmark: messages per second for N generated SMF messages.

    .venv/bin/python bench/smf_import_bench.py --messages 100000 [--mariadb] [--version 2.1]

The SMF side is an SQLite file (or, with --mariadb, a throwaway database on
TEST_MARIADB_URL / 127.0.0.1:3306, dropped afterwards); Cairn's side a fresh SQLite database
built by the migrations. Generation is not timed; the messages step (BBCode → Markdown →
sanitized HTML, bulk insert, import map) and the whole run (counters; no search index) are.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--version", choices=["2.0", "2.1"], default="2.1")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--mariadb", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="processes converting bodies")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        smf = SmfDatabase(tmp_path, mariadb_server_url() if args.mariadb else None)
        try:
            started = time.perf_counter()
            build(smf.engine, args.version)
            add_bulk(smf.engine, args.version, args.messages)
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

                upgrade()
                source = SmfSource(smf.engine)
                importer = SmfImporter(
                    db.session,
                    source,
                    vocabulary=current_vocabulary(),
                    batch_size=args.batch_size,
                    workers=args.workers,
                )
                timings = {}
                total_start = time.perf_counter()
                for step in (
                    "categories",
                    "boards",
                    "members",
                    "topics",
                    "messages",
                    "personal_messages",
                ):
                    step_start = time.perf_counter()
                    getattr(importer, f"import_{step}")()
                    timings[step] = time.perf_counter() - step_start
                importer.close()
                importer.finish()
                total = time.perf_counter() - total_start
                messages = importer.report.created["messages"]
                print(
                    f"SMF {source.version} source: {'MariaDB' if args.mariadb else 'SQLite'}; "
                    f"Cairn: SQLite; batch size {args.batch_size}; {args.workers} worker(s)"
                )
                for step, seconds in timings.items():
                    print(f"  {step:<18} {seconds:8.2f}s")
                print(f"messages step: {messages / timings['messages']:,.0f} messages/s")
                print(f"whole import:  {messages / total:,.0f} messages/s ({total:.1f}s)")
                db.engine.dispose()
        finally:
            smf.drop()


if __name__ == "__main__":
    main()
