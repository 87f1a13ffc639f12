"""Two app servers sharing one PostgreSQL database and one Redis, as in production.

Each is a real gunicorn process with its own instance folder (nothing on disk is shared):
``SEARCH_BACKEND=postgres``, the rate limits and the page cache in Redis. A reply posted through
server A is on server B's (cached) visitor page at once, B's search finds it, and a visitor's
old ETag no longer gets a 304 from B.

Needs PostgreSQL at ``TEST_PG_ADMIN_URL`` (default: the ``postgres`` superuser on
127.0.0.1:5432; a throwaway database is created and dropped) and Redis at ``TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379/15``, keys under a prefix of their own, removed at the end);
skipped, saying which, when either is unreachable.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from forum.web.page_store import pack, unpack

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "two servers, one forum"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _postgres_admin():
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach it means: skip
        engine.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc})")
    return engine


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    return client


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[dict[str, str]]:
    """One throwaway PostgreSQL database, migrated, with an admin and a board; one Redis."""
    from sqlalchemy import text

    redis_client = _redis()
    try:
        admin = _postgres_admin()
    except BaseException:  # a skip too: close the Redis client first
        redis_client.close()
        raise
    name = f"cairn_two_servers_{uuid.uuid4().hex[:10]}"
    prefix = f"cairn-two-servers:{uuid.uuid4().hex}:"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    env = {
        "DATABASE_URL": url,
        "SEARCH_BACKEND": "postgres",
        "REDIS_URL": REDIS_URL,
        "PAGE_CACHE_PREFIX": prefix + "page:",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "SECRET_KEY": uuid.uuid4().hex,
        "APPROVAL_POST_COUNT": "0",
        "MAIL_DELIVERY": "cron",
        "redis_prefix": prefix,
    }
    try:
        setup = tmp_path_factory.mktemp("setup")
        _flask(env, setup, "db", "upgrade")
        _flask(env, setup, "forum", "create-user", "alice", "--email", "alice@example.org",
               "--role", "admin", stdin=PASSWORD + "\n")
        _flask(env, setup, "forum", "create-category", "Living with it")
        _flask(env, setup, "forum", "create-board", "Treatments", "--category", "Living with it",
               "--slug", "treatments")
        yield env
    finally:
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            ), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        keys = list(redis_client.scan_iter(match=prefix + "*"))
        keys += list(redis_client.scan_iter(match="LIMITS:*"))  # the rate limits' counts
        if keys:
            redis_client.delete(*keys)
        redis_client.close()


def _environment(env: dict[str, str], instance: Path) -> dict[str, str]:
    base = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("CAIRN_", "FLASK_", "RATELIMIT_", "PAGE_CACHE_"))
        and key not in {"DATABASE_URL", "SEARCH_BACKEND", "REDIS_URL", "SEARCH_INDEX_DIR"}
    }
    return {
        **base,
        **{k: v for k, v in env.items() if k.isupper()},
        "CAIRN_CONFIG": "development",
        "CAIRN_INSTANCE_DIR": str(instance),
        "PYTHONPATH": str(ROOT),
    }


def _flask(env: dict[str, str], instance: Path, *args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT, env=_environment(env, instance), input=stdin, capture_output=True,
        text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    log: Path


def _start(env: dict[str, str], instance: Path, name: str) -> Server:
    port = _free_port()
    log = instance / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=_environment(env, instance), stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server {name} exited:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    process.terminate()
    pytest.fail(f"server {name} did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def servers(shared, tmp_path_factory) -> Iterator[tuple[Server, Server]]:
    started = [_start(shared, tmp_path_factory.mktemp(f"server-{n}"), n) for n in "AB"]
    try:
        yield started[0], started[1]
    finally:
        for server in started:
            server.process.terminate()
        for server in started:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client with its own cookies (a member), or none at all (a visitor)."""

    def __init__(self, cookies: bool = True, host: str | None = None) -> None:
        self.host = host  # behind a load balancer, every server sees the same Host
        handlers: list = [NoRedirect()]
        if cookies:
            self.jar = http.cookiejar.CookieJar()
            handlers.append(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, url: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {**({"Host": self.host} if self.host else {}), **(headers or {})}
        assert url.startswith("http://127.0.0.1:"), url
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def submit(self, form_url: str, action_url: str, fields: dict):
        status, _, page = self.request(form_url)
        assert status == 200, (form_url, status, page[:500])
        token = CSRF_RE.search(page)
        assert token, f"no CSRF token on {form_url}"
        return self.request(action_url, {"csrf_token": token.group(1), **fields})


def test_a_reply_through_one_server_is_visible_searchable_and_fresh_on_the_other(shared, servers):
    a, b = servers
    member = Browser()
    status, headers, _ = member.submit(
        f"{a.base}/login", f"{a.base}/login", {"username": "alice", "password": PASSWORD}
    )
    assert status == 302, "logging in on A"
    status, _, page = member.request(f"{b.base}/")
    assert status == 200 and "Log out" in page, "the session from A is not valid on B"
    status, headers, _ = member.submit(
        f"{a.base}/b/treatments/new", f"{a.base}/b/treatments/new",
        {"title": "Balance after surgery", "body": "How long did your balance take?",
         "submit": "Post thread"},
    )
    assert status == 302, "starting a thread on A"
    thread_path = urllib.parse.urlsplit(headers["Location"]).path
    assert re.fullmatch(r"/t/\d+/[\w-]+", thread_path), thread_path
    thread_id = thread_path.split("/")[2]

    visitor = Browser(cookies=False, host="forum.example")
    status, first_headers, first = visitor.request(b.base + thread_path)
    assert status == 200 and "How long did your balance take?" in first
    assert "Set-Cookie" not in first_headers
    etag = first_headers["ETag"]
    # B stored the page in the shared Redis; A answers from that entry (and a 304 for the copy).
    import redis

    client = redis.Redis.from_url(REDIS_URL)

    def entries() -> int:
        return len(list(client.scan_iter(match=shared["PAGE_CACHE_PREFIX"] + "*")))

    assert entries() == 1, "B did not store the page"
    # Mark the stored copy, so that a page answered from it can be told from a rendered one.
    [key] = client.scan_iter(match=shared["PAGE_CACHE_PREFIX"] + "*")
    headers, body = unpack(client.get(key))
    body = body.replace(b"</main>", b"<p>(from the cache)</p></main>")
    headers = [(n, str(len(body)) if n.lower() == "content-length" else v) for n, v in headers]
    client.set(key, pack(headers, body), keepttl=True)
    status, _, again = visitor.request(a.base + thread_path)
    assert status == 200 and "(from the cache)" in again, "A did not answer from B's entry"
    status, _, _ = visitor.request(b.base + thread_path, headers={"If-None-Match": etag})
    assert status == 304

    word = f"quixotic{uuid.uuid4().hex[:8]}"
    status, headers, _ = member.submit(
        f"{a.base}/t/{thread_id}/reply", f"{a.base}/t/{thread_id}/reply",
        {"body": f"About six months, and the {word} exercises helped.", "submit": "Post reply"},
    )
    assert status == 302, "replying on A"
    assert any(client.scan_iter(match="LIMITS:*")), "the rate limits are not counted in Redis"

    status, _, _ = visitor.request(b.base + thread_path, headers={"If-None-Match": etag})
    assert status == 200, "B still says the visitor's old copy is current"
    status, fresh_headers, fresh = visitor.request(b.base + thread_path)
    assert status == 200 and word in fresh, "B serves the page from before the reply"
    assert fresh_headers["ETag"] != etag
    assert entries() == 2, "B did not store the new version"
    status, _, from_a = visitor.request(a.base + thread_path)
    assert status == 200 and from_a == fresh and "(from the cache)" not in from_a
    client.close()
    # The index is updated after A's response has gone: give it a moment.
    deadline = time.monotonic() + 20
    while True:
        status, _, results = visitor.request(f"{b.base}/search?q={word}")
        if status == 200 and f"<mark>{word}</mark>" in results and "Balance after" in results:
            break
        assert time.monotonic() < deadline, f"B's search doesn't find the reply ({status})"
        time.sleep(0.5)
    for server in (a, b):
        log = server.log.read_text()
        assert "Traceback" not in log, f"server {server.name}:\n{log}"
