"""A page's SQL statement count does not grow with the number of boards, threads or posts shown."""

from __future__ import annotations

from tests.conftest import login
from tests.factories import make_board, make_thread, make_user


def statements_for(client, count_queries, url: str) -> int:
    client.get(url)  # warm anything lazily cached
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def grow(session, board, authors, threads: int, replies: int):
    for i in range(threads):
        make_thread(session, board, authors[i % len(authors)], replies=replies, repliers=authors)


def test_board_index_board_and_thread_pages_have_fixed_query_counts(client, session, count_queries):
    authors = [make_user(session, f"author{i}") for i in range(4)]
    board = make_board(session)
    make_board(session)
    grow(session, board, authors, threads=1, replies=1)
    from sqlalchemy import select

    from forum.models import Thread

    thread = session.scalar(select(Thread))
    small = {
        "index": statements_for(client, count_queries, "/"),
        "board": statements_for(client, count_queries, f"/b/{board.slug}"),
        "thread": statements_for(client, count_queries, f"/t/{thread.id}/{thread.slug}"),
    }
    for _ in range(3):
        make_board(session)
    grow(session, board, authors, threads=8, replies=2)
    for i in range(15):
        from forum.services import posting

        posting.reply(session, authors[i % 4], thread, board, f"More {i}")
    large = {
        "index": statements_for(client, count_queries, "/"),
        "board": statements_for(client, count_queries, f"/b/{board.slug}"),
        "thread": statements_for(client, count_queries, f"/t/{thread.id}/{thread.slug}"),
    }
    assert large == small
    assert small["thread"] <= 6, small


def test_logged_in_pages_also_have_fixed_query_counts(client, session, count_queries):
    authors = [make_user(session, f"poster{i}") for i in range(3)]
    make_user(session, "reader")
    board = make_board(session)
    thread = make_thread(session, board, authors[0], replies=1)
    login(client, "reader")
    small = statements_for(client, count_queries, f"/t/{thread.id}/{thread.slug}")
    from forum.services import posting

    for i in range(12):
        posting.reply(session, authors[i % 3], thread, board, f"Reply {i}")
    assert statements_for(client, count_queries, f"/t/{thread.id}/{thread.slug}") == small
