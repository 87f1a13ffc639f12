"""Cairn's configuration, read from the environment.

Pick a class with ``CAIRN_CONFIG`` (development, production, testing); every setting below can be
overridden by an environment variable of the same name.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CAIRN_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEV_SECRET_KEY = "dev-only-change-me"  # noqa: S105 - refused in production (REQUIRE_SECRET_KEY)


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'cairn.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # How many reverse proxies (nginx: 1) stand in front of the app. Their X-Forwarded-For and
    # X-Forwarded-Proto are believed to that depth (the visitor's address for rate limits, https
    # links); 0 believes none. Set it only when every request comes through the proxy.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh")  # whoosh | postgres
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search-index"))
    VOCABULARY_OVERRIDE = os.environ.get(
        "VOCABULARY_OVERRIDE", str(INSTANCE_DIR / "vocabulary.toml")
    )
    SIGNATURE_DATES_DAY_FIRST = _env_bool("SIGNATURE_DATES_DAY_FIRST", False)
    # Apply queued index changes after the request that made them: in a thread of each
    # process's own (the default), or in the request's thread once its response has gone out.
    SEARCH_DRAIN_AFTER_REQUEST = _env_bool("SEARCH_DRAIN_AFTER_REQUEST", True)
    SEARCH_DRAIN_IN_BACKGROUND = _env_bool("SEARCH_DRAIN_IN_BACKGROUND", True)

    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    # Visitors' thread pages, kept whole (see forum/web/page_cache.py) for PAGE_CACHE_TTL
    # seconds: up to PAGE_CACHE_MAX_ENTRIES in each process and, when REDIS_URL is set, in Redis
    # too (shared by every server).
    PAGE_CACHE_ENABLED = _env_bool("PAGE_CACHE_ENABLED", True)
    PAGE_CACHE_MAX_ENTRIES = _env_int("PAGE_CACHE_MAX_ENTRIES", 512)
    PAGE_CACHE_TTL = _env_int("PAGE_CACHE_TTL", 3600)
    PAGE_CACHE_PREFIX = os.environ.get("PAGE_CACHE_PREFIX", "cairn:page:")
    RATELIMIT_HEADERS_ENABLED = True
    # Limits per client address (Flask-Limiter syntax); beyond them a 429 page says to wait.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "20 per 15 minutes")
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per hour")
    RATELIMIT_NEW_THREAD = os.environ.get("RATELIMIT_NEW_THREAD", "10 per minute")
    RATELIMIT_REPLY = os.environ.get("RATELIMIT_REPLY", "20 per minute")
    RATELIMIT_REPORT = os.environ.get("RATELIMIT_REPORT", "10 per hour")
    # Password reset, verification and change-of-address emails.
    RATELIMIT_ACCOUNT_MAIL = os.environ.get("RATELIMIT_ACCOUNT_MAIL", "5 per hour")

    # Moderation and spam. New members' first APPROVAL_POST_COUNT posts wait for a moderator
    # (0: never); members with fewer than NEW_MEMBER_POSTS posts may put at most
    # NEW_MEMBER_MAX_LINKS links to other sites in a post.
    APPROVAL_POST_COUNT = _env_int("APPROVAL_POST_COUNT", 1)
    NEW_MEMBER_POSTS = _env_int("NEW_MEMBER_POSTS", 5)
    NEW_MEMBER_MAX_LINKS = _env_int("NEW_MEMBER_MAX_LINKS", 2)

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Cairn <noreply@localhost>")
    # Without MAIL_SERVER, outgoing mail is written to this folder as .eml files.
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "mail"))
    # Links in emails (digests are sent from cron, outside any request) start with this.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # "after_response": send queued mail once the response has gone out; "cron": only from
    # `flask --app wsgi forum send-mail`. Failed sends stay in the outbox and are retried.
    MAIL_DELIVERY = os.environ.get("MAIL_DELIVERY", "after_response")
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)
    UNSUBSCRIBE_MAX_AGE_DAYS = _env_int("UNSUBSCRIBE_MAX_AGE_DAYS", 365)
    # New members start private conversations once they have this many public posts
    # (they can always write to moderators, and reply when someone writes to them).
    PM_MIN_POSTS = _env_int("PM_MIN_POSTS", 3)
    PM_MAX_RECIPIENTS = _env_int("PM_MAX_RECIPIENTS", 10)

    FORUM_NAME = os.environ.get("FORUM_NAME", "Cairn")
    POSTS_PER_PAGE = 20
    THREADS_PER_PAGE = 25
    MESSAGES_PER_PAGE = 30
    NOTIFICATIONS_PER_PAGE = 30
    # SMF-style ranks: (minimum post count, title), ascending.
    RANKS = (
        (0, "New Member"),
        (10, "Jr. Member"),
        (50, "Full Member"),
        (150, "Sr. Member"),
        (500, "Hero Member"),
    )
    VIEW_COUNT_FLUSH_SECONDS = 5.0
    # SQLite only: how long a transaction waits for another process's write lock.
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS") or 15000)
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session: forms left open still post
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True


class DevelopmentConfig(Config):
    DEBUG = False


class ProductionConfig(Config):
    REQUIRE_SECRET_KEY = True  # the app refuses to start with the development key
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    # "__Host-": the browser keeps these cookies only when Secure, for the whole site, and
    # never for a subdomain.
    SESSION_COOKIE_NAME = "__Host-cairn-session"
    REMEMBER_COOKIE_NAME = "__Host-cairn-remember"
    PREFERRED_URL_SCHEME = "https"
    # Strict-Transport-Security on every response (see forum/web/security.py).
    SECURITY_HSTS = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105 - test-only key
    RATELIMIT_ENABLED = False
    # Page-cache tests turn this on; elsewhere a test that changes what a page shows without
    # going through a service (a flushed view count) expects a fresh render.
    PAGE_CACHE_ENABLED = False
    # Tests that hold posts for approval turn this on.
    APPROVAL_POST_COUNT = 0
    # Search tests turn this on; elsewhere posting needn't write to an index in every test.
    SEARCH_DRAIN_AFTER_REQUEST = False
    # Where they do, the index is up to date by the test's next line (drained in the request's
    # own thread after the response); tests/integration/test_search_drainer.py covers the thread.
    SEARCH_DRAIN_IN_BACKGROUND = False
    # Tests flush view counts explicitly: a background write would wait on the test's transaction.
    VIEW_COUNT_FLUSH_SECONDS = 10_000_000.0


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("CAIRN_CONFIG", "development")]
