"""SMF members' avatars as Cairn's avatar URLs.

SMF's ``members.avatar`` holds one of: an http(s) URL the member gave; a file name in the
old server's avatar gallery (``Actors/Bill.jpg``, relative to SMF's ``avatar_url`` setting);
``gravatar://`` or ``gravatar://address`` (2.1); or nothing, when the member uploaded a picture
(an ``attachments`` row, counted separately: the file is on the old server's disk).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from forum.services.avatars import avatar_url_problem

NO_BASE_URL = "gallery avatars (no --avatar-base-url given to resolve their file names)"
GRAVATAR = "Gravatar avatars (they would publish a hash of the member's email address)"
BAD_URL = "not a usable http(s) address"
UPLOADED = "uploaded to the old server (the files are not in the database)"
# SMF's gallery ships blank.gif for "no picture".
_BLANK = frozenset({"blank.gif", "blank.png"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def avatar_url(value: str, base_url: str | None) -> tuple[str | None, str | None]:
    """``(url, None)`` to store, ``(None, reason)`` to report as skipped, ``(None, None)``
    when the member had no avatar. ``value`` is already HTML-unescaped."""
    value = value.strip()
    if not value or value.lower() in _BLANK:
        return None, None
    lowered = value.lower()
    if lowered.startswith("gravatar://"):
        return None, GRAVATAR
    if lowered.startswith(("http://", "https://")):
        return (None, BAD_URL) if avatar_url_problem(value) else (value, None)
    if _SCHEME.match(value) or value.startswith(("/", "\\")) or ".." in value.split("/"):
        return None, BAD_URL  # another scheme (javascript:, ftp:…), or not a gallery file
    if not base_url:
        return None, NO_BASE_URL
    url = f"{base_url.rstrip('/')}/{quote(value, safe='/')}"
    return (None, BAD_URL) if avatar_url_problem(url) else (url, None)


def base_url_problem(base_url: str) -> str | None:
    """Why ``--avatar-base-url`` can't be used, or None."""
    problem = avatar_url_problem(base_url.rstrip("/") + "/x.png")
    return problem and f"--avatar-base-url: {problem}"
