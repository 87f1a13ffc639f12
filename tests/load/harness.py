"""A real gunicorn serving Cairn's embedded default, and HTTP clients that post to it.

Used by the load tests: the server runs from a temporary instance folder (SQLite in WAL mode,
the Whoosh index beside it), exactly as ``gunicorn wsgi:app`` would in production.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PERMALINK_RE = re.compile(r"/p/(\d+)$")
LOCKED = "database is locked"
ERROR_RE = re.compile(r'role="alert">(.*?)</div>|class="error"[^>]*>(.*?)</p>', re.S)
# What a client sees when the worker serving it dies: the request was not acknowledged.
CONNECTION_ERRORS = (ConnectionError, http.client.HTTPException, TimeoutError, OSError)


def server_env(instance: Path) -> dict[str, str]:
    """The environment of a production-like embedded deployment in ``instance``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SEARCH_INDEX_DIR", "REDIS_URL", "MAIL_SERVER"}
        and not key.startswith(("CAIRN_", "FLASK_", "RATELIMIT_"))
    }
    env.update(
        CAIRN_INSTANCE_DIR=str(instance),
        CAIRN_CONFIG="development",
        SECRET_KEY="load-test-secret",
        RATELIMIT_ENABLED="0",
        APPROVAL_POST_COUNT="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def flask_cli(instance: Path, *args: str, timeout: float = 120) -> str:
    """Run ``flask --app wsgi …`` against ``instance``; returns its output, fails loudly."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=server_env(instance),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS), shared pages included, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def private_kib(pid: int) -> int:
    """The memory only this process holds (not shared with the master after fork), in KiB."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


class Gunicorn:
    """``gunicorn --workers N wsgi:app`` on a free loopback port, logging to one file."""

    def __init__(self, instance: Path, workers: int = 4) -> None:
        self.instance = instance
        self.workers = workers
        self.log_path = instance / "gunicorn.log"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--worker-class"]
        command += ["sync", "--preload", "--bind", "127.0.0.1:0", "--timeout", "60"]
        command += ["--graceful-timeout", "10", "--no-control-socket"]
        # Everything (gunicorn's log, the app's log, stray output) in one file.
        command += ["--error-logfile", "-", "--capture-output", "wsgi:app"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_env(self.instance),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()}"
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
            if match and len(self.worker_pids()) == self.workers:
                self.port = int(match.group(1))
                if self._answers():
                    return
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            status, _, _ = Client(self.port).request("GET", "/")
        except CONNECTION_ERRORS:
            return False
        return status == 200

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def worker_pids(self) -> list[int]:
        """The master's live children (the workers), from /proc."""
        assert self.process is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == self.process.pid and state != "Z":
                pids.append(int(entry.name))
        return sorted(pids)

    @staticmethod
    def holds_file(pid: int, suffix: str) -> bool:
        """Whether process ``pid`` has a file whose name ends with ``suffix`` open."""
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return False
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").endswith(suffix):
                    return True
            except OSError:
                continue
        return False

    def wait_for_workers(self, timeout: float = 30) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == self.workers:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn has {self.worker_pids()} workers:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if the master outlives 20 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()


class Client:
    """One visitor: a cookie jar and a fresh connection per request (sync workers close it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, text

    def csrf(self, path: str) -> str:
        status, _, text = self.request("GET", path)
        match = CSRF_RE.search(text)
        assert status == 200 and match, f"no form at {path} ({status})"
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        status, _, text = self.request(
            "POST", "/login", {"csrf_token": token, "username": username, "password": password}
        )
        assert status == 302, f"login as {username} failed ({status}): {text[:500]}"


def explain(text: str) -> str:
    """The form errors on a page, or its beginning."""
    errors = [a or b for a, b in ERROR_RE.findall(text)]
    return " | ".join(re.sub(r"<[^>]+>", "", e).strip() for e in errors) or repr(text[:300])


def token_word(run: str, client: int, seq: int) -> str:
    """A made-up word unique to one post of one load run (letters only, so no analyser splits
    it): "qz", the run's letter, two letters for the client, five for its sequence number."""
    return f"qz{run}" + "".join("abcdefghij"[int(c)] for c in f"{client:02d}{seq:05d}")


@dataclass
class LoadResult:
    acked: dict[int, str] = field(default_factory=dict)  # post id -> its unique word
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # 5xx, lock errors, anything unexpected
    connection_errors: int = 0
    seconds: float = 0.0
    slowest_post: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, method: str, status: int, text: str, where: str) -> None:
        with self._lock:
            self.statuses[(method, status)] += 1
            if status >= 500 or LOCKED in text:
                self.failures.append(f"{method} {where} -> {status}: {explain(text)}")


def run_load(
    port: int,
    members: list[str],
    password: str,
    thread_ids: list[int],
    seconds: float,
    *,
    run: str,
    during: Callable[[float], None] | None = None,
) -> LoadResult:
    """Every member logs in, then all post replies at once for ``seconds``.

    Each round is what a browser does: GET the reply form (fresh CSRF token), POST it. A POST
    answered with a redirect to the new post's permalink is *acknowledged*; a connection that
    breaks (a killed worker) is retried with a new post and never counted. ``during(elapsed)``
    is called about every 20 ms from the main thread while the load runs. ``run``: a letter
    that makes this run's words differ from every other run's.
    """
    result = LoadResult()
    clients = [Client(port) for _ in members]
    for client, name in zip(clients, members, strict=True):
        client.login(name, password)
    start = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def work(n: int, client: Client) -> None:
        thread_id = thread_ids[n % len(thread_ids)]
        path = f"/t/{thread_id}/reply"
        seq = 0
        start.wait()
        try:
            while time.monotonic() < deadline[0]:
                seq += 1
                word = token_word(run, n, seq)
                try:
                    status, _, text = client.request("GET", path)
                    result.note("GET", status, text, path)
                    match = CSRF_RE.search(text)
                    if status != 200 or not match:
                        continue
                    form = {
                        "csrf_token": match.group(1),
                        "body": f"Reply {word} from member {n}: the mornings are steadier now.",
                        "submit": "Post reply",
                    }
                    sent = time.monotonic()
                    status, headers, text = client.request("POST", path, form)
                    took = time.monotonic() - sent
                except CONNECTION_ERRORS:
                    with result._lock:
                        result.connection_errors += 1
                    time.sleep(0.05)
                    continue
                result.note("POST", status, text, path)
                with result._lock:
                    result.slowest_post = max(result.slowest_post, took)
                posted = PERMALINK_RE.search(headers.get("Location") or "")
                if status == 302 and posted:
                    with result._lock:
                        result.acked[int(posted.group(1))] = word
                elif status < 500:
                    with result._lock:
                        result.failures.append(f"POST {path} -> {status}: {explain(text)}")
        except Exception as exc:  # a client bug must fail the test, not vanish in a thread
            with result._lock:
                result.failures.append(f"client {n}: {exc!r}")

    threads = [
        threading.Thread(target=work, args=(n, c), daemon=True) for n, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.wait()
    while any(t.is_alive() for t in threads):
        elapsed = time.monotonic() - began
        if during is not None and elapsed < seconds:
            during(elapsed)
        time.sleep(0.02)
    result.seconds = time.monotonic() - began
    return result
