"""HTTP caching for visitors: ETag / Last-Modified, 304s, ``Vary: Cookie``; and compression.

A view may ask ``not_modified(key, last_modified)`` *before* loading its page: the key is built
from cheap columns (``Thread.changed_at``, ``last_post_at``, the page number…). For a visitor
with no session whose validators still match, the view returns the 304 at once and nothing is
rendered. Every other visitor page gets an ETag hashed from its body: a repeat visit then costs
a render but no bytes. Logged-in members, and responses that set a cookie (a CSRF token, a flash
message), never get validators; members' pages are ``private, no-cache``.

Visitors' thread pages are also kept whole in the shared page cache (``page_cache``), keyed by
the same version as their ETag.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask, Response, g, request, session
from flask_login import current_user
from werkzeug.datastructures import ETags

from forum.web.static_files import assets_version

ANONYMOUS_CACHE = "public, no-cache"  # store, but ask every time (answered cheaply with 304)
MEMBER_CACHE = "private, no-cache"
ENCODINGS = ("br", "gzip", "deflate", "zstd")
SHAREABLE_TYPES = ("text/html", "application/xml", "application/atom+xml", "text/plain")


def anonymous_request() -> bool:
    """A visitor with nothing personal on the page (no login, no flash message waiting)."""
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(microsecond=0, tzinfo=UTC) if moment.tzinfo is None else moment


def not_modified(key: str, last_modified: datetime | None) -> Response | None:
    """Register this response's validators; a 304 when the visitor's copy is still good."""
    if not anonymous_request():
        return None
    from flask import current_app

    version = current_app.extensions["cairn_assets_version"]
    etag = hashlib.sha256(f"{version}|{key}".encode()).hexdigest()[:20]
    stamp = _as_utc(last_modified) if last_modified else None
    g.cairn_validators = (etag, stamp)
    fresh, sent = False, etag
    if request.if_none_match:
        # Flask-Compress suffixes the ETag of a compressed body with its encoding.
        for candidate in (etag, *(f"{etag}:{alg}" for alg in ENCODINGS)):
            if request.if_none_match.contains(candidate):
                fresh, sent = True, candidate
                break
    elif stamp is not None and request.if_modified_since is not None:
        fresh = stamp <= request.if_modified_since
    if not fresh:
        return None
    response = Response(status=304)
    _apply(response, sent, stamp)
    return response


def etag_matches(etags: ETags, etag: str) -> bool:
    """``If-None-Match`` names this ETag, or the same one with another encoding's suffix."""
    base = etag.split(":", 1)[0]
    return etags.star_tag or any(tag.split(":", 1)[0] == base for tag in etags.as_set())


def _apply(response: Response, etag: str, stamp: datetime | None) -> None:
    response.set_etag(etag)
    if stamp is not None:
        response.last_modified = stamp
    response.headers["Cache-Control"] = ANONYMOUS_CACHE


def _shareable(response: Response) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.direct_passthrough
        and not response.is_streamed
        and "Cache-Control" not in response.headers
        and response.mimetype in SHAREABLE_TYPES
        and "_user_id" not in session
        and not session.modified
    )


def init_app(app: Flask) -> None:
    app.extensions["cairn_assets_version"] = assets_version(app)
    try:
        from flask_compress import Compress
    except ImportError:  # pragma: no cover - Flask-Compress is in requirements.txt
        app.logger.warning("Flask-Compress is not installed: responses are not compressed")
    else:
        app.config.setdefault("COMPRESS_MIMETYPES", [
            "text/html", "text/css", "text/plain", "text/xml", "application/xml",
            "application/atom+xml", "application/json", "image/svg+xml",
        ])
        app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
        app.config.setdefault("COMPRESS_MIN_SIZE", 500)
        app.extensions["cairn_compress"] = Compress(app)

        @app.after_request
        def _read_files_before_compressing(response: Response) -> Response:
            # Flask-Compress reads a file response's body but never closes the file: read it
            # here (this hook runs first) and close it.
            if response.direct_passthrough and response.mimetype in app.config[
                "COMPRESS_MIMETYPES"
            ]:
                original = response.response
                response.direct_passthrough = False
                response.set_data(b"".join(original))
                close = getattr(original, "close", None)
                if close is not None:
                    close()
            return response

    @app.after_request
    def _validators(response: Response) -> Response:
        if request.endpoint == "static":
            return response
        response.vary.add("Cookie")
        validators = g.pop("cairn_validators", None)
        if session.modified:  # the response sets a cookie: never for a shared cache
            validators = None
        if validators is not None and response.status_code == 200:
            _apply(response, *validators)
        elif _shareable(response):
            # Any other visitor page: an ETag from the body (rendered, but 304 saves the bytes).
            response.add_etag()
            response.headers["Cache-Control"] = ANONYMOUS_CACHE
            response.make_conditional(request)
        elif "Cache-Control" not in response.headers and (
            "_user_id" in session or session.modified
        ):
            # (the session, not current_user: no user loading while a response is finished)
            response.headers["Cache-Control"] = MEMBER_CACHE
        return response

    from forum.web import page_cache

    page_cache.init_app(app)
