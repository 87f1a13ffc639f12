"""Cairn: a peer-support forum for people living with a rare condition."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from forum.extensions import csrf, db, limiter, login_manager, mail, migrate


def create_app(config: Any = None) -> Flask:
    """Build the app. ``config`` is a config class, a dict of overrides, or None (environment)."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        instance_path=os.environ.get("CAIRN_INSTANCE_DIR", str(root / "instance")),
    )
    from config import DEV_SECRET_KEY, Config, config_from_env

    if isinstance(config, type) and issubclass(config, Config):
        app.config.from_object(config)
    else:
        app.config.from_object(config_from_env())
        if isinstance(config, dict):
            app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("REQUIRE_SECRET_KEY") and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError(
            "SECRET_KEY is not set: production signs sessions, CSRF tokens and mail links with "
            "it. Set it in the environment (python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'), the same on every app server."
        )
    if app.config.get("TRUSTED_PROXIES"):
        _trust_proxies(app, int(app.config["TRUSTED_PROXIES"]))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)

    from forum.database import configure_engine

    with app.app_context():
        configure_engine(app, db.engine)

    from forum import cli, web

    web.init_app(app)
    cli.init_app(app)
    return app


def _trust_proxies(app: Flask, depth: int) -> None:
    """Read the visitor's address and scheme from the proxies' X-Forwarded-For/-Proto.

    Not X-Forwarded-Host/-Port/-Prefix: nginx passes the Host header on itself, and a client's
    own X-Forwarded-Host would otherwise reach the app untouched.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=depth, x_proto=depth)  # type: ignore[method-assign]


def current_vocabulary():
    """The medical vocabulary: the shipped file merged with the admins' override.

    Cheap to call per request: ``load_vocabulary`` caches by file and modification time, so an
    edited ``instance/vocabulary.toml`` takes effect without a restart.
    """
    from forum.vocabulary import load_vocabulary

    return load_vocabulary(current_app.config["VOCABULARY_OVERRIDE"])
