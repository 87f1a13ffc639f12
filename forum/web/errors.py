"""Every error is a page that explains itself: never a traceback."""

from __future__ import annotations

from flask import Flask, render_template, request
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


def render_error(status: int, message: str = ""):
    return (
        render_template(
            "error.html",
            status=status,
            title=TITLES.get(status, "Error"),
            message=message,
            path=request.path,
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
