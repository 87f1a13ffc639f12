"""A page cache for visitors' thread pages, shared by every app server.

What is stored is the finished response, exactly as sent (compressed body per encoding, with the
security headers, ``Vary``, ``ETag`` and ``Cache-Control``), under a key made of the address,
the encoding Flask-Compress picks for the request, and the page's **version**: a hash of
everything the page shows that can change, read by one small query:

- the thread's own row (``changed_at``, ``last_post_at``, slug, page count, deletion, board),
  its board's visibility;
- the site generation (``site_state``), which moves in the same transaction as any change to
  members' names, signatures, avatars, histories and their visibility, accounts, boards
  (``forum.services.site_state``);
- the post counts of the authors on that page; the day (related threads, "read N times", the
  thread's age); the code, templates, settings and vocabulary file (``fingerprint``).

The version comes from the database, so an entry is right for every server and worker: a change
committed through one is seen by all at once. The store (``page_store``) is Redis when
``REDIS_URL`` is set, else a bounded LRU in each process.

The fast path is a WSGI middleware: a GET/HEAD for ``/t/<id>[/<slug>][?page=N]`` with no
session or remember-me cookie runs the version query, and on a hit answers from the stored bytes
(or ``304``) without routing, sessions, user loading or templates; it still counts the view. On
a miss the thread view renders as usual and says which version it rendered (``remember``); the
middleware stores the response only if it is a ``200`` with ``Cache-Control: public, no-cache``
and sets no cookie. Members (anyone with a session cookie) are never served from it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import Integer, String, and_, bindparam, cast, literal_column, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, joinedload
from werkzeug.http import parse_date, parse_etags

from forum.database import transactions
from forum.extensions import db
from forum.models import Board, Post, SiteState, Thread, User, utcnow
from forum.web.caching import etag_matches
from forum.web.page_store import Store, pack, store_from_config, unpack

log = logging.getLogger(__name__)

ENVIRON_VERSION = "cairn.page_cache.version"
THREAD_PATH = re.compile(r"/t/([1-9][0-9]{0,8})(?:/([^/]+))?")
PAGE_QUERY = re.compile(r"page=([1-9][0-9]{0,6})")
# Response headers never stored (a cached page is never one that sets a cookie).
NOT_STORED = frozenset({"set-cookie", "date"})
NOT_IN_304 = frozenset({"content-length", "content-encoding", "content-type"})
# What the request may carry that changes the rendered page (absolute links use the host).
KEY_HEADERS = ("HTTP_HOST", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "SERVER_NAME")

FINGERPRINT_SETTINGS = (
    "FORUM_NAME", "POSTS_PER_PAGE", "RANKS", "SECURITY_HSTS", "BASE_URL", "PREFERRED_URL_SCHEME",
    "SERVER_NAME", "APPLICATION_ROOT", "SIGNATURE_DATES_DAY_FIRST",
)


# --- the version -------------------------------------------------------------------------

_threads = Thread.__table__
_boards = Board.__table__
_posts = Post.__table__.alias("page_posts")
_authors = User.__table__.alias("page_authors")
_site = SiteState.__table__
# Plain strings and integers only (timestamps and booleans cast in SQL): the fast path reads
# them from the driver without SQLAlchemy's type processing, the view through the ORM, and both
# must make the same token of them.
_VERSION_COLUMNS = (
    _threads.c.id.label("v_thread_id"),
    cast(_threads.c.changed_at, String).label("v_changed_at"),
    cast(_threads.c.last_post_at, String).label("v_last_post_at"),
    _threads.c.slug.label("v_slug"),
    _threads.c.next_position.label("v_next_position"),
    cast(_threads.c.deleted_at, String).label("v_deleted_at"),
    _threads.c.merged_into_id.label("v_merged_into_id"),
    _threads.c.board_id.label("v_board_id"),
    cast(_boards.c.members_only, Integer).label("v_members_only"),
    _site.c.generation.label("v_generation"),
    _posts.c.author_id.label("v_author_id"),
    _authors.c.post_count.label("v_author_posts"),
)


def _joined(statement):
    """The thread, its board, the site row and the authors of the page's posts."""
    return (
        statement.select_from(_threads)
        .join(_boards, _boards.c.id == _threads.c.board_id)
        .join(_site, _site.c.id == literal_column("1"))
        .outerjoin(
            _posts,
            and_(
                _posts.c.thread_id == _threads.c.id,
                _posts.c.position >= bindparam("first"),
                _posts.c.position < bindparam("last"),
            ),
        )
        .outerjoin(_authors, _authors.c.id == _posts.c.author_id)
        .where(_threads.c.id == bindparam("thread_id"))
    )


VERSION = _joined(select(*_VERSION_COLUMNS))
VISITOR_PAGE = _joined(
    select(Thread, Board, _site.c.changed_at.label("site_changed_at"), *_VERSION_COLUMNS)
).options(joinedload(Thread.author))


def fingerprint(app: Flask) -> str:
    """The code, templates, settings and static files a page is made from (once per process)."""
    digest = hashlib.sha256(app.extensions.get("cairn_assets_version", "").encode())
    root = Path(app.root_path)
    for folder in (root, root / (app.template_folder or "")):
        for path in sorted(folder.glob("**/*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    settings = {name: app.config.get(name) for name in FINGERPRINT_SETTINGS}
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()[:16]


def _vocabulary_stamp(app: Flask) -> int:
    try:
        return os.stat(app.config["VOCABULARY_OVERRIDE"]).st_mtime_ns
    except (OSError, KeyError):
        return 0


def _params(app: Flask, thread_id: int, page: int) -> dict[str, int]:
    per_page = app.config["POSTS_PER_PAGE"]
    return {"thread_id": thread_id, "first": (page - 1) * per_page, "last": page * per_page}


def _token(app: Flask, rows: Sequence[Sequence[Any]], page: int) -> str | None:
    """The page's version from rows of the version columns (None: no such thread)."""
    if not rows or rows[0][0] is None:
        return None
    authors = sorted({(row[-2], row[-1]) for row in rows if row[-2] is not None})
    parts = (
        app.extensions["cairn_page_cache"].fingerprint, page, tuple(rows[0][:-2]), authors,
        utcnow().date().isoformat(), _vocabulary_stamp(app),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Version:
    token: str  # changes exactly when what the page shows may have changed
    last_modified: datetime


def load_thread_for_visitor(
    app: Flask, session: Session, thread_id: int, page: int
) -> tuple[Thread, Board, Version] | None:
    """``queries.load_thread``'s thread and board, and the page's version, in one query.

    The caller checks visibility (``policies.can_view_board``, deletion).
    """
    rows = session.execute(VISITOR_PAGE, _params(app, thread_id, page)).all()
    token = _token(app, [tuple(row[3:]) for row in rows], page)
    if token is None:
        return None
    thread, board, site_changed_at = rows[0][0], rows[0][1], rows[0].site_changed_at
    stamp = max(thread.changed_at, thread.last_post_at, site_changed_at)
    return thread, board, Version(token, stamp)


def remember(version: Version) -> None:
    """The view is rendering the visitors' page of this version: the middleware may store it."""
    request.environ[ENVIRON_VERSION] = version.token


# --- the middleware ----------------------------------------------------------------------


def _chosen_encoding(app: Flask, accept_encoding: str) -> str:
    """The encoding Flask-Compress will send for this ``Accept-Encoding``."""
    compress = app.extensions.get("cairn_compress")
    if compress is None:
        return "identity"
    try:
        from flask_compress.flask_compress import _choose_algorithm
    except ImportError:  # pragma: no cover - a Flask-Compress without it: key on the header
        return "ae:" + accept_encoding
    return _choose_algorithm(compress.enabled_algorithms, accept_encoding) or "identity"


class PageCache:
    """The WSGI middleware around ``app.wsgi_app`` (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable, store: Store) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.store = store
        self.fingerprint = fingerprint(app)
        self._engine: Engine | None = None
        self._compiled: dict[str, Any] = {}
        self._local = threading.local()
        self.hits = 0
        self.stored = 0

    # -- deciding ------------------------------------------------------------------------
    def _candidate(self, environ: dict) -> tuple[int, int] | None:
        """(thread id, page) when this request may be answered from the cache."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if not self.app.config.get("PAGE_CACHE_ENABLED"):
            return None
        match = THREAD_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        query = environ.get("QUERY_STRING", "")
        page = 1
        if query:
            page_match = PAGE_QUERY.fullmatch(query)
            if page_match is None:
                return None
            page = int(page_match.group(1))
        cookies = environ.get("HTTP_COOKIE", "")
        config = self.app.config
        for name in (config["SESSION_COOKIE_NAME"], config.get("REMEMBER_COOKIE_NAME")
                     or "remember_token"):
            if name in cookies:  # a member, or a visitor with a flash message or a form
                return None
        if environ.get("HTTP_AUTHORIZATION"):
            return None
        return int(match.group(1)), page

    def _key(self, environ: dict, page: int, token: str) -> str:
        parts = [environ.get("wsgi.url_scheme", ""), environ.get("SCRIPT_NAME", ""),
                 environ.get("PATH_INFO", ""), str(page),
                 _chosen_encoding(self.app, environ.get("HTTP_ACCEPT_ENCODING", "")), token]
        parts += [environ.get(name, "") for name in KEY_HEADERS]
        return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()

    # -- answering -----------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        candidate = self._candidate(environ)
        if candidate is None:
            return self.wsgi_app(environ, start_response)
        thread_id, page = candidate
        found = self._lookup(environ, thread_id, page)
        if found is not None:
            return found(start_response)
        return self._render_and_store(environ, start_response, page)

    def engine(self) -> Engine:
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def _version_rows(self, thread_id: int, page: int) -> list[tuple]:
        """The version query, compiled once per dialect and sent straight to the driver.

        On PostgreSQL, on a connection this thread keeps for it, in autocommit (one round trip,
        no pool checkout, ping or rollback); on SQLite on a pooled one. When ``db.session`` is
        bound to a connection (the test suite's rolled-back transaction), through that one, so
        the query sees what the test wrote.
        """
        factory = getattr(db.session, "session_factory", None)
        bind = factory.kw.get("bind") if factory is not None else None
        engine = bind if isinstance(bind, Connection) else self.engine()
        compiled = self._compiled.get(engine.dialect.name)
        if compiled is None:
            compiled = self._compiled[engine.dialect.name] = VERSION.compile(
                dialect=engine.dialect
            )
        params = _params(self.app, thread_id, page)
        arguments: Any = (
            tuple(params[name] for name in compiled.positiontup or ())
            if compiled.positional else params
        )
        if isinstance(engine, Connection):
            return [tuple(row) for row in engine.exec_driver_sql(compiled.string, arguments)]
        try:
            return self._run(engine, compiled.string, arguments)
        except engine.dialect.loaded_dbapi.Error:  # gone (a restarted server…): a new one, once
            if getattr(self._local, "connection", None) is None:
                raise
            self._drop_connection()
            return self._run(engine, compiled.string, arguments)

    def _run(self, engine: Engine, sql: str, arguments: Any) -> list[tuple]:
        # PostgreSQL: this thread's own connection (a pooled one would add a ping and a
        # rollback, two more round trips). SQLite: a pooled one, as cheap and nothing to keep.
        own = engine.dialect.name == "postgresql"
        connection = self._own_connection(engine) if own else engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, arguments)
                return cursor.fetchall()
            finally:
                cursor.close()
        finally:
            if not own:
                connection.close()

    def _drop_connection(self) -> None:
        connection, self._local.connection = self._local.connection, None
        try:
            connection.close()
        except Exception:  # already broken: nothing more to do
            log.debug("page cache: closing a broken connection failed", exc_info=True)

    def _own_connection(self, engine: Engine) -> Any:
        """This thread's PostgreSQL connection for the version query, outside the pool."""
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            pooled = engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()  # not the pool's: this thread keeps it for good
            connection.rollback()  # whatever the pool's ping began
            connection.autocommit = True
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _lookup(self, environ: dict, thread_id: int, page: int):
        # A read, as in a GET: SQLite must not take its write lock (see forum/database.py).
        with transactions("deferred"):
            try:
                token = _token(self.app, self._version_rows(thread_id, page), page)
            except Exception:  # the database's own error: let the page render and report it
                log.warning("page cache: version query failed", exc_info=True)
                return None
            if token is None:
                return None
            raw = self.store.get(self._key(environ, page, token))
            if raw is None:
                return None
            headers, body = unpack(raw)
            self.hits += 1
            counter = self.app.extensions["cairn_views"]
            counter.record(thread_id)
            try:
                counter.maybe_flush(self.engine())
            except Exception:  # counts are kept for the next try; never fail a page for them
                log.warning("view count flush failed", exc_info=True)
        if self._fresh(environ, headers):
            kept = [(n, v) for n, v in headers if n.lower() not in NOT_IN_304]
            return lambda start_response: (start_response("304 Not Modified", kept), [])[1]
        if environ["REQUEST_METHOD"] == "HEAD":
            body = b""
        return lambda start_response: (start_response("200 OK", headers), [body])[1]

    @staticmethod
    def _fresh(environ: dict, headers: list[tuple[str, str]]) -> bool:
        """The visitor's copy is this one (the same rules as ``caching.not_modified``)."""
        values = {name.lower(): value for name, value in headers}
        etag = (values.get("etag") or "").strip('"')
        if "HTTP_IF_NONE_MATCH" in environ:
            return bool(etag) and etag_matches(parse_etags(environ["HTTP_IF_NONE_MATCH"]), etag)
        since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        stamp = parse_date(values.get("last-modified"))
        return since is not None and stamp is not None and stamp <= since

    def _render_and_store(self, environ: dict, start_response: Callable, page: int):
        captured: list = []

        def capture(status: str, headers: list, exc_info: Any = None):
            captured[:] = [status, headers, exc_info]
            return start_response(status, headers, exc_info) if exc_info else None

        app_iter = self.wsgi_app(environ, capture)
        status, headers, exc_info = captured
        token = environ.get(ENVIRON_VERSION)
        names = {name.lower(): value for name, value in headers}
        storable = (
            token is not None
            and environ["REQUEST_METHOD"] == "GET"
            and status.startswith("200 ")
            and "set-cookie" not in names
            and names.get("cache-control") == "public, no-cache"
            and "etag" in names
        )
        if not storable:
            if not exc_info:
                start_response(status, headers)
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        kept = [(n, v) for n, v in headers if n.lower() not in NOT_STORED]
        self.store.set(self._key(environ, page, token), pack(kept, body))
        self.stored += 1
        start_response(status, headers)
        return [body]


def init_app(app: Flask) -> None:
    """Wrap the app in the page cache (after ``caching.init_app`` set the assets version)."""
    from forum.services import site_state

    site_state.install()
    app.config.setdefault("PAGE_CACHE_ENABLED", True)
    app.config.setdefault("PAGE_CACHE_MAX_ENTRIES", 512)
    app.config.setdefault("PAGE_CACHE_TTL", 3600)
    app.config.setdefault("PAGE_CACHE_PREFIX", "cairn:page:")
    cache = PageCache(app, app.wsgi_app, store_from_config(app.config))
    app.extensions["cairn_page_cache"] = cache
    app.wsgi_app = cache  # type: ignore[method-assign]
