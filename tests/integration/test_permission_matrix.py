"""Every route × every role answers as expected.

Roles: visitor, member, author (of the thread, post, history, reminder, conversation…), moderator
of the thread's board, moderator of another board, suspended member, admin. The routes come from
``app.url_map``: a route without an expectation here fails the test, so a new page can't slip
through without someone deciding who may use it.

Each role logs in once through the real form; each request runs in a savepoint rolled back
afterwards (and the client's cookies are restored), so every request meets the same world.
Run with ``MATRIX_SHOW=1`` to print what each route answered (handy when adding a route).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.models import (
    BoardModerator,
    Category,
    HeldPost,
    HistoryEvent,
    Notification,
    UpdateReminder,
    utcnow,
)
from forum.services import messages, moderation, posting, reports
from tests.conftest import csrf_token, login
from tests.factories import make_admin, make_board, make_thread, make_user, posts_of

ROLES = ("visitor", "member", "author", "mod_here", "mod_elsewhere", "suspended", "admin")
L = "L"  # sent to the login page (login_required: ?next=…)


@dataclass(frozen=True)
class Row:
    url: str
    data: dict | None  # POST form fields (the CSRF token is added)
    expected: str  # one answer per role, in ROLES order


def row(url: str, expected: str, data: dict | None = None) -> Row:
    assert len(expected.split()) == len(ROLES), (url, expected)
    return Row(url, data, expected)


# (method, rule) -> Row. URLs are formatted with the world's values ({thread}, {p2}…).
ALL_200 = "200 200 200 200 200 200 200"
MEMBERS_200 = "L 200 200 200 200 200 200"
MEMBERS_302 = "L 302 302 302 302 302 302"
POSTING = "L 302 302 302 302 403 302"
POSTING_FORM = "L 200 200 200 200 403 200"
MODS_HERE = "L 403 403 302 403 403 302"
MODS_HERE_PAGE = "L 403 403 200 403 403 200"
QUEUE = "L 403 403 200 200 403 200"
ADMIN_PAGE = "L 403 403 403 403 403 200"
ADMIN_POST = "L 403 403 403 403 403 302"
GLOBAL_MODS_POST = "L 403 403 403 403 403 302"
AUTHOR_OR_MODS_PAGE = "L 403 200 200 403 403 200"
AUTHOR_OR_MODS_POST = "L 403 302 302 403 403 302"
ANYONE_ONCE = "200 200 200 200 200 200 200"
EVENT = {
    "kind": "note",
    "date": "2020",
    "note": "Felt better",
    "condition": "",
    "treatment": "",
    "symptom": "",
    "side": "",
}

EXPECTED: dict[tuple[str, str], Row] = {
    # Reading: boards, threads, posts, members, search, outcomes, static files.
    ("GET", "/"): row("/", ALL_200),
    ("GET", "/b/<slug>"): row("/b/{board_slug}", ALL_200),
    ("GET", "/t/<int:thread_id>/<slug>"): row("/t/{thread}/{thread_slug}", ALL_200),
    ("GET", "/t/<int:thread_id>"): row("/t/{thread}", "301 301 301 301 301 301 301"),
    ("GET", "/p/<int:post_id>"): row("/p/{p2}", "302 302 302 302 302 302 302"),
    ("GET", "/p/<int:post_id>/revisions"): row("/p/{p2}/revisions", MODS_HERE_PAGE),
    ("GET", "/u/<username>"): row("/u/target", ALL_200),
    ("GET", "/search"): row("/search?q=scan", ALL_200),
    ("GET", "/outcomes"): row("/outcomes", ALL_200),
    ("GET", "/outcomes.atom"): row("/outcomes.atom", ALL_200),
    # Feeds and sitemaps: the same for everyone (visitors' view).
    ("GET", "/feed.atom"): row("/feed.atom", ALL_200),
    ("GET", "/b/<slug>.atom"): row("/b/{board_slug}.atom", ALL_200),
    ("GET", "/t/<int:thread_id>.atom"): row("/t/{thread}.atom", ALL_200),
    ("GET", "/robots.txt"): row("/robots.txt", ALL_200),
    ("GET", "/sitemap.xml"): row("/sitemap.xml", ALL_200),
    ("GET", "/sitemap-pages.xml"): row("/sitemap-pages.xml", ALL_200),
    ("GET", "/sitemap-threads-<int:number>.xml"): row("/sitemap-threads-1.xml", ALL_200),
    ("GET", "/tags/<kind>/<slug>"): row("/tags/condition/acoustic-neuroma", ALL_200),
    ("GET", "/static/<path:filename>"): row("/static/cairn.css", ALL_200),
    # Links from the old SMF forum, and imported members' signature review (nobody here has
    # one pending: they are sent on to their history).
    ("GET", "/index.php"): row("/index.php", "301 301 301 301 301 301 301"),
    ("GET", "/welcome/signature"): row("/welcome/signature", MEMBERS_302),
    ("POST", "/welcome/signature"): row("/welcome/signature", MEMBERS_302, {}),
    # Accounts: logging in and out, registering.
    ("GET", "/login"): row("/login", "200 302 302 302 302 302 302"),
    ("POST", "/login"): row("/login", "400 302 302 302 302 302 302", {"username": "x"}),
    ("GET", "/register"): row("/register", "200 302 302 302 302 302 302"),
    ("POST", "/register"): row("/register", "400 302 302 302 302 302 302", {"username": "x"}),
    ("POST", "/logout"): row("/logout", MEMBERS_302, {}),
    # Posting.
    ("GET", "/b/<slug>/new"): row("/b/{board_slug}/new", POSTING_FORM),
    ("POST", "/b/<slug>/new"): row(
        "/b/{board_slug}/new", POSTING, {"title": "A new thread", "body": "Its first words."}
    ),
    ("GET", "/t/<int:thread_id>/reply"): row("/t/{thread}/reply", POSTING_FORM),
    ("POST", "/t/<int:thread_id>/reply"): row(
        "/t/{thread}/reply", POSTING, {"body": "A reply of my own."}
    ),
    ("GET", "/p/<int:post_id>/edit"): row("/p/{p2}/edit", AUTHOR_OR_MODS_PAGE),
    ("POST", "/p/<int:post_id>/edit"): row(
        "/p/{p2}/edit", AUTHOR_OR_MODS_POST, {"body": "Edited words."}
    ),
    ("POST", "/p/<int:post_id>/delete"): row("/p/{p2}/delete", AUTHOR_OR_MODS_POST, {}),
    ("POST", "/p/<int:post_id>/restore"): row("/p/{p2}/restore", MODS_HERE, {}),
    # Moderation: the queue, thread tools, reports, held posts, members, board moderators.
    ("GET", "/moderation"): row("/moderation", QUEUE),
    ("GET", "/moderation/log"): row("/moderation/log", QUEUE),
    ("POST", "/t/<int:thread_id>/lock"): row("/t/{thread}/lock", MODS_HERE, {}),
    ("POST", "/t/<int:thread_id>/unlock"): row("/t/{thread}/unlock", MODS_HERE, {}),
    ("POST", "/t/<int:thread_id>/stick"): row("/t/{thread}/stick", MODS_HERE, {}),
    ("POST", "/t/<int:thread_id>/unstick"): row("/t/{thread}/unstick", MODS_HERE, {}),
    ("GET", "/t/<int:thread_id>/move"): row("/t/{thread}/move", MODS_HERE_PAGE),
    ("POST", "/t/<int:thread_id>/move"): row(
        "/t/{thread}/move", "L 403 403 400 403 403 302", {"board_id": "{other_board}"}
    ),
    ("GET", "/t/<int:thread_id>/merge"): row("/t/{thread}/merge", MODS_HERE_PAGE),
    ("POST", "/t/<int:thread_id>/merge"): row(
        "/t/{thread}/merge", MODS_HERE, {"target": "{second_thread}"}
    ),
    ("GET", "/p/<int:post_id>/split"): row("/p/{p2}/split", MODS_HERE_PAGE),
    ("POST", "/p/<int:post_id>/split"): row(
        "/p/{p2}/split", MODS_HERE, {"title": "Split off", "board_id": "{board}"}
    ),
    ("GET", "/p/<int:post_id>/report"): row("/p/{p1}/report", "L 200 200 200 200 403 200"),
    ("POST", "/p/<int:post_id>/report"): row(
        "/p/{p1}/report", "L 302 302 302 302 403 302", {"reason": "Please look at this."}
    ),
    ("POST", "/moderation/reports/<int:post_id>"): row(
        "/moderation/reports/{p1}", MODS_HERE, {"resolve": "Resolve"}
    ),
    ("POST", "/moderation/held/<int:held_id>/approve"): row(
        "/moderation/held/{held}/approve", MODS_HERE, {}
    ),
    ("POST", "/moderation/held/<int:held_id>/reject"): row(
        "/moderation/held/{held}/reject", MODS_HERE, {"reason": "Spam"}
    ),
    ("GET", "/u/<username>/suspend"): row("/u/target/suspend", "L 403 403 403 403 403 200"),
    ("POST", "/u/<username>/suspend"): row(
        "/u/target/suspend", ADMIN_POST, {"kind": "suspended", "days": "3", "reason": "Rude"}
    ),
    ("POST", "/u/<username>/lift"): row("/u/target/lift", ADMIN_POST, {}),
    ("POST", "/u/<username>/memoriam"): row(
        "/u/target/memoriam", GLOBAL_MODS_POST, {"remembered": "y", "memorial_line": "Missed"}
    ),
    ("GET", "/moderation/moderators"): row("/moderation/moderators", ADMIN_PAGE),
    ("POST", "/moderation/moderators"): row(
        "/moderation/moderators", ADMIN_POST, {"board_id": "{board}", "username": "member"}
    ),
    ("POST", "/moderation/moderators/<int:board_id>/<int:user_id>/remove"): row(
        "/moderation/moderators/{board}/{mod_here_id}/remove", ADMIN_POST, {}
    ),
    # Admin.
    ("GET", "/admin/boards"): row("/admin/boards", ADMIN_PAGE),
    ("POST", "/admin/boards"): row(
        "/admin/boards", ADMIN_POST, {"category-name": "New", "category-submit": "Add category"}
    ),
    ("GET", "/admin/boards/<int:board_id>"): row("/admin/boards/{board}", ADMIN_PAGE),
    ("POST", "/admin/boards/<int:board_id>"): row(
        "/admin/boards/{board}",
        ADMIN_POST,
        {"category_id": "{category}", "name": "Renamed", "slug": "renamed", "position": "1"},
    ),
    # Outcomes and tags (the author or the board's moderators; curating: global moderators).
    ("GET", "/t/<int:thread_id>/outcome"): row("/t/{thread}/outcome", AUTHOR_OR_MODS_PAGE),
    ("POST", "/t/<int:thread_id>/outcome"): row(
        "/t/{thread}/outcome",
        AUTHOR_OR_MODS_POST,
        {"post_id": "{p2}", "outcome": "resolved", "summary": "All well", "reason": "Asked"},
    ),
    ("POST", "/t/<int:thread_id>/outcome/unmark"): row(
        "/t/{resolved}/outcome/unmark", AUTHOR_OR_MODS_POST, {"reason": "Mistake"}
    ),
    ("POST", "/t/<int:thread_id>/feature"): row(
        "/t/{resolved}/feature", GLOBAL_MODS_POST, {"reason": "Helpful"}
    ),
    ("POST", "/t/<int:thread_id>/unfeature"): row(
        "/t/{resolved}/unfeature", GLOBAL_MODS_POST, {"reason": "Enough"}
    ),
    ("GET", "/t/<int:thread_id>/tags"): row("/t/{thread}/tags", "L 403 200 403 403 403 200"),
    ("POST", "/t/<int:thread_id>/tags"): row(
        "/t/{thread}/tags", "L 403 302 403 403 403 302", {"condition": "acoustic-neuroma"}
    ),
    ("GET", "/settings/reminders"): row("/settings/reminders", MEMBERS_200),
    ("POST", "/settings/reminders"): row("/settings/reminders", MEMBERS_302, {}),
    ("POST", "/reminders/<int:reminder_id>/dismiss"): row(
        # Someone else's reminder: nothing happens, and nothing is told.
        "/reminders/{reminder}/dismiss",
        MEMBERS_302,
        {},
    ),
    # A member's own treatment history.
    ("GET", "/settings/history"): row("/settings/history", MEMBERS_200),
    ("POST", "/settings/history/events"): row("/settings/history/events", MEMBERS_302, EVENT),
    ("GET", "/settings/history/events/<int:event_id>"): row(
        "/settings/history/events/{event}", "L 404 200 404 404 404 404"
    ),
    ("POST", "/settings/history/events/<int:event_id>"): row(
        "/settings/history/events/{event}",
        "L 404 302 404 404 404 404",
        EVENT,
    ),
    ("POST", "/settings/history/events/<int:event_id>/delete"): row(
        "/settings/history/events/{event}/delete", "L 404 302 404 404 404 404", {}
    ),
    ("POST", "/settings/history/read"): row(
        "/settings/history/read", MEMBERS_200, {"text": "AN left 2019, GK 2020"}
    ),
    ("POST", "/settings/history/accept"): row("/settings/history/accept", MEMBERS_302, {}),
    ("POST", "/settings/history/privacy"): row(
        "/settings/history/privacy", MEMBERS_302, {"visibility": "members"}
    ),
    # Notifications, watching, private messages, unsubscribing.
    ("GET", "/notifications"): row("/notifications", MEMBERS_200),
    ("GET", "/notifications/<int:notification_id>"): row(
        "/notifications/{notification}", "L 404 302 404 404 404 404"
    ),
    ("POST", "/notifications/read"): row("/notifications/read", MEMBERS_302, {}),
    ("GET", "/settings/notifications"): row("/settings/notifications", MEMBERS_200),
    ("POST", "/settings/notifications"): row(
        "/settings/notifications", MEMBERS_302, {"email_mode": "daily"}
    ),
    ("POST", "/t/<int:thread_id>/watch"): row(
        "/t/{thread}/watch", MEMBERS_302, {"state": "watching"}
    ),
    ("POST", "/b/<slug>/watch"): row("/b/{board_slug}/watch", MEMBERS_302, {"watch": "1"}),
    ("POST", "/b/<slug>/read"): row("/b/{board_slug}/read", MEMBERS_302, {}),
    ("GET", "/t/<int:thread_id>/unread"): row("/t/{thread}/unread", MEMBERS_302),
    ("GET", "/messages/"): row("/messages/", MEMBERS_200),
    ("GET", "/messages/new"): row("/messages/new", MEMBERS_200),
    ("POST", "/messages/new"): row(
        "/messages/new",
        # Suspended members read their conversations but send nothing.
        "L 302 302 302 302 403 302",
        {"to": "other_member", "subject": "Hello", "body": "A question."},
    ),
    ("GET", "/messages/<int:conversation_id>"): row(
        "/messages/{conversation}", "L 404 200 404 404 404 404"
    ),
    ("POST", "/messages/<int:conversation_id>/reply"): row(
        "/messages/{conversation}/reply", "L 404 302 404 404 404 404", {"body": "Thanks!"}
    ),
    ("POST", "/messages/<int:conversation_id>/leave"): row(
        "/messages/{conversation}/leave", "L 404 302 404 404 404 404", {}
    ),
    ("POST", "/messages/<int:conversation_id>/report"): row(
        "/messages/{conversation}/report", "L 404 302 404 404 404 404", {"reason": "Unkind"}
    ),
    ("GET", "/messages/reported"): row("/messages/reported", "L 403 403 403 403 403 200"),
    ("POST", "/messages/<int:conversation_id>/clear-report"): row(
        "/messages/{reported_conversation}/clear-report", "L 404 404 404 404 404 302", {}
    ),
    ("GET", "/messages/blocked"): row("/messages/blocked", MEMBERS_200),
    ("POST", "/messages/blocked"): row("/messages/blocked", MEMBERS_302, {"username": "target"}),
    ("POST", "/messages/blocked/<int:user_id>/remove"): row(
        "/messages/blocked/{target_id}/remove", MEMBERS_302, {}
    ),
    ("GET", "/unsubscribe/<token>"): row("/unsubscribe/{unsubscribe}", ANYONE_ONCE),
    ("POST", "/unsubscribe/<token>"): row("/unsubscribe/{unsubscribe}", ANYONE_ONCE, {}),
    # A member's own account and data.
    ("GET", "/settings/account"): row("/settings/account", MEMBERS_200),
    ("POST", "/settings/account/username"): row(
        "/settings/account/username", MEMBERS_302, {"username": "renamed_member"}
    ),
    ("POST", "/settings/account/email"): row(
        "/settings/account/email",
        MEMBERS_302,
        {"email": "renamed@example.org", "current_password": "correct horse battery"},
    ),
    ("POST", "/settings/account/password"): row(
        "/settings/account/password",
        MEMBERS_302,
        {
            "current_password": "correct horse battery",
            "password": "a new password",
            "confirm": "a new password",
        },
    ),
    # Suspended members may remove their avatar but not put up a new one.
    ("POST", "/settings/account/avatar"): row(
        "/settings/account/avatar", POSTING, {"avatar_url": "https://img.example.org/a.png"}
    ),
    ("POST", "/settings/account/logout-everywhere"): row(
        "/settings/account/logout-everywhere", MEMBERS_302, {}
    ),
    ("POST", "/settings/account/verify"): row("/settings/account/verify", MEMBERS_302, {}),
    ("GET", "/settings/account/export"): row("/settings/account/export", MEMBERS_200),
    ("GET", "/settings/account/delete"): row("/settings/account/delete", MEMBERS_200),
    ("POST", "/settings/account/delete"): row(
        "/settings/account/delete",
        MEMBERS_302,
        {"posts": "keep", "password": "correct horse battery"},
    ),
    # Links from account emails (made for the author): the token is what counts, not who opens it.
    ("GET", "/verify-email/<token>"): row("/verify-email/{verify}", ANYONE_ONCE),
    ("POST", "/verify-email/<token>"): row(
        "/verify-email/{verify}", "302 302 302 302 302 302 302", {}
    ),
    ("GET", "/settings/account/email/<token>"): row(
        "/settings/account/email/{change_email}", ANYONE_ONCE
    ),
    ("POST", "/settings/account/email/<token>"): row(
        "/settings/account/email/{change_email}", "302 302 302 302 302 302 302", {}
    ),
    ("GET", "/reset-password"): row("/reset-password", ALL_200),
    ("POST", "/reset-password"): row(
        "/reset-password", "302 302 302 302 302 302 302", {"login": "nobody"}
    ),
    ("GET", "/reset-password/<token>"): row("/reset-password/{reset}", ANYONE_ONCE),
    ("POST", "/reset-password/<token>"): row(
        "/reset-password/{reset}",
        "302 302 302 302 302 302 302",
        {"password": "reset password 1", "confirm": "reset password 1"},
    ),
}


def build_world(app, session) -> dict:
    board = make_board(session, "Here")
    other_board = make_board(session, "Elsewhere")
    author = make_user(session, "author", post_count=10)
    other = make_user(session, "other_member", post_count=10)
    make_user(session, "member", post_count=10)
    target = make_user(session, "target")
    mod_here = make_user(session, "mod_here", post_count=10)
    mod_elsewhere = make_user(session, "mod_elsewhere", post_count=10)
    make_user(session, "suspended", post_count=10, restriction="suspended")
    admin = make_admin(session, "admin")
    session.add_all(
        [
            BoardModerator(board_id=board.id, user_id=mod_here.id),
            BoardModerator(board_id=other_board.id, user_id=mod_elsewhere.id),
        ]
    )
    session.commit()
    moderation.suspend(session, admin, target, kind="suspended", reason="Cooling off", days=3)

    thread = make_thread(session, board, author, title="The thread", body="Opening words")
    posting.reply(session, other, thread, board, "Someone else's reply")
    posting.reply(session, author, thread, board, "The author's reply")
    p0, p1, p2 = posts_of(session, thread)
    posting.edit_post(session, author, p2, thread, board, "The author's reply, edited")
    second = make_thread(session, board, other, title="Second thread", body="Second words")
    resolved = make_thread(session, board, author, title="Resolved thread", body="Resolved")
    from forum.services import outcomes

    outcomes.mark_resolved(
        session, author, resolved, board, post_id=resolved.first_post_id,
        outcome="resolved", summary="It went well", reason="",
    )  # fmt: skip
    newbie = make_user(session, "newbie")
    held = posting.reply(
        session, newbie, thread, board, "Held words", rules=posting.PostingRules(1)
    )
    assert isinstance(held, HeldPost)
    reports.report_post(session, make_user(session, "reporter"), p1, thread, board, "Rude")

    event = HistoryEvent(user_id=author.id, kind="diagnosis", year=2019, date_text="2019")
    reminder = UpdateReminder(
        user_id=author.id, thread_id=thread.id, kind="after_months", due_at=utcnow()
    )
    session.add_all([event, reminder])
    session.commit()
    conversation = messages.start_conversation(session, author, "other_member", "Hi", "Hello!")
    reported = messages.start_conversation(session, other, "newbie", "Psst", "Buy this")
    from forum.models import ConversationParticipant

    participant = session.get(ConversationParticipant, (reported.id, newbie.id))
    messages.report(session, newbie, reported, participant, "Spam")
    notification = session.scalar(
        select(Notification).where(Notification.user_id == author.id).limit(1)
    )
    assert notification is not None
    with app.app_context():
        from forum.services import account_safety, outbox

        tokens = {
            "verify": account_safety.issue_token(session, author, "verify_email"),
            "reset": account_safety.issue_token(session, author, "reset_password"),
            "change_email": account_safety.issue_token(
                session, author, "change_email", email="author.new@example.org"
            ),
            "unsubscribe": outbox.unsubscribe_token(author),
        }
    session.commit()
    return {
        "board": board.id,
        "board_slug": board.slug,
        "other_board": other_board.id,
        "category": session.scalar(select(Category.id).limit(1)),
        "thread": thread.id,
        "thread_slug": thread.slug,
        "second_thread": second.id,
        "resolved": resolved.id,
        "p0": p0.id,
        "p1": p1.id,
        "p2": p2.id,
        "held": held.id,
        "event": event.id,
        "reminder": reminder.id,
        "conversation": conversation.id,
        "reported_conversation": reported.id,
        "notification": notification.id,
        "mod_here_id": mod_here.id,
        "target_id": target.id,
        **tokens,
    }


def answer(response) -> str:
    if response.status_code in (302, 303) and "/login?next=" in response.headers.get(
        "Location", ""
    ):
        return L
    return str(response.status_code)


def rules(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return sorted(found)


def test_every_route_has_an_expectation(app):
    missing = [key for key in rules(app) if key not in EXPECTED]
    stale = [key for key in EXPECTED if key not in rules(app)]
    assert not missing, f"routes without an expected answer per role: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, session, connection, client, role):
    world = build_world(app, session)
    if role != "visitor":
        login(client, role)
    token = csrf_token(client, "/login" if role == "visitor" else "/")
    index = ROLES.index(role)
    wrong, seen = [], []
    for method, rule in rules(app):
        spec = EXPECTED.get((method, rule))
        if spec is None:
            continue  # reported by test_every_route_has_an_expectation
        url = spec.url.format(**world)
        cookies = dict(client._cookies)
        nested = connection.begin_nested()
        try:
            if method == "GET":
                response = client.get(url)
            else:
                data = {k: str(v).format(**world) for k, v in (spec.data or {}).items()}
                response = client.post(url, data={"csrf_token": token, **data})
            got = answer(response)
            response.close()
        finally:
            nested.rollback()
            client._cookies.clear()
            client._cookies.update(cookies)
            session.expire_all()
        want = spec.expected.split()[index]
        seen.append(f"{method:4} {rule:60} {got}")
        if got != want:
            wrong.append(f"{method} {url} ({rule}): expected {want}, got {got}")
    if os.environ.get("MATRIX_SHOW"):
        print(f"\n== {role}\n" + "\n".join(seen))
    assert not wrong, f"{role}: " + "\n".join(wrong)


def test_expired_suspensions_and_the_world_are_what_the_matrix_assumes(app, session):
    world = build_world(app, session)
    from forum import policies
    from forum.models import User

    suspended = session.scalar(select(User).where(User.username == "suspended"))
    assert policies.is_suspended(suspended)
    suspended.restricted_until = utcnow() - timedelta(minutes=1)
    assert not policies.is_suspended(suspended)
    assert world["held"] and world["conversation"]
