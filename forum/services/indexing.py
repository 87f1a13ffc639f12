"""Keeping the search index true: documents from the database, the durable queue, rebuilds.

Changes reach the index through ``search_queue`` rows written in the same transaction as the
change (``forum.services.search_queue.enqueue``). ``drain`` applies them after commit; if the
process dies in between, the rows are still there for the next drain (at the next request,
or ``flask --app wsgi forum index --drain``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased

from forum.models import Board, HistoryEvent, Post, SearchQueueEntry, Thread, ThreadTag, User
from forum.search.backend import IndexBusy, SearchBackend
from forum.search.documents import SearchDoc
from forum.text.markup import html_to_text

log = logging.getLogger(__name__)
BATCH = 1000


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


def _history_terms(events: list[HistoryEvent], day: date) -> tuple[set[str], set[str], set[str]]:
    treatments, symptoms, conditions = set(), set(), set()
    for event in events:
        if event.year is None or date(event.year, event.month or 1, event.day or 1) > day:
            continue
        if event.treatment:
            treatments.add(event.treatment)
        if event.symptom:
            symptoms.add(event.symptom)
        if event.kind == "diagnosis" and event.condition:
            conditions.add(event.condition)
    return treatments, symptoms, conditions


def build_docs(session: Session, post_ids: Iterable[int]) -> tuple[list[SearchDoc], set[int]]:
    """Documents for the visible posts among ``post_ids``, and the ids that must leave the index.

    Three queries whatever the number of posts: posts with thread, board and author; the
    threads' tags; the authors' histories (only for histories their owners made public).
    """
    wanted = set(post_ids)
    if not wanted:
        return [], set()
    author = aliased(User)
    rows = session.execute(
        select(Post, Thread, Board, author)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .outerjoin(author, author.id == Post.author_id)
        .where(Post.id.in_(wanted))
    ).all()
    thread_ids = {thread.id for _, thread, _, _ in rows}
    tags: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if thread_ids:
        for tag in session.scalars(select(ThreadTag).where(ThreadTag.thread_id.in_(thread_ids))):
            tags[tag.thread_id][tag.kind].add(tag.slug)
    public_authors = {
        user.id
        for _, _, _, user in rows
        if user is not None and user.history_visibility == "public"
    }
    histories: dict[int, list[HistoryEvent]] = defaultdict(list)
    if public_authors:
        for event in session.scalars(
            select(HistoryEvent).where(HistoryEvent.user_id.in_(public_authors))
        ):
            histories[event.user_id].append(event)

    docs, gone = [], wanted - {post.id for post, *_ in rows}
    for post, thread, board, user in rows:
        if post.deleted_at is not None or thread.deleted_at is not None:
            gone.add(post.id)
            continue
        treatments, symptoms, conditions = _history_terms(
            histories.get(user.id, []) if user else [], post.created_at.date()
        )
        thread_tags = tags.get(thread.id, {})
        docs.append(
            SearchDoc(
                post_id=post.id,
                thread_id=thread.id,
                thread_title=thread.title,
                thread_slug=thread.slug,
                body_text=html_to_text(post.body_html),
                author=user.username if user else "",
                board_slug=board.slug,
                board_name=board.name,
                created_at=post.created_at,
                members_only=board.members_only,
                is_first_post=post.position == 0,
                status="resolved" if thread.outcome else "open",
                outcome=thread.outcome,
                outcome_summary=thread.outcome_summary or "",
                treatments=tuple(sorted(treatments | thread_tags.get("treatment", set()))),
                symptoms=tuple(sorted(symptoms | thread_tags.get("symptom", set()))),
                conditions=tuple(sorted(conditions | thread_tags.get("condition", set()))),
            )
        )
    return docs, gone


def drain(session: Session, backend: SearchBackend, *, limit: int = 2000) -> int:
    """Apply up to ``limit`` queued changes; returns how many queue rows were done.

    On ``IndexBusy`` nothing is removed from the queue: the next drain tries again.
    """
    entries = session.execute(
        select(SearchQueueEntry.id, SearchQueueEntry.scope, SearchQueueEntry.target_id)
        .order_by(SearchQueueEntry.id)
        .limit(limit)
    ).all()
    if not entries:
        return 0
    by_scope: dict[str, set[int]] = defaultdict(set)
    for _, scope, target in entries:
        by_scope[scope].add(target)
    post_ids: set[int] = set()
    for scope, ids in by_scope.items():
        post_ids |= _post_ids_for(session, scope, ids)
    try:
        for chunk in _chunks(sorted(post_ids), BATCH):
            docs, gone = build_docs(session, chunk)
            if gone:
                backend.delete(gone)
            if docs:
                backend.add(docs)
    except IndexBusy:
        session.rollback()
        log.info("search index busy; %d queued changes kept for the next drain", len(entries))
        return 0
    done = [entry_id for entry_id, _, _ in entries]
    session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.id.in_(done)))
    session.commit()
    return len(done)


def drain_all(session: Session, backend: SearchBackend) -> int:
    total = 0
    while True:
        done = drain(session, backend)
        total += done
        if done == 0:
            return total


def pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchQueueEntry)) or 0


def iter_all_docs(session: Session, batch: int = BATCH) -> Iterator[SearchDoc]:
    """Every visible post, in id order, a batch at a time (keyset pagination)."""
    last = 0
    while True:
        ids = list(
            session.scalars(select(Post.id).where(Post.id > last).order_by(Post.id).limit(batch))
        )
        if not ids:
            return
        docs, _ = build_docs(session, ids)
        yield from docs
        last = ids[-1]
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
    high_water = session.scalar(select(func.max(SearchQueueEntry.id))) or 0
    total = visible_post_count(session)
    count = backend.rebuild(iter_all_docs(session), total=total, progress=progress)
    session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.id <= high_water))
    session.commit()
    return count


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
