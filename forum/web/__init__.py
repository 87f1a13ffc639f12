"""HTTP: blueprints parse the request, call a query or service, and render."""

from __future__ import annotations

from flask import Flask, g
from flask_login import current_user

from forum import policies
from forum.extensions import db, login_manager
from forum.models import User
from forum.ranks import ROLE_LABELS, rank_for, rank_level
from forum.services.view_counts import ViewCounter
from forum.text.markup import stored_html


def init_app(app: Flask) -> None:
    from forum.web import admin, auth, boards, errors, history, members, threads

    for module in (auth, boards, threads, members, admin, history):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    _init_login(app)
    _init_templates(app)
    app.extensions["cairn_views"] = ViewCounter(app.config["VIEW_COUNT_FLUSH_SECONDS"])

    @app.teardown_request
    def _flush_views(_exc) -> None:
        counter: ViewCounter = app.extensions["cairn_views"]
        try:
            counter.maybe_flush(db.engine)
        except Exception:  # counts are kept for the next try; never fail a page for them
            app.logger.warning("view count flush failed", exc_info=True)


def _init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to do that."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        uid, _, token = user_id.partition(":")
        if not uid.isdigit():
            return None
        user = db.session.get(User, int(uid))
        if user is None or user.session_token != token:
            return None
        return user


def _init_templates(app: Flask) -> None:
    ranks = app.config["RANKS"]
    app.jinja_env.globals.update(
        policies=policies,
        forum_name=app.config["FORUM_NAME"],
        role_labels=ROLE_LABELS,
        rank_for=lambda user: rank_for(user.post_count, ranks),
        rank_level=lambda user: rank_level(user.post_count, ranks),
    )
    app.jinja_env.filters["html"] = stored_html
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["isodate"] = lambda d: d.isoformat(timespec="seconds") + "Z" if d else ""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _viewer() -> dict:
        return {"viewer": current_user, "request_globals": g}


def format_datetime(moment) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d %b %Y, %H:%M").lstrip("0")
