"""The benchmark's floor: a minimal Flask app that answers every captured page from memory.

``bench/load_bench.py`` fetches each benchmarked page once from Cairn and writes what came
back (status, the headers that matter, the exact body bytes, compressed as sent) to a folder
with a ``manifest.json``; this app, served by gunicorn with the same settings as Cairn, returns
those bytes for the same method and path. Whatever Cairn does beyond that — routing, the
session, SQL, templates, compression — is what the ratio to the floor measures.

    FLOOR_PAGES=/tmp/floor gunicorn --pythonpath bench floor_app:app
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, request


def load_pages(folder: Path) -> dict[tuple[str, str], tuple[int, list[tuple[str, str]], bytes]]:
    """{(method, path with query): (status, headers, body)} from a capture folder."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        (page["method"], page["path"]): (
            page["status"],
            [(name, value) for name, value in page["headers"]],
            (folder / page["body_file"]).read_bytes(),
        )
        for page in manifest["pages"]
    }


def create_app(folder: Path) -> Flask:
    app = Flask(__name__)
    pages = load_pages(folder)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def serve(path: str) -> Response:
        query = request.query_string.decode()
        status, headers, body = pages.get(
            (request.method, f"/{path}" + (f"?{query}" if query else "")),
            (404, [("Content-Type", "text/plain")], b"not captured\n"),
        )
        if request.method == "POST":
            _ = request.form  # read and parse the posted form, as Cairn does
        return Response(body, status=status, headers=headers)

    return app


app = create_app(Path(os.environ.get("FLOOR_PAGES", ".")))
