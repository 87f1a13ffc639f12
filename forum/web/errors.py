"""Every error is a page that explains itself: never a traceback."""

from __future__ import annotations

import re

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forum.services.errors import DomainError

TITLES = {
    400: "That request didn't make sense",
    403: "You can't do that",
    404: "Page not found",
    405: "Not allowed",
    409: "Something changed meanwhile",
    413: "That's too large",
    429: "Slow down a little",
    500: "Something went wrong on our side",
}


# Parts of Cairn's own addresses that say nothing about what the visitor was looking for.
URL_NOISE = {"t", "b", "u", "p", "page", "www", "html", "htm", "php", "index", "topic", "board",
             "the", "and", "for", "with", "atom", "xml", "edit", "reply", "new", "static"}


def url_words(path: str) -> list[str]:
    """The searchable words in a broken address: "/t/99/gamma-knife-at-60" -> gamma, knife."""
    words: list[str] = []
    for word in re.split(r"[^a-z]+", path.lower()):
        if len(word) > 2 and word not in URL_NOISE and word not in words:
            words.append(word)
    return words[:6]


def nearest_matches(words: list[str]) -> list:
    """Up to five threads matching any of ``words``, as the visitor may see them; never fails."""
    if not words:
        return []
    try:
        from flask_login import current_user

        from forum import policies
        from forum.search.factory import search_backend
        from forum.search.query import parse_query

        results = search_backend().search(
            parse_query(" OR ".join(words)),
            include_members_only=policies.is_member(current_user),
            per_page=5,
        )
    except Exception:  # a helpful extra: the 404 page itself must always render
        current_app.logger.warning("404 suggestions failed", exc_info=True)
        return []
    return results.hits


def render_error(status: int, message: str = ""):
    words = url_words(request.path) if status == 404 else []
    return (
        render_template(
            "error.html",
            status=status,
            title=TITLES.get(status, "Error"),
            message=message,
            path=request.path,
            words=" ".join(words),
            matches=nearest_matches(words),
        ),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return render_error(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(
            400,
            "The form had expired or came from elsewhere. Go back, reload the page and try again.",
        )

    @app.errorhandler(429)
    def _too_many(error: HTTPException):
        limit = getattr(getattr(error, "limit", None), "limit", None)
        rate = f" (at most {limit})" if limit is not None else ""
        return render_error(
            429,
            f"That was done too many times in a short while{rate}. Please wait a little and "
            "try again. If you were writing a post, your browser's Back button should still "
            "have your text.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        message = error.description if status != 404 else ""
        return render_error(status, message if status < 500 else "")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if app.testing:
            raise error  # tests see the traceback instead of a polite page
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500, "The error was logged. Please try again in a moment.")
