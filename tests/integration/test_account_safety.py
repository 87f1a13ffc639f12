"""Email verification, password reset, changing username, email and password, logging out
everywhere: through the real pages, with the links read back from the development mail folder."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from forum.models import AccountToken, User, utcnow
from tests.conftest import csrf_token, login, post_form
from tests.factories import PASSWORD, make_user

LINK = re.compile(r"https?://\S+")


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


class Mailbox:
    """The development mail folder: what arrived since the test began."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen = set(folder.glob("*.eml")) if folder.exists() else set()

    def new(self, to: str | None = None) -> list[Message]:
        files = set(self.folder.glob("*.eml")) if self.folder.exists() else set()
        found = []
        for path in sorted(files - self.seen, key=lambda p: p.stat().st_mtime_ns):
            message = message_from_bytes(path.read_bytes())
            if to is None or message["To"] == to:
                self.seen.add(path)
                found.append(message)
        return found

    @staticmethod
    def body(message: Message) -> str:
        return message.get_payload(decode=True).decode()

    def link(self, to: str) -> str:
        messages = self.new(to)
        assert messages, f"no mail to {to}"
        url = LINK.search(self.body(messages[-1])).group(0)
        return urlsplit(url).path


@pytest.fixture
def mailbox(app) -> Mailbox:
    return Mailbox(Path(app.config["MAIL_FOLDER"]))


def user_named(session, name: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == name))


# -- email verification ------------------------------------------------------------------------


def test_registration_sends_a_single_use_verification_link(client, session, mailbox):
    response = post_form(
        client,
        "/register",
        {
            "username": "verifier",
            "email": "verifier@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert "confirm your address" in text(client.get("/"))
    path = mailbox.link("verifier@example.org")
    assert path.startswith("/verify-email/")
    assert "Not confirmed yet" in text(client.get("/settings/account"))
    # Opening the link (as a mail scanner would) changes nothing; the button does.
    page = client.get(path)
    assert page.status_code == 200 and "verifier@example.org" in text(page)
    assert user_named(session, "verifier").email_verified_at is None
    assert post_form(client, path, {}).status_code == 302
    assert user_named(session, "verifier").email_verified_at is not None
    # Works once.
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in text(again)


def test_resending_verification_and_visitors_can_verify_too(client, session, mailbox):
    make_user(session, "later_verifier")
    login(client, "later_verifier")
    response = post_form(client, "/settings/account/verify", {}, form_url="/settings/account")
    assert response.status_code == 302
    path = mailbox.link("later_verifier@example.org")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert post_form(client, path, {}).status_code == 302
    assert user_named(session, "later_verifier").email_verified_at is not None


def test_broken_and_expired_links_say_so(client, session, mailbox):
    make_user(session, "expiring")
    login(client, "expiring")
    post_form(client, "/settings/account/verify", {}, form_url="/settings/account")
    path = mailbox.link("expiring@example.org")
    assert "broken" in text(client.get(path[:-3] + "xyz"))
    assert "broken" in text(client.get("/verify-email/not-a-token"))
    session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get(path)
    assert response.status_code == 400 and "expired" in text(response)


# -- password reset ----------------------------------------------------------------------------


def test_password_reset_by_email_link(client, session, mailbox, app):
    make_user(session, "forgetful")
    other_device = app.test_client()
    login(other_device, "forgetful")
    assert "Forgot your password?" in text(client.get("/login"))
    response = post_form(client, "/reset-password", {"login": "FORGETFUL@example.org"})
    assert response.status_code == 302 and "If an account has that" in text(client.get("/login"))
    path = mailbox.link("forgetful@example.org")
    assert "Choose a new password for forgetful" in text(client.get(path))
    # A bad new password is a form message and doesn't use up the link.
    response = post_form(client, path, {"password": "short", "confirm": "short"})
    assert response.status_code == 400 and "at least 8" in text(response)
    response = post_form(
        client, path, {"password": "brand new secret", "confirm": "brand new secret"}
    )
    assert response.status_code == 302
    assert check_password_hash(user_named(session, "forgetful").password_hash, "brand new secret")
    assert "Log in" in text(other_device.get("/"))  # every old session ended
    login(client, "forgetful", "brand new secret")
    assert client.get(path).status_code == 400  # single use


def test_reset_requests_never_reveal_who_has_an_account(client, session, mailbox):
    response = post_form(client, "/reset-password", {"login": "nobody@example.org"})
    assert response.status_code == 302
    assert mailbox.new() == []
    make_user(session, "banned_one", restriction="banned")
    post_form(client, "/reset-password", {"login": "banned_one"})
    assert mailbox.new() == []


def test_mail_failures_are_a_clear_503(client, session, monkeypatch):
    import forum.mailer

    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(forum.mailer, "send_mail", broken)
    make_user(session, "unlucky")
    response = post_form(client, "/reset-password", {"login": "unlucky"})
    assert response.status_code == 503
    assert "couldn't send the email" in text(response)


# -- changing one's account --------------------------------------------------------------------


def test_change_username(client, session):
    make_user(session, "old_name")
    make_user(session, "taken_name")
    login(client, "old_name")
    response = post_form(client, "/settings/account/username", {"username": "Taken_Name"})
    assert response.status_code == 400 and "That username is taken" in text(response)
    response = post_form(client, "/settings/account/username", {"username": "no spaces"})
    assert response.status_code == 400 and "3–25 characters" in text(response)
    response = post_form(client, "/settings/account/username", {"username": "new_name"})
    assert response.status_code == 302
    assert "Your username is now new_name" in text(client.get("/settings/account"))
    assert user_named(session, "new_name") is not None
    assert client.get("/u/new_name").status_code == 200


def test_change_email_needs_the_password_and_the_new_address_confirms(client, session, mailbox):
    make_user(session, "mover_email")
    make_user(session, "has_address")
    login(client, "mover_email")
    url = "/settings/account/email"
    response = post_form(client, url, {"email": "new@example.org", "current_password": "wrong"})
    assert response.status_code == 400 and "isn't your current password" in text(response)
    response = post_form(
        client, url, {"email": "has_address@example.org", "current_password": PASSWORD}
    )
    assert response.status_code == 400 and "already exists" in text(response)
    response = post_form(client, url, {"email": "New@Example.org", "current_password": PASSWORD})
    assert response.status_code == 302
    notice = mailbox.new("mover_email@example.org")
    assert notice and "New@example.org" in Mailbox.body(notice[0])
    assert user_named(session, "mover_email").email == "mover_email@example.org"  # not yet
    path = mailbox.link("New@example.org")
    assert post_form(client, path, {}).status_code == 302
    user = user_named(session, "mover_email")
    assert (user.email, user.email_key) == ("New@example.org", "new@example.org")
    assert user.email_verified_at is not None
    login(client, "new@example.org")


def test_change_password_keeps_this_session_and_ends_the_others(client, session, app):
    make_user(session, "rotator")
    login(client, "rotator")
    other = app.test_client()
    login(other, "rotator")
    url = "/settings/account/password"
    response = post_form(
        client, url, {"current_password": "nope", "password": "x" * 9, "confirm": "x" * 9}
    )
    assert response.status_code == 400 and "isn't your current password" in text(response)
    response = post_form(
        client, url, {"current_password": PASSWORD, "password": "y" * 9, "confirm": "z" * 9}
    )
    assert response.status_code == 400 and "don't match" in text(response)
    response = post_form(
        client,
        url,
        {"current_password": PASSWORD, "password": "fresh password", "confirm": "fresh password"},
    )
    assert response.status_code == 302
    assert "Log out" in text(client.get("/"))
    assert "Log in" in text(other.get("/"))


def test_log_out_everywhere(client, session, app):
    make_user(session, "everywhere")
    login(client, "everywhere")
    phone = app.test_client()
    login(phone, "everywhere")
    response = post_form(
        client, "/settings/account/logout-everywhere", {}, form_url="/settings/account"
    )
    assert response.status_code == 302
    assert "Log in" in text(client.get("/")) and "Log in" in text(phone.get("/"))
    login(client, "everywhere")


def test_settings_need_a_login(client):
    for url in ("/settings/account", "/settings/account/export", "/settings/account/delete"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
