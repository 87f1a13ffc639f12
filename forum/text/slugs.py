"""URL slugs from titles and names."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, fallback: str = "thread", max_len: int = 80) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug or fallback
