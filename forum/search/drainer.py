"""One thread per process applies the search queue, so no request waits for the index.

A post is committed together with its search-queue row (forum/services/search_queue.py); making
it searchable is a Whoosh commit of 10–30 ms. Done in the request's own thread after the
response, that still held up the next request on the same keep-alive connection, and each
post paid for a commit of its own. Here a request only wakes this thread: it drains whatever
is queued by then, so under load one index commit covers every post that arrived meanwhile.

The queue lives in the database, so nothing is lost when a process dies before its thread
has drained: the next drain, in any process, applies it. The thread starts on first use in
the process that uses it (a gunicorn worker, after the fork). It is a daemon, and a process
that exits normally (a restart, gunicorn's ``--max-requests``) first gives it up to
``EXIT_GRACE_SECONDS`` to finish what it was asked to do.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
EXIT_GRACE_SECONDS = 10.0


class BackgroundDrainer:
    """Runs ``drain`` (no arguments) in a thread of its own whenever :meth:`wake` is called.

    Wakes that come while a drain runs are folded into one more drain after it.
    """

    def __init__(self, drain: Callable[[], None], name: str = "cairn-search-drain") -> None:
        self._drain = drain
        self._name = name
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._running = False
        self._idle = threading.Condition()
        self.drains = 0  # how many drains ran in this process (for tests and diagnostics)

    def wake(self) -> None:
        """Ask for a drain soon; returns at once."""
        self._ensure_thread()
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no drain is asked for or running (tests, orderly shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy(), timeout)

    def _busy(self) -> bool:
        return self._wake.is_set() or self._running

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._thread is not None and self._pid == pid and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == pid and self._thread.is_alive():
                return
            # A new process (forked after a thread was started in its parent) starts its own.
            if self._pid != pid:
                atexit.register(self.wait_idle, EXIT_GRACE_SECONDS)
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._idle:
                self._running = True
                self._wake.clear()
            try:
                self._drain()
            except Exception:  # the queue keeps the work; the next wake tries again
                log.exception("background search drain failed")
            finally:
                with self._idle:
                    self.drains += 1
                    self._running = False
                    self._idle.notify_all()
