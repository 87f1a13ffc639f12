"""The migrations build the whole schema from nothing, match the models, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from config import TestingConfig
from forum import create_app
from forum.extensions import db


def not_postgres_only(obj, name, type_, reflected, compare_to) -> bool:
    """The search tables flagged ``postgres_only`` are not created on SQLite (migration 0003)."""
    return not (type_ == "table" and obj.info.get("postgres_only"))


def test_upgrade_empty_database_matches_models_then_downgrades(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    config = type("Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                             "SEARCH_INDEX_DIR": str(tmp_path / "ix")})
    app = create_app(config)
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"render_as_batch": True, "include_object": not_postgres_only}
            )
            assert compare_metadata(context, db.metadata) == []
        tables = set(inspect(engine).get_table_names())
        assert {"users", "boards", "threads", "posts", "history_events", "search_queue"} <= tables
        downgrade(revision="base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        db.engine.dispose()
