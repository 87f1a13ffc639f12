"""Security headers on every kind of response, secure cookies in production, and templates
without inline scripts, event handlers or inline styles (the CSP would block them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import ProductionConfig
from forum import create_app
from forum.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import login
from tests.factories import make_thread, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def assert_secure_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_kind_of_response_carries_the_headers(client, session):
    thread = make_thread(session, title="Headers")
    make_user(session, "header_reader")
    for url in ("/", f"/t/{thread.id}/headers", "/no-such-page", "/static/cairn.css", "/login"):
        with client.get(url) as response:
            assert_secure_headers(response)
    assert_secure_headers(client.post("/logout"))  # a refused form (no CSRF token)
    login(client, "header_reader")
    assert_secure_headers(client.get("/settings/account/export"))
    assert_secure_headers(client.get(f"/t/{thread.id}"))  # a redirect


def test_production_cookies_are_secure_and_hsts_is_sent(tmp_path):
    config = type(
        "SecureRun",
        (ProductionConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
            "SECRET_KEY": "x" * 32,
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "SEARCH_DRAIN_AFTER_REQUEST": False,
            "RATELIMIT_ENABLED": False,  # the limiter is shared: leave it as the tests found it
        },
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login", base_url="https://forum.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-cairn-session=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    from forum.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_with_the_development_secret_key(tmp_path):
    import pytest

    from config import DEV_SECRET_KEY

    config = type(
        "ForgotTheKey",
        (ProductionConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'k.db'}", "SECRET_KEY": DEV_SECRET_KEY},
    )
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(config)


ALL_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", ALL_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_handler_or_style(path):
    source = path.read_text()
    scripts = re.findall(r"<script\b[^>]*>", source, re.IGNORECASE)
    assert all('type="application/ld+json"' in tag for tag in scripts), scripts
    assert not re.search(r"\son[a-z]+\s*=", source, re.IGNORECASE), "inline event handler"
    assert "javascript:" not in source.lower()
    assert not re.search(r"\sstyle\s*=", source, re.IGNORECASE), "inline style"
    assert "<style" not in source.lower()
