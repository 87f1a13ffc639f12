"""Mail: queued with the change, sent after the response, retried; digests; unsubscribing."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape

from sqlalchemy import func, select

from forum.mailer import sent_mail_files
from forum.models import Notification, OutboxMail, User, utcnow
from forum.services import outbox, posting
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_board, make_thread, make_user


def mails_since(app, before: int) -> list[EmailMessage]:
    with app.app_context():
        files = sent_mail_files()[before:]
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def mail_count(app) -> int:
    with app.app_context():
        return len(sent_mail_files())


def body_of(message: EmailMessage) -> str:
    return message.get_content()


def outbox_rows(session) -> list[OutboxMail]:
    session.expire_all()
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def reply_and_finish(client, thread, body: str):
    """Reply through the form and close the response, as a server does once it is sent."""
    response = post_form(client, f"/t/{thread.id}/reply", {"body": body})
    response.close()
    return response


def test_a_reply_queues_mail_that_is_sent_after_the_response(app, client, session):
    board = make_board(session)
    author = make_user(session, "mailme")
    thread = make_thread(session, board, author, title="Hearing aids")
    make_user(session, "answerer")
    login(client, "answerer")
    before = mail_count(app)
    # Unbuffered: the test holds the response as a server does while it is still sending it.
    response = post_form(
        client, f"/t/{thread.id}/reply", {"body": "Mine work well."}, buffered=False
    )
    assert response.status_code == 302
    # Queued in the same transaction as the reply; nothing sent until the response is done.
    (queued,) = outbox_rows(session)
    assert queued.user_id == author.id and mail_count(app) == before
    response.close()
    assert outbox_rows(session) == []
    (mail,) = mails_since(app, before)
    assert mail["To"] == "mailme@example.org"
    assert mail["Subject"] == "answerer replied in “Hearing aids”"
    unsubscribe = re.search(r"<(http://[^>]+/unsubscribe/[^>]+)>", mail["List-Unsubscribe"]).group(
        1
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = body_of(mail)
    assert unsubscribe in text and "/p/" in text and "/settings/notifications" in text
    assert session.scalar(select(Notification.mailed_at)) is not None


def test_a_failed_send_never_fails_the_post_and_is_retried(
    app, client, session, monkeypatch, caplog
):
    board = make_board(session)
    author = make_user(session, "unlucky")
    thread = make_thread(session, board, author)
    make_user(session, "writer")
    login(client, "writer")

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("forum.mailer.send_mail", broken)
    with caplog.at_level(logging.WARNING, logger="forum.services.outbox"):
        response = reply_and_finish(client, thread, "Posting while mail is down")
    assert response.status_code == 302
    (queued,) = outbox_rows(session)
    assert queued.attempts == 1 and "mail server down" in queued.last_error
    assert queued.next_attempt_at > utcnow()
    assert "failed on attempt 1" in caplog.text
    # Not due yet: the retry pass leaves it; once due (or later), it goes out.
    monkeypatch.undo()
    before = mail_count(app)
    runner = app.test_cli_runner()
    assert "Sent 0 mail" in runner.invoke(args=["forum", "send-mail"]).output
    with app.app_context():
        report = outbox.deliver(session, now=utcnow() + timedelta(hours=1))
    assert (report.sent, report.failed) == (1, 0)
    assert outbox_rows(session) == [] and len(mails_since(app, before)) == 1


def test_mail_that_keeps_failing_is_given_up_and_reported(app, session):
    member = make_user(session)
    outbox.queue_for_member(session, member, "Subject", "Body")
    session.commit()

    def broken(*args, **kwargs):
        raise OSError("nope")

    with app.app_context():
        now = utcnow()
        for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
            outbox.deliver(session, now=now, send=broken)
            now += timedelta(days=1)
        assert outbox.deliver(session, now=now, send=broken).failed == 0
        assert outbox.given_up(session) == 1


def test_a_claimed_mail_is_not_sent_twice(app, session):
    member = make_user(session)
    sent: list[str] = []
    mail_id = outbox.queue_for_member(session, member, "Once", "Only once")
    session.commit()
    session.get(OutboxMail, mail_id).next_attempt_at = utcnow() + outbox.LEASE  # another sender
    session.commit()

    def send(to, subject, body, headers):
        sent.append(subject)

    with app.app_context():
        assert outbox.deliver(session, send=send).sent == 0
        assert outbox.deliver(session, now=utcnow() + 2 * outbox.LEASE, send=send).sent == 1
    assert sent == ["Once"]


def test_nothing_is_queued_when_the_change_fails(client, session):
    board = make_board(session)
    thread = make_thread(session, board, make_user(session, "watched"))
    make_user(session, "empty")
    login(client, "empty")
    assert post_form(client, f"/t/{thread.id}/reply", {"body": "   "}).status_code == 400
    assert outbox_rows(session) == []


def test_daily_digest_collects_unread_notifications_once(app, client, session):
    board = make_board(session)
    daily = make_user(session, "daily_dan", email_mode="daily")
    thread = make_thread(session, board, daily, title="Digest me")
    other = make_thread(session, board, daily, title="Read already")
    posting.reply(session, make_user(session, "rep1"), thread, board, "First")
    posting.reply(session, make_user(session, "rep2"), other, board, "Second")
    posting.reply(session, make_user(session, "rep3"), thread, board, "Hi @daily_dan")
    assert daily.id not in {m.user_id for m in outbox_rows(session)}  # daily: nothing yet
    read = session.scalar(select(Notification).where(Notification.thread_id == other.id))
    read.read_at = utcnow()
    session.commit()
    before = mail_count(app)
    output = app.test_cli_runner().invoke(args=["forum", "send-digests"]).output
    assert "Queued 1 digest(s)" in output
    (digest,) = [m for m in mails_since(app, before) if m["To"] == "daily_dan@example.org"]
    assert digest["Subject"] == "Cairn: 2 new notifications"
    text = body_of(digest)
    assert "rep1 replied in “Digest me”" in text and "rep3 mentioned you in “Digest me”" in text
    assert "Read already" not in text and "/unsubscribe/" in text
    assert digest["List-Unsubscribe"]
    assert (
        "Queued 0 digest(s)" in app.test_cli_runner().invoke(args=["forum", "send-digests"]).output
    )


def test_never_means_no_mail_even_if_it_was_queued(app, client, session):
    board = make_board(session)
    quiet = make_user(session, "silent", email_mode="never")
    thread = make_thread(session, board, quiet)
    posting.reply(session, make_user(session), thread, board, "Hello")
    assert outbox_rows(session) == [] and notifications_count(session, quiet) == 1
    # Queued while "immediate", then the member chose "never": skipped at sending time.
    loud = make_user(session, "changed_mind")
    thread = make_thread(session, board, loud)
    posting.reply(session, make_user(session), thread, board, "Hello again")
    loud.email_mode = "never"
    session.commit()
    before = mail_count(app)
    with app.app_context():
        report = outbox.deliver(session)
    assert (report.sent, report.skipped) == (0, 1) and mail_count(app) == before


def notifications_count(session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user.id)
    )


def unsubscribe_link(app, session, user: User) -> str:
    with app.test_request_context():
        return "/unsubscribe/" + outbox.unsubscribe_token(user)


def test_unsubscribe_needs_no_login_and_a_click_to_confirm(app, client, session):
    member = make_user(session, "leaver")
    link = unsubscribe_link(app, session, member)
    page = unescape(client.get(link).get_data(as_text=True))
    assert "Stop all notification emails to leaver?" in page
    session.expire_all()
    assert member.email_mode == "immediate"  # looking is not unsubscribing
    response = post_form(client, link, {})
    assert response.status_code == 200 and "will get no more emails" in response.get_data(
        as_text=True
    )
    session.expire_all()
    assert member.email_mode == "never"


def test_one_click_post_from_a_mail_client_works_without_a_form_token(app, client, session):
    member = make_user(session, "oneclick")
    link = unsubscribe_link(app, session, member)
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    session.expire_all()
    assert member.email_mode == "never"


def test_bad_old_or_stale_unsubscribe_links_are_a_clear_400(app, client, session, monkeypatch):
    member = make_user(session, "careful_carl")
    link = unsubscribe_link(app, session, member)
    for bad in (link[:-3] + "xyz", "/unsubscribe/not-a-token"):
        assert client.get(bad).status_code == 400
        response = client.post(bad)
        assert response.status_code == 400 and "broken or too old" in response.get_data(
            as_text=True
        )
    monkeypatch.setitem(app.config, "UNSUBSCRIBE_MAX_AGE_DAYS", -1)
    assert client.get(link).status_code == 400
    monkeypatch.setitem(app.config, "UNSUBSCRIBE_MAX_AGE_DAYS", 365)
    # A new address retires links sent to the old one.
    member.email_key = "new@example.org"
    session.commit()
    assert client.post(link).status_code == 400
    session.expire_all()
    assert member.email_mode == "immediate"
    assert csrf_token(client, "/login")  # the site still works for visitors


def test_private_message_mail_says_who_but_not_what(app, client, session):
    from forum.services import messages

    sender = make_user(session, "sender", post_count=5)
    make_user(session, "recipient")
    before = mail_count(app)
    login(client, "sender")
    response = post_form(
        client,
        "/messages/new",
        {"to": "recipient", "subject": "My MRI results", "body": "The tumour grew 2 mm."},
    )
    assert response.status_code == 302
    response.close()
    (mail,) = mails_since(app, before)
    assert mail["Subject"] == "sender sent you a private message"
    assert "MRI" not in body_of(mail) and "tumour" not in body_of(mail)
    assert "/messages/" in body_of(mail)
    assert messages  # imported for the service the form uses
    assert sender.post_count == 5


def test_cron_delivery_leaves_sending_to_send_mail(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "cron")
    board = make_board(session)
    thread = make_thread(session, board, make_user(session, "cron_reader"))
    make_user(session, "cron_writer")
    login(client, "cron_writer")
    before = mail_count(app)
    assert reply_and_finish(client, thread, "Sent later").status_code == 302
    assert mail_count(app) == before and len(outbox_rows(session)) == 1
    output = app.test_cli_runner().invoke(args=["forum", "send-mail"]).output
    assert "Sent 1 mail(s)" in output
    assert mail_count(app) == before + 1 and outbox_rows(session) == []
