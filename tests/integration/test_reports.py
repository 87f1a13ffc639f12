"""Members report posts; moderators work the queue with the post in context."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import BoardModerator, ModerationAction, Post, Report
from forum.services import reports
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from tests.conftest import login, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


def board_moderator(session, board, username):
    user = make_user(session, username)
    session.add(BoardModerator(board_id=board.id, user_id=user.id))
    session.commit()
    return user


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_member_reports_and_moderator_resolves_with_context(client, session):
    board = make_board(session, "Treatment")
    author = make_user(session, "rude_one")
    thread = make_thread(session, board, author, title="Radiation or surgery?", replies=0)
    from forum.services import posting

    posting.reply(session, make_user(session, "asker"), thread, board, "What did you choose?")
    posting.reply(session, author, thread, board, "You are an idiot for asking.")
    rude = posts_of(session, thread)[2]
    make_user(session, "reporter")
    login(client, "reporter")
    page = client.get(f"/t/{thread.id}/radiation-or-surgery").get_data(as_text=True)
    assert f"/p/{rude.id}/report" in page
    assert "Only moderators read reports" in text(client.get(f"/p/{rude.id}/report"))
    response = post_form(client, f"/p/{rude.id}/report", {"reason": "Insulting\n  a newcomer"})
    assert response.status_code == 302
    report = session.scalar(select(Report))
    assert (report.reason, report.status) == ("Insulting\n  a newcomer", "open")
    # Reporting twice is refused clearly.
    response = post_form(client, f"/p/{rude.id}/report", {"reason": "again"})
    assert response.status_code == 409 and "already reported" in text(response)

    board_moderator(session, board, "treatment_mod")
    login(client, "treatment_mod")
    queue = text(client.get("/moderation"))
    assert "Radiation or surgery?" in queue
    assert "You are an idiot for asking." in queue  # the reported post
    assert "What did you choose?" in queue  # what it answers
    assert "Insulting\n  a newcomer" in queue and "reporter" in queue
    response = post_form(
        client,
        f"/moderation/reports/{rude.id}",
        {"note": "Warned them", "resolve": "Resolve"},
        form_url="/moderation",
    )
    assert response.status_code == 302
    session.expire_all()
    report = session.get(Report, report.id)
    assert (report.status, report.resolution) == ("resolved", "Warned them")
    assert report.handled_by_id is not None
    assert "No open reports" in text(client.get("/moderation"))
    # A second decision on the same reports is a clear conflict.
    response = post_form(
        client, f"/moderation/reports/{rude.id}", {"dismiss": "Dismiss"}, form_url="/moderation"
    )
    assert response.status_code == 409


def test_acting_on_a_report_deletes_the_post_and_resolves_every_report(client, session):
    board = make_board(session)
    thread = make_thread(session, board, replies=1)
    spam = posts_of(session, thread)[1]
    for name in ("reporter1", "reporter2"):
        reports.report_post(session, make_user(session, name), spam, thread, board, "Spam")
    make_moderator(session, "actor")
    login(client, "actor")
    response = post_form(
        client, f"/moderation/reports/{spam.id}", {"delete": "Delete"}, form_url="/moderation"
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Post, spam.id).deleted_at is not None
    assert set(session.scalars(select(Report.status))) == {"resolved"}
    actions = set(session.scalars(select(ModerationAction.action)))
    assert {"post.delete", "report.delete"} <= actions


def test_dismissing_keeps_the_post(client, session):
    board = make_board(session)
    thread = make_thread(session, board, replies=1)
    fine = posts_of(session, thread)[1]
    reports.report_post(session, make_user(session), fine, thread, board, "I disagree")
    make_moderator(session, "fair")
    login(client, "fair")
    post_form(client, f"/moderation/reports/{fine.id}", {"dismiss": "Dismiss"}, form_url="/")
    session.expire_all()
    assert session.get(Post, fine.id).deleted_at is None
    assert session.scalar(select(Report.status)) == "dismissed"


def test_board_moderators_see_and_handle_only_their_boards(client, session):
    mine, other = make_board(session, "Mine"), make_board(session, "Other")
    here = make_thread(session, mine, title="Here thread", replies=1)
    there = make_thread(session, other, title="There thread", replies=1)
    reporter = make_user(session, "watchful")
    reports.report_post(session, reporter, posts_of(session, here)[1], here, mine, "here")
    there_post = posts_of(session, there)[1]
    reports.report_post(session, reporter, there_post, there, other, "there")
    board_moderator(session, mine, "mine_mod")
    login(client, "mine_mod")
    queue = client.get("/moderation").get_data(as_text=True)
    assert "Here thread" in queue and "There thread" not in queue
    response = post_form(
        client, f"/moderation/reports/{there_post.id}", {"resolve": "Resolve"}, form_url="/"
    )
    assert response.status_code == 403
    assert session.scalar(select(func.count()).where(Report.status == "open")) == 2


def test_who_may_report(session):
    board = make_board(session)
    author = make_user(session)
    thread = make_thread(session, board, author)
    post = posts_of(session, thread)[0]
    with pytest.raises(PermissionDenied):
        reports.report_post(session, author, post, thread, board, "my own")
    suspended = make_user(session, restriction="suspended")
    with pytest.raises(PermissionDenied):
        reports.report_post(session, suspended, post, thread, board, "x")
    member = make_user(session)
    with pytest.raises(ValidationError):
        reports.report_post(session, member, post, thread, board, "   ")
    with pytest.raises(ValidationError):
        reports.report_post(session, member, post, thread, board, "x" * 1001)
    reports.report_post(session, member, post, thread, board, "ok")
    with pytest.raises(Conflict):
        reports.report_post(session, member, post, thread, board, "ok again")


def test_report_form_messages(client, session):
    board = make_board(session)
    thread = make_thread(session, board)
    post = posts_of(session, thread)[0]
    make_user(session, "formal")
    login(client, "formal")
    response = post_form(client, f"/p/{post.id}/report", {"reason": ""})
    assert response.status_code == 400 and "what is wrong" in text(response)
    response = post_form(client, f"/p/{post.id}/report", {"reason": "bad \x00 byte"})
    assert response.status_code == 400 and "NUL character" in text(response)
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_visitors_are_sent_to_log_in_to_report(client, session):
    thread = make_thread(session)
    post = posts_of(session, thread)[0]
    response = client.get(f"/p/{post.id}/report")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_queue_has_a_fixed_number_of_queries(client, session, count_queries):
    board = make_board(session)
    make_moderator(session, "counter")
    authors = [make_user(session, f"qa{i}") for i in range(3)]

    def add(n):
        for i in range(n):
            thread = make_thread(session, board, authors[i % 3], replies=2, repliers=authors)
            post = posts_of(session, thread)[2]
            for who in authors:
                if who.id != post.author_id:
                    reports.report_post(session, who, post, thread, board, f"why {i}")

    add(1)
    login(client, "counter")

    def statements():
        client.get("/moderation")
        with count_queries() as seen:
            assert client.get("/moderation").status_code == 200
        return len(seen)

    small = statements()
    add(6)
    assert statements() == small
