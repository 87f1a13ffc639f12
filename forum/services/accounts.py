"""Registering, authenticating and creating member accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from forum.models import ROLES, User, utcnow
from forum.services import validation
from forum.services.errors import Conflict, ValidationError

PASSWORD_METHOD = "scrypt"  # noqa: S105 - the KDF name, not a password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalar(
        select(User).where(User.username_key == validation.username_key(username))
    )


def find_by_login(session: Session, login: str) -> User | None:
    """A member by username or email address, ignoring case."""
    login = (login or "").strip()
    if not login or "\x00" in login:  # no account has one (and PostgreSQL refuses NUL)
        return None
    if "@" in login:
        return session.scalar(select(User).where(User.email_key == validation.email_key(login)))
    return find_by_username(session, login)


def register(
    session: Session,
    username: str,
    email: str,
    password: str,
    confirm: str | None = None,
    *,
    role: str = "member",
) -> User:
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for field, check in (
        ("username", lambda: validation.clean_username(username)),
        ("email", lambda: validation.clean_email(email)),
        ("password", lambda: validation.clean_password(password, confirm)),
    ):
        try:
            clean[field] = check()
        except ValidationError as exc:
            errors.update(exc.errors)
    if role not in ROLES:
        errors["role"] = f"Role must be one of {', '.join(ROLES)}."
    if errors:
        raise ValidationError(errors)

    if find_by_username(session, clean["username"]):
        raise ValidationError({"username": "That username is taken."})
    email_key = validation.email_key(clean["email"])
    if session.scalar(select(User.id).where(User.email_key == email_key)):
        raise ValidationError({"email": "An account with that email address already exists."})

    user = User(
        username=clean["username"],
        username_key=validation.username_key(clean["username"]),
        email=clean["email"],
        email_key=email_key,
        password_hash=hash_password(clean["password"]),
        role=role,
        session_token=secrets.token_hex(8),
        last_active_at=utcnow(),
    )
    session.add(user)
    try:
        session.commit()
    except Exception as exc:  # a concurrent registration won the unique index
        session.rollback()
        raise Conflict("That username or email address was just taken.") from exc
    return user


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The member whose password matches, or None. Legacy hashes are upgraded on success."""
    user = find_by_login(session, login) or _find_by_legacy_name(session, login)
    if user is None or not password:
        return None
    if user.password_hash and check_password_hash(user.password_hash, password):
        return user
    if user.legacy_password_hash and _verify_legacy(user, password):
        user.password_hash = hash_password(password)
        user.legacy_password_hash = None
        session.commit()
        return user
    return None


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the member's (their current hash, or one carried over)."""
    if not password:
        return False
    if user.password_hash and check_password_hash(user.password_hash, password):
        return True
    return bool(user.legacy_password_hash and _verify_legacy(user, password))


def _verify_legacy(user: User, password: str) -> bool:
    from forum.importers.smf_passwords import verify_smf_password

    # SMF salted its hashes with the old login name, not the display name Cairn shows.
    name = user.legacy_member_name or user.username
    return verify_smf_password(user.legacy_password_hash or "", name, password)


def _find_by_legacy_name(session: Session, login: str) -> User | None:
    """An imported member typing their old forum's login name (only while it is unambiguous)."""
    login = (login or "").strip()
    if not login or "@" in login:
        return None
    found = session.scalars(select(User).where(User.legacy_member_name == login).limit(2)).all()
    return found[0] if len(found) == 1 else None


def touch_last_active(session: Session, user: User, *, every_seconds: int = 300) -> None:
    """Record activity at most every few minutes, so reading pages rarely writes."""
    now = utcnow()
    if user.last_active_at and (now - user.last_active_at).total_seconds() < every_seconds:
        return
    user.last_active_at = now
    session.commit()


def set_role(session: Session, user: User, role: str) -> User:
    if role not in ROLES:
        raise ValidationError({"role": f"Role must be one of {', '.join(ROLES)}."})
    user.role = role
    session.commit()
    return user
