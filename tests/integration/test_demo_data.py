"""The fictional demo community and the synthetic benchmark forum."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from forum.models import Board, HistoryEvent, Post, Thread, User
from forum.synthetic import synthetic_body
from forum.text.markup import render_markdown


def test_demo_data_loads_once_into_an_empty_database(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Loaded the demo community" in result.output
    boards = {b.slug for b in session.scalars(select(Board))}
    assert {
        "newly-diagnosed",
        "radiation",
        "surgery",
        "life-after-treatment",
        "updates-outcomes",
    } <= boards
    assert session.scalar(select(func.count()).select_from(User)) >= 5
    # One member's update years after the thread started.
    update = session.scalar(select(Post).where(Post.is_update.is_(True)).order_by(Post.created_at))
    thread = session.get(Thread, update.thread_id)
    assert (update.created_at - thread.created_at).days > 365
    assert "Indexed 19 posts for search." in result.output
    # A newcomer's first search on `make run` finds the demo stories.
    from forum.search.factory import search_backend
    from forum.search.query import parse_query

    with app.app_context():
        found = search_backend().search(parse_query("vertigo"), include_members_only=False)
    assert "Dizzy spells nine months after FSR, anyone else?" in [
        hit.thread_title for hit in found.hits
    ]
    again = runner.invoke(args=["forum", "demo-data", "--if-empty"])
    assert "already has content" in again.output
    assert session.scalar(select(func.count()).select_from(Thread)) == 6


def test_demo_counters_are_consistent(app, session):
    app.test_cli_runner().invoke(args=["forum", "demo-data"])
    for board in session.scalars(select(Board)):
        live = session.scalar(
            select(func.count())
            .select_from(Post)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Thread.board_id == board.id)
        )
        assert board.post_count == live
    for thread in session.scalars(select(Thread)):
        last = session.scalar(
            select(Post.id)
            .where(Post.thread_id == thread.id)
            .order_by(Post.position.desc())
            .limit(1)
        )
        assert thread.last_post_id == last
        assert thread.post_count == thread.next_position


def test_synthetic_forum_is_deterministic_and_consistent(app, session):
    result = app.test_cli_runner().invoke(args=["forum", "demo-data", "--posts", "260"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Post)) == 260
    assert session.scalar(select(func.count()).select_from(Thread)) == 11  # 10×25 + 10
    members = session.scalar(select(func.count()).select_from(User))
    assert members == 13
    assert session.scalar(select(func.count()).select_from(HistoryEvent)) >= 2 * members
    assert session.scalar(select(func.sum(User.post_count))) == 260
    assert session.scalar(select(func.sum(Board.post_count))) == 260
    lengths = [len(b) for b in session.scalars(select(Post.body))]
    assert min(lengths) >= 400 and max(lengths) <= 800


def test_synthetic_html_is_exactly_what_the_sanitizer_renders():
    rng = random.Random(7)
    for _ in range(50):
        source, html = synthetic_body(rng)
        assert html == str(render_markdown(source))
    assert synthetic_body(random.Random(3)) == synthetic_body(random.Random(3))


def test_synthetic_posts_must_be_positive(app):
    result = app.test_cli_runner().invoke(args=["forum", "demo-data", "--posts", "0"])
    assert result.exit_code != 0 and "at least 1" in result.output
