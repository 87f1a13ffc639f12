"""Starting threads, replying, quoting, previewing, editing, deleting and restoring."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import Board, Post, PostRevision, Thread, User
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def new_thread(client, board, title="A question about scans", body="What should I ask?", **extra):
    url = f"/b/{board.slug}/new"
    return post_form(client, url, {"title": title, "body": body, **extra})


def test_member_starts_a_thread_and_counters_follow(client, session):
    board = make_board(session)
    make_user(session, "starter")
    login(client, "starter")
    response = new_thread(client, board)
    assert response.status_code == 302
    thread = session.scalar(select(Thread))
    assert response.headers["Location"] == f"/t/{thread.id}/a-question-about-scans"
    session.expire_all()
    board = session.get(Board, board.id)
    assert (board.thread_count, board.post_count) == (1, 1)
    assert board.last_post_id == thread.first_post_id
    assert session.scalar(select(User.post_count).where(User.username == "starter")) == 1


def test_visitors_are_sent_to_log_in(client, session):
    board = make_board(session)
    response = client.get(f"/b/{board.slug}/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_preview_renders_without_saving(client, session):
    board = make_board(session)
    make_user(session, "previewer")
    login(client, "previewer")
    response = new_thread(client, board, body="Some **bold** words", preview="Preview")
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.get_data(as_text=True)
    assert count(session, Thread) == 0


def test_reply_quote_and_update(client, session):
    board = make_board(session)
    author = make_user(session, "original")
    thread = make_thread(session, board, author, title="Quote me", body="Line one\n\nLine two")
    first = posts_of(session, thread)[0]
    make_user(session, "replier")
    login(client, "replier")
    form = client.get(f"/t/{thread.id}/reply?quote={first.id}").get_data(as_text=True)
    assert f"&gt; **[original wrote](/p/{first.id}):**" in form
    assert "&gt; Line one" in form
    response = post_form(
        client,
        f"/t/{thread.id}/reply",
        {"body": f"> **[original wrote](/p/{first.id}):**\n> Line one\n\nI agree."},
    )
    assert response.status_code == 302
    reply = session.scalar(select(Post).where(Post.position == 1))
    assert response.headers["Location"] == f"/p/{reply.id}"
    assert "<blockquote>" in reply.body_html and f'href="/p/{first.id}"' in reply.body_html
    # Only the thread's author can mark a reply as an update.
    response = post_form(client, f"/t/{thread.id}/reply", {"body": "Not mine", "is_update": "y"})
    assert response.status_code == 403
    login(client, "original")
    post_form(
        client, f"/t/{thread.id}/reply", {"body": "Two years on: all well.", "is_update": "y"}
    )
    update = session.scalar(select(Post).where(Post.position == 2))
    assert update.is_update
    page = unescape(client.get(f"/t/{thread.id}/quote-me").get_data(as_text=True))
    assert "What happened next" in page and f'href="/p/{update.id}"' in page


def test_edit_keeps_a_revision_and_title_edit_changes_slug(client, session):
    board = make_board(session)
    author = make_user(session, "reviser")
    thread = make_thread(session, board, author, title="Old title", body="Old body")
    first = posts_of(session, thread)[0]
    login(client, "reviser")
    response = post_form(client, f"/p/{first.id}/edit", {"title": "New title", "body": "New body"})
    assert response.status_code == 302
    session.expire_all()
    revision = session.scalar(select(PostRevision))
    assert (revision.body, revision.title) == ("Old body", "Old title")
    assert session.get(Thread, thread.id).slug == "new-title"
    # Old links keep working through the permanent redirect.
    assert (
        client.get(f"/t/{thread.id}/old-title").headers["Location"] == f"/t/{thread.id}/new-title"
    )


def test_members_cannot_edit_others_posts_but_moderators_can(client, session):
    board = make_board(session)
    thread = make_thread(session, board, make_user(session, "owner"), title="Mine")
    first = posts_of(session, thread)[0]
    make_user(session, "stranger")
    login(client, "stranger")
    assert client.get(f"/p/{first.id}/edit").status_code == 403
    token = csrf_token(client, f"/t/{thread.id}/mine")
    assert (
        client.post(f"/p/{first.id}/edit", data={"csrf_token": token, "body": "x"}).status_code
        == 403
    )
    assert client.post(f"/p/{first.id}/delete", data={"csrf_token": token}).status_code == 403
    make_moderator(session, "fixer")
    login(client, "fixer")
    assert (
        post_form(client, f"/p/{first.id}/edit", {"title": "Mine", "body": "Tidied"}).status_code
        == 302
    )
    session.expire_all()
    assert session.get(Post, first.id).edited_by_id is not None


def test_soft_delete_and_moderator_restore(client, session):
    board = make_board(session)
    author = make_user(session, "deleter")
    thread = make_thread(session, board, author, title="Deleting", replies=2)
    reply = posts_of(session, thread)[1]
    login(client, "deleter")
    token = csrf_token(client, f"/t/{thread.id}/deleting")
    assert client.post(f"/p/{reply.id}/delete", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert session.get(Post, reply.id).deleted_at is not None
    assert session.get(Thread, thread.id).post_count == 2
    assert client.get(f"/p/{reply.id}").status_code == 404
    page = client.get(f"/t/{thread.id}/deleting").get_data(as_text=True)
    assert f'id="post-{reply.id}"' not in page
    assert client.post(f"/p/{reply.id}/restore", data={"csrf_token": token}).status_code == 403
    make_moderator(session, "restorer")
    login(client, "restorer")
    page = client.get(f"/t/{thread.id}/deleting").get_data(as_text=True)
    assert f'id="post-{reply.id}"' in page and "Restore" in page
    response = post_form(client, f"/p/{reply.id}/restore", {}, form_url=f"/t/{thread.id}/deleting")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Post, reply.id).deleted_at is None
    assert session.get(Thread, thread.id).post_count == 3
    assert session.get(Board, board.id).post_count == 3


def test_deleting_the_opening_post_hides_the_thread(client, session):
    board = make_board(session)
    author = make_user(session, "opener")
    thread = make_thread(session, board, author, title="Gone soon", replies=1)
    first = posts_of(session, thread)[0]
    login(client, "opener")
    response = post_form(client, f"/p/{first.id}/delete", {}, form_url=f"/t/{thread.id}/gone-soon")
    assert response.headers["Location"] == f"/b/{board.slug}"
    assert client.get(f"/t/{thread.id}/gone-soon").status_code == 404
    session.expire_all()
    assert session.get(Board, board.id).thread_count == 0
    assert session.get(Board, board.id).post_count == 0


def test_locked_threads_refuse_replies(client, session):
    board = make_board(session)
    thread = make_thread(session, board, title="Locked")
    thread.is_locked = True
    session.commit()
    make_user(session, "late")
    login(client, "late")
    assert client.get(f"/t/{thread.id}/reply").status_code == 403


BAD_BODIES = [
    ("", "is empty"),
    ("   \n\t  ", "is empty"),
    ("nul \x00 byte", "NUL character"),
    ("bell \x07 char", "control characters"),
    ("x" * 50_001, "at most 50,000"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_bodies_get_a_form_message_and_save_nothing(client, session, body, message):
    board = make_board(session)
    thread = make_thread(session, board, title="Existing")
    make_user(session, "badinput")
    login(client, "badinput")
    before = count(session, Post)
    response = new_thread(client, board, title="Fine title", body=body)
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    response = post_form(client, f"/t/{thread.id}/reply", {"body": body})
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    assert count(session, Post) == before
    assert count(session, Thread) == 1


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "give the thread a title"),
        ("    ", "give the thread a title"),
        ("t" * 201, "at most 200"),
        ("a\x00b", "NUL character"),
    ],
)
def test_bad_titles_get_a_form_message(client, session, title, message):
    board = make_board(session)
    make_user(session, "titler")
    login(client, "titler")
    response = new_thread(client, board, title=title, body="A fine body")
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    assert count(session, Thread) == 0


def test_invalid_utf8_is_answered_not_crashed(client, session):
    board = make_board(session)
    make_user(session, "bytes")
    login(client, "bytes")
    token = csrf_token(client, f"/b/{board.slug}/new")
    raw = b"csrf_token=" + token.encode() + b"&title=%FF%FE%80bad&body=%C3%28%A0%A1"
    response = client.post(
        f"/b/{board.slug}/new", data=raw, content_type="application/x-www-form-urlencoded"
    )
    # Werkzeug keeps bytes that aren't UTF-8 as their %XX escapes: saved and shown as text.
    assert response.status_code == 302
    thread = session.scalar(select(Thread))
    assert thread.title == "%FF%FE%80bad"
    assert client.get(response.headers["Location"]).status_code == 200


def test_posting_without_csrf_is_refused(client, session):
    board = make_board(session)
    make_user(session, "nocsrf")
    login(client, "nocsrf")
    response = client.post(f"/b/{board.slug}/new", data={"title": "x", "body": "y"})
    assert response.status_code == 400
    assert count(session, Thread) == 0


def test_reminder_months_out_of_range_is_a_form_error(client, session):
    board = make_board(session)
    make_user(session, "reminded")
    login(client, "reminded")
    response = new_thread(client, board, remind_after_months="500")
    assert response.status_code == 400
    assert "1 to 120 months" in response.get_data(as_text=True)
    assert count(session, Thread) == 0
