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
    from config import Config, config_from_env

    if isinstance(config, type) and issubclass(config, Config):
        app.config.from_object(config)
    else:
        app.config.from_object(config_from_env())
        if isinstance(config, dict):
            app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

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


def current_vocabulary():
    """The medical vocabulary: the shipped file merged with the admins' override.

    Cheap to call per request: ``load_vocabulary`` caches by file and modification time, so an
    edited ``instance/vocabulary.toml`` takes effect without a restart.
    """
    from forum.vocabulary import load_vocabulary

    return load_vocabulary(current_app.config["VOCABULARY_OVERRIDE"])
