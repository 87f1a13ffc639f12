"""Work registered with ``after_response`` runs once the body is sent, even without close()."""

from __future__ import annotations

from flask import Flask

from forum.web.after_response import AfterResponseMiddleware, after_response


def make_app(events: list[str]) -> Flask:
    app = Flask(__name__)
    app.wsgi_app = AfterResponseMiddleware(app.wsgi_app)

    @app.route("/")
    def index():
        after_response(lambda: events.append("first"))
        after_response(lambda: 1 / 0)  # a failing job is logged; the next one still runs
        after_response(lambda: events.append("second"))
        return "body"

    @app.route("/quiet")
    def quiet():
        return "nothing to do"

    return app


def call(app: Flask, path: str):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": None,
        "wsgi.errors": None,
    }
    return app.wsgi_app(environ, lambda status, headers, exc_info=None: None)


def test_runs_after_the_last_chunk_even_when_the_server_never_calls_close(caplog):
    # Werkzeug's dev server skips close() when the client resets the connection.
    events: list[str] = []
    body = call(make_app(events), "/")
    chunks = iter(body)
    assert next(chunks) == b"body" and events == []  # not before the body has gone out
    assert list(chunks) == []
    assert events == ["first", "second"]
    assert "Work after the response failed" in caplog.text


def test_runs_once_when_close_follows_the_body():
    events: list[str] = []
    body = call(make_app(events), "/")
    assert b"".join(body) == b"body"
    body.close()
    assert events == ["first", "second"]


def test_an_aborted_download_still_runs_the_work_at_close():
    events: list[str] = []
    body = call(make_app(events), "/")
    body.close()
    assert events == ["first", "second"]


def test_responses_without_work_are_passed_through_untouched():
    body = call(make_app([]), "/quiet")
    assert type(body).__name__ == "ClosingIterator"  # Werkzeug's own, not wrapped
    assert b"".join(body) == b"nothing to do"
