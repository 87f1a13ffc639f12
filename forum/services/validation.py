"""Rules for what members may type: one place, clear messages."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from forum.services.errors import ValidationError

USERNAME_RULE = "3–25 characters: letters A–Z, digits, and . _ - (starting with a letter or digit)"
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,24}")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
TITLE_MAX = 200
BODY_MAX = 50_000
SIGNATURE_MAX = 300

# C0 control characters other than tab, newline and carriage return; and U+FFFE/U+FFFF.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _check_characters(field: str, label: str, value: str) -> None:
    if "\x00" in value:
        raise ValidationError({field: f"{label} contains a NUL character, which isn't allowed."})
    if _FORBIDDEN.search(value) or _SURROGATE.search(value):
        raise ValidationError({field: f"{label} contains control characters that aren't allowed."})


def clean_title(value: str | None, field: str = "title") -> str:
    value = (value or "").strip()
    _check_characters(field, "The title", value)
    value = re.sub(r"\s+", " ", value)
    if not value:
        raise ValidationError({field: "Please give the thread a title."})
    if len(value) > TITLE_MAX:
        raise ValidationError({field: f"Titles can be at most {TITLE_MAX} characters."})
    return value


def clean_body(value: str | None, field: str = "body", label: str = "The message") -> str:
    value = value or ""
    _check_characters(field, label, value)
    if not value.strip():
        raise ValidationError({field: f"{label} is empty."})
    if len(value) > BODY_MAX:
        raise ValidationError({field: f"{label} can be at most {BODY_MAX:,} characters."})
    return value


def clean_line(value: str | None, field: str, label: str, max_len: int) -> str:
    """An optional one-line text (custom title, signature line, place)."""
    value = (value or "").strip()
    _check_characters(field, label, value)
    if len(value) > max_len:
        raise ValidationError({field: f"{label} can be at most {max_len} characters."})
    return value


def clean_username(value: str | None, field: str = "username") -> str:
    value = (value or "").strip()
    if not USERNAME_RE.fullmatch(value):
        raise ValidationError({field: f"Usernames are {USERNAME_RULE}."})
    return value


def username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username).casefold()


def clean_email(value: str | None, field: str = "email") -> str:
    value = (value or "").strip()
    _check_characters(field, "The email address", value)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError({field: f"That email address doesn't look right: {exc}"}) from None
    return result.normalized


def email_key(email: str) -> str:
    return email.casefold()


def clean_password(password: str | None, confirm: str | None = None) -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationError({"password": f"Passwords need at least {PASSWORD_MIN} characters."})
    if len(password) > PASSWORD_MAX:
        raise ValidationError({"password": f"Passwords can be at most {PASSWORD_MAX} characters."})
    if "\x00" in password:
        raise ValidationError({"password": "Passwords can't contain a NUL character."})
    if confirm is not None and password != confirm:
        raise ValidationError({"confirm": "The two passwords don't match."})
    return password
