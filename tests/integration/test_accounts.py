"""Registering, logging in and out, and creating accounts from the command line."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from forum.models import User
from tests.conftest import csrf_token, login, post_form
from tests.factories import PASSWORD, make_user


def register(client, **overrides):
    data = {
        "username": "new_member",
        "email": "new@example.org",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    data.update(overrides)
    return post_form(client, "/register", data)


def users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_register_logs_in_and_hashes_with_scrypt(client, session):
    response = register(client)
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "new_member"))
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, "a long enough password")
    page = client.get("/").get_data(as_text=True)
    assert "Log out" in page and "new_member" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "ab"}, "username", "3–25 characters"),
        ({"username": "x" * 26}, "username", "3–25 characters"),
        ({"username": "bad name"}, "username", "3–25 characters"),
        ({"username": "_leading"}, "username", "3–25 characters"),
        ({"username": "   "}, "username", "3–25 characters"),
        ({"username": "nul\x00name"}, "username", "3–25 characters"),
        ({"email": "not-an-email"}, "email", "doesn't look right"),
        ({"email": ""}, "email", "doesn't look right"),
        ({"password": "short", "confirm": "short"}, "password", "at least 8"),
        ({"confirm": "something else entirely"}, "confirm", "don't match"),
    ],
)
def test_register_rejects_bad_input_with_a_clear_message(
    client, session, overrides, field, message
):
    response = register(client, **overrides)
    assert response.status_code == 400
    body = unescape(response.get_data(as_text=True))
    assert message in body
    assert f'id="{field}-error"' in body
    assert users(session) == 0


def test_usernames_are_unique_ignoring_case(client, session):
    make_user(session, "Marigold")
    response = register(client, username="mariGOLD", email="other@example.org")
    assert response.status_code == 400
    assert "That username is taken" in response.get_data(as_text=True)
    assert users(session) == 1


def test_email_addresses_are_unique_ignoring_case(client, session):
    make_user(session, "first_one")  # first_one@example.org
    response = register(client, username="second_one", email="FIRST_ONE@example.org")
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_honeypot_refuses_bots(client, session):
    response = register(client, website="http://spam.example")
    assert response.status_code == 400
    assert users(session) == 0


def test_register_without_csrf_token_is_refused(client, session):
    response = client.post(
        "/register",
        data={
            "username": "nocsrf",
            "email": "n@example.org",
            "password": "x" * 10,
            "confirm": "x" * 10,
        },
    )
    assert response.status_code == 400
    assert "form had expired" in response.get_data(as_text=True)
    assert users(session) == 0


def test_login_by_username_or_email_and_logout(client, session):
    make_user(session, "Hollyhock")
    login(client, "hollyhock")  # any case
    assert "Log out" in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)
    login(client, "HOLLYHOCK@example.org")


def test_wrong_password_gives_one_clear_message(client, session):
    make_user(session, "quietharbor")
    response = post_form(client, "/login", {"username": "quietharbor", "password": "wrong!"})
    assert response.status_code == 400
    assert "don't match an account" in unescape(response.get_data(as_text=True))
    response = post_form(client, "/login", {"username": "nobody_here", "password": PASSWORD})
    assert "don't match an account" in unescape(response.get_data(as_text=True))


def test_remember_me_sets_a_persistent_cookie(client, session):
    make_user(session, "remembered")
    response = post_form(
        client, "/login", {"username": "remembered", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_login_next_only_redirects_inside_the_forum(client, session):
    make_user(session, "nextcheck")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "username": "nextcheck", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_bumping_the_session_token_logs_out_everywhere(client, session):
    user = make_user(session, "tokened")
    login(client, "tokened")
    user.session_token = "changed"
    session.commit()
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_cli_create_user_reads_password_from_stdin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "forum",
            "create-user",
            "first_admin",
            "--email",
            "admin@example.org",
            "--role",
            "admin",
        ],
        input="a strong admin password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "first_admin"))
    assert user.role == "admin"
    assert check_password_hash(user.password_hash, "a strong admin password")
    assert "a strong admin password" not in result.output


def test_cli_create_user_reports_validation_errors(app, session):
    result = app.test_cli_runner().invoke(
        args=["forum", "create-user", "x", "--email", "bad"], input="short\n"
    )
    assert result.exit_code != 0
    assert "Usernames are" in result.output
    assert users(session) == 0


def test_cli_has_no_password_option(app):
    result = app.test_cli_runner().invoke(
        args=["forum", "create-user", "someone", "--email", "s@example.org", "--password", "x"]
    )
    assert result.exit_code != 0
    assert "No such option" in result.output
