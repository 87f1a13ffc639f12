"""HTTP: blueprints parse the request, call a query or service, and render."""

from __future__ import annotations

from functools import partial

from flask import Flask, g, has_request_context
from flask_login import current_user

from forum import policies
from forum.extensions import db, login_manager
from forum.models import User
from forum.ranks import ROLE_LABELS, rank_for, rank_level
from forum.services.view_counts import ViewCounter
from forum.text.markup import stored_html
from forum.web.after_response import after_response
from forum.web.helpers import bounded_ids


def init_app(app: Flask) -> None:
    from forum.web.after_response import AfterResponseMiddleware

    app.wsgi_app = AfterResponseMiddleware(app.wsgi_app)
    from forum.web import (
        admin,
        auth,
        boards,
        errors,
        history,
        members,
        outcomes,
        reminders,
        search,
        threads,
    )

    for module in (auth, boards, threads, members, admin, history, outcomes, reminders):
        app.register_blueprint(module.bp)
    search.init_app(app)
    errors.init_app(app)
    app.url_value_preprocessor(bounded_ids)
    _init_login(app)
    _init_templates(app)
    _init_moderation_and_accounts(app)
    _init_inbox(app)
    _init_imports(app)
    _init_seo(app)
    app.extensions["cairn_views"] = ViewCounter(app.config["VIEW_COUNT_FLUSH_SECONDS"])

    @app.teardown_request
    def _flush_views_after_response(_exc) -> None:
        # Not here: on SQLite this request's session may still hold the write lock (an unsafe
        # request begins IMMEDIATE), and a second connection from this thread would wait for
        # it until the busy timeout. After the response the session is gone.
        if app.extensions["cairn_views"].due():
            after_response(partial(_flush_views, app))


def _flush_views(app: Flask) -> None:
    counter: ViewCounter = app.extensions["cairn_views"]
    with app.app_context():
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
        if not (uid.isascii() and uid.isdigit()):
            return None
        user = db.session.get(User, int(uid))
        if user is None or user.session_token != token:
            return None
        if user.deleted_at is not None or policies.is_banned(user):
            return None
        from forum.services import board_moderators

        board_moderators.load(db.session, user)  # once per request, for every policy question
        return user


def _init_moderation_and_accounts(app: Flask) -> None:
    """Moderation (queue, thread tools, reports, suspensions), account settings, data rights,
    and the security headers on every response."""
    from forum.web import account, moderation, security

    for module in (moderation, account):
        app.register_blueprint(module.bp)
    security.init_app(app)


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
        # The user object itself, not Flask-Login's proxy: a page asks the policies about the
        # viewer a few hundred times, and every proxied attribute costs a lookup.
        viewer = current_user._get_current_object() if has_request_context() else current_user
        return {"viewer": viewer, "request_globals": g}

    @app.context_processor
    def _reminders() -> dict:
        return {"due_reminders": _due_reminders}


def _due_reminders() -> list:
    """The logged-in member's due update reminders, for the notice in base.html.

    Called from the template, so it costs one query only on pages that show it, for members
    only, once per request; never fails a page.
    """
    if "cairn_due_reminders" not in g:
        g.cairn_due_reminders = []
        if policies.is_member(current_user):
            from sqlalchemy.exc import SQLAlchemyError

            from forum.outcome_queries import due_reminders

            try:
                g.cairn_due_reminders = due_reminders(db.session, current_user)
            except SQLAlchemyError:
                db.session.rollback()
    return g.cairn_due_reminders



def _init_imports(app: Flask) -> None:
    """Old forum links (``/index.php?topic=…``) and imported members' signature review."""
    from forum.web import legacy_links, signature_review

    for module in (legacy_links, signature_review):
        app.register_blueprint(module.bp)


def _init_inbox(app: Flask) -> None:
    """Notifications, private messages, unsubscribe links, and the header's unread counts.

    ``inbox_counts()`` is called from base.html: one query for members (once per request),
    none for visitors.
    """
    from forum.web import messages, notifications, unsubscribe

    for module in (notifications, messages, unsubscribe):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _inbox() -> dict:
        return {"inbox_counts": notifications.inbox_counts}
def format_datetime(moment) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d %b %Y, %H:%M").lstrip("0")


def _init_seo(app: Flask) -> None:
    """Sitemaps, robots.txt and feeds; fingerprinted static files; ETags, 304s, compression."""
    from forum.web import caching, seo, static_files

    app.register_blueprint(seo.bp)
    static_files.init_app(app)
    caching.init_app(app)
