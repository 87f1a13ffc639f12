"""forum/search/drainer.py: a request only wakes the drain thread; wakes during a drain fold."""

from __future__ import annotations

import threading
import time

from forum.search.drainer import BackgroundDrainer


def test_wake_returns_at_once_while_the_drain_runs_in_its_own_thread():
    started, release = threading.Event(), threading.Event()
    threads: list[int] = []

    def slow_drain() -> None:
        threads.append(threading.get_ident())
        started.set()
        release.wait(10)

    drainer = BackgroundDrainer(slow_drain)
    began = time.monotonic()
    drainer.wake()
    assert started.wait(5)
    assert time.monotonic() - began < 1  # the caller didn't wait for the drain
    assert threads == [threads[0]] and threads[0] != threading.get_ident()
    assert not drainer.wait_idle(0.05)  # still draining
    release.set()
    assert drainer.wait_idle(5)
    assert drainer.drains == 1


def test_wakes_during_a_drain_fold_into_one_more_drain():
    gate = threading.Event()
    calls: list[float] = []

    def drain() -> None:
        calls.append(time.monotonic())
        gate.wait(10)

    drainer = BackgroundDrainer(drain)
    drainer.wake()
    while not calls:
        time.sleep(0.005)
    for _ in range(20):  # twenty posts arrive while the first drain runs
        drainer.wake()
    gate.set()
    assert drainer.wait_idle(5)
    assert drainer.drains == 2  # one for the first post, one for the twenty


def test_a_failing_drain_is_logged_and_the_thread_lives_on(caplog):
    outcomes = iter([RuntimeError("index unavailable"), None])
    ran = []

    def drain() -> None:
        ran.append(1)
        error = next(outcomes)
        if error:
            raise error

    drainer = BackgroundDrainer(drain)
    drainer.wake()
    assert drainer.wait_idle(5)
    drainer.wake()
    assert drainer.wait_idle(5)
    assert len(ran) == 2
    assert "background search drain failed" in caplog.text


def test_a_process_that_exits_lets_the_drain_finish_first(tmp_path):
    """The daemon thread would die with the interpreter; atexit waits for it (a restart)."""
    import subprocess
    import sys

    marker = tmp_path / "drained"
    script = f"""
import time
from forum.search.drainer import BackgroundDrainer

def drain():
    time.sleep(0.5)
    open({str(marker)!r}, "w").write("done")

BackgroundDrainer(drain).wake()
"""  # the process exits at once after waking the thread
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert marker.read_text() == "done"
