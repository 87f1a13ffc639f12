"""Reading: the board index, board pages, thread pages, permalinks and member pages."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from forum.models import utcnow
from forum.services import posting
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def visible(response) -> str:
    """The page's text as a reader sees it: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_board_index_lists_boards_with_counts_and_latest_post(client, session):
    board = make_board(session, "Surgery talk", description="Before and after the operation.")
    author = make_user(session, "petrel")
    make_thread(session, board, author, title="Retrosig next month", replies=2)
    page = text(client.get("/"))
    assert "Surgery talk" in page and "Before and after the operation." in page
    row = re.search(r"Surgery talk.*?</tr>", page, re.S).group(0)
    assert re.search(r'<td class="num">1</td>\s*<td class="num">3</td>', row)
    assert "Retrosig next month" in row and "petrel" in row


def test_board_page_lists_stickies_first_then_by_last_activity(client, session):
    board = make_board(session, "Radiation")
    author = make_user(session)
    old = make_thread(session, board, author, title="Older thread")
    new = make_thread(session, board, author, title="Newer thread")
    sticky = make_thread(session, board, author, title="Pinned guide")
    sticky.is_sticky = True
    session.commit()
    posting.reply(session, author, old, board, "Bumping the older thread.")
    page = text(client.get(f"/b/{board.slug}"))
    order = [page.index(t) for t in ("Pinned guide", "Older thread", "Newer thread")]
    assert order == sorted(order)
    assert "Sticky" in page
    assert new.id


def test_board_page_shows_replies_views_and_author(client, session):
    board = make_board(session)
    thread = make_thread(session, board, make_user(session, "starter"), title="Counting", replies=3)
    thread.view_count = 41
    session.commit()
    page = text(client.get(f"/b/{board.slug}"))
    row = re.search(r"Counting.*?</tr>", page, re.S).group(0)
    assert "starter" in row
    assert re.search(r'<td class="num">3</td>\s*<td class="num">41</td>', row)


def test_board_pages_paginate(client, session, app):
    board = make_board(session)
    author = make_user(session)
    per_page = app.config["THREADS_PER_PAGE"]
    for i in range(per_page + 2):
        make_thread(session, board, author, title=f"Thread number {i:03d}")
    first = text(client.get(f"/b/{board.slug}"))
    second = text(client.get(f"/b/{board.slug}?page=2"))
    assert first.count('class="thread-title"') == per_page
    assert second.count('class="thread-title"') == 2
    assert 'rel="next"' in first and 'rel="prev"' in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99999999999999", "3"])
def test_bad_page_numbers_are_a_clear_404(client, session, page):
    board = make_board(session)
    make_thread(session, board)
    response = client.get(f"/b/{board.slug}?page={page}")
    assert response.status_code == 404
    assert "page" in text(response).lower()
    thread_response = client.get(f"/t/{board.id}/x?page={page}")
    assert thread_response.status_code in (301, 404)


def test_unknown_ids_and_slugs_are_404_pages(client, session):
    for url in [
        "/b/no-such-board",
        "/t/999999",
        "/t/999999/slug",
        "/p/999999",
        "/u/nobody_at_all",
        "/t/abc",
        "/p/-1",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in text(response) or "There is no" in text(response)


def test_thread_with_wrong_or_missing_slug_redirects_permanently(client, session):
    thread = make_thread(session, title="A slug test")
    for url in (f"/t/{thread.id}", f"/t/{thread.id}/wrong-slug"):
        response = client.get(url)
        assert response.status_code == 301
        assert response.headers["Location"] == f"/t/{thread.id}/a-slug-test"


def test_thread_page_shows_posts_in_order_with_author_card(client, session):
    board = make_board(session)
    author = make_user(session, "cardholder", custom_title="Five years out", signature="GK 2019")
    thread = make_thread(session, board, author, title="Card test", replies=2)
    posts = posts_of(session, thread)
    page = text(client.get(f"/t/{thread.id}/card-test"))
    for post in posts:
        assert f'<article id="post-{post.id}"' in page
    assert page.index("Reply #1") < page.index("Reply #2")
    assert "Five years out" in page and "New Member" in page and "Posts: 3" in page
    assert f'href="/p/{posts[1].id}"' in page


def test_thread_pages_hold_twenty_posts_and_permalinks_find_them(client, session):
    board = make_board(session)
    author = make_user(session)
    thread = make_thread(session, board, author, title="Long thread", replies=44)
    posts = posts_of(session, thread)
    first = text(client.get(f"/t/{thread.id}/long-thread"))
    third = text(client.get(f"/t/{thread.id}/long-thread?page=3"))
    assert first.count("<article ") == 20
    assert third.count("<article ") == 5
    response = client.get(f"/p/{posts[41].id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/t/{thread.id}/long-thread?page=3#post-{posts[41].id}"
    assert client.get(f"/t/{thread.id}/long-thread?page=4").status_code == 404


def test_edited_post_shows_last_edit_and_moderators_read_revisions(client, session):
    from tests.conftest import login

    board = make_board(session)
    author = make_user(session, "editor_one")
    thread = make_thread(session, board, author, title="Edits", body="First words.")
    post = posts_of(session, thread)[0]
    posting.edit_post(session, author, post, thread, board, "Second words.")
    page = visible(client.get(f"/t/{thread.id}/edits"))
    assert "Last edit:" in page and "by editor_one" in page and "Second words." in page
    assert client.get(f"/p/{post.id}/revisions").status_code == 302  # visitors: log in first
    login(client, "editor_one")
    assert client.get(f"/p/{post.id}/revisions").status_code == 403  # members can't
    make_moderator(session, "mod_reader")
    login(client, "mod_reader")
    revisions = text(client.get(f"/p/{post.id}/revisions"))
    assert "First words." in revisions and "Second words." in revisions


def test_thread_json_ld_is_a_discussion_forum_posting(client, session):
    board = make_board(session)
    thread = make_thread(
        session,
        board,
        make_user(session, "ld_author"),
        title="Structured",
        body="Opening </script><script>alert(1)</script> words",
        replies=2,
    )
    page = client.get(f"/t/{thread.id}/structured").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in raw
    data = json.loads(raw)
    assert data["@type"] == "DiscussionForumPosting"
    assert data["headline"] == "Structured"
    assert data["author"]["name"] == "ld_author"
    assert data["author"]["url"].endswith("/u/ld_author")
    assert data["datePublished"].endswith("Z")
    assert "alert(1)" in data["text"]
    assert data["url"].endswith(f"/t/{thread.id}/structured")
    assert [c["text"] for c in data["comment"]] == ["Reply number 1.", "Reply number 2."]


def test_member_page_shows_facts_and_recent_posts(client, session):
    board = make_board(session)
    member = make_user(session, "profiled", custom_title="Hearing aid fan")
    member.last_active_at = utcnow()
    session.commit()
    make_thread(session, board, member, title="My first question")
    page = text(client.get("/u/PROFILED"))
    assert "profiled" in page and "Hearing aid fan" in page
    assert "New Member" in page and "My first question" in page
    assert "Joined" in page and "Last active" in page
    assert '<meta name="robots" content="noindex">' in page


def test_ranks_follow_post_count_and_roles_are_shown(client, session, app):
    board = make_board(session)
    veteran = make_user(session, "veteran", post_count=0)
    thread = make_thread(session, board, veteran, title="Ranks")
    veteran.post_count = 600
    session.commit()
    moderator = make_moderator(session, "the_mod")
    posting.reply(session, moderator, thread, board, "Moderator here.")
    page = text(client.get(f"/t/{thread.id}/ranks"))
    assert "Hero Member" in page
    assert "Moderator" in page


def test_moderator_marks_a_member_in_memoriam(client, session):
    from tests.conftest import login, post_form

    board = make_board(session)
    remembered = make_user(session, "remembered_one")
    thread = make_thread(session, board, remembered, title="Memories")
    make_user(session, "plain_member")
    login(client, "plain_member")
    response = post_form(
        client,
        "/u/remembered_one/memoriam",
        {"remembered": "y", "memorial_line": "x"},
        form_url="/u/remembered_one",
    )
    assert response.status_code == 403
    make_moderator(session, "kind_mod")
    login(client, "kind_mod")
    response = post_form(
        client,
        "/u/remembered_one/memoriam",
        {"remembered": "y", "memorial_line": "1950–2024 Please keep her family in your hearts"},
    )
    assert response.status_code == 302
    page = text(client.get(f"/t/{thread.id}/memories"))
    assert "1950–2024 Please keep her family in your hearts" in page


def test_view_counts_are_buffered_not_written_per_page_view(app, client, session, count_queries):
    thread = make_thread(session, title="Viewed")
    counter = app.extensions["cairn_views"]
    before = counter.pending(thread.id)
    with count_queries() as statements:
        for _ in range(3):
            assert client.get(f"/t/{thread.id}/viewed").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert counter.pending(thread.id) == before + 3


def test_view_counter_flush_adds_counts_in_one_batch(base_app, tmp_path):
    """Flushing writes the buffered counts (on a throwaway database of its own)."""
    from sqlalchemy import create_engine, text

    from forum.services.view_counts import ViewCounter

    engine = create_engine(f"sqlite:///{tmp_path / 'views.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE threads (id INTEGER PRIMARY KEY, view_count INTEGER)"))
        conn.execute(text("INSERT INTO threads VALUES (1, 10), (2, 0)"))
    counter = ViewCounter(flush_seconds=3600)
    for _ in range(5):
        counter.record(1)
    counter.record(2)
    assert counter.maybe_flush(engine) == 0  # not due yet
    assert counter.flush(engine) == 6
    with engine.connect() as conn:
        assert conn.execute(text("SELECT view_count FROM threads ORDER BY id")).scalars().all() == [
            15,
            1,
        ]
    assert counter.pending(1) == 0
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    ["/t/99999999999999999999", "/t/99999999999999999999/slug", "/p/99999999999999999999",
     "/t/2147483648/slug"],
)
def test_huge_ids_are_a_404_not_an_overflow(client, url):
    assert client.get(url).status_code == 404
