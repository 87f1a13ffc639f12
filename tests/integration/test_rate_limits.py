"""Rate limits (Flask-Limiter) on logging in, registering, posting, reporting and searching,
answered by a clear 429 page; in memory by default, in Redis when ``REDIS_URL`` is set.

The limiter is one object shared by every app in the test process: these tests switch it on
for an app of their own and switch it off again afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from html import unescape

import pytest
from sqlalchemy import select

from config import TestingConfig
from forum import create_app
from forum.extensions import db, limiter
from tests.conftest import post_form

STORAGES = ["memory://"] + (
    [os.environ["TEST_REDIS_URL"]] if os.environ.get("TEST_REDIS_URL") else []
)
LIMITS = {
    "RATELIMIT_LOGIN": "3 per minute",
    "RATELIMIT_REGISTER": "2 per minute",
    "RATELIMIT_NEW_THREAD": "2 per minute",
    "RATELIMIT_REPLY": "2 per minute",
    "RATELIMIT_REPORT": "2 per minute",
    "RATELIMIT_ACCOUNT_MAIL": "2 per minute",
}


@pytest.fixture(scope="module", params=STORAGES, ids=lambda s: s.split(":")[0])
def limited_app(request, tmp_path_factory):
    instance = tmp_path_factory.mktemp("limited")
    config = type(
        "Limited",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'limited.db'}",
            "SEARCH_INDEX_DIR": str(instance / "ix"),
            "MAIL_FOLDER": str(instance / "mail"),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": request.param,
            "RATELIMIT_KEY_PREFIX": f"cairn-test-{uuid.uuid4().hex[:8]}",
            **LIMITS,
        },
    )
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from forum.models import Category
        from forum.services import accounts, boards

        upgrade()
        db.session.add(Category(name="Limits"))
        db.session.commit()
        category_id = db.session.scalar(select(Category.id))
        boards.save_board(db.session, None, category_id=category_id, name="Limited board")
        for name in ("poster", "reporter", "author"):
            accounts.register(db.session, name, f"{name}@example.org", "correct horse battery")
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = False
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def client(limited_app):
    limiter.enabled = True
    limiter.reset()
    yield limited_app.test_client()
    limiter.reset()
    limiter.enabled = False


def assert_limited(response) -> None:
    assert response.status_code == 429
    page = unescape(response.get_data(as_text=True))
    assert "Slow down a little" in page and "Please wait a little" in page
    assert int(response.headers["Retry-After"]) > 0


def log_in(client, name):
    response = post_form(client, "/login", {"username": name, "password": "correct horse battery"})
    assert response.status_code == 302
    limiter.reset()  # logging in counted against the login limit


def test_login_attempts_are_limited(client):
    for _ in range(3):
        assert (
            post_form(client, "/login", {"username": "nobody", "password": "x"}).status_code == 400
        )
    assert_limited(post_form(client, "/login", {"username": "nobody", "password": "x"}))
    assert client.get("/login").status_code == 200  # reading the form isn't limited


def test_registration_is_limited(client):
    for _ in range(2):
        assert post_form(client, "/register", {"username": "x"}).status_code == 400
    assert_limited(post_form(client, "/register", {"username": "x"}))


def test_posting_is_limited(client, limited_app):
    log_in(client, "poster")
    for i in range(2):
        response = post_form(client, "/b/limited-board/new", {"title": f"T{i}", "body": f"B{i}"})
        assert response.status_code == 302
    assert_limited(post_form(client, "/b/limited-board/new", {"title": "T", "body": "B"}))
    with limited_app.app_context():
        from forum.models import Thread

        thread_id = db.session.scalar(select(Thread.id).limit(1))
    for i in range(2):
        response = post_form(client, f"/t/{thread_id}/reply", {"body": f"Reply {i}"})
        assert response.status_code == 302
    assert_limited(post_form(client, f"/t/{thread_id}/reply", {"body": "One too many"}))


def test_reporting_is_limited(client, limited_app):
    with limited_app.app_context():
        from forum.models import Board, Post, User
        from forum.services import posting

        author = db.session.scalar(select(User).where(User.username == "author"))
        board = db.session.scalar(select(Board))
        thread = posting.start_thread(db.session, author, board, "Reported", "Text")
        post_ids = [thread.first_post_id]
        for i in range(2):
            post_ids.append(posting.reply(db.session, author, thread, board, f"R{i}").id)
        assert db.session.get(Post, post_ids[0]) is not None
    log_in(client, "reporter")
    for post_id in post_ids[:2]:
        response = post_form(client, f"/p/{post_id}/report", {"reason": "Spam"})
        assert response.status_code == 302
    assert_limited(post_form(client, f"/p/{post_ids[2]}/report", {"reason": "Spam"}))


def test_reset_mails_are_limited(client):
    for _ in range(2):
        assert post_form(client, "/reset-password", {"login": "nobody"}).status_code == 302
    assert_limited(post_form(client, "/reset-password", {"login": "nobody"}))


def test_search_is_limited(client):
    for _ in range(60):
        assert client.get("/search?q=").status_code == 200
    assert_limited(client.get("/search?q="))


def test_redis_storage_is_used_when_redis_url_is_set():
    code = "import config; print(config.Config.RATELIMIT_STORAGE_URI)"
    env = {**os.environ, "REDIS_URL": "redis://cache.internal:6379/2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "redis://cache.internal:6379/2"
    env.pop("REDIS_URL")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "memory://"
