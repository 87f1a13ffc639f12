"""Security headers on every response, and the configurable rate limits.

The Content-Security-Policy allows scripts only from the forum's own files (there are none
today; no page has an inline script or event handler: a ``<script type="application/ld+json">``
data block is never executed) and no framing at all. Member-posted images may come from any
HTTPS site.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, abort, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers older than frame-ancestors
    # A peer-support forum: other sites never learn which thread a reader came from.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    @app.before_request
    def _no_nul_in_paths() -> None:
        # A NUL is never part of a real page's address, and PostgreSQL refuses it in any
        # query (/u/<name>, /b/<slug>…). Query strings and forms are each page's to check.
        if "\x00" in request.path:
            abort(400, "That address contains a NUL character, which isn't allowed.")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SECURITY_HSTS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def configured_limit(name: str) -> Callable[[], str]:
    """A Flask-Limiter limit read from the config at request time (``RATELIMIT_LOGIN``…)."""

    def limit() -> str:
        return current_app.config[name]

    return limit
