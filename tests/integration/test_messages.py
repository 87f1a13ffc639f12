"""Private conversations: start, reply, unread counts, leave, block, new-member limits, reports."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import (
    Conversation,
    ConversationParticipant,
    Message,
    Notification,
    SearchQueueEntry,
    User,
    utcnow,
)
from forum.services import messages
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def header_count(page: str, label: str) -> int:
    match = re.search(rf">{label} <span[^>]*>(\d+)<span", page)
    return int(match.group(1)) if match else 0


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def member(session, name: str, **fields):
    return make_user(session, name, post_count=fields.pop("post_count", 5), **fields)


def start(client, to: str, subject: str = "Hello", body: str = "Hi there", **extra):
    return post_form(client, "/messages/new", {"to": to, "subject": subject, "body": body, **extra})


def only_conversation(session) -> Conversation:
    session.expire_all()
    return session.scalar(select(Conversation))


def test_three_members_talk_with_unread_counts_and_notifications(client, session):
    member(session, "ana")
    member(session, "ben")
    cleo = member(session, "cleo")
    login(client, "ana")
    form = text(client.get("/messages/new?to=ben"))
    assert 'value="ben"' in form
    response = start(client, "ben, @cleo ana", "Gamma Knife questions", "Did **you** have it?")
    conversation = only_conversation(session)
    assert response.headers["Location"] == f"/messages/{conversation.id}"
    assert count(session, ConversationParticipant) == 3  # ana's own name was dropped
    page = text(client.get(f"/messages/{conversation.id}"))
    assert "<strong>you</strong>" in page and "Private conversation between" in page

    login(client, "ben")
    home = text(client.get("/"))
    assert header_count(home, "Messages") == 1 and header_count(home, "Notifications") == 1
    listing = text(client.get("/messages/"))
    assert "Gamma Knife questions" in listing and "With ana, cleo" in listing
    assert "ana sent you a private message" in text(client.get("/notifications"))
    client.get(f"/messages/{conversation.id}")
    home = text(client.get("/"))
    assert header_count(home, "Messages") == 0 and header_count(home, "Notifications") == 0
    response = post_form(
        client,
        f"/messages/{conversation.id}/reply",
        {"body": "Yes, in 2019."},
        form_url=f"/messages/{conversation.id}",
    )
    assert response.headers["Location"] == f"/messages/{conversation.id}#m1"

    login(client, "cleo")
    assert header_count(text(client.get("/")), "Messages") == 1
    (note,) = session.scalars(select(Notification).where(Notification.user_id == cleo.id))
    assert note.count == 2  # two messages while unread: one notification
    page = text(client.get(f"/messages/{conversation.id}"))
    assert "Yes, in 2019." in page and page.count('badge badge-update">New') == 2
    login(client, "ana")
    assert header_count(text(client.get("/")), "Messages") == 1


def test_messages_are_sanitized_like_posts(client, session):
    member(session, "sender1")
    member(session, "receiver1")
    login(client, "sender1")
    start(
        client,
        "receiver1",
        "Links",
        "<script>alert(1)</script> [x](javascript:alert(1)) @receiver1",
    )
    message = session.scalar(select(Message))
    assert "<script>" not in message.body_html and "&lt;script&gt;" in message.body_html
    assert 'href="javascript' not in message.body_html
    assert 'href="/u/receiver1"' in message.body_html
    page = client.get(f"/messages/{message.conversation_id}").get_data(as_text=True)
    assert "<script>alert" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": ""}, "Who is it for?"),
        ({"to": "nobody_at_all"}, "No member is called nobody_at_all."),
        ({"subject": "  "}, "Please give the conversation a subject."),
        ({"body": ""}, "The message is empty."),
        ({"subject": "x" * 201}, "at most 200 characters"),
        ({"body": "bad\x00byte"}, "NUL character"),
        ({"to": "test\x00"}, "Some of those can't be usernames"),
        ({"to": "ok_name, <script>"}, "Some of those can't be usernames"),
    ],
)
def test_bad_input_is_a_form_message_and_saves_nothing(client, session, fields, message):
    member(session, "careful1")
    member(session, "other1")
    login(client, "careful1")
    data = {"to": "other1", "subject": "Subject", "body": "Body", **fields}
    response = start(client, **data)
    assert response.status_code == 400 and message in text(response)
    assert count(session, Conversation) == 0 and count(session, Message) == 0


def test_too_many_recipients(client, app, session, monkeypatch):
    monkeypatch.setitem(app.config, "PM_MAX_RECIPIENTS", 2)
    for name in ("host1", "g1a", "g2b", "g3c"):
        member(session, name)
    login(client, "host1")
    response = start(client, "g1a, g2b, g3c")
    assert response.status_code == 400 and "at most 2 other members" in text(response)


def test_new_members_are_limited_until_they_have_posted(client, app, session, monkeypatch):
    monkeypatch.setitem(app.config, "PM_MIN_POSTS", 2)
    newbie = make_user(session, "newbie1")
    member(session, "veteran")
    make_moderator(session, "helpful_mod")
    login(client, "newbie1")
    response = start(client, "veteran")
    assert response.status_code == 400 and "once they have written 2 posts" in text(response)
    assert count(session, Conversation) == 0
    # Moderators can always be reached; and a newbie can reply when someone writes to them.
    assert start(client, "helpful_mod", "Help", "How do I…").status_code == 302
    login(client, "veteran")
    start(client, "newbie1", "Welcome", "Glad you're here")
    welcome = session.scalar(select(Conversation).where(Conversation.subject == "Welcome"))
    login(client, "newbie1")
    response = post_form(
        client,
        f"/messages/{welcome.id}/reply",
        {"body": "Thanks!"},
        form_url=f"/messages/{welcome.id}",
    )
    assert response.status_code == 302
    # Two public posts lift the limit.
    board = make_board(session)
    make_thread(session, board, newbie, replies=1)
    assert start(client, "veteran", "Now I can", "Hello").status_code == 302


def test_blocked_members_cannot_message_you(client, session):
    member(session, "blocker1")
    member(session, "pest1")
    login(client, "blocker1")
    start(client, "pest1", "Before", "We talked once")
    conversation = only_conversation(session)
    response = post_form(client, "/messages/blocked", {"username": "pest1"})
    assert response.status_code == 302
    assert "pest1" in text(client.get("/messages/blocked"))
    bad = post_form(client, "/messages/blocked", {"username": "blocker1"})
    assert bad.status_code == 400 and "You can't block yourself." in text(bad)

    login(client, "pest1")
    response = start(client, "blocker1", "Again", "Hello?")
    assert response.status_code == 400 and "You can't send messages to blocker1." in text(response)
    response = post_form(
        client,
        f"/messages/{conversation.id}/reply",
        {"body": "Hello?"},
        form_url=f"/messages/{conversation.id}",
    )
    assert response.status_code == 403
    assert count(session, Message) == 1

    login(client, "blocker1")
    blocked = session.scalar(select(User).where(User.username == "pest1"))
    post_form(client, f"/messages/blocked/{blocked.id}/remove", {}, form_url="/messages/blocked")
    login(client, "pest1")
    assert start(client, "blocker1", "Sorry", "Truce?").status_code == 302


def test_leaving_removes_the_conversation_and_its_notifications(client, session):
    member(session, "stayer")
    member(session, "goer")
    login(client, "stayer")
    start(client, "goer", "Bye", "First")
    conversation = only_conversation(session)
    login(client, "goer")
    url = f"/messages/{conversation.id}"
    assert post_form(client, f"{url}/leave", {}, form_url=url).status_code == 302
    assert "Bye" not in text(client.get("/messages/"))
    assert client.get(url).status_code == 404
    assert header_count(text(client.get("/")), "Notifications") == 0
    login(client, "stayer")
    post_form(client, f"{url}/reply", {"body": "Still there?"}, form_url=url)
    page = text(client.get(url))
    assert "goer</a> (left)" in page
    goer = session.scalar(select(User).where(User.username == "goer"))
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == goer.id, Notification.read_at.is_(None))
        )
        == 0
    )


def test_private_means_private_until_a_participant_reports(client, session):
    member(session, "alice_p")
    member(session, "bob_p")
    member(session, "nosy")
    make_moderator(session, "mod_p")
    board = make_board(session)
    make_thread(session, board, title="Public thread")
    login(client, "alice_p")
    start(client, "bob_p", "Secret subject", "Secret words")
    conversation = only_conversation(session)
    url = f"/messages/{conversation.id}"
    response = client.get(url)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert count(session, SearchQueueEntry) == 1  # the public thread's post, nothing else

    for outsider in ("nosy", "mod_p"):
        login(client, outsider)
        assert client.get(url).status_code == 404
        assert "Secret" not in text(client.get("/messages/"))
        assert (
            post_form(
                client, f"{url}/report", {"report-reason": "x"}, form_url="/messages/new"
            ).status_code
            == 404
        )
    assert "Secret" not in text(client.get(f"/b/{board.slug}"))
    assert "Secret" not in text(client.get("/u/alice_p"))
    assert client.get("/messages/reported").status_code == 200

    login(client, "bob_p")
    response = post_form(client, f"{url}/report", {"report-reason": "Feels pushy"}, form_url=url)
    assert response.status_code == 302
    login(client, "mod_p")
    assert "Secret subject" in text(client.get("/messages/reported"))
    page = text(client.get(url))
    assert "Secret words" in page and "Feels pushy" in page and "reply-box" not in page
    assert (
        post_form(client, f"{url}/clear-report", {}, form_url="/messages/reported").status_code
        == 302
    )
    assert client.get(url).status_code == 404

    login(client, "nosy")
    assert client.get("/messages/reported").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "/login" in client.get(url).headers["Location"]


def test_conversation_pages_open_at_the_first_unread_message(client, app, session, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_PER_PAGE", 3)
    first = member(session, "pager1")
    second = member(session, "pager2")
    login(client, "pager1")
    start(client, "pager2", "Paged", "m0")
    conversation = only_conversation(session)
    for i in range(1, 5):
        messages.reply(
            session,
            first if i % 2 else second,
            conversation,
            session.get(
                ConversationParticipant, (conversation.id, (first if i % 2 else second).id)
            ),
            f"m{i}",
        )
    login(client, "pager2")
    # pager2 read m0..m2 when replying (m2); first unread is m3, on page 2.
    page = text(client.get(f"/messages/{conversation.id}"))
    assert "m3" in page and "m0" not in page
    assert "m0" in text(client.get(f"/messages/{conversation.id}?page=1"))
    assert client.get(f"/messages/{conversation.id}?page=9").status_code == 404


def test_conversation_pages_have_fixed_query_counts(client, session, count_queries):
    people = [member(session, f"talker{i}") for i in range(4)]
    login(client, "talker0")
    start(client, "talker1", "Counted", "first")
    conversation = only_conversation(session)

    def statements(url: str) -> int:
        client.get(url)
        with count_queries() as found:
            assert client.get(url).status_code == 200
        return len(found)

    url = f"/messages/{conversation.id}?page=1"
    small = (statements(url), statements("/messages/"))
    for i in range(8):
        who = people[i % 2]
        messages.reply(
            session,
            who,
            conversation,
            session.get(ConversationParticipant, (conversation.id, who.id)),
            f"more {i}",
        )
        messages.start_conversation(session, people[0], f"talker{2 + i % 2}", f"Other {i}", "x")
    assert (statements(url), statements("/messages/")) == small


def test_suspended_members_read_but_send_nothing_and_deleted_accounts_are_unknown(client, session):
    suspended = member(session, "benched")
    member(session, "friend1")
    member(session, "gone_member", deleted_at=utcnow())
    login(client, "friend1")
    start(client, "benched", "Before", "Hello")
    conversation = only_conversation(session)
    response = start(client, "gone_member", "Hi", "Anyone?")
    assert response.status_code == 400 and "No member is called gone_member." in text(response)
    suspended.restriction = "suspended"
    session.commit()
    login(client, "benched")
    url = f"/messages/{conversation.id}"
    page = text(client.get(url))
    assert "Hello" in page and "reply-box" not in page
    response = post_form(client, f"{url}/reply", {"body": "Let me"}, form_url=url)
    assert response.status_code == 403 and "suspended" in text(response)
    assert start(client, "friend1").status_code == 403
