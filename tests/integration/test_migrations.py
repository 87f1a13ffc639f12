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
    config = type(
        "Fresh",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix")},
    )
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
        # A thread's references to posts are indexed: deleting a post (ON DELETE SET NULL), or
        # inserting one while a deferred reference waits for it, looks them up (0009).
        indexed = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("threads")}
        assert {("first_post_id",), ("last_post_id",), ("outcome_post_id",)} <= indexed
        downgrade(revision="base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        db.engine.dispose()


def test_upgrading_a_populated_sqlite_database_keeps_every_row(tmp_path):
    """Table rebuilds in later revisions must not fail or cascade on existing data."""
    from sqlalchemy import text

    from forum.demo import load_demo

    url = f"sqlite:///{tmp_path / 'populated.db'}"
    config = type(
        "Populated",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix")},
    )
    app = create_app(config)
    with app.app_context():
        upgrade(revision="0001")
        # The demo community as the first revision's schema can hold it.
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO categories (id, name, position) VALUES (1, 'C', 1)"))
            conn.execute(
                text(
                    "INSERT INTO boards (id, category_id, name, slug, description, position,"
                    " members_only, thread_count, post_count)"
                    " VALUES (1, 1, 'B', 'b', '', 1, 0, 1, 2)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, email, email_key, role,"
                    " custom_title, signature, history_visibility, profile_indexable, in_memoriam,"
                    " memorial_line, post_count, created_at, session_token, anniversary_reminders)"
                    " VALUES (1, 'u', 'u', 'u@example.org', 'u@example.org', 'member', '', '',"
                    " 'public', 0, 0, '', 2, '2020-01-01', 't', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO threads (id, board_id, author_id, title, slug, created_at,"
                    " last_post_at, post_count, next_position, view_count, is_sticky, is_locked,"
                    " changed_at, outcome_summary) VALUES (1, 1, 1, 'T', 't', '2020-01-01',"
                    " '2020-01-01', 2, 2, 0, 0, 0, '2020-01-01', '')"
                )
            )
            for pid in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO posts (id, thread_id, author_id, position, body, body_html,"
                        f" created_at, is_update) VALUES ({pid}, 1, 1, {pid - 1}, 'x', '<p>x</p>',"
                        " '2020-01-01', 0)"
                    )
                )
            conn.execute(text("UPDATE threads SET first_post_id = 1, last_post_id = 2"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM posts")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM threads")).scalar() == 1
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert load_demo  # the demo loader targets the head schema; raw rows cover 0001
        db.engine.dispose()
