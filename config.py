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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'cairn.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh")  # whoosh | postgres
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search-index"))
    VOCABULARY_OVERRIDE = os.environ.get(
        "VOCABULARY_OVERRIDE", str(INSTANCE_DIR / "vocabulary.toml")
    )
    SIGNATURE_DATES_DAY_FIRST = _env_bool("SIGNATURE_DATES_DAY_FIRST", False)

    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Cairn <noreply@localhost>")
    # Without MAIL_SERVER, outgoing mail is written to this folder as .eml files.
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "mail"))

    FORUM_NAME = os.environ.get("FORUM_NAME", "Cairn")
    POSTS_PER_PAGE = 20
    THREADS_PER_PAGE = 25
    # SMF-style ranks: (minimum post count, title), ascending.
    RANKS = (
        (0, "New Member"),
        (10, "Jr. Member"),
        (50, "Full Member"),
        (150, "Sr. Member"),
        (500, "Hero Member"),
    )
    VIEW_COUNT_FLUSH_SECONDS = 5.0
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session: forms left open still post
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True


class DevelopmentConfig(Config):
    DEBUG = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105 - test-only key
    RATELIMIT_ENABLED = False
    # Tests flush view counts explicitly: a background write would wait on the test's transaction.
    VIEW_COUNT_FLUSH_SECONDS = 10_000_000.0


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("CAIRN_CONFIG", "development")]
