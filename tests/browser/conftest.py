"""A real server in a thread and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestingConfig
from forum import create_app
from forum.extensions import db

# The live server's app, for tests that need to run what cron would run against it.
LIVE_APPS: list = []

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """Serve a fresh forum (migrated, demo data loaded) on a free loopback port."""
    instance = tmp_path_factory.mktemp("live")
    config = type(
        "LiveConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'live.db'}",
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "MAIL_FOLDER": str(instance / "mail"),
            "VOCABULARY_OVERRIDE": str(instance / "vocabulary.toml"),
            "VIEW_COUNT_FLUSH_SECONDS": 0.0,
        },
    )
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from forum.demo import load_demo

        upgrade()
        load_demo(db.session)
    LIVE_APPS.append(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install chromium "
            "(make test does this when run as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=True)
    page = context.new_page()
    yield page
    context.close()
