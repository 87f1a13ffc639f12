"""SMF-style ranks by post count, and how roles are shown."""

from __future__ import annotations

from collections.abc import Sequence

ROLE_LABELS = {"admin": "Administrator", "moderator": "Moderator"}


def rank_for(post_count: int, ranks: Sequence[tuple[int, str]]) -> str:
    title = ranks[0][1] if ranks else ""
    for minimum, name in ranks:
        if post_count >= minimum:
            title = name
    return title


def rank_level(post_count: int, ranks: Sequence[tuple[int, str]]) -> int:
    """1 for the first rank, 2 for the next… (shown as pips on the author card)."""
    return sum(1 for minimum, _ in ranks if post_count >= minimum)
