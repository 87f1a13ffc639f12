"""Fingerprinted static files: ``static_url("cairn.css")`` -> ``/static/cairn.css?v=<hash>``.

Each file's content hash is computed once, at start-up. A request carrying the current hash is
cached for a year (``immutable``); a changed file gets a new hash and so a new URL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request, url_for

EXTENSION_KEY = "cairn_static_hashes"
LONG_CACHE = "public, max-age=31536000, immutable"


def _hashes(folder: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                hashes[path.relative_to(folder).as_posix()] = digest
    return hashes


def static_url(filename: str, _external: bool = False) -> str:
    from flask import current_app

    digest = current_app.extensions[EXTENSION_KEY].get(filename)
    return url_for("static", filename=filename, v=digest, _external=_external)


def assets_version(app: Flask) -> str:
    """One short hash of every static file: part of each page's ETag (pages link to them)."""
    joined = "".join(f"{k}={v};" for k, v in sorted(app.extensions[EXTENSION_KEY].items()))
    return hashlib.sha256(joined.encode()).hexdigest()[:8]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = _hashes(Path(app.static_folder or ""))
    app.jinja_env.globals["static_url"] = static_url

    @app.after_request
    def _long_cache(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            digest = app.extensions[EXTENSION_KEY].get(filename)
            if digest and request.args.get("v") == digest:
                response.headers["Cache-Control"] = LONG_CACHE
                response.expires = None
        return response
