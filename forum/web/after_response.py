"""Work that runs once a response has gone out (the mail a post queued, say).

A Werkzeug response's ``call_on_close`` is not enough: the server calls ``close()`` after
sending, except that Werkzeug's own server (``flask run``) skips it when the browser resets the
connection while the server drains the socket — then the work never ran. So this middleware
wraps the body: the callbacks run as soon as the server has taken the body's last chunk, or at
``close()`` if that comes first (an aborted download), exactly once either way. Gunicorn and the
test client behave the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from flask import request

ENVIRON_KEY = "cairn.after_response"

log = logging.getLogger(__name__)


def after_response(callback: Callable[[], None]) -> None:
    """Run ``callback`` (no arguments) once this request's response has been sent."""
    request.environ.setdefault(ENVIRON_KEY, []).append(callback)


class AfterResponseMiddleware:
    """WSGI middleware running the callbacks registered with :func:`after_response`."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = self.app(environ, start_response)
        callbacks = environ.get(ENVIRON_KEY)
        if not callbacks:
            return body
        return _BodyThenCallbacks(body, callbacks)


class _BodyThenCallbacks:
    def __init__(self, body: Iterable[bytes], callbacks: list[Callable[[], None]]) -> None:
        self._body = body
        self._callbacks = callbacks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body
        self._run()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._run()

    def _run(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failing job never stops the others, nor the server
                log.exception("Work after the response failed")
