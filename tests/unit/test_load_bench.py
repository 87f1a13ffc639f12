"""The load benchmark's pure parts: reading wrk's output and printing the table (no network)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def lb():
    spec = importlib.util.spec_from_file_location("load_bench", BENCH / "load_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_bench"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("load_bench", None)


THREAD_PAGE = """\
Running 2s test @ http://127.0.0.1:18779/visitor/t/201/synthetic-thread
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.35ms    1.50ms  24.24ms   93.76%
    Req/Sec     1.20k   212.26     1.62k    65.00%
  Latency Distribution
     50%    3.14ms
     75%    3.67ms
     90%    4.36ms
     99%    9.74ms
  4776 requests in 2.02s, 40.19MB read
Requests/sec:   2367.22
Transfer/sec:     19.92MB
"""

REPLIES = """\
Running 10s test @ http://127.0.0.1:41011/t/202/reply
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   757.20ms  310.12ms   1.60s    71.00%
    Req/Sec     5.10      3.20    20.00     80.00%
  Latency Distribution
     50%  757.20ms
     75%  902.00ms
     90%    1.21s
     99%    1.60s
  91 requests in 10.06s, 35.17KB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:      9.05
Transfer/sec:      3.50KB
ACKED 86 OTHER 2 FAILED 3
"""

FLOOR_FAST = """\
Running 2s test @ http://127.0.0.1:18779/visitor/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.00us  201.00us   5.01ms   90.00%
    Req/Sec     6.50k   300.00     7.00k    70.00%
  Latency Distribution
     50%  580.00us
     75%  650.00us
     90%  800.00us
     99%    1.20ms
  26000 requests in 2.00s, 120.00MB read
Requests/sec:  13000.00
Transfer/sec:     60.00MB
"""


def test_parse_wrk_reads_throughput_and_the_latency_distribution(lb):
    result = lb.parse_wrk(THREAD_PAGE)
    assert result.rps == 2367.22
    assert result.requests == 4776
    assert result.seconds == pytest.approx(2.02)
    assert (result.p50_ms, result.p75_ms, result.p90_ms, result.p99_ms) == (
        3.14,
        3.67,
        4.36,
        9.74,
    )
    assert result.non_2xx_3xx == 0 and result.socket_errors == {}
    assert result.acked is None


def test_parse_wrk_reads_errors_seconds_and_the_reply_scripts_counts(lb):
    result = lb.parse_wrk(REPLIES)
    assert result.p50_ms == pytest.approx(757.2)
    assert result.p90_ms == pytest.approx(1210)
    assert result.p99_ms == pytest.approx(1600)
    assert result.non_2xx_3xx == 3
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 2}
    assert (result.acked, result.other, result.failed) == (86, 2, 3)


def test_parse_wrk_reads_microseconds_and_refuses_other_output(lb):
    assert lb.parse_wrk(FLOOR_FAST).p50_ms == pytest.approx(0.58)
    assert lb.parse_duration_ms("2.00m") == 120_000
    with pytest.raises(ValueError):
        lb.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    with pytest.raises(ValueError):
        lb.parse_duration_ms("12 parsecs")


def test_table_shows_ratio_to_floor_errors_and_sql(lb):
    app, floor = lb.parse_wrk(REPLIES), lb.parse_wrk(THREAD_PAGE)
    floor.cpu_ms = 1.234  # worker CPU per request, measured around the wrk run
    rows = [
        lb.Row("thread, first page", "visitor", "/t/1/x", floor, lb.parse_wrk(FLOOR_FAST), 2),
        lb.Row("reply", "member", "/t/2/reply", app, floor, None),
    ]
    lines = lb.format_table(rows).splitlines()
    assert lines[0] == (
        "| page | who | req/s | p50 ms | p99 ms | floor req/s | floor p50 | ratio "
        "| CPU ms/req (floor) | SQL |"
    )
    assert lines[1].startswith("|---|---|---:|")
    assert (
        lines[2]
        == "| thread, first page | visitor | 2,367 | 3.1 | 9.7 | 13,000 | 0.6 | 18% | 1.2 | 2 |"
    )
    assert (
        lines[3]
        == "| reply | member | 9 (5 errors) | 757.2 | 1600.0 | 2,367 | 3.1 | 0% | – (1.2) | – |"
    )


def test_verdicts_check_the_issues_targets(lb):
    fast, floor = lb.parse_wrk(THREAD_PAGE), lb.parse_wrk(FLOOR_FAST)
    rows = [lb.Row("thread, first page", "visitor", "/t/1/x", fast, floor, 2)]
    one = lb.Row(lb.REPLY_ONE_AT_A_TIME, "member", "/t/2/reply", lb.parse_wrk(REPLIES), floor, 24)
    many = lb.Row("reply", "member", "/t/2/reply", fast, floor, 24)  # p50 3.1 ms: not the one
    checks = {
        label: holds
        for label, holds, _ in lb.verdicts(
            rows, [one, many], [96.0, 121.0], {"ok": True, "acked": 86, "in_db": 88}
        )
    }
    assert checks == {
        "anonymous thread page >= 50% of floor req/s": False,  # 18%
        "replying p50 < 20 ms (one client at a time)": False,  # 757.2 ms
        "every acknowledged reply is in the database": True,
        "each worker under 120 MB RSS": False,
    }


def test_compare_flags_pages_slower_than_the_limit(lb):
    def row(page, p50, p99, cpu=None):
        app = {"p50_ms": p50, "p99_ms": p99, "cpu_ms": cpu}
        return {"page": page, "who": "visitor", "app": app}

    earlier = [row("board page", 10.0, 20.0, 4.0), row("search, rare", 4.0, 8.0)]
    now = [row("board page", 12.0, 29.0, 5.0), row("search, rare", 8.0, 9.0), row("new", 1, 1)]
    assert lb.compare(now, earlier) == [
        "PASS  board page as visitor: p50 1.20x, p99 1.45x (limit 1.5x); CPU/request 1.25x",
        "FAIL  search, rare as visitor: p50 2.00x, p99 1.12x (limit 1.5x)",
    ]


def test_combine_pools_two_floor_runs_around_cairns(lb):
    a, b = lb.parse_wrk(THREAD_PAGE), lb.parse_wrk(FLOOR_FAST)
    a.cpu_ms, b.cpu_ms = 1.0, 0.5
    both = lb.combine(a, b)
    assert both.requests == 4776 + 26000
    assert both.rps == pytest.approx(30776 / 4.02)
    assert both.p50_ms == pytest.approx((3.14 * 4776 + 0.58 * 26000) / 30776)
    assert both.cpu_ms == pytest.approx((1.0 * 4776 + 0.5 * 26000) / 30776)
    replies = lb.combine(lb.parse_wrk(REPLIES), lb.parse_wrk(REPLIES))
    assert (replies.acked, replies.failed, replies.non_2xx_3xx) == (172, 6, 6)
    assert replies.socket_errors["timeout"] == 4
