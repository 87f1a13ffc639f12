"""A deterministic synthetic forum for benchmarks: ``forum demo-data --posts N``.

Rows go in with bulk INSERTs and counters are computed while generating, so a million posts
take minutes, not hours. Bodies are plain paragraphs whose HTML is exactly what
``render_markdown`` would produce (a test checks), so pages render as they would for real posts.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from forum.models import Board, Category, HistoryEvent, Post, Thread, User
from forum.services.accounts import hash_password

SYNTHETIC_PASSWORD = "synthetic-pass"  # noqa: S105 - benchmark accounts, documented
POSTS_PER_THREAD = 25
BOARD_NAMES = ["Newly diagnosed", "Radiation", "Surgery", "Life after treatment", "Outcomes"]
CHUNK = 5000

WORDS = [
    "scan",
    "mri",
    "tumour",
    "growth",
    "hearing",
    "balance",
    "tinnitus",
    "vertigo",
    "headache",
    "facial",
    "nerve",
    "spasm",
    "surgery",
    "radiation",
    "gamma",
    "knife",
    "cyberknife",
    "fractionated",
    "proton",
    "translab",
    "retrosigmoid",
    "watch",
    "wait",
    "shrinkage",
    "swelling",
    "necrosis",
    "steroid",
    "course",
    "physio",
    "audiologist",
    "neurosurgeon",
    "appointment",
    "results",
    "follow",
    "up",
    "months",
    "years",
    "week",
    "day",
    "better",
    "worse",
    "stable",
    "improved",
    "family",
    "work",
    "sleep",
    "fatigue",
    "walking",
    "driving",
    "recovery",
    "support",
    "thanks",
    "hope",
    "update",
    "story",
    "left",
    "right",
    "side",
    "ear",
    "eye",
    "face",
    "numbness",
    "taste",
    "dry",
    "nurse",
    "clinic",
    "hospital",
    "team",
    "plan",
]
RARE_WORDS = ["zephyrine", "quillwort", "marrowbell", "tansyfold", "brackenmoor"]
TREATMENTS = [
    "gamma-knife",
    "cyberknife",
    "fsr",
    "translabyrinthine",
    "retrosigmoid",
    "watch-and-wait",
]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 14))
    if rng.random() < 0.01:
        words[rng.randrange(len(words))] = rng.choice(RARE_WORDS)
    return " ".join(words).capitalize() + "."


def synthetic_body(rng: random.Random, low: int = 400, high: int = 800) -> tuple[str, str]:
    """(Markdown source, its rendered HTML) for one post of ``low``–``high`` characters."""
    target = rng.randint(low, high)
    sentences: list[str] = []
    size = 0
    while size < target:  # size: the text so far, counting one space between sentences
        sentence = _sentence(rng)
        room = high - size - 3  # leave room for up to two paragraph breaks
        if room < 8:
            break  # close enough to the target, and no room for another sentence
        if len(sentence) > room:
            sentence = sentence[: max(room - 1, 1)].rsplit(" ", 1)[0].rstrip() + "."
        size += len(sentence) + (1 if sentences else 0)
        sentences.append(sentence)
    parts = min(rng.randint(1, 3), len(sentences))
    cut = [round(i * len(sentences) / parts) for i in range(parts + 1)]
    paragraphs = [" ".join(sentences[a:b]) for a, b in itertools.pairwise(cut)]
    source = "\n\n".join(paragraphs)
    html = "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in paragraphs)
    return source, html


def generate(
    session: Session,
    posts: int,
    *,
    seed: int = 1,
    progress: Callable[[int], object] | None = None,
) -> dict:
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - deterministic benchmark data, not secrets
    next_id = {
        model: (session.scalar(select(func.max(model.id))) or 0) + 1
        for model in (User, Board, Thread, Post, Category)
    }

    category_id = next_id[Category]
    session.execute(insert(Category), [{"id": category_id, "name": "Synthetic", "position": 99}])
    board_ids = [next_id[Board] + i for i in range(len(BOARD_NAMES))]
    session.execute(
        insert(Board),
        [
            {
                "id": bid,
                "category_id": category_id,
                "name": f"{name} (synthetic)",
                "slug": f"synthetic-{bid}",
                "description": "Generated for benchmarks.",
                "position": i,
                "members_only": False,
            }
            for i, (bid, name) in enumerate(zip(board_ids, BOARD_NAMES, strict=True))
        ],
    )

    member_count = max(5, min(500, posts // 20))
    first_user = next_id[User]
    password = hash_password(SYNTHETIC_PASSWORD)
    epoch = datetime(2012, 1, 1)
    session.execute(
        insert(User),
        [
            {
                "id": first_user + i,
                "username": f"member{first_user + i:05d}",
                "username_key": f"member{first_user + i:05d}",
                "email": f"member{first_user + i}@synthetic.invalid",
                "email_key": f"member{first_user + i}@synthetic.invalid",
                "password_hash": password,
                "role": "member",
                "custom_title": "",
                "signature": "",
                "history_visibility": "public",
                "profile_indexable": False,
                "in_memoriam": False,
                "memorial_line": "",
                "post_count": 0,
                "created_at": epoch,
                "session_token": secrets.token_hex(8),
                "anniversary_reminders": False,
            }
            for i in range(member_count)
        ],
    )
    session.execute(insert(HistoryEvent), list(_histories(rng, first_user, member_count)))

    thread_total = -(-posts // POSTS_PER_THREAD)
    span = timedelta(days=365 * 12).total_seconds()
    post_id = next_id[Post]
    user_posts = [0] * member_count
    board_stats = {
        bid: [0, 0, None, epoch] for bid in board_ids
    }  # threads, posts, last id, last at
    thread_rows: list[dict] = []
    post_rows: list[dict] = []
    made = 0
    for t in range(thread_total):
        thread_id = next_id[Thread] + t
        board_id = board_ids[t % len(board_ids)]
        size = min(POSTS_PER_THREAD, posts - made)
        start = epoch + timedelta(seconds=span * t / thread_total)
        author_index = rng.randrange(member_count)
        when = start
        first_post_id = post_id
        for position in range(size):
            poster = author_index if position == 0 else rng.randrange(member_count)
            source, html = synthetic_body(rng)
            post_rows.append(
                {
                    "id": post_id,
                    "thread_id": thread_id,
                    "author_id": first_user + poster,
                    "position": position,
                    "body": source,
                    "body_html": html,
                    "created_at": when,
                    "is_update": False,
                }
            )
            user_posts[poster] += 1
            post_id += 1
            when += timedelta(minutes=rng.randint(5, 60 * 24 * 3))
        last_at = when - timedelta(minutes=1)
        thread_rows.append(
            {
                "id": thread_id,
                "board_id": board_id,
                "author_id": first_user + author_index,
                "title": _title(rng),
                "slug": "synthetic-thread",
                "created_at": start,
                "last_post_at": last_at,
                "changed_at": last_at,
                "first_post_id": first_post_id,
                "last_post_id": post_id - 1,
                "post_count": size,
                "next_position": size,
                "view_count": rng.randint(0, 5000),
                "is_sticky": False,
                "is_locked": False,
                "outcome_summary": "",
            }
        )
        stats = board_stats[board_id]
        stats[0] += 1
        stats[1] += size
        if last_at >= stats[3]:
            stats[2], stats[3] = post_id - 1, last_at
        made += size
        if len(post_rows) >= CHUNK:
            _flush(session, thread_rows, post_rows, progress)
    _flush(session, thread_rows, post_rows, progress)

    for i, count in enumerate(user_posts):
        if count:
            session.execute(update(User).where(User.id == first_user + i).values(post_count=count))
    for bid, (threads_n, posts_n, last_id, _) in board_stats.items():
        session.execute(
            update(Board)
            .where(Board.id == bid)
            .values(thread_count=threads_n, post_count=posts_n, last_post_id=last_id)
        )
    session.commit()
    return {
        "posts": made,
        "threads": thread_total,
        "members": member_count,
        "seconds": time.perf_counter() - started,
    }


def _flush(
    session: Session,
    thread_rows: list[dict],
    post_rows: list[dict],
    progress: Callable[[int], object] | None,
) -> None:
    if thread_rows:
        session.execute(insert(Thread), thread_rows)
    if post_rows:
        session.execute(insert(Post), post_rows)
    if progress and post_rows:
        progress(len(post_rows))
    thread_rows.clear()
    post_rows.clear()


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 8))]
    return " ".join(words).capitalize()


def _histories(rng: random.Random, first_user: int, count: int):
    for i in range(count):
        year = rng.randint(2005, 2020)
        month = rng.randint(1, 12)
        size = round(rng.uniform(5, 30), 1)
        yield _event(
            first_user + i, "diagnosis", year, month, condition="acoustic-neuroma", size1_mm=size
        )
        treatment = rng.choice(TREATMENTS)
        yield _event(first_user + i, "treatment", year, min(12, month + 1), treatment=treatment)
        for follow_up in range(1, rng.randint(1, 4)):
            size = round(max(1.0, size * rng.uniform(0.8, 1.05)), 1)
            yield _event(first_user + i, "measurement", year + follow_up, month, size1_mm=size)


def _event(user_id: int, kind: str, year: int, month: int, **fields) -> dict:
    row = {
        "user_id": user_id,
        "kind": kind,
        "year": year,
        "month": month,
        "day": None,
        "date_text": f"{month}/{year % 100:02d}",
        "end_date_text": "",
        "label_text": "",
        "place": "",
        "note": "",
        "condition": None,
        "treatment": None,
        "symptom": None,
        "side": None,
        "size1_mm": None,
        "size2_mm": None,
        "size3_mm": None,
    }
    row.update(fields)
    return row
