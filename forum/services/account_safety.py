"""Account safety: email verification, password reset, changing username, email address and
password, and logging out everywhere.

Links in account emails are signed (itsdangerous), expire, and work once: the link names an
``AccountToken`` row and carries a random secret whose hash the row keeps; the row is marked
used the first time the link works. Mail goes out through ``forum.mailer`` (in development it
is written to ``MAIL_FOLDER`` as .eml files).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import AccountToken, User, utcnow
from forum.services import accounts, validation
from forum.services.errors import Conflict, DomainError, PermissionDenied, ValidationError
from forum.services.search_queue import enqueue

log = logging.getLogger(__name__)

SALT = "cairn-account-link"
LIFETIMES = {
    "verify_email": timedelta(days=3),
    "change_email": timedelta(days=1),
    "reset_password": timedelta(hours=1),
}


class MailNotSent(DomainError):
    status = 503


# -- signed single-use links -------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, user: User, purpose: str, email: str = "") -> str:
    """A new link token for ``user`` (the row is added to the session; the caller commits)."""
    secret = secrets.token_urlsafe(24)
    now = utcnow()
    row = AccountToken(
        user_id=user.id,
        purpose=purpose,
        secret_hash=_hash(secret),
        email=email or user.email,
        created_at=now,
        expires_at=now + LIFETIMES[purpose],
    )
    session.add(row)
    session.flush()
    return _serializer().dumps({"t": row.id, "s": secret, "p": purpose})


def _find(session: Session, token: str, purpose: str) -> tuple[AccountToken, User]:
    broken = ValidationError(
        "That link is broken or incomplete. Copy the whole link from the email, or ask for a "
        "new one."
    )
    try:
        data = _serializer().loads(token, max_age=int(LIFETIMES[purpose].total_seconds()))
    except SignatureExpired:
        raise ValidationError("That link has expired. Please ask for a new one.") from None
    except BadSignature:
        raise broken from None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("t"), int):
        raise broken
    row = session.get(AccountToken, data["t"])
    if row is None or row.purpose != purpose:
        raise broken
    if not hmac.compare_digest(row.secret_hash, _hash(str(data.get("s", "")))):
        raise broken
    if row.used_at is not None:
        raise ValidationError("That link has already been used. Ask for a new one if you need it.")
    if row.expires_at <= utcnow():
        raise ValidationError("That link has expired. Please ask for a new one.")
    user = session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        raise broken
    return row, user


def _use(session: Session, row: AccountToken) -> None:
    """Mark the token used, once: a second, simultaneous use finds it taken."""
    used = session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if not used:
        raise ValidationError("That link has already been used. Ask for a new one if you need it.")


def _retire(session: Session, user: User, purpose: str) -> None:
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _send(to: str, subject: str, text: str) -> None:
    from forum.mailer import send_mail

    forum_name = current_app.config["FORUM_NAME"]
    try:
        send_mail(to, f"{forum_name}: {subject}", text)
    except Exception as exc:  # SMTP down, refused address…: say so, keep nothing half-done
        log.warning("Account mail to %s failed: %s", to, exc)
        raise MailNotSent(
            "We couldn't send the email just now. Please try again in a few minutes."
        ) from exc


def _link(endpoint: str, token: str) -> str:
    from forum.services.outbox import external_url

    return external_url(endpoint, token=token)


# -- email verification ------------------------------------------------------------------------


def send_verification(session: Session, user: User) -> None:
    """Email a link that confirms ``user`` owns their address."""
    if user.email_verified_at is not None:
        raise Conflict("Your email address is already confirmed.")
    token = issue_token(session, user, "verify_email")
    session.commit()
    _send(
        user.email,
        "please confirm your email address",
        f"Hello {user.username},\n\nPlease confirm that this is your email address by opening "
        f"this link (it works once, for 3 days):\n\n{_link('account.verify', token)}\n\n"
        "If you didn't create an account, you can ignore this email.\n",
    )


def check_verification(session: Session, token: str) -> User:
    return _find(session, token, "verify_email")[1]


def verify_email(session: Session, token: str) -> User:
    row, user = _find(session, token, "verify_email")
    if validation.email_key(row.email) != user.email_key:
        raise ValidationError("That link was for an address you no longer use.")
    _use(session, row)
    user.email_verified_at = utcnow()
    session.commit()
    return user


# -- password reset ----------------------------------------------------------------------------


def request_password_reset(session: Session, login: str) -> None:
    """Email a reset link to the account with this email address or username, if there is one.

    The answer is the same either way, so the form doesn't tell who has an account.
    """
    user = accounts.find_by_login(session, (login or "").strip()[:254])
    if user is None or user.deleted_at is not None or policies.is_banned(user):
        return
    token = issue_token(session, user, "reset_password")
    session.commit()
    _send(
        user.email,
        "reset your password",
        f"Hello {user.username},\n\nSomeone (we hope you) asked to reset the password of your "
        f"account. Choose a new password here (the link works once, for an hour):\n\n"
        f"{_link('account.reset_password', token)}\n\n"
        "If it wasn't you, ignore this email: your password stays as it is.\n",
    )


def check_reset(session: Session, token: str) -> User:
    return _find(session, token, "reset_password")[1]


def reset_password(session: Session, token: str, password: str, confirm: str) -> User:
    row, user = _find(session, token, "reset_password")
    password = validation.clean_password(password, confirm)  # before using up the link
    _use(session, row)
    _retire(session, user, "reset_password")
    user.password_hash = accounts.hash_password(password)
    user.legacy_password_hash = None
    user.session_token = secrets.token_hex(8)  # every old session ends
    if user.email_verified_at is None and validation.email_key(row.email) == user.email_key:
        user.email_verified_at = utcnow()  # the link reached them: the address works
    session.commit()
    return user


# -- changing one's own account ----------------------------------------------------------------


def _check_password(user: User, password: str | None, field: str = "current_password") -> None:
    if not accounts.verify_password(user, password or ""):
        raise ValidationError({field: "That isn't your current password."})


def _require_member(actor: User) -> None:
    if not policies.can_manage_account(actor):
        raise PermissionDenied("Please log in first.")


def change_username(session: Session, actor: User, username: str) -> User:
    _require_member(actor)
    username = validation.clean_username(username)
    key = validation.username_key(username)
    if username == actor.username:
        return actor
    taken = session.scalar(select(User.id).where(User.username_key == key, User.id != actor.id))
    if taken is not None:
        raise ValidationError({"username": "That username is taken."})
    actor.username = username
    actor.username_key = key
    enqueue(session, "user", actor.id)  # search shows authors' names
    session.commit()
    return actor


def request_email_change(session: Session, actor: User, email: str, password: str) -> str:
    """Email a confirmation link to the new address (the address changes once it is followed)
    and a notice to the current one. Returns the normalized new address."""
    _require_member(actor)
    errors: dict[str, str] = {}
    try:
        email = validation.clean_email(email)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        _check_password(actor, password)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    key = validation.email_key(email)
    if key == actor.email_key:
        raise ValidationError({"email": "That is already your email address."})
    if session.scalar(select(User.id).where(User.email_key == key)) is not None:
        raise ValidationError({"email": "An account with that email address already exists."})
    _retire(session, actor, "change_email")
    token = issue_token(session, actor, "change_email", email=email)
    session.commit()
    _send(
        email,
        "confirm your new email address",
        f"Hello {actor.username},\n\nTo use this address for your account, open this link "
        f"(it works once, for a day):\n\n{_link('account.confirm_email', token)}\n\n"
        "Until then your account keeps its current address.\n",
    )
    # A courtesy notice to the current address; the confirmation has gone out already.
    with contextlib.suppress(MailNotSent):
        _send(
            actor.email,
            "a change of email address was asked for",
            f"Hello {actor.username},\n\nSomeone logged in to your account asked to change its "
            f"email address to {email}. Nothing changes unless that address confirms it.\n\n"
            "If it wasn't you, change your password now and log out everywhere (Settings).\n",
        )
    return email


def check_email_change(session: Session, token: str) -> tuple[User, str]:
    row, user = _find(session, token, "change_email")
    return user, row.email


def confirm_email_change(session: Session, token: str) -> User:
    row, user = _find(session, token, "change_email")
    key = validation.email_key(row.email)
    taken = session.scalar(select(User.id).where(User.email_key == key, User.id != user.id))
    if taken is not None:
        raise Conflict("Another account has used that address meanwhile.")
    _use(session, row)
    user.email = row.email
    user.email_key = key
    user.email_verified_at = utcnow()
    _retire(session, user, "verify_email")
    _retire(session, user, "reset_password")  # links sent to the old address stop working
    session.commit()
    return user


def change_password(
    session: Session, actor: User, current: str, password: str, confirm: str
) -> User:
    """A new password (the current one is required). Every other session is logged out: the
    web layer logs this one in again with the new session token."""
    _require_member(actor)
    errors: dict[str, str] = {}
    try:
        _check_password(actor, current)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        password = validation.clean_password(password, confirm)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    actor.password_hash = accounts.hash_password(password)
    actor.legacy_password_hash = None
    actor.session_token = secrets.token_hex(8)
    _retire(session, actor, "reset_password")
    session.commit()
    return actor


def log_out_everywhere(session: Session, actor: User) -> None:
    """Every session and "remember me" cookie of this member stops working, this one too."""
    _require_member(actor)
    actor.session_token = secrets.token_hex(8)
    session.commit()
