"""Update reminders: after N months, on treatment anniversaries, as a notice and by mail."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email import message_from_bytes
from html import unescape

import pytest
from sqlalchemy import select

from forum.mailer import sent_mail_files
from forum.models import Board, HistoryEvent, UpdateReminder, User, utcnow
from forum.services import posting, reminders, tags
from forum.text.dates import PartialDate
from forum.vocabulary import load_vocabulary
from tests.conftest import login, post_form
from tests.factories import make_board, make_thread, make_user

VOCABULARY = load_vocabulary()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def open_reminders(session, user) -> list[UpdateReminder]:
    session.expire_all()
    return list(
        session.scalars(
            select(UpdateReminder)
            .where(UpdateReminder.user_id == user.id, UpdateReminder.done_at.is_(None))
            .order_by(UpdateReminder.due_at)
        )
    )


def make_due(session, reminder: UpdateReminder) -> None:
    reminder.due_at = utcnow() - timedelta(days=1)
    session.commit()


def start(session, author, board=None, months=6, title="Starting radiation next week"):
    board = board or make_board(session)
    thread = posting.start_thread(session, author, board, title, "Nervous.",
                                  remind_after_months=months)
    return thread, board


# ------------------------------------------------------------------------------------------
# The N-month reminder: asked for when starting a thread, shown when due, settled by an update


def test_asking_for_a_reminder_when_starting_a_thread(client, session):
    board = make_board(session)
    make_user(session, "asker")
    login(client, "asker")
    response = post_form(client, f"/b/{board.slug}/new",
                         {"title": "GK booked", "body": "Here we go.", "remind_after_months": "6"})
    assert response.status_code == 302
    asker = session.scalar(select(User).where(User.username == "asker"))
    [reminder] = open_reminders(session, asker)
    assert reminder.kind == "after_months" and "6 months have passed" in reminder.label
    assert (reminder.due_at - utcnow()).days in range(178, 186)
    assert "Time for an update?" not in text(client.get("/"))  # not due yet


def test_due_reminder_is_a_notice_until_dismissed(client, session):
    author = make_user(session, "noticed")
    thread, _ = start(session, author)
    [reminder] = open_reminders(session, author)
    make_due(session, reminder)
    assert "Time for an update?" not in text(client.get("/"))  # visitors never see it
    login(client, "noticed")
    page = text(client.get("/"))
    assert "Time for an update?" in page and "6 months have passed" in page
    assert f'href="/t/{thread.id}/reply?update=1"' in page
    make_user(session, "someone_else")
    login(client, "someone_else")
    assert "Time for an update?" not in text(client.get("/"))
    login(client, "noticed")
    response = post_form(client, f"/reminders/{reminder.id}/dismiss", {"next": "/outcomes"},
                         form_url="/")
    assert response.status_code == 302 and response.headers["Location"] == "/outcomes"
    assert open_reminders(session, author) == []
    assert "Time for an update?" not in text(client.get("/"))


def test_dismiss_redirects_only_inside_the_forum_and_ignores_others_reminders(client, session):
    owner = make_user(session, "owner_r")
    start(session, owner)
    [reminder] = open_reminders(session, owner)
    make_user(session, "intruder")
    login(client, "intruder")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = post_form(client, f"/reminders/{reminder.id}/dismiss", {"next": target},
                             form_url="/")
        assert response.headers["Location"] == "/settings/reminders"
    assert len(open_reminders(session, owner)) == 1  # someone else's reminder is untouched
    assert client.post(f"/reminders/{reminder.id}/dismiss").status_code == 400  # no CSRF


def test_posting_an_update_settles_the_reminder(client, session):
    author = make_user(session, "updater")
    thread, board = start(session, author)
    make_due(session, open_reminders(session, author)[0])
    login(client, "updater")
    response = post_form(client, f"/t/{thread.id}/reply",
                         {"body": "Six months on: stable.", "is_update": "y"},
                         form_url=f"/t/{thread.id}/reply?update=1")
    assert response.status_code == 302
    assert open_reminders(session, author) == []
    assert "Time for an update?" not in text(client.get("/"))
    assert board.id


def test_the_notice_costs_one_query_for_members_and_none_for_visitors(
    client, session, count_queries
):
    author = make_user(session, "counted")
    start(session, author)
    make_due(session, open_reminders(session, author)[0])

    def reminder_statements() -> int:
        client.get("/")
        with count_queries() as statements:
            client.get("/")
        return sum("update_reminders" in s for s in statements)

    assert reminder_statements() == 0
    login(client, "counted")
    assert reminder_statements() == 1


# ------------------------------------------------------------------------------------------
# Anniversary reminders


def add_treatment(session, user, year, month, day=None, treatment="gamma-knife"):
    session.add(HistoryEvent(user_id=user.id, kind="treatment", year=year, month=month, day=day,
                             treatment=treatment, date_text=f"{month}/{year}"))
    session.commit()


@pytest.mark.parametrize(
    ("when", "today", "expected"),
    [
        (PartialDate(2017, 5), date(2024, 3, 1), (date(2024, 5, 1), 7)),
        (PartialDate(2017, 5, 20), date(2024, 5, 21), (date(2025, 5, 20), 8)),
        (PartialDate(2016, 2, 29), date(2023, 1, 1), (date(2023, 2, 28), 7)),
        (PartialDate(2024, 2), date(2024, 3, 1), (date(2025, 2, 1), 1)),
        (PartialDate(2030, 2), date(2024, 3, 1), (date(2031, 2, 1), 1)),
        (PartialDate(2017), date(2024, 3, 1), None),
    ],
)
def test_next_anniversary(when, today, expected):
    assert reminders.next_anniversary(when, today) == expected


def test_opting_in_schedules_anniversaries_of_treatments_and_opting_out_drops_them(
    client, session
):
    member = make_user(session, "anniversary")
    board = make_board(session)
    tagged = make_thread(session, board, member, title="My FSR thread")
    make_thread(session, board, member, title="A later, untagged thread")
    tags.set_tags(session, member, tagged, board, {"treatment": ["fsr"]}, VOCABULARY)
    today = utcnow().date()
    add_treatment(session, member, today.year - 3, today.month, treatment="fsr")
    other_month = 1 if today.month != 1 else 2
    add_treatment(session, member, today.year - 1, other_month, treatment="surgery")
    add_treatment(session, member, today.year - 2, None, treatment="gamma-knife")  # year only
    add_treatment(session, member, today.year - 2, 6, treatment="watch-and-wait")
    login(client, "anniversary")
    assert "Remind me on each anniversary" in text(client.get("/settings/reminders"))
    response = post_form(client, "/settings/reminders", {"anniversaries": "y"})
    assert response.status_code == 302
    found = open_reminders(session, member)
    assert len(found) == 2
    labels = " | ".join(r.label for r in found)
    assert "Fractionated stereotactic radiotherapy" in labels and "Surgery" in labels
    fsr = next(r for r in found if "Fractionated" in r.label)
    assert fsr.thread_id == tagged.id  # the thread tagged with that treatment
    assert re.match(r"(3|4) years since your Fractionated", fsr.label)
    page = text(client.get("/settings/reminders"))
    assert "Coming up" in page and "years since your" in page
    # Running the scheduler again adds nothing; a dismissed anniversary is not re-added.
    reminders.dismiss(session, member, fsr.id)
    assert reminders.sync_anniversary_reminders(session, member, VOCABULARY) == 0
    session.commit()
    post_form(client, "/settings/reminders", {})
    session.expire_all()
    assert session.get(User, member.id).anniversary_reminders is False
    assert open_reminders(session, member) == []


def test_anniversary_reminders_become_due_and_show_as_a_notice(client, session):
    member = make_user(session, "due_anniv", anniversary_reminders=True)
    thread = make_thread(session, author=member, title="Life after GK")
    today = utcnow().date()
    add_treatment(session, member, today.year - 2, today.month, today.day)
    midnight = datetime.combine(today, datetime.min.time())
    assert reminders.sync_anniversary_reminders(session, member, VOCABULARY, now=midnight) == 1
    session.commit()
    login(client, "due_anniv")
    page = text(client.get("/"))
    assert "2 years since your Gamma Knife" in page
    assert f'href="/t/{thread.id}/reply?update=1"' in page


# ------------------------------------------------------------------------------------------
# The daily job: flask forum send-reminders


def test_send_reminders_mails_each_due_reminder_once(app, session):
    author = make_user(session, "mailme")
    remembered = make_user(session, "remembered_one", in_memoriam=True)
    thread, board = start(session, author, title="Hearing after translab")
    start(session, remembered, board=board, title="Their thread")
    start(session, author, board=board, title="Not due yet")
    for reminder in session.scalars(select(UpdateReminder).join(User)):
        if reminder.label.find("Not due yet") == -1:
            reminder.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    with app.app_context():
        before = len(sent_mail_files())
    runner = app.test_cli_runner()
    app.config["BASE_URL"] = "https://cairn.example"
    result = runner.invoke(args=["forum", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert "mailed 1, 0 failed" in result.output
    with app.app_context():
        files = sent_mail_files()
    assert len(files) == before + 1
    message = message_from_bytes(files[-1].read_bytes())
    assert message["To"] == "mailme@example.org"
    body = message.get_payload(decode=True).decode()
    assert "Hearing after translab" in body
    assert f"https://cairn.example/t/{thread.id}/reply?update=1" in body
    assert "https://cairn.example/settings/reminders" in body
    session.expire_all()
    mailed = session.scalars(select(UpdateReminder).where(UpdateReminder.mailed_at.is_not(None)))
    assert [r.user_id for r in mailed] == [author.id]
    # The remembered member's reminder is settled quietly; nothing is sent twice.
    assert open_reminders(session, remembered) == []
    again = runner.invoke(args=["forum", "send-reminders"])
    assert "mailed 0, 0 failed" in again.output
    with app.app_context():
        assert len(sent_mail_files()) == before + 1
    assert session.get(Board, board.id)


def test_a_failing_mail_is_counted_and_tried_again(session):
    author = make_user(session)
    start(session, author)
    make_due(session, open_reminders(session, author)[0])

    def broken(reminder, user, thread):
        raise OSError("mail server down")

    assert reminders.mail_due_reminders(session, broken) == (0, 1)
    sent: list[int] = []
    assert reminders.mail_due_reminders(session, lambda r, u, t: sent.append(r.id)) == (1, 0)
    assert len(sent) == 1
