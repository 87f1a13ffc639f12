"""The interface every search backend implements.

Callers (``forum.services.indexing``, the search view, the ``flask search`` commands) depend on
this protocol only; ``forum.search.whoosh_backend`` is one implementation, a PostgreSQL one
can follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Literal, Protocol, runtime_checkable

from forum.search.documents import SearchDoc, SearchResults
from forum.search.query import ParsedQuery

__all__ = ["IndexBusy", "SearchBackend", "SortOrder", "clamp_paging"]

SortOrder = Literal["relevance", "newest"]
MAX_PAGE = 500
MAX_PER_PAGE = 100


def clamp_paging(page: object, per_page: object, sort: object) -> tuple[int, int, SortOrder]:
    """Paging arguments every backend accepts: whole numbers in range, a known sort order."""
    try:
        page = min(max(1, int(page)), MAX_PAGE)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        page = 1
    try:
        per_page = min(max(1, int(per_page)), MAX_PER_PAGE)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        per_page = 20
    order: SortOrder = "newest" if sort == "newest" else "relevance"
    return page, per_page, order


class IndexBusy(Exception):
    """Another process held the index for longer than the backend is willing to wait.

    Raised by ``add``/``delete`` (and ``clear``) instead of any lock error.  Nothing was
    written: the caller keeps the work queued and retries later.  Never shown to users.
    """


class IndexWriter(Protocol):
    """What ``SearchBackend.writing()`` yields: ``add`` and ``delete`` into one batch."""

    def add(self, docs: Iterable[SearchDoc]) -> None: ...

    def delete(self, post_ids: Iterable[int]) -> None: ...


@runtime_checkable
class SearchBackend(Protocol):
    def add(self, docs: Iterable[SearchDoc]) -> None:
        """Index ``docs``, replacing any indexed post with the same ``post_id``.

        Raises :class:`IndexBusy` when the index is locked by another writer for too long.
        """
        ...

    def delete(self, post_ids: Iterable[int]) -> None:
        """Remove posts from the index (unknown ids are ignored).  May raise IndexBusy."""
        ...

    def writing(self) -> AbstractContextManager[IndexWriter]:
        """Hold the index's writer for a batch of ``add``/``delete`` calls, saved together when
        the block ends (nothing is saved if it raises).  While one process holds it, no other
        writes, so a change read from the database inside the block can't be overtaken by an
        older copy written by another process.  May raise IndexBusy on entry.
        """
        ...

    def search(
        self,
        query: ParsedQuery,
        *,
        include_members_only: bool,
        page: int = 1,
        per_page: int = 20,
        sort: SortOrder = "relevance",
    ) -> SearchResults:
        """One page of threads matching ``query``, each represented by its best post.

        ``include_members_only=False`` must hide every members-only post.  ``sort`` is
        ``"relevance"`` (best post's score) or ``"newest"`` (newest matching post).  Never
        raises for user input; explanations go to ``SearchResults.notices``.
        """
        ...

    def rebuild(
        self,
        docs: Iterable[SearchDoc],
        *,
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Replace the whole index with ``docs`` (built aside, swapped in atomically).

        ``progress`` is called with the number of documents indexed so far; ``total`` is a
        hint for it.  Returns the number of documents indexed.
        """
        ...

    def doc_count(self) -> int:
        """Number of posts currently searchable."""
        ...

    def clear(self) -> None:
        """Remove every document (the index stays usable)."""
        ...
