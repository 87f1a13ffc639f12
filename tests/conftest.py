"""Test fixtures: one fixture owns the database; each test runs in a rolled-back transaction.

The schema comes from the migrations. Database tests run on SQLite, and also on PostgreSQL when
``TEST_DATABASE_URL`` points at a throwaway PostgreSQL database (its schema is wiped first).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session as SQLAlchemySession

from config import TestingConfig
from forum import create_app
from forum.extensions import db
from forum.services import accounts

# Still scrypt, with a small work factor: tests create hundreds of accounts. Verification reads the
# parameters from each stored hash, so production hashes are unaffected.
accounts.PASSWORD_METHOD = "scrypt:1024:8:1"

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


def _wipe_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "postgres":
        url = os.environ["TEST_DATABASE_URL"]
        _wipe_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cairn-test.db'}"


def migrated_app(database_url: str, instance: Path, **settings) -> Flask:
    """An app of the testing config on ``database_url``, migrated, its files in ``instance``."""
    config = type(
        "RunConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "MAIL_FOLDER": str(instance / "mail"),
            "VOCABULARY_OVERRIDE": str(instance / "vocabulary.toml"),
            **settings,
        },
    )
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


@pytest.fixture(scope="session")
def base_app(database_url: str, tmp_path_factory) -> Iterator[Flask]:
    app = migrated_app(database_url, tmp_path_factory.mktemp("instance"))
    yield app
    with app.app_context():
        db.engine.dispose()


class JoinedSession(SQLAlchemySession):
    """SQLAlchemy's own bind resolution: Flask-SQLAlchemy's would bypass the test connection."""

    def __init__(self, db=None, **options) -> None:
        super().__init__(**options)


@pytest.fixture
def connection(base_app: Flask):
    """One connection and outer transaction per test, rolled back at the end."""
    with base_app.app_context():
        engine = db.engine
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def app(base_app: Flask, connection) -> Iterator[Flask]:
    """The app; every request (and CLI call) gets its own session, joined to the test's transaction.

    No app context stays pushed during the test, so each request has a fresh ``g`` as in production.
    """
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield base_app
    finally:
        db.session = original


@pytest.fixture
def session(app: Flask, connection):
    """The test's own session on the same transaction (services are called with it directly)."""
    test_session = JoinedSession(bind=connection, join_transaction_mode="create_savepoint")
    yield test_session
    test_session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return ServerLikeClient(app, app.response_class, use_cookies=True)


class ServerLikeClient(FlaskClient):
    """Reads each response whole and closes it, as a server sending it would.

    Work queued to run after the response (mail, search indexing) then runs before the test's
    next line, as it does after a real server has sent the body.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def count_queries(base_app: Flask):
    """Records the SQL statements run inside ``with count_queries() as statements:``."""
    from contextlib import contextmanager

    with base_app.app_context():
        engine = db.engine

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict, *, form_url: str | None = None, **kw):
    """Submit a form the way a browser does: fetch the page for its CSRF token, then POST."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kw)


def logout(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    if "Log out" in page:
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def login(client: FlaskClient, username: str, password: str = "correct horse battery") -> None:  # noqa: S107
    """Log in through the real form (logging out whoever was logged in first)."""
    logout(client)
    response = post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
