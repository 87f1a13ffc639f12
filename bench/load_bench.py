"""Load benchmark: Cairn under gunicorn, driven by wrk, beside a floor app serving the same bytes.

    .venv/bin/python bench/load_bench.py --posts 100000 --duration 10

1. Builds (once per post count, cached in ``bench/.data/posts-N``) a synthetic forum with
   ``flask --app wsgi forum demo-data --posts N`` and its search index, and copies it so each
   run starts from the same data.
2. Counts the SQL statements of each page in-process (test client, a cursor listener).
3. Serves the copy with gunicorn (workers = cores), logs a member in through the real login
   form, fetches every page once as a visitor and as that member, posts one reply, and writes
   the exact responses to a folder that ``bench/floor_app.py`` serves, under the same gunicorn
   settings, from memory.
4. Drives each page with wrk (``-t2 -c8 --latency``), Cairn between two halves of the floor's
   run, and replies with ``bench/wrk/reply.lua``, which counts acknowledged replies;
   afterwards every acknowledged reply must be in the database.
5. Prints req/s, p50/p99, the ratio to the floor, the workers' CPU time and the SQL statements
   per page, the workers' RSS and the issue's targets, and writes it all as JSON to
   ``bench/results/``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "bench" / ".data"
RESULTS_DIR = ROOT / "bench" / "results"
WRK_DIR = ROOT / "bench" / "wrk"
BIN = Path(sys.executable).parent
USER_AGENT = "cairn-load-bench/1"  # the same for login, capture and wrk (session protection)
RARE_QUERY = "zephyrine"  # in about 1% of synthetic sentences (forum/synthetic.py RARE_WORDS)
COMMON_QUERY = "hearing"  # one of the 69 words every synthetic sentence is made of
SKIPPED_HEADERS = {"date", "server", "connection", "content-length", "transfer-encoding"}
TARGETS = {  # issue #9
    "anonymous thread page >= 50% of floor req/s": ("thread, first page", "visitor", 0.5),
    "logged-in thread page >= 10% of floor req/s": ("thread, first page", "member", 0.1),
    "board page (visitor) >= 10% of floor req/s": ("board page", "visitor", 0.1),
    "board page (member) >= 10% of floor req/s": ("board page", "member", 0.1),
}
REPLY_P50_TARGET_MS = 20.0
REPLY_ONE_AT_A_TIME = "reply, 1 client"
RSS_TARGET_MB = 120.0


# --- wrk output and the table (pure; see tests/unit/test_load_bench.py) ------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    """wrk's ``21.91ms``, ``830.00us``, ``1.02s``, ``2.00m`` in milliseconds."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(us|ms|s|m|h)\s*", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int = 0
    cpu_ms: float | None = None  # the server's worker CPU time per request (set by the caller)
    socket_errors: dict[str, int] = field(default_factory=dict)
    acked: int | None = None  # reply.lua only
    other: int | None = None
    failed: int | None = None


def parse_wrk(output: str) -> WrkResult:
    """The numbers from ``wrk --latency`` output (and reply.lua's ACKED line, when present)."""
    latency = {
        int(pct): parse_duration_ms(value)
        for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+),", output, re.M)
    if rps is None or total is None or len(latency) < 4:
        raise ValueError("not wrk --latency output:\n" + output)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    acks = re.search(r"^ACKED (\d+) OTHER (\d+) FAILED (\d+)$", output, re.M)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration_ms(total.group(2)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=latency[50],
        p75_ms=latency[75],
        p90_ms=latency[90],
        p99_ms=latency[99],
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        socket_errors=dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
        acked=int(acks.group(1)) if acks else None,
        other=int(acks.group(2)) if acks else None,
        failed=int(acks.group(3)) if acks else None,
    )


def combine(a: WrkResult, b: WrkResult) -> WrkResult:
    """Two runs against the same URL as one: requests and CPU pooled; latency percentiles
    (which wrk does not let one pool) weighted by each run's requests."""
    total = a.requests + b.requests

    def mean(x: float | None, y: float | None) -> float | None:
        if x is None or y is None or not total:
            return None
        return (x * a.requests + y * b.requests) / total

    def add(x: int | None, y: int | None) -> int | None:
        return None if x is None or y is None else x + y

    return WrkResult(
        requests=total,
        seconds=a.seconds + b.seconds,
        rps=total / (a.seconds + b.seconds) if a.seconds + b.seconds else 0.0,
        p50_ms=mean(a.p50_ms, b.p50_ms) or 0.0,
        p75_ms=mean(a.p75_ms, b.p75_ms) or 0.0,
        p90_ms=mean(a.p90_ms, b.p90_ms) or 0.0,
        p99_ms=mean(a.p99_ms, b.p99_ms) or 0.0,
        non_2xx_3xx=a.non_2xx_3xx + b.non_2xx_3xx,
        socket_errors={
            k: a.socket_errors.get(k, 0) + b.socket_errors.get(k, 0)
            for k in {*a.socket_errors, *b.socket_errors}
        },
        cpu_ms=mean(a.cpu_ms, b.cpu_ms),
        acked=add(a.acked, b.acked),
        other=add(a.other, b.other),
        failed=add(a.failed, b.failed),
    )


@dataclass
class Row:
    page: str
    who: str
    path: str
    app: WrkResult
    floor: WrkResult
    sql: int | None

    @property
    def ratio(self) -> float:
        return self.app.rps / self.floor.rps if self.floor.rps else math.nan


COLUMNS = (
    "page", "who", "req/s", "p50 ms", "p99 ms", "floor req/s", "floor p50", "ratio",
    "CPU ms/req (floor)", "SQL",
)  # fmt: skip


def format_table(rows: list[Row]) -> str:
    """A Markdown table (it reads as plain text too, and goes into the README as it is)."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    for row in rows:
        errors = row.app.non_2xx_3xx + sum(row.app.socket_errors.values())
        cells = [
            row.page,
            row.who,
            f"{row.app.rps:,.0f}" + (f" ({errors:,} errors)" if errors else ""),
            f"{row.app.p50_ms:.1f}",
            f"{row.app.p99_ms:.1f}",
            f"{row.floor.rps:,.0f}",
            f"{row.floor.p50_ms:.1f}",
            f"{row.ratio:.0%}",
            _cpu(row.app) + (f" ({_cpu(row.floor)})" if row.floor.cpu_ms is not None else ""),
            "–" if row.sql is None else str(row.sql),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cpu(result: WrkResult) -> str:
    return "–" if result.cpu_ms is None else f"{result.cpu_ms:.1f}"


def compare(rows: list[dict], earlier: list[dict], limit: float = 1.5) -> list[str]:
    """Lines comparing this run's p50/p99 per page with an earlier run's (e.g. 1,000,000 posts
    against 100,000): the issue wants page and search latencies within ``limit`` times."""
    before = {(r["page"], r["who"]): r for r in earlier}
    lines = []
    for row in rows:
        old = before.get((row["page"], row["who"]))
        if old is None or row["page"] == "reply":
            continue
        p50 = row["app"]["p50_ms"] / old["app"]["p50_ms"] if old["app"]["p50_ms"] else math.nan
        p99 = row["app"]["p99_ms"] / old["app"]["p99_ms"] if old["app"]["p99_ms"] else math.nan
        cpu = ""
        if row["app"].get("cpu_ms") and old["app"].get("cpu_ms"):
            cpu = f"; CPU/request {row['app']['cpu_ms'] / old['app']['cpu_ms']:.2f}x"
        verdict = "PASS" if max(p50, p99) <= limit else "FAIL"
        lines.append(
            f"{verdict}  {row['page']} as {row['who']}: p50 {p50:.2f}x, p99 {p99:.2f}x "
            f"(limit {limit}x){cpu}"
        )
    return lines


def verdicts(rows: list[Row], reply_rows: list[Row], rss_mb: list[float], replies: dict):
    """[(target, holds, measured)] for the issue's targets that one run can check."""
    found = {(r.page, r.who): r for r in rows}
    reply = next((r for r in reply_rows if r.page == REPLY_ONE_AT_A_TIME), None)
    out = []
    for label, (page, who, floor_share) in TARGETS.items():
        row = found.get((page, who))
        if row is not None:
            out.append((label, row.ratio >= floor_share, f"{row.ratio:.0%}"))
    if reply is not None:
        out.append(
            (
                f"replying p50 < {REPLY_P50_TARGET_MS:.0f} ms (one client at a time)",
                reply.app.p50_ms < REPLY_P50_TARGET_MS,
                f"{reply.app.p50_ms:.1f} ms",
            )
        )
        out.append(
            (
                "every acknowledged reply is in the database",
                bool(replies.get("ok")),
                f"{replies.get('acked')} acknowledged, {replies.get('in_db')} found",
            )
        )
    if rss_mb:
        out.append(
            (
                f"each worker under {RSS_TARGET_MB:.0f} MB RSS",
                max(rss_mb) < RSS_TARGET_MB,
                "peak " + ", ".join(f"{mb:.0f}" for mb in rss_mb) + " MB",
            )
        )
    return out


# --- the dataset ----------------------------------------------------------------------------


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


def instance_env(folder: Path, secret: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SEARCH_INDEX_DIR", "REDIS_URL", "CAIRN_CONFIG"}
    }
    env.update(
        CAIRN_CONFIG="development",  # production insists on HTTPS cookies
        SECRET_KEY=secret,
        CAIRN_INSTANCE_DIR=str(folder),
        DATABASE_URL=f"sqlite:///{folder / 'cairn.db'}",
        SEARCH_INDEX_DIR=str(folder / "search-index"),
        MAIL_FOLDER=str(folder / "mail"),
        RATELIMIT_ENABLED="0",
        APPROVAL_POST_COUNT="0",
    )
    return env


def prepare_dataset(posts: int, rebuild: bool) -> Path:
    """``bench/.data/posts-N/pristine``: the synthetic forum and its index, built once."""
    pristine = DATA_DIR / f"posts-{posts}" / "pristine"
    marker = pristine / "ready.json"
    # A change to the generator means new data: the marker keeps a hash of its source.
    source = hashlib.sha256((ROOT / "forum" / "synthetic.py").read_bytes()).hexdigest()[:16]
    wanted = {"posts": posts, "generator": source}
    if not rebuild and marker.exists() and json.loads(marker.read_text()).get("data") == wanted:
        print(f"dataset: reusing {pristine.relative_to(ROOT)}")
        flask(instance_env(pristine, "dataset-build"), "db", "upgrade")  # new migrations only
        return pristine
    shutil.rmtree(pristine, ignore_errors=True)
    pristine.mkdir(parents=True)
    env = instance_env(pristine, "dataset-build")
    started = time.perf_counter()
    flask(env, "db", "upgrade")
    flask(env, "forum", "demo-data", "--posts", str(posts))
    flask(env, "forum", "reindex")
    with closing(sqlite3.connect(pristine / "cairn.db")) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    marker.write_text(json.dumps({"data": wanted, "built": datetime.now(UTC).isoformat()}))
    print(f"dataset: built {posts:,} posts in {time.perf_counter() - started:.0f} s")
    return pristine


def working_copy(pristine: Path) -> Path:
    run = pristine.parent / "run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(pristine, run)
    return run


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    base: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_gunicorn(name: str, target: str, env: dict, args, log: Path, *extra: str) -> Server:
    port = free_port()
    cmd = [
        str(BIN / "gunicorn"),
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--bind", f"127.0.0.1:{port}",
        "--error-logfile", str(log),
        "--timeout", "60",
        "--no-control-socket",  # its default path is shared by every gunicorn on the machine
        *(["--threads", str(args.threads)] if args.worker_class == "gthread" else []),
        *extra,
        target,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    server = Server(name, proc, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: gunicorn exited ({proc.returncode}); see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name}: gunicorn did not start; see {log}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            pids.append(int(status.parent.name))
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each process (that still exists), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) / 1024
        for key in ("VmRSS", "VmHWM")
    }


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


# --- HTTP as a browser would do it ----------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Capture:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


def fetch(url: str, headers: dict[str, str], data: dict | None = None) -> Capture:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - our loopback
    try:
        resp = _opener.open(req, timeout=60)
    except urllib.error.HTTPError as exc:
        resp = exc
    with resp:
        return Capture(resp.status, list(resp.headers.items()), resp.read())


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def log_in(base: str, username: str, password: str) -> str:
    """The session cookie ("session=…") of a member logged in through the real form."""
    headers = {"User-Agent": USER_AGENT}
    page = fetch(f"{base}/login", headers)
    cookie = page.header("Set-Cookie").split(";", 1)[0]
    form = {
        "username": username,
        "password": password,
        "csrf_token": csrf_token(page.body.decode()),
    }
    done = fetch(f"{base}/login", {**headers, "Cookie": cookie}, form)
    if done.status != 302:
        raise RuntimeError(f"login as {username} failed ({done.status})")
    cookie = done.header("Set-Cookie").split(";", 1)[0]
    for _ in range(3):  # show the "Welcome back" flash once, so the cookie no longer holds it
        shown = fetch(f"{base}/", {**headers, "Cookie": cookie})
        if not shown.header("Set-Cookie"):
            return cookie
        cookie = shown.header("Set-Cookie").split(";", 1)[0]
    raise RuntimeError("the session cookie changes on every page")


# --- pages and SQL, in-process ----------------------------------------------------------------


@dataclass
class Plan:
    pages: list[tuple[str, str]]  # (name, path)
    member: str  # who logs in
    password: str
    reply_thread: int
    reply_thread_path: str
    sql: dict[tuple[str, str], int] = field(default_factory=dict)  # (page, who) -> statements

    @property
    def reply_path(self) -> str:
        return f"/t/{self.reply_thread}/reply"


def plan_and_count_sql(reply_tag: str) -> Plan:
    """Choose the pages from the data, then count each page's SQL statements (test client)."""
    from sqlalchemy import func, select

    from forum import create_app
    from forum.extensions import db
    from forum.models import Board, Thread, User
    from forum.synthetic import POSTS_PER_THREAD, SYNTHETIC_PASSWORD

    app = create_app()
    with app.app_context():
        s = db.session
        full = select(Thread).where(Thread.post_count == POSTS_PER_THREAD).order_by(Thread.id)
        count = s.scalar(select(func.count()).select_from(full.subquery()))
        thread = s.scalars(full.offset(count // 2).limit(1)).one()
        reply_thread = s.scalars(full.offset(count // 2 + 1).limit(1)).one()
        board = s.get(Board, thread.board_id)
        authors = s.scalars(select(User).order_by(User.post_count.desc(), User.id).limit(2)).all()
        per_page = app.config["POSTS_PER_PAGE"]
        last = -(-thread.post_count // per_page)
        thread_path = f"/t/{thread.id}/{thread.slug}"
        plan = Plan(
            pages=[
                ("board index", "/"),
                ("board page", f"/b/{board.slug}"),
                ("thread, first page", thread_path),
                (f"thread, last page ({last})", f"{thread_path}?page={last}"),
                ("member page", f"/u/{authors[0].username}"),
                ("outcomes", "/outcomes"),
                (f"search, rare ({RARE_QUERY})", f"/search?q={RARE_QUERY}"),
                (f"search, common ({COMMON_QUERY})", f"/search?q={COMMON_QUERY}"),
            ],
            member=authors[1].username,
            password=SYNTHETIC_PASSWORD,
            reply_thread=reply_thread.id,
            reply_thread_path=f"/t/{reply_thread.id}/{reply_thread.slug}",
        )
        engine = db.engine
    count_sql(app, engine, plan, reply_tag)
    return plan


def count_sql(app, engine, plan: Plan, reply_tag: str) -> None:
    """``plan.sql``: the statements of a repeated request to each page, and of one reply."""
    from sqlalchemy import event

    statements = [0]
    main = threading.get_ident()

    def count_statement(*_args) -> None:
        if threading.get_ident() == main:  # not the view-count flusher's
            statements[0] += 1

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        for who in ("visitor", "member"):
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
            if who == "member":
                token = csrf_token(client.get("/login").get_data(as_text=True))
                form = {"username": plan.member, "password": plan.password}
                client.post("/login", data={**form, "csrf_token": token})
            for name, path in plan.pages:
                client.get(path)  # warm: first-request work is not per-page
                statements[0] = 0
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{who} {path}: {response.status_code}")
                plan.sql[(name, who)] = statements[0]
            if who == "member":
                page = client.get(plan.reply_thread_path)
                token = csrf_token(page.get_data(as_text=True))
                statements[0] = 0
                posted = client.post(
                    f"/t/{plan.reply_thread}/reply",
                    data={"csrf_token": token, "body": f"Counting statements {reply_tag}."},
                )
                if posted.status_code != 302:
                    raise RuntimeError(f"test reply: {posted.status_code}")
                plan.sql[("reply", who)] = statements[0]
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)


def plan_in_child(tag: str) -> Plan:
    """``plan_and_count_sql`` in a process of its own, so no connection, lock or background
    thread of that app outlives it."""
    out = subprocess.run(
        [sys.executable, __file__, "--plan-only", tag], cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError("counting SQL failed:\n" + out.stderr[-4000:])
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["pages"] = [tuple(p) for p in data["pages"]]
    data["sql"] = {tuple(k.split("|")): v for k, v in data["sql"].items()}
    return Plan(**data)


def replies_in_db(database: Path, tag: str) -> int:
    with closing(sqlite3.connect(database)) as con:
        return con.execute(
            "SELECT count(*) FROM posts WHERE body LIKE ? AND deleted_at IS NULL", (f"%{tag}%",)
        ).fetchone()[0]


# --- wrk ----------------------------------------------------------------------------------------


def run_wrk(
    server: Server, path: str, args, headers: dict[str, str], seconds: int, lua: tuple = ()
) -> WrkResult:
    """wrk against ``server``'s ``path``, and the server's worker CPU time per request."""
    pids = worker_pids(server.proc.pid)
    before = cpu_seconds(pids)
    result = _wrk(server.base + path, args, headers, seconds, *lua)
    after = cpu_seconds(pids)
    if result.requests:
        used = sum(after[p] - before[p] for p in before if p in after)
        result.cpu_ms = used * 1000 / result.requests
    return result


def _wrk(url: str, args, headers: dict[str, str], seconds: int, *lua: str) -> WrkResult:
    cmd = [
        args.wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s",
        "--latency", "--timeout", "10s",
    ]  # fmt: skip
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if lua:
        cmd += ["-s", lua[0], url, "--", *lua[1:]]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def capture(base: str, plan: Plan, who_headers: dict[str, dict], tag: str):
    """Each page's exact response as visitor and member, and one posted reply; the reply form's
    CSRF token. Keys are the floor's (method, path): the floor tells who by a path prefix."""
    member = who_headers["member"]
    # The thread is fetched uncompressed, which also shows the cookie works (the member's
    # link is in the page header).
    page = fetch(base + plan.reply_thread_path, {**member, "Accept-Encoding": "identity"})
    if page.status != 200 or f"/u/{plan.member}".encode() not in page.body:
        raise RuntimeError(f"not logged in as {plan.member} ({page.status})")
    token = csrf_token(page.body.decode())
    captured: dict[tuple[str, str], Capture] = {}
    for who, headers in who_headers.items():
        for name, path in plan.pages:
            cap = fetch(base + path, headers)
            if cap.status != 200:
                raise RuntimeError(f"{who} {name}: {cap.status}")
            if cap.header("Set-Cookie"):
                print(f"  note: {who} {name} sets a cookie on every response")
            captured[("GET", f"/{who}{path}")] = cap
    form = {"csrf_token": token, "body": f"Capturing a reply {tag}.", "submit": "Post reply"}
    cap = fetch(base + plan.reply_path, member, form)
    if cap.status != 302 or "/p/" not in cap.header("Location"):
        raise RuntimeError(f"capture reply: {cap.status} {cap.header('Location')}")
    captured[("POST", f"/member{plan.reply_path}")] = cap
    return captured, token


def write_floor(folder: Path, captured: dict[tuple[str, str], Capture]) -> None:
    pages = []
    for i, ((method, path), cap) in enumerate(sorted(captured.items())):
        (folder / f"{i}.body").write_bytes(cap.body)
        headers = [(k, v) for k, v in cap.headers if k.lower() not in SKIPPED_HEADERS]
        pages.append(
            {
                "method": method,
                "path": path,
                "status": cap.status,
                "headers": headers,
                "body_file": f"{i}.body",
            }
        )
    (folder / "manifest.json").write_text(json.dumps({"pages": pages}, indent=1))


def check_floor(base: str, captured: dict[tuple[str, str], Capture], headers: dict) -> None:
    """The floor answers every captured request with the same status, headers and bytes."""
    for (method, path), cap in captured.items():
        got = fetch(base + path, headers, {"x": "1"} if method == "POST" else None)
        same_headers = all(
            got.header(k) == v for k, v in cap.headers if k.lower() not in SKIPPED_HEADERS
        )
        if (got.status, got.body) != (cap.status, cap.body) or not same_headers:
            raise RuntimeError(f"the floor's {method} {path} differs from Cairn's")


@dataclass
class Run:
    args: argparse.Namespace
    plan: Plan
    app: Server
    floor: Server
    who_headers: dict[str, dict[str, str]]

    def bracketed(self, path: str, floor_path: str, headers: dict, lua: tuple = (), args=None):
        """Cairn for --duration seconds between two halves of the floor's run, so both see
        the same neighbours on a busy machine."""
        args = args or self.args
        half = max(1, args.duration // 2)
        before = run_wrk(self.floor, floor_path, args, headers, half, lua)
        app = run_wrk(self.app, path, args, headers, args.duration, lua)
        after = run_wrk(self.floor, floor_path, args, headers, half, lua)
        return app, combine(before, after)

    def pages(self) -> list[Row]:
        rows = []
        for who, headers in self.who_headers.items():
            for name, path in self.plan.pages:
                print(f"  {name} as {who} ...", flush=True)
                if self.args.warmup:
                    run_wrk(self.app, path, self.args, headers, self.args.warmup)
                app, floor = self.bracketed(path, f"/{who}{path}", headers)
                rows.append(Row(name, who, path, app, floor, self.plan.sql[(name, who)]))
        return rows

    def replies(self, database: Path, token: str, tag: str) -> tuple[list[Row], dict]:
        """Replies for --duration seconds, one at a time (the latency a member sees), then from
        --connections clients at once (throughput); then every acknowledged one must be in the
        database (it may hold a few more: the requests still in flight when wrk stopped)."""
        lua = str(WRK_DIR / "reply.lua")
        headers, path = self.who_headers["member"], self.plan.reply_path
        sql = self.plan.sql[("reply", "member")]
        before = replies_in_db(database, tag)
        rows = []
        single = argparse.Namespace(**{**vars(self.args), "connections": 1, "wrk_threads": 1})
        for name, args in ((REPLY_ONE_AT_A_TIME, single), ("reply", self.args)):
            print(f"  {name} as member ...", flush=True)
            app, floor = self.bracketed(path, f"/member{path}", headers, (lua, token, tag), args)
            rows.append(Row(name, "member", path, app, floor, sql))
        in_db = replies_in_db(database, tag) - before  # the floor's half-run let them land
        acked = [row.app.acked for row in rows]
        check = {
            "acked": None if None in acked else sum(acked),
            "in_db": in_db,
            "other": sum(row.app.other or 0 for row in rows),
            "failed": sum(row.app.failed or 0 for row in rows),
        }
        check["ok"] = check["acked"] is not None and in_db >= check["acked"]
        return rows, check


def report(
    args, env: dict, rows: list[Row], reply_rows: list[Row], check: dict, memory: dict
) -> None:
    when = datetime.now(UTC)
    peaks = [m["VmHWM"] for m in memory["cairn"]]
    checks = verdicts(rows, reply_rows, peaks, check)
    all_rows = rows + reply_rows
    print(
        f"\n{when:%d %B %Y %H:%M} UTC, {args.posts:,} posts, gunicorn {args.workers} "
        f"{args.worker_class} workers, wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.duration}s, Accept-Encoding: {args.accept_encoding}, "
        f"load average {os.getloadavg()[0]:.1f}"
        + (f", REDIS_URL={env['REDIS_URL']}" if args.redis else "")
    )
    print(format_table(all_rows))
    if check:
        print(
            f"replies acknowledged: {check['acked']:,}, in the database: {check['in_db']:,}; "
            f"other 2xx/3xx answers {check['other']}, errors {check['failed']}"
        )
    for name, workers in memory.items():
        print(
            f"{name} workers RSS after the first requests / after the run / peak: "
            + ", ".join(
                f"{m['first_requests']:.0f} / {m['VmRSS']:.0f} / {m['VmHWM']:.0f} MB"
                for m in workers
            )
        )
    for label, holds, measured in checks:
        print(f"{'PASS' if holds else 'FAIL'}  {label}  {measured}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"load-{args.posts}-{when:%Y%m%dT%H%M%S}.json"
    settings = {k: v for k, v in vars(args).items() if k != "redis"}
    data = {
        "date": when.isoformat(),
        "posts": args.posts,
        "settings": settings | {"redis": bool(args.redis), "cpus": os.cpu_count()},
        "rows": [asdict(r) | {"ratio": r.ratio} for r in all_rows],
        "replies": check,
        "memory_mb": memory,
        "targets": [{"target": t, "holds": h, "measured": m} for t, h, m in checks],
        "load_average": os.getloadavg(),
    }
    if args.compare:
        earlier = json.loads(Path(args.compare).read_text())
        print(f"latencies against {args.compare} ({earlier['posts']:,} posts):")
        data["compared_with"] = {
            "file": args.compare,
            "lines": compare(data["rows"], earlier["rows"]),
        }
        print("\n".join(data["compared_with"]["lines"]))
    out.write_text(json.dumps(data, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=int(os.environ.get("POSTS") or 100_000))
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each page")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread")
    ap.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    ap.add_argument("--accept-encoding", default="br, gzip", help="sent to both servers")
    ap.add_argument(
        "--redis", nargs="?", const="start", help="set REDIS_URL (a URL, or start redis-server)"
    )
    ap.add_argument("--only", help="only pages whose name contains this")
    ap.add_argument("--no-replies", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached dataset")
    ap.add_argument("--compare", help="an earlier results JSON: latency ratios per page")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--plan-only"]:  # the child of plan_in_child, environment set
        sys.path.insert(0, str(ROOT))
        plan = plan_and_count_sql(argv[1])
        data = asdict(plan) | {"sql": {"|".join(k): v for k, v in plan.sql.items()}}
        print(json.dumps(data))
        return 0
    args = parse_args(argv)
    if not shutil.which(args.wrk):
        raise SystemExit(f"wrk not found ({args.wrk}): apt-get install wrk")
    run_dir = working_copy(prepare_dataset(args.posts, args.rebuild))
    tag = f"lb{secrets.token_hex(4)}"  # in every reply this run posts
    env = instance_env(run_dir, secrets.token_hex(32))
    redis = None
    if args.redis == "start":
        redis, env["REDIS_URL"] = start_redis()
    elif args.redis:
        env["REDIS_URL"] = args.redis
    for name in set(os.environ) - set(env):
        del os.environ[name]
    os.environ.update(env)  # for the child that counts SQL: the app reads it at import

    logs = Path(tempfile.mkdtemp(prefix="cairn-load-"))
    servers: list[Server] = []
    try:
        print("counting SQL statements per page (in-process, in a child process)")
        plan = plan_in_child(tag)
        if args.only:
            plan.pages = [(n, p) for n, p in plan.pages if args.only in n]
        servers.append(app := start_gunicorn("cairn", "wsgi:app", env, args, logs / "cairn.log"))
        cookie = log_in(app.base, plan.member, plan.password)
        visitor = {"User-Agent": USER_AGENT, "Accept-Encoding": args.accept_encoding}
        who_headers = {"visitor": visitor, "member": {**visitor, "Cookie": cookie}}
        captured, token = capture(app.base, plan, who_headers, tag)
        (floor_dir := logs / "floor").mkdir()
        write_floor(floor_dir, captured)
        floor_env = {**env, "FLOOR_PAGES": str(floor_dir)}
        floor = start_gunicorn(
            "floor", "floor_app:app", floor_env, args, logs / "floor.log",
            "--pythonpath", str(ROOT / "bench"),
        )  # fmt: skip
        servers.append(floor)
        check_floor(floor.base, captured, visitor)
        started = {s.name: [memory_mb(pid) for pid in worker_pids(s.proc.pid)] for s in servers}
        run = Run(args, plan, app, floor, who_headers)
        rows = run.pages()
        reply_rows, check = (
            ([], {}) if args.no_replies else run.replies(run_dir / "cairn.db", token, tag)
        )
        memory = {
            s.name: [
                {"first_requests": before["VmRSS"]} | memory_mb(pid)
                for before, pid in zip(started[s.name], worker_pids(s.proc.pid), strict=False)
            ]
            for s in servers
        }
    finally:
        for server in servers:
            server.stop()
        if redis is not None:
            redis.terminate()
            redis.wait()
    report(args, env, rows, reply_rows, check, memory)
    print(f"server logs: {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
