"""Search benchmark: synthetic patient posts -> WhooshBackend rebuild + query latencies.

    .venv/bin/python bench/search_bench.py --posts 100000
    .venv/bin/python bench/search_bench.py --posts 100000 --postgres postgresql+psycopg://...

``--postgres URL`` measures the PostgreSQL backend instead, in that (migrated, throwaway)
database; there is no result cache to bypass, so "cached" repeats the same measurement.

Prints indexing throughput (posts/s, CPU seconds, peak memory) and, per query, the first run,
p50/p95 wall and CPU time of repeated runs without the result caches, and the cached p50.
CPU time is reported because wall time on a shared machine mostly measures the neighbours.
``generate_docs`` is reusable (tests and other benchmarks can import it).  No database.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forum.search.documents import SearchDoc, SearchResults
from forum.search.query import ParsedQuery, parse_query
from forum.search.whoosh_backend import WhooshBackend


def _words(text: str) -> list[str]:
    return text.split()


SYNONYMS = [
    ["gk", "gamma knife", "gammaknife"],
    ["an", "vs", "acoustic neuroma", "vestibular schwannoma"],
    ["hfs", "hemifacial spasm", "facial spasm"],
    ["decadron", "dexamethasone"],
    ["translab", "translabyrinthine"],
    ["mvd", "microvascular decompression"],
    ["w&w", "watch and wait"],
    ["botox", "botulinum toxin"],
]

BOARDS = [
    ("newly-diagnosed", "Newly diagnosed"),
    ("treatment-choices", "Treatment choices"),
    ("after-surgery", "After surgery"),
    ("radiation", "Radiation"),
    ("tinnitus-hearing", "Tinnitus and hearing"),
    ("facial-nerve", "Facial nerve"),
    ("members-lounge", "Members' lounge"),  # members only
]

COMMON = _words(
    "the and i my a to was it of in for that is on with have had but so this after be at "
    "they not just about me all from we are been like now what did do some time can you "
    "when still get would one then week months years ago day back only really also very "
    "much more since first last feel felt think know said told doctor surgeon nurse team "
    "left right side ear head face eye neck night morning every few lot better worse good "
    "bad hope thanks thank everyone anyone here there going went got take took make"
)
MEDICAL = (
    _words(
        "tinnitus balance dizziness vertigo headache headaches spasm spasms numbness tingling "
        "facial nerve palsy weakness eye dry tear fatigue tired pain mri scan contrast growth "
        "tumour tumor size mm cm radiation surgery surgeon operation recovery steroids swelling "
        "hospital clinic ent neurosurgeon audiologist hearing aid cros baha physio therapy "
        "exercises vestibular rehab fullness pressure ringing buzzing migraine sleep anxiety "
        "worry scared relieved follow-up results waiting treated treatment treatments "
        "retrosigmoid craniotomy shunt csf leak taste numb drooping smile blink eyelid weight"
    )
    + ["hearing loss"] * 6
)
# (term, relative frequency): abbreviations are common, some drug names are rare
TERMS_WEIGHTED = [
    ("GK", 30),
    ("gamma knife", 30),
    ("AN", 30),
    ("VS", 20),
    ("acoustic neuroma", 30),
    ("vestibular schwannoma", 8),
    ("CK", 8),
    ("cyberknife", 8),
    ("translab", 10),
    ("translabyrinthine", 4),
    ("retrosigmoid surgery", 10),
    ("watch and wait", 12),
    ("w&w", 6),
    ("proton therapy", 3),
    ("SSD", 5),
    ("single sided deafness", 4),
    ("Bell's palsy", 2),
    ("trigeminal neuralgia", 2),
    ("hemifacial spasm", 1),
    ("HFS", 0.5),
    ("MVD", 0.5),
    ("botox", 1),
    ("NF2", 0.5),
    ("decadron", 0.2),
    ("dexamethasone", 0.2),
]
TERMS = [t for t, _w in TERMS_WEIGHTED]
_CUM = list(itertools.accumulate(w for _t, w in TERMS_WEIGHTED))
TEMPLATES = [
    "I was diagnosed with {t} {n} months ago and the {m} has been {adj}.",
    "My {m} started after {t} and the {m2} is {adj} most days.",
    "Has anyone had {t}? I'm worried about {m} and {m2}.",
    "The {role} said {t} was the best option for a {size}mm tumour.",
    "After {t} I had {m} for about {n} weeks, then it eased off.",
    "We chose {t} because of the {m} risk, and so far the {m2} is {adj}.",
    "Thank you all, reading about your {m} helped me decide on {t}.",
    "Six months on from {t}: {m} is {adj}, {m2} still there but manageable.",
    "My {role} wants another MRI before deciding between {t} and {t2}.",
    "Does the {m} ever go away completely after {t}?",
    "I still get {m} in the {time}, especially when I'm {feel}.",
    "Just had my follow-up MRI and the {size}mm VS has not grown since {t}.",
]
ADJ = _words("better worse unchanged awful manageable improving mild severe constant")
ROLES = _words("surgeon neurosurgeon ENT consultant audiologist GP radiologist physio")
TIMES = _words("morning evening night afternoon")
FEELS = _words("tired stressed anxious cold hungry busy")
SYLLABLES = _words("ka lo mi ne ru ta sa vo de pi lu ga fe zo ri ba mo ti")


def _rare_words(rnd: random.Random, n: int) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4))))
    return sorted(words)


def _sentence(rnd: random.Random) -> str:
    return rnd.choice(TEMPLATES).format(
        t=rnd.choices(TERMS, cum_weights=_CUM)[0],
        t2=rnd.choices(TERMS, cum_weights=_CUM)[0],
        m=rnd.choice(MEDICAL),
        m2=rnd.choice(MEDICAL),
        n=rnd.randint(2, 18),
        adj=rnd.choice(ADJ),
        role=rnd.choice(ROLES),
        size=rnd.randint(3, 30),
        time=rnd.choice(TIMES),
        feel=rnd.choice(FEELS),
    )


def _body(rnd: random.Random, rare: list[str]) -> str:
    target = rnd.randint(400, 800)
    parts: list[str] = []
    length = 0
    while length < target:
        if rnd.random() < 0.6:
            s = _sentence(rnd)
        else:
            words = [rnd.choice(COMMON) for _ in range(rnd.randint(6, 14))]
            if rnd.random() < 0.5:
                words.insert(rnd.randrange(len(words)), rnd.choice(MEDICAL))
            if rnd.random() < 0.3:  # long tail: Zipf-like pick from rare words
                words.insert(
                    rnd.randrange(len(words)), rare[int(rnd.paretovariate(1.1)) % len(rare)]
                )
            s = " ".join(words).capitalize() + "."
        parts.append(s)
        length += len(s) + 1
    return " ".join(parts)[:800]


def generate_docs(n: int, seed: int = 7) -> Iterator[SearchDoc]:
    """``n`` fictional forum posts in ~n/8 threads, in posting order (deterministic)."""
    rnd = random.Random(seed)
    rare = _rare_words(rnd, 20000)
    authors = [f"member{i}" for i in range(3000)]
    start = datetime(2004, 1, 1)
    span = (datetime(2025, 1, 1) - start).total_seconds()
    post_id = 0
    thread_id = 0
    while post_id < n:
        thread_id += 1
        board_slug, board_name = rnd.choice(BOARDS)
        title = _sentence(rnd).rstrip(".?!")[:80]
        created = start + timedelta(seconds=span * post_id / max(n, 1))
        status = "resolved" if rnd.random() < 0.3 else "open"
        treatments = tuple(
            rnd.sample(
                ["gamma-knife", "translab", "watch-and-wait", "cyberknife"], rnd.randint(0, 2)
            )
        )
        for i in range(min(rnd.randint(1, 15), n - post_id)):
            post_id += 1
            created += timedelta(hours=rnd.randint(1, 72))
            yield SearchDoc(
                post_id=post_id,
                thread_id=thread_id,
                thread_title=title,
                thread_slug=f"thread-{thread_id}",
                body_text=_body(rnd, rare),
                author=rnd.choice(authors),
                board_slug=board_slug,
                board_name=board_name,
                created_at=created,
                members_only=board_slug == "members-lounge",
                is_first_post=i == 0,
                status=status,
                treatments=treatments,
            )


QUERIES = [
    # (label, query text, sort, page)
    ("very common: the", "the", "relevance", 1),
    ("common: hearing", "hearing", "relevance", 1),
    ("common+synonyms: AN", "AN", "relevance", 1),
    ("synonyms: GK spasms", "GK spasms", "relevance", 1),
    ('phrase: "hearing loss"', '"hearing loss"', "relevance", 1),
    ("two words: facial numbness", "facial numbness", "relevance", 1),
    ("rare: decadron", "decadron", "relevance", 1),
    ("rare: nf2 translab", "nf2 translab", "relevance", 1),
    ("rare long-tail word", "@RARE", "relevance", 1),
    ("misspelt: hemifacal spasm", "hemifacal spasm", "relevance", 1),
    ("filters: board+after", "tinnitus board:tinnitus-hearing after:2015", "relevance", 1),
    ("status+exclusion", "surgery status:resolved -radiation", "relevance", 1),
    ("newest: hearing", "hearing", "newest", 1),
    ("page 5: tinnitus", "tinnitus", "relevance", 5),
]


def _pct(values: list[float], pct: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(pct / 100 * (len(values) - 1))))
    return values[k]


def _timed(fn: Callable[[], SearchResults]) -> tuple[float, float, SearchResults]:
    """(wall ms, CPU ms, result) of one call; CPU time is what an idle machine would see."""
    w, c = time.perf_counter(), time.process_time()
    res = fn()
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000, res


def _rebuild(backend: Any, posts: int) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    last = [t0]

    def progress(done: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10:
            print(f"  ... {done:,} posts, {done / (now - t0):,.0f} posts/s", flush=True)
            last[0] = now

    count = backend.rebuild(generate_docs(posts), total=posts, progress=progress)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"rebuild: {count:,} posts in {secs:.1f} s = {count / secs:,.0f} posts/s "
        f"with {getattr(backend, 'rebuild_procs', 1)} worker process(es); CPU: parent {cpu:.1f} s "
        f"(incl. generating the text), workers {children.ru_utime + children.ru_stime:.1f} s; "
        f"peak RSS: parent {me.ru_maxrss / 1024:.0f} MB, largest worker "
        f"{children.ru_maxrss / 1024:.0f} MB; load average now {os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    ap.add_argument("--dir", help="index directory (default: a temporary one, removed)")
    ap.add_argument("--reuse", action="store_true", help="skip the rebuild, use --dir as is")
    ap.add_argument("--procs", type=int, default=None, help="rebuild worker processes")
    ap.add_argument("--postgres", metavar="URL", help="benchmark PostgresBackend in this database")
    args = ap.parse_args(argv)

    tmp = None
    index_dir = Path(args.dir) if args.dir else Path(tmp := tempfile.mkdtemp(prefix="cairn-bench-"))
    try:
        # One backend with every cache (production), one without the result caches (so
        # repeated runs measure the work a new query costs; postings stay cached).
        if args.postgres:
            from forum.search.postgres_backend import PostgresBackend

            cached = uncached = PostgresBackend(args.postgres, synonyms=SYNONYMS)
            if not args.reuse:
                _rebuild(cached, args.posts)
        else:
            cached = WhooshBackend(index_dir, synonyms=SYNONYMS, rebuild_procs=args.procs)
            if not args.reuse:
                _rebuild(cached, args.posts)
            uncached = WhooshBackend(index_dir, synonyms=SYNONYMS, result_cache=False)
        print(f"doc_count: {cached.doc_count():,}")
        warm = parse_query("a")  # loads per-segment arrays and length norms
        cached.search(warm, include_members_only=False)
        uncached.search(warm, include_members_only=False)

        rnd = random.Random(7)
        rare_word = _rare_words(rnd, 20000)[60]  # a long-tail word that is in the index
        print(
            "ms per search (20 per page). first = first time this query runs in the process;\n"
            "uncached = repeated without result caches (wall p50/p95, CPU p50/p95); "
            "cached = repeated with them\n"
        )
        head = f"{'query':30} {'threads':>7} {'first':>6} {'p50':>6} {'p95':>6}"
        print(f"{head} {'cpu50':>6} {'cpu95':>6} {'cached':>6}")
        for label, text, sort, page in QUERIES:
            parsed = parse_query(text.replace("@RARE", rare_word))

            def run(b: Any, parsed: ParsedQuery = parsed, s: str = sort, p: int = page):
                return lambda: b.search(
                    parsed, include_members_only=False, page=p, per_page=20, sort=s
                )

            first, _cpu, res = _timed(run(cached))
            hot = [_timed(run(cached))[0] for _ in range(args.repeat)]
            _timed(run(uncached))
            runs = [_timed(run(uncached)) for _ in range(args.repeat)]
            wall = [w for w, _c, _r in runs]
            cpu = [c for _w, c, _r in runs]
            extra = f"  did you mean: {res.suggestion}" if res.suggestion else ""
            print(
                f"{label:30} {res.total_threads:>7,} {first:>6.1f} {statistics.median(wall):>6.1f} "
                f"{_pct(wall, 95):>6.1f} {statistics.median(cpu):>6.1f} {_pct(cpu, 95):>6.1f} "
                f"{statistics.median(hot):>6.1f}{extra}"
            )
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
