"""Members' avatars: a link to a picture elsewhere (the forum stores no image files).

Pages show an avatar only from an ``https://`` address (the Content-Security-Policy allows
HTTPS images, as in posts), small, lazy-loaded and without a referrer; anything else shows a
neutral placeholder. Old forums' ``http://`` avatars are kept on import but not shown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from forum import policies
from forum.models import User
from forum.models.user import AVATAR_URL_MAX
from forum.services.errors import PermissionDenied, ValidationError

_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def avatar_url_problem(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """Why ``value`` can't be an avatar address, or None when it can."""
    if len(value) > AVATAR_URL_MAX:
        return f"Avatar addresses can be at most {AVATAR_URL_MAX} characters."
    if _WHITESPACE_OR_CONTROL.search(value):
        return "An avatar address can't contain spaces or control characters."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "That doesn't look like a web address."
    if parts.scheme.lower() not in schemes or not parts.hostname:
        wanted = " or ".join(f"{s}://" for s in schemes)
        return f"Give the picture's full web address, starting with {wanted}."
    if parts.username or parts.password:
        return "An avatar address can't contain a user name or password."
    return None


def is_shown(url: str | None) -> bool:
    """Whether pages show this avatar (only HTTPS: the policy blocks other images)."""
    return bool(url) and url.lower().startswith("https://")  # type: ignore[union-attr]


def set_avatar_url(session: Session, user: User, value: str | None) -> User:
    """Set (an https:// address) or clear (empty) the member's own avatar. A suspended or
    banned member may remove theirs but not put up a new one."""
    value = (value or "").strip()
    if not policies.can_manage_account(user):
        raise PermissionDenied("Please log in first.")
    if value and not policies.can_participate(user):
        raise PermissionDenied("While your account is suspended you can remove your avatar only.")
    if value:
        problem = avatar_url_problem(value, schemes=("https",))
        if problem:
            raise ValidationError({"avatar_url": problem})
    user.avatar_url = value or None
    session.commit()
    return user
