"""Members' data rights: download everything as one JSON file; delete the account, keeping
or removing the posts."""

from __future__ import annotations

import json
from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import (
    Board,
    HistoryEvent,
    Post,
    PostRevision,
    Report,
    Thread,
    ThreadWatch,
    User,
)
from forum.services import posting, reports
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_board, make_thread, make_user, posts_of


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def member_with_a_story(session, name="storyteller"):
    board = make_board(session, "Stories")
    member = make_user(session, name, signature="AN left, 2019", custom_title="Hopeful")
    session.add(HistoryEvent(user_id=member.id, kind="diagnosis", year=2019, note="Small AN"))
    session.commit()
    other = make_user(session, "companion")
    mine = make_thread(session, board, member, title="My diagnosis", body="It began with tinnitus.")
    posting.reply(session, other, mine, board, "Welcome, friend.")
    posting.reply(session, member, mine, board, "Thank you!")
    lonely = make_thread(session, board, member, title="Alone here", body="Nobody answered.")
    theirs = make_thread(session, board, other, title="Their thread", body="Their words.")
    reports.report_post(session, member, posts_of(session, theirs)[0], theirs, board, "Off topic")
    return member, other, board, mine, lonely, theirs


def test_download_all_my_data_as_one_json_file(client, session):
    member_with_a_story(session)
    login(client, "storyteller")
    assert "Download all my data" in text(client.get("/settings/account"))
    response = client.get("/settings/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="cairn-storyteller-'
    )
    data = json.loads(response.get_data(as_text=True))
    profile = data["profile"]
    assert (profile["username"], profile["email"]) == ("storyteller", "storyteller@example.org")
    assert (profile["signature"], profile["custom_title"]) == ("AN left, 2019", "Hopeful")
    assert [e["note"] for e in data["history"]] == ["Small AN"]
    bodies = [p["body"] for p in data["posts"]]
    assert bodies == ["It began with tinnitus.", "Thank you!", "Nobody answered."]
    assert "Welcome, friend." not in response.get_data(as_text=True)  # not someone else's
    assert [r["reason"] for r in data["reports_made"]] == ["Off topic"]
    assert data["posts"][0]["thread_title"] == "My diagnosis"


def test_export_has_a_fixed_number_of_queries(client, session, count_queries):
    member, other, board, mine, *_ = member_with_a_story(session)
    login(client, "storyteller")

    def statements():
        client.get("/settings/account/export")
        with count_queries() as seen:
            assert client.get("/settings/account/export").status_code == 200
        return len(seen)

    small = statements()
    for i in range(5):
        posting.reply(session, member, mine, board, f"More {i}")
        posting.reply(session, other, mine, board, f"Answer {i}")
    assert statements() == small


def test_delete_account_keeping_posts_as_former_member(client, session):
    member, _other, _board, mine, _lonely, _theirs = member_with_a_story(session)
    login(client, "storyteller")
    response = post_form(
        client, "/settings/account/delete", {"posts": "keep", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "Log in" in text(client.get("/"))
    session.expire_all()
    gone = session.get(User, member.id)
    assert gone.deleted_at is not None and gone.password_hash is None
    assert "storyteller" not in (gone.username + gone.email)
    assert (gone.signature, gone.custom_title) == ("", "")
    assert session.scalar(select(func.count()).select_from(HistoryEvent)) == 0
    posts = session.scalars(select(Post).where(Post.body == "It began with tinnitus.")).all()
    assert len(posts) == 1 and posts[0].author_id is None and posts[0].deleted_at is None
    page = text(client.get(f"/t/{mine.id}/my-diagnosis"))
    assert "Former member" in page and "It began with tinnitus." in page
    assert "storyteller" not in page
    assert client.get("/u/storyteller").status_code == 404
    # The report stays for the moderators, without its author; the name is free again.
    assert session.scalar(select(Report.reporter_id)) is None
    response = post_form(client, "/login", {"username": "storyteller", "password": PASSWORD})
    assert response.status_code == 400
    make_user(session, "storyteller")


def test_delete_account_removing_posts(client, session):
    member, _other, board, mine, lonely, theirs = member_with_a_story(session)
    first = posts_of(session, mine)[0]
    posting.edit_post(session, member, first, mine, board, "Edited: it began with tinnitus.")
    session.add(ThreadWatch(user_id=member.id, thread_id=theirs.id))
    session.commit()
    login(client, "storyteller")
    response = post_form(
        client, "/settings/account/delete", {"posts": "remove", "password": PASSWORD}
    )
    assert response.status_code == 302
    session.expire_all()
    for body in ("tinnitus", "Thank you!", "Nobody answered."):
        assert session.scalar(select(func.count()).where(Post.body.contains(body))) == 0
    assert session.scalar(select(func.count()).select_from(PostRevision)) == 0
    # The thread others replied to stays (title kept) with their reply; the lonely one goes.
    page = text(client.get(f"/t/{mine.id}/my-diagnosis"))
    assert "Welcome, friend." in page and "tinnitus" not in page
    assert session.get(Thread, lonely.id).deleted_at is not None
    thread = session.get(Thread, mine.id)
    assert thread.post_count == 1 and thread.author_id is None
    board = session.get(Board, board.id)
    assert (board.thread_count, board.post_count) == (2, 2)
    watches = select(func.count()).where(ThreadWatch.user_id == member.id)
    assert session.scalar(watches) == 0
    assert client.get(f"/t/{lonely.id}/alone-here").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"posts": "keep", "password": "wrong"}, "isn't your current password"),
        ({"password": PASSWORD}, "choose what happens to your posts"),
        ({"posts": "shred", "password": PASSWORD}, "choose what happens to your posts"),
    ],
)
def test_delete_account_refuses_without_password_and_choice(client, session, data, message):
    make_user(session, "hesitant")
    login(client, "hesitant")
    response = post_form(client, "/settings/account/delete", data)
    assert response.status_code == 400 and message in text(response)
    session.expire_all()
    assert session.scalar(select(User.deleted_at).where(User.username == "hesitant")) is None
