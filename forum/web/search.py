"""/search: a plain GET, so a result page can be bookmarked and shared."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from forum import policies
from forum.extensions import limiter
from forum.search.factory import search_backend
from forum.search.query import parse_query
from forum.web.helpers import page_arg

bp = Blueprint("search", __name__)
MAX_QUERY = 500
SORTS = ("relevance", "newest")


@bp.route("/search")
@limiter.limit("60 per minute")
def results():
    text = request.args.get("q", "")
    sort = request.args.get("sort", "relevance")
    notices = []
    if len(text) > MAX_QUERY:
        text = text[:MAX_QUERY]
        notices.append(f"Searches are limited to {MAX_QUERY} characters; the rest was ignored.")
    if sort not in SORTS:
        notices.append("Results can be sorted by relevance or newest; showing by relevance.")
        sort = "relevance"
    page = page_arg()
    query = parse_query(text)
    results = None
    if not query.is_empty:
        results = search_backend().search(
            query,
            include_members_only=policies.is_member(current_user),
            page=page,
            sort=sort,
        )
        notices.extend(results.notices)
    else:
        notices.extend(query.notices)
    return render_template(
        "search.html", q=text, sort=sort, query=query, results=results, notices=notices
    )


def init_app(app) -> None:
    """Apply queued index changes after each request that made some, and once at start-up:
    in the process's drain thread (SEARCH_DRAIN_IN_BACKGROUND), or else once the response has
    gone out, in the request's own thread (the tests' default: the index is up to date by the
    test's next line)."""
    from forum.extensions import db
    from forum.search.drainer import BackgroundDrainer
    from forum.services import indexing
    from forum.services.search_queue import PENDING_KEY
    from forum.text.markup import search_snippet
    from forum.web.after_response import after_response

    app.register_blueprint(bp)
    app.jinja_env.filters["snippet"] = search_snippet
    state = {"checked_leftovers": False}

    def _drain(reason: str) -> None:
        try:
            indexing.drain_all(db.session, search_backend())
        except Exception:  # the queue keeps the work; search catches up on the next drain
            db.session.rollback()
            app.logger.warning("search queue drain failed (%s)", reason, exc_info=True)

    def _drain_in_app_context() -> None:
        with app.app_context():
            _drain("after request")

    drainer = BackgroundDrainer(_drain_in_app_context)
    app.extensions["cairn_search_drainer"] = drainer

    def _drain_soon(at_start_up: bool = False) -> None:
        if app.config["SEARCH_DRAIN_IN_BACKGROUND"]:
            after_response(drainer.wake)  # returns at once: see forum/search/drainer.py
        elif at_start_up:
            _drain("start-up")  # before this first request is served
        else:
            after_response(_drain_in_app_context)

    @app.before_request
    def _drain_leftovers() -> None:
        # Changes committed by a process that died before indexing them.
        if not state["checked_leftovers"] and app.config["SEARCH_DRAIN_AFTER_REQUEST"]:
            state["checked_leftovers"] = True
            _drain_soon(at_start_up=True)

    @app.after_request
    def _drain_after_commit(response):
        # Once the response has gone out: the member who posted doesn't wait for the index.
        if db.session.info.pop(PENDING_KEY, False) and app.config["SEARCH_DRAIN_AFTER_REQUEST"]:
            _drain_soon()
        return response
