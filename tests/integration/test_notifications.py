"""Watching, muting and notifications: replies, quotes, @mentions, new threads, other kinds."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import Notification, Post, ThreadWatch
from forum.services import messages, notifications, posting, watching
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def header_count(page: str, label: str) -> int:
    match = re.search(rf">{label} <span[^>]*>(\d+)<span", page)
    return int(match.group(1)) if match else 0


def inbox(session, user) -> list[Notification]:
    session.expire_all()
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def reply_via_form(client, thread, body: str):
    return post_form(client, f"/t/{thread.id}/reply", {"body": body})


def test_starting_and_replying_watch_and_replies_notify_with_header_count(client, session):
    board = make_board(session)
    starter = make_user(session, "starter")
    make_user(session, "helper")
    login(client, "starter")
    post_form(client, f"/b/{board.slug}/new", {"title": "Tinnitus at night", "body": "Any tips?"})
    thread = session.scalar(
        select(posting.Thread).where(posting.Thread.title == "Tinnitus at night")
    )
    assert session.get(ThreadWatch, (starter.id, thread.id)) is not None

    login(client, "helper")
    assert reply_via_form(client, thread, "White noise helps me.").status_code == 302
    login(client, "starter")
    page = text(client.get("/"))
    assert header_count(page, "Notifications") == 1
    listing = text(client.get("/notifications"))
    assert "helper replied in “Tinnitus at night”" in listing
    (note,) = inbox(session, starter)
    reply = posts_of(session, thread)[1]
    response = client.get(f"/notifications/{note.id}")
    assert response.headers["Location"] == f"/p/{reply.id}"
    assert inbox(session, starter)[0].read_at is not None
    assert header_count(text(client.get("/")), "Notifications") == 0


def test_auto_watch_can_be_turned_off(client, session):
    board = make_board(session)
    quiet = make_user(session, "quiet", auto_watch=False)
    other = make_user(session)
    thread = make_thread(session, board, quiet)
    posting.reply(session, other, thread, board, "Hello")
    assert (
        session.scalar(
            select(func.count()).select_from(ThreadWatch).where(ThreadWatch.user_id == quiet.id)
        )
        == 0
    )
    assert inbox(session, quiet) == []


def test_mentions_link_to_members_and_notify_them_but_not_from_quotes(client, session):
    board = make_board(session)
    author = make_user(session, "poster")
    wren = make_user(session, "Wren_H")
    carol = make_user(session, "carol")
    thread = make_thread(session, board, author, body="Hi all")
    post = posting.reply(
        session,
        author,
        thread,
        board,
        "Thanks @wren_h! Mail x@carol.org, `@carol` and @nobody_here.\n\n> @carol said so",
    )
    assert 'href="/u/wren_h">@wren_h</a>' in post.body_html
    assert "x@carol.org" in post.body_html and "<code>@carol</code>" in post.body_html
    assert [n.kind for n in inbox(session, wren)] == ["mention"]
    assert inbox(session, carol) == []
    login(client, "Wren_H")
    assert f"poster mentioned you in “{thread.title}”" in text(client.get("/notifications"))
    # Mentioning yourself does nothing.
    posting.reply(session, author, thread, board, "Note to self @poster")
    assert all(n.kind == "reply" for n in inbox(session, author))


def test_mentions_and_quotes_added_by_an_edit_notify_once(session):
    board = make_board(session)
    author = make_user(session, "editor_e")
    early = make_user(session, "early_e")
    late = make_user(session, "late_e")
    quoted_author = make_user(session, "quoted_e")
    thread = make_thread(session, board, quoted_author, body="Something worth quoting")
    first = posts_of(session, thread)[0]
    post = posting.reply(session, author, thread, board, "Hello @early_e")
    assert [n.kind for n in inbox(session, early)] == ["mention"]
    quoted_before = len(inbox(session, quoted_author))
    posting.edit_post(
        session, author, post, thread, board,
        f"Hello @early_e and @late_e\n\n> [quoted_e](/p/{first.id}) wrote:\n> worth it",
    )
    assert [n.kind for n in inbox(session, late)] == ["mention"]
    assert [n.kind for n in inbox(session, early)] == ["mention"]  # not told twice
    assert [n.kind for n in inbox(session, quoted_author)][quoted_before:] == ["quote"]
    # Editing again without new names tells nobody anything new.
    posting.edit_post(
        session, author, post, thread, board, post.body + "\n\nEdited for a typo."
    )
    assert len(inbox(session, late)) == 1 and len(inbox(session, early)) == 1


def test_quoting_notifies_the_quoted_author_once(client, session):
    board = make_board(session)
    original = make_user(session, "original")
    thread = make_thread(session, board, original, title="Quote me", body="Line one")
    first = posts_of(session, thread)[0]
    quoter = make_user(session, "quoter")
    login(client, "quoter")
    form = text(client.get(f"/t/{thread.id}/reply?quote={first.id}"))
    quoted = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", form, re.S).group(1)
    assert reply_via_form(client, thread, quoted + "I agree.").status_code == 302
    # The author watches the thread too, but gets one notification: the quote.
    assert [n.kind for n in inbox(session, original)] == ["quote"]
    assert inbox(session, quoter) == []


def test_muted_threads_send_nothing_and_watch_buttons_work(client, session):
    board = make_board(session)
    author = make_user(session, "muter")
    other = make_user(session, "chatty")
    thread = make_thread(session, board, author, title="Busy thread")
    login(client, "muter")
    page = text(client.get(f"/t/{thread.id}/busy-thread"))
    assert "You are watching this thread" in page
    url = f"/t/{thread.id}/watch"
    assert (
        post_form(
            client, url, {"state": "muted"}, form_url=f"/t/{thread.id}/busy-thread"
        ).status_code
        == 302
    )
    posting.reply(session, other, thread, board, "Reply while muted, and hi @muter")
    assert inbox(session, author) == []
    page = text(client.get(f"/t/{thread.id}/busy-thread"))
    assert "This thread is muted" in page
    # Unmuting stops watching; watching again brings replies back.
    post_form(client, url, {"state": "none"}, form_url=f"/t/{thread.id}/busy-thread")
    assert session.get(ThreadWatch, (author.id, thread.id)) is None
    post_form(client, url, {"state": "watching"}, form_url=f"/t/{thread.id}/busy-thread")
    posting.reply(session, other, thread, board, "Now you hear me")
    assert [n.kind for n in inbox(session, author)] == ["reply"]
    # Bad input is a clear 400; no token is a 400 too; visitors are sent to log in.
    assert post_form(client, url, {"state": "loud"}, form_url="/").status_code == 400
    assert client.post(url, data={"state": "muted"}).status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    response = post_form(client, url, {"state": "muted"}, form_url="/login")
    assert "/login" in response.headers["Location"]


def test_board_watchers_hear_of_new_threads(client, session):
    board = make_board(session, "Surgery")
    watcher = make_user(session, "watcher")
    login(client, "watcher")
    response = post_form(
        client, f"/b/{board.slug}/watch", {"state": "watching"}, form_url=f"/b/{board.slug}"
    )
    assert response.status_code == 302
    assert "Stop watching this board" in text(client.get(f"/b/{board.slug}"))
    thread = make_thread(session, board, make_user(session, "newbie"), title="Retrosigmoid in May")
    (note,) = inbox(session, watcher)
    assert (note.kind, note.thread_id, note.text) == ("new_thread", thread.id, "Surgery")
    assert "newbie started “Retrosigmoid in May” on Surgery" in text(client.get("/notifications"))
    post_form(client, f"/b/{board.slug}/watch", {"state": "none"}, form_url=f"/b/{board.slug}")
    make_thread(session, board, title="Another")
    assert len(inbox(session, watcher)) == 1


def test_replies_group_while_unread(client, session):
    board = make_board(session)
    author = make_user(session, "grouped")
    others = [make_user(session) for _ in range(3)]
    thread = make_thread(session, board, author, title="Many replies")
    for other in others:
        posting.reply(session, other, thread, board, "Me too")
    (note,) = inbox(session, author)
    assert note.count == 3
    login(client, "grouped")
    assert "3 new replies in “Many replies”" in text(client.get("/notifications"))
    # Once read, the next reply is a new notification.
    client.get(f"/notifications/{note.id}")
    posting.reply(session, others[0], thread, board, "Again")
    assert [n.count for n in inbox(session, author)] == [3, 1]


def test_blocked_members_do_not_notify(client, session):
    board = make_board(session)
    author = make_user(session, "blocker")
    pest = make_user(session, "pest")
    thread = make_thread(session, board, author)
    messages.block(session, author, "pest")
    posting.reply(session, pest, thread, board, "Listen to me @blocker")
    assert inbox(session, author) == []


def test_other_features_notify_through_notify(client, session):
    board = make_board(session)
    author = make_user(session, "storyteller")
    moderator = make_moderator(session, "mod_m")
    thread = make_thread(session, board, author, title="My GK story")
    post = posts_of(session, thread)[0]
    # Even a muted thread tells its author about a moderator's action, the outcome, a reminder.
    session.get(ThreadWatch, (author.id, thread.id)).muted = True
    made = [
        notifications.notify(
            session,
            author.id,
            "moderation",
            post_id=post.id,
            actor_id=moderator.id,
            text="edited your post in “My GK story”",
        ),
        notifications.notify(
            session,
            author.id,
            "resolved",
            thread_id=thread.id,
            actor_id=moderator.id,
            text="Improved",
        ),
        notifications.notify(
            session,
            author.id,
            "reminder",
            thread_id=thread.id,
            text="A year since “My GK story”: how are things?",
        ),
    ]
    session.commit()
    assert all(made) and made[0].thread_id == thread.id
    login(client, "storyteller")
    listing = text(client.get("/notifications"))
    assert "A moderator edited your post in “My GK story”" in listing
    assert "Your thread “My GK story” was marked resolved: Improved" in listing
    assert "A year since “My GK story”: how are things?" in listing
    assert header_count(text(client.get("/")), "Notifications") == 3
    # Thread activity in a muted thread, or your own action, notifies nobody.
    assert (
        notifications.notify(session, author.id, "mention", post_id=post.id, actor_id=moderator.id)
        is None
    )
    assert (
        notifications.notify(
            session, author.id, "resolved", thread_id=thread.id, actor_id=author.id
        )
        is None
    )
    with pytest.raises(ValueError):
        notifications.notify(session, author.id, "gossip")


def test_mark_all_read_and_others_notifications_are_private(client, session):
    board = make_board(session)
    author = make_user(session, "reader1")
    thread = make_thread(session, board, author)
    posting.reply(session, make_user(session), thread, board, "One")
    posting.reply(session, make_user(session), make_thread(session, board, author), board, "Two")
    notes = inbox(session, author)
    make_user(session, "snoop")
    login(client, "snoop")
    assert client.get(f"/notifications/{notes[0].id}").status_code == 404
    login(client, "reader1")
    assert header_count(text(client.get("/")), "Notifications") == 2
    response = post_form(client, "/notifications/read", {}, form_url="/notifications")
    assert response.status_code == 302
    assert all(n.read_at for n in inbox(session, author))
    assert header_count(text(client.get("/")), "Notifications") == 0
    assert client.get("/notifications?page=9").status_code == 404
    assert client.get("/notifications?page=x").status_code == 404


def test_settings_page_saves_choices_and_rejects_bad_input(client, session):
    member = make_user(session, "chooser")
    login(client, "chooser")
    page = text(client.get("/settings/notifications"))
    assert re.search(r'<input checked[^>]*value="immediate"', page)
    response = post_form(client, "/settings/notifications", {"email_mode": "daily"})
    assert response.status_code == 302
    session.expire_all()
    assert (member.email_mode, member.auto_watch) == ("daily", False)
    response = post_form(
        client, "/settings/notifications", {"email_mode": "hourly", "auto_watch": "y"}
    )
    assert response.status_code == 400 and "Not a valid choice" in text(response)
    session.expire_all()
    assert member.email_mode == "daily"
    assert client.get("/settings/notifications").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/settings/notifications").status_code == 302


def test_notifying_many_watchers_costs_a_fixed_number_of_statements(session, count_queries):
    board = make_board(session)

    def statements_for_reply(watchers: int) -> int:
        author = make_user(session)
        thread = make_thread(session, board, author)
        for _ in range(watchers):
            watching.set_thread_watch(session, make_user(session), thread, board, "watching")
        replier = make_user(session)
        with count_queries() as statements:
            posting.reply(session, replier, thread, board, f"@{author.username} hello")
        assert len(inbox(session, author)) == 1
        return len(statements)

    assert statements_for_reply(1) == statements_for_reply(8)


def test_notifications_page_has_a_fixed_query_count(client, session, count_queries):
    board = make_board(session)
    member = make_user(session, "counted")
    thread = make_thread(session, board, member)

    def statements() -> int:
        client.get("/notifications")
        with count_queries() as found:
            assert client.get("/notifications").status_code == 200
        return len(found)

    posting.reply(session, make_user(session), thread, board, "one")
    login(client, "counted")
    small = statements()
    for _ in range(5):
        posting.reply(
            session, make_user(session), make_thread(session, board, member), board, "more"
        )
    assert statements() == small
    assert session.scalar(select(func.count()).select_from(Post)) > 5
