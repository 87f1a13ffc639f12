"""How far each member has read: "New" marks on board pages, "first unread" links, mark all read."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from forum.models import BoardReadMark, Notification, ReadMark, User, utcnow
from forum.services import posting, read_marks
from tests.conftest import login, post_form
from tests.factories import make_board, make_thread, make_user, posts_of


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def row_of(page: str, title: str) -> str:
    return re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(title)}.*?</tr>", page, re.S).group(0)


def is_new(page: str, title: str) -> bool:
    return "new-posts" in row_of(page, title)


def mark(session, user, thread) -> int | None:
    session.expire_all()
    found = session.get(ReadMark, (user.id, thread.id))
    return found.last_position if found else None


def test_new_marks_follow_what_the_member_has_read(client, session):
    board = make_board(session)
    reader = make_user(session, "reader")
    author = make_user(session, "author")
    thread = make_thread(session, board, author, title="Balance exercises", replies=2)
    login(client, "reader")
    page = text(client.get(f"/b/{board.slug}"))
    assert is_new(page, "Balance exercises") and "Mark all read" in page
    assert f'href="/t/{thread.id}/unread"' in row_of(page, "Balance exercises")
    # Reading the thread clears the mark; a new reply brings it back, pointing at that reply.
    client.get(f"/t/{thread.id}/{thread.slug}")
    assert mark(session, reader, thread) == 2
    assert not is_new(text(client.get(f"/b/{board.slug}")), "Balance exercises")
    new_reply = posting.reply(session, author, thread, board, "One more thing")
    assert is_new(text(client.get(f"/b/{board.slug}")), "Balance exercises")
    response = client.get(f"/t/{thread.id}/unread")
    assert response.headers["Location"] == f"/t/{thread.id}/{thread.slug}#post-{new_reply.id}"
    page = text(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert f'href="#post-{new_reply.id}">First unread post' in page
    # Nothing unread: the unread link goes to the latest post, the thread page offers none.
    assert "First unread post" not in text(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert client.get(f"/t/{thread.id}/unread").headers["Location"] == f"/p/{new_reply.id}"


def test_visitors_see_no_marks_and_threads_before_joining_are_not_new(client, session):
    board = make_board(session)
    old = make_thread(session, board, make_user(session), title="From before")
    assert "new-posts" not in text(client.get(f"/b/{board.slug}"))
    assert "Mark all read" not in text(client.get(f"/b/{board.slug}"))
    late = make_user(session, "latecomer")
    late.created_at = utcnow()
    session.commit()
    login(client, "latecomer")
    page = text(client.get(f"/b/{board.slug}"))
    assert not is_new(page, "From before")
    posting.reply(session, make_user(session), old, board, "News after you joined")
    assert is_new(text(client.get(f"/b/{board.slug}")), "From before")


def test_first_unread_across_pages_and_marks_never_go_back(app, client, session):
    board = make_board(session)
    author = make_user(session, "long_author")
    per_page = app.config["POSTS_PER_PAGE"]
    make_user(session, "slow_reader")  # joined before the thread: all of it is new to them
    thread = make_thread(session, board, author, title="Long one", replies=per_page + 4)
    login(client, "slow_reader")
    page = text(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert "First unread post" in page
    reader = session.scalar(select(User).where(User.username == "slow_reader"))
    assert mark(session, reader, thread) == per_page - 1
    page = text(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert f'href="/t/{thread.id}/unread">First unread post' in page
    post = posts_of(session, thread)[per_page]
    assert client.get(f"/t/{thread.id}/unread").headers["Location"] == (
        f"/t/{thread.id}/{thread.slug}?page=2#post-{post.id}"
    )
    client.get(f"/t/{thread.id}/{thread.slug}?page=2")
    assert mark(session, reader, thread) == per_page + 4
    client.get(f"/t/{thread.id}/{thread.slug}")
    assert mark(session, reader, thread) == per_page + 4


def test_mark_all_read_per_board(client, session):
    board = make_board(session)
    elsewhere = make_board(session)
    make_user(session, "tidy")
    for title in ("First topic", "Second topic"):
        make_thread(session, board, title=title)
    make_thread(session, elsewhere, title="Other board topic")
    login(client, "tidy")
    page = text(client.get(f"/b/{board.slug}"))
    assert is_new(page, "First topic") and is_new(page, "Second topic")
    response = post_form(client, f"/b/{board.slug}/read", {}, form_url=f"/b/{board.slug}")
    assert response.status_code == 302
    page = text(client.get(f"/b/{board.slug}"))
    assert not is_new(page, "First topic") and not is_new(page, "Second topic")
    assert is_new(text(client.get(f"/b/{elsewhere.slug}")), "Other board topic")
    assert session.scalar(select(BoardReadMark.board_id)) == board.id
    assert client.post(f"/b/{board.slug}/read").status_code == 400  # no CSRF token
    assert (
        post_form(client, "/b/no-such-board/read", {}, form_url=f"/b/{board.slug}").status_code
        == 404
    )


def test_reading_a_thread_settles_its_notifications(client, session):
    board = make_board(session)
    author = make_user(session, "settled")
    thread = make_thread(session, board, author, title="Settle me")
    posting.reply(session, make_user(session), thread, board, "A reply")
    other = make_thread(session, board, author, title="Still unread")
    posting.reply(session, make_user(session), other, board, "Elsewhere")
    login(client, "settled")
    assert ">Notifications <span" in text(client.get("/"))
    # The page that settles the notification already counts it out; the other one remains.
    page = text(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert re.search(r">Notifications <span[^>]*>1<", page)
    session.expire_all()
    read = dict(session.execute(select(Notification.thread_id, Notification.read_at)).all())
    assert read[thread.id] is not None and read[other.id] is None


def test_a_view_writes_one_upsert_only_when_it_advances(client, session, count_queries):
    board = make_board(session)
    thread = make_thread(session, board, make_user(session), replies=2)
    make_user(session, "counter")
    login(client, "counter")
    url = f"/t/{thread.id}/{thread.slug}"
    with count_queries() as first:
        client.get(url)
    with count_queries() as second:
        client.get(url)
    writes = [s for s in first if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0]
    assert not [s for s in second if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(first) == len(second) + 1


def test_member_board_and_thread_pages_keep_a_fixed_query_count(client, session, count_queries):
    authors = [make_user(session, f"writer{i}") for i in range(3)]
    board = make_board(session)
    thread = make_thread(session, board, authors[0], replies=1)
    make_user(session, "watcher_w")
    login(client, "watcher_w")

    def statements(url: str) -> int:
        client.get(url)
        with count_queries() as found:
            assert client.get(url).status_code == 200
        return len(found)

    board_url, thread_url = f"/b/{board.slug}", f"/t/{thread.id}/{thread.slug}"
    small = (statements(board_url), statements(thread_url))
    for i in range(12):
        make_thread(session, board, authors[i % 3], replies=1, repliers=authors)
        posting.reply(session, authors[i % 3], thread, board, f"Reply {i}")
    read_marks.mark_board_read(session, authors[0], board)
    assert (statements(board_url), statements(thread_url)) == small
