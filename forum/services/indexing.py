"""Keeping the search index true: documents from the database, the durable queue, rebuilds.

Changes reach the index through ``search_queue`` rows written in the same transaction as the
change (``forum.services.search_queue.enqueue``). ``drain`` applies them after commit; if the
process dies in between, the rows are still there for the next drain (at the next request,
or ``flask --app wsgi forum index --drain``).
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from forum.database import transactions
from forum.models import Board, HistoryEvent, Post, SearchQueueEntry, Thread, ThreadTag, User
from forum.search.backend import IndexBusy, IndexWriter, SearchBackend
from forum.search.documents import SearchDoc

log = logging.getLogger(__name__)
BATCH = 1000
REBUILD_BATCH = 5000


def _post_ids_for(session: Session, scope: str, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    column = {
        "thread": Post.thread_id,
        "user": Post.author_id,
    }.get(scope)
    if scope == "post":
        return ids
    if scope == "board":
        return set(
            session.scalars(
                select(Post.id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Thread.board_id.in_(ids))
            )
        )
    return set(session.scalars(select(Post.id).where(column.in_(ids))))


def _dated_event(event: Any) -> tuple[date, str | None, str | None, str | None] | None:
    """(date, treatment, symptom, diagnosed condition) of a history event; None if undated."""
    if event.year is None:
        return None
    condition = event.condition if event.kind == "diagnosis" else None
    return (
        date(event.year, event.month or 1, event.day or 1),
        event.treatment,
        event.symptom,
        condition,
    )


def _history_terms(events: list[Any], day: date) -> tuple[set[str], set[str], set[str]]:
    """Treatments, symptoms and conditions of the (``_dated_event``) events up to ``day``."""
    treatments, symptoms, conditions = set(), set(), set()
    for when, treatment, symptom, condition in events:
        if when > day:
            continue
        if treatment:
            treatments.add(treatment)
        if symptom:
            symptoms.add(symptom)
        if condition:
            conditions.add(condition)
    return treatments, symptoms, conditions


_TAG_RE = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL)
_SPACE_RE = re.compile(r"\s+")


def plain_text(body_html: str) -> str:
    """The text of a post's stored HTML, as ``forum.text.markup.html_to_text`` gives it.

    That function parses with bleach/html5lib (about 1 ms a post: 100 s of a 100,000-post
    rebuild).  The stored HTML is ``render_markdown``'s own sanitized output -- well-formed,
    every ``<``, ``>`` and ``&`` in text and attributes escaped -- so removing the tags and
    unescaping the entities gives the same text (a test compares the two).
    """
    text = html.unescape(_TAG_RE.sub("", body_html or ""))
    return _SPACE_RE.sub(" ", text).strip()


_HISTORY_SELECT = select(
    HistoryEvent.user_id,
    HistoryEvent.year,
    HistoryEvent.month,
    HistoryEvent.day,
    HistoryEvent.kind,
    HistoryEvent.treatment,
    HistoryEvent.symptom,
    HistoryEvent.condition,
)


def _post_select() -> Select[Any]:
    """Every column a document needs, one row per post: no ORM objects (loading a post, its
    thread, board and author as entities cost more than the indexing itself)."""
    return (
        select(
            Post.id,
            Post.thread_id,
            Post.author_id,
            Post.body_html,
            Post.created_at,
            Post.position,
            Post.deleted_at,
            Thread.title,
            Thread.slug,
            Thread.outcome,
            Thread.outcome_summary,
            Thread.deleted_at.label("thread_deleted_at"),
            Board.slug.label("board_slug"),
            Board.name.label("board_name"),
            Board.members_only,
            User.username,
            User.history_visibility,
        )
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .outerjoin(User, User.id == Post.author_id)
    )


def _docs_from_rows(
    session: Session, rows: list[Any], histories: dict[int, list[Any]] | None = None
) -> tuple[list[SearchDoc], set[int]]:
    """Documents for the visible posts among ``rows`` (from ``_post_select``) and the ids of
    the deleted ones; two more queries at most (the threads' tags, public histories).
    ``histories`` caches authors' histories across calls (a rebuild reads each once)."""
    thread_ids = {row.thread_id for row in rows}
    tags: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for chunk in _chunks(sorted(thread_ids), 30_000):
        for thread_id, kind, slug in session.execute(
            select(ThreadTag.thread_id, ThreadTag.kind, ThreadTag.slug).where(
                ThreadTag.thread_id.in_(chunk)
            )
        ):
            tags[thread_id][kind].add(slug)
    if histories is None:
        histories = {}
    public_authors = {
        row.author_id
        for row in rows
        if row.author_id is not None and row.history_visibility == "public"
    }
    missing = sorted(public_authors - histories.keys())
    for author_id in missing:
        histories[author_id] = []
    for chunk in _chunks(missing, 30_000):
        for event in session.execute(_HISTORY_SELECT.where(HistoryEvent.user_id.in_(chunk))):
            dated = _dated_event(event)
            if dated is not None:
                histories[event.user_id].append(dated)

    docs, gone = [], set()
    no_tags: dict[str, set[str]] = {}
    for row in rows:
        if row.deleted_at is not None or row.thread_deleted_at is not None:
            gone.add(row.id)
            continue
        events = histories.get(row.author_id, []) if row.author_id in public_authors else []
        treatments, symptoms, conditions = (
            _history_terms(events, row.created_at.date()) if events else (set(), set(), set())
        )
        thread_tags = tags.get(row.thread_id, no_tags)
        docs.append(
            SearchDoc(
                post_id=row.id,
                thread_id=row.thread_id,
                thread_title=row.title,
                thread_slug=row.slug,
                body_text=plain_text(row.body_html),
                author=row.username or "",
                board_slug=row.board_slug,
                board_name=row.board_name,
                created_at=row.created_at,
                members_only=row.members_only,
                is_first_post=row.position == 0,
                status="resolved" if row.outcome else "open",
                outcome=row.outcome,
                outcome_summary=row.outcome_summary or "",
                treatments=tuple(sorted(treatments | thread_tags.get("treatment", set()))),
                symptoms=tuple(sorted(symptoms | thread_tags.get("symptom", set()))),
                conditions=tuple(sorted(conditions | thread_tags.get("condition", set()))),
            )
        )
    return docs, gone


def build_docs(session: Session, post_ids: Iterable[int]) -> tuple[list[SearchDoc], set[int]]:
    """Documents for the visible posts among ``post_ids``, and the ids that must leave the index.

    Three queries whatever the number of posts: posts with thread, board and author; the
    threads' tags; the authors' histories (only for histories their owners made public).
    """
    wanted = set(post_ids)
    if not wanted:
        return [], set()
    rows = session.execute(_post_select().where(Post.id.in_(wanted))).all()
    docs, gone = _docs_from_rows(session, rows)
    return docs, gone | (wanted - {row.id for row in rows})


def drain(session: Session, backend: SearchBackend, *, limit: int = 2000) -> int:
    """Apply up to ``limit`` queued changes; returns how many queue rows were done.

    The index's writer is held from reading the queue and the posts to saving the index, so
    drains in several processes take turns there and a slower one can't write an older copy of
    a post over a newer one. The database is only read meanwhile: posting goes on while the
    index is written (on SQLite nobody waits for the write lock behind an index commit). The
    queue rows go once the index is saved; if the process dies in between, they are simply
    applied again. On ``IndexBusy`` nothing is removed: the next drain tries again.
    """
    with transactions("deferred"):
        empty = session.scalar(select(SearchQueueEntry.id).limit(1)) is None
        session.commit()
    if empty:
        return 0
    try:
        with backend.writing() as index, transactions("deferred"):
            done = _apply_queue(session, index, limit)
            session.commit()  # end the read
    except IndexBusy:
        session.rollback()
        log.info("search index busy; queued changes kept for the next drain")
        return 0
    if done:
        ids, newest = done
        with transactions("immediate"):
            # Only the rows read: SQLite may give a deleted row's id to a new entry meanwhile
            # (another drain removed these first), and that one was created later.
            session.execute(
                delete(SearchQueueEntry).where(
                    SearchQueueEntry.id.in_(ids), SearchQueueEntry.created_at <= newest
                )
            )
            session.commit()
        return len(ids)
    return 0


def _apply_queue(
    session: Session, index: IndexWriter, limit: int
) -> tuple[list[int], datetime] | None:
    """Write the queued changes into ``index``; returns the queue rows it covered (their ids
    and the newest one's creation time), or None when the queue was empty."""
    entries = session.execute(
        select(
            SearchQueueEntry.id,
            SearchQueueEntry.scope,
            SearchQueueEntry.target_id,
            SearchQueueEntry.created_at,
        )
        .order_by(SearchQueueEntry.id)
        .limit(limit)
    ).all()
    if not entries:
        return None
    by_scope: dict[str, set[int]] = defaultdict(set)
    for _, scope, target, _ in entries:
        by_scope[scope].add(target)
    post_ids: set[int] = set()
    for scope, ids in by_scope.items():
        post_ids |= _post_ids_for(session, scope, ids)
    for chunk in _chunks(sorted(post_ids), BATCH):
        docs, gone = build_docs(session, chunk)
        if gone:
            index.delete(gone)
        if docs:
            index.add(docs)
    return [entry.id for entry in entries], max(entry.created_at for entry in entries)


def drain_all(session: Session, backend: SearchBackend) -> int:
    total = 0
    while True:
        done = drain(session, backend)
        total += done
        if done == 0:
            return total


def pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchQueueEntry)) or 0


def iter_all_docs(session: Session, batch: int = REBUILD_BATCH) -> Iterator[SearchDoc]:
    """Every visible post, in id order, ``batch`` posts per query (keyset pagination)."""
    last = 0
    histories: dict[int, list[Any]] = {}
    while True:
        rows = session.execute(
            _post_select().where(Post.id > last).order_by(Post.id).limit(batch)
        ).all()
        if not rows:
            return
        docs, _ = _docs_from_rows(session, rows, histories)
        last = rows[-1].id
        del rows
        yield from docs
        session.expunge_all()  # keep memory flat over a million posts


def visible_post_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Post)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.deleted_at.is_(None), Thread.deleted_at.is_(None))
        )
        or 0
    )


def reindex(
    session: Session, backend: SearchBackend, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild the whole index beside the live one; search keeps working meanwhile.

    Queue rows older than the rebuild are covered by it and removed; newer ones stay queued.
    """
    # A long read: on SQLite it must not hold the write lock (posting goes on meanwhile), and
    # it ends before the queue is trimmed (a read never upgrades to a write under load).
    with transactions("deferred"):
        high_water = session.scalar(select(func.max(SearchQueueEntry.id))) or 0
        total = visible_post_count(session)
        count = backend.rebuild(iter_all_docs(session), total=total, progress=progress)
    session.commit()
    session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.id <= high_water))
    session.commit()
    return count


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
