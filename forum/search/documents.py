"""Plain data that crosses the search boundary.

The rest of Cairn speaks to search only in these dataclasses; no backend type leaks out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SearchDoc:
    """One post as the index sees it (built by ``forum.services.indexing`` from the database).

    ``tags``, ``treatments``, ``symptoms`` and ``conditions`` hold vocabulary slugs such as
    ``gamma-knife``; ``treatments``/``symptoms``/``conditions`` come from the thread's tags and,
    when the author's history is visible to everyone, from the history as it stood on
    ``created_at``.
    """

    post_id: int
    thread_id: int
    thread_title: str
    thread_slug: str
    body_text: str
    author: str
    board_slug: str
    board_name: str
    created_at: datetime
    members_only: bool = False
    is_first_post: bool = False
    status: str = "open"  # "open" | "resolved"
    outcome: str | None = None  # resolved / improved / unchanged / worse
    outcome_summary: str = ""
    treatments: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    """The best-matching post of one thread."""

    post_id: int
    thread_id: int
    thread_title: str
    thread_slug: str
    author: str
    board_slug: str
    board_name: str
    created_at: datetime
    status: str
    outcome: str | None
    snippet_html: str  # escaped text with <mark> around matches; safe to show as HTML
    score: float


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    total_threads: int = 0
    page: int = 1
    per_page: int = 20
    suggestion: str | None = None  # "did you mean" query, when one scores better
    notices: list[str] = field(default_factory=list)  # friendly explanations of ignored input

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_threads // self.per_page))
