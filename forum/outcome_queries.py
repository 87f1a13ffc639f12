"""The read side of outcomes: the Outcomes page and its feed, tag pages, the outcome form,
the moderation log and reminders. Each page's data comes in a fixed number of queries.

Kept beside ``forum.queries`` (same rules, same helpers) so neither module grows past a
screenful of concerns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from forum import policies
from forum.models import (
    TAG_KINDS,
    Board,
    HistoryEvent,
    ModerationAction,
    Post,
    Thread,
    ThreadTag,
    UpdateReminder,
    User,
    utcnow,
)
from forum.queries import check_page, load_thread, page_count, thread_tags
from forum.services.errors import NotFound
from forum.services.moderation_log import parse_details


@dataclass
class OutcomeFilters:
    """What the Outcomes page is narrowed to; ``None`` means any."""

    condition: str | None = None
    treatment: str | None = None
    symptom: str | None = None
    outcome: str | None = None

    def tags(self) -> list[tuple[str, str]]:
        return [(kind, value) for kind in TAG_KINDS if (value := getattr(self, kind))]

    def args(self) -> dict[str, str]:
        """The query-string arguments that reproduce these filters."""
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class OutcomeRow:
    thread: Thread
    board: Board
    outcome_post_visible: bool


@dataclass
class OutcomesPage:
    rows: list[OutcomeRow]
    tags: dict[int, list[ThreadTag]]
    # kind -> [(slug, number of resolved threads with it)], for the filter choices
    facets: dict[str, list[tuple[str, int]]]
    total: int
    page: int
    pages: int


def _visible(query: Select, viewer) -> Select:
    query = query.where(Thread.deleted_at.is_(None))
    if not policies.is_member(viewer):
        query = query.where(Board.members_only.is_(False))
    return query


def _resolved(query: Select, viewer, filters: OutcomeFilters) -> Select:
    query = _visible(query.join(Board, Board.id == Thread.board_id), viewer)
    query = query.where(Thread.outcome.is_not(None))
    if filters.outcome:
        query = query.where(Thread.outcome == filters.outcome)
    for kind, slug in filters.tags():
        query = query.where(
            exists().where(
                ThreadTag.thread_id == Thread.id, ThreadTag.kind == kind, ThreadTag.slug == slug
            )
        )
    return query


def _rows(session: Session, query: Select, *, featured_first: bool = True) -> list[OutcomeRow]:
    """Resolved threads with their board, author and whether the outcome post is visible."""
    outcome_post = aliased(Post)
    order = [Thread.resolved_at.desc(), Thread.id.desc()]
    if featured_first:  # featured stories on top, newest featured first
        order = [Thread.featured_at.is_(None), Thread.featured_at.desc(), *order]
    query = (
        query.add_columns(Board, outcome_post.deleted_at.is_(None))
        .outerjoin(outcome_post, outcome_post.id == Thread.outcome_post_id)
        .options(joinedload(Thread.author))
        .order_by(*order)
    )
    return [OutcomeRow(t, b, bool(v)) for t, b, v in session.execute(query).unique().all()]


def outcomes_page(
    session: Session, viewer, filters: OutcomeFilters, page: int, per_page: int
) -> OutcomesPage:
    total = session.scalar(_resolved(select(func.count(Thread.id)), viewer, filters)) or 0
    pages = page_count(total, per_page)
    check_page(page, pages, "list")
    rows = _rows(
        session,
        _resolved(select(Thread), viewer, filters).limit(per_page).offset((page - 1) * per_page),
    )
    facets: dict[str, list[tuple[str, int]]] = {kind: [] for kind in TAG_KINDS}
    facet_query = _resolved(
        select(ThreadTag.kind, ThreadTag.slug, func.count()).join(
            Thread, Thread.id == ThreadTag.thread_id
        ),
        viewer,
        OutcomeFilters(),
    ).group_by(ThreadTag.kind, ThreadTag.slug)
    for kind, slug, count in session.execute(facet_query):
        facets[kind].append((slug, count))
    tags = thread_tags(session, [r.thread.id for r in rows])
    return OutcomesPage(rows, tags, facets, total, page, pages)


def outcome_feed(
    session: Session, filters: OutcomeFilters, limit: int = 30
) -> tuple[list[OutcomeRow], dict[int, list[ThreadTag]]]:
    """The newest resolved threads as a visitor sees them (a feed URL is shared and cached,
    so members-only boards never appear in it), in the order they were resolved."""
    query = _resolved(select(Thread), None, filters).limit(limit)
    rows = _rows(session, query, featured_first=False)
    return rows, thread_tags(session, [r.thread.id for r in rows])


@dataclass
class TagPage:
    kind: str
    slug: str
    threads: list[tuple[Thread, Board]]
    tags: dict[int, list[ThreadTag]]
    total: int
    page: int
    pages: int


def tag_page(
    session: Session, viewer, kind: str, slug: str, known: bool, page: int, per_page: int
) -> TagPage:
    """Every visible thread carrying one tag, most recently active first.

    ``known`` says whether the vocabulary has the term; an unknown term is still listed while
    threads carry it (a term can leave the vocabulary), and is a 404 otherwise.
    """
    if kind not in TAG_KINDS:
        raise NotFound("There is no such kind of tag.")

    def base(query: Select) -> Select:
        query = query.join(Board, Board.id == Thread.board_id).where(
            exists().where(
                ThreadTag.thread_id == Thread.id, ThreadTag.kind == kind, ThreadTag.slug == slug
            )
        )
        return _visible(query, viewer)

    total = session.scalar(base(select(func.count(Thread.id)))) or 0
    if total == 0 and not known:
        raise NotFound("There is no tag at that address.")
    pages = page_count(total, per_page)
    check_page(page, pages, "list")
    rows = session.execute(
        base(select(Thread, Board))
        .options(joinedload(Thread.author))
        .order_by(Thread.last_post_at.desc(), Thread.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique().all()
    threads = [(t, b) for t, b in rows]
    return TagPage(kind, slug, threads, thread_tags(session, [t.id for t, _ in threads]),
                   total, page, pages)


@dataclass
class OutcomeForm:
    thread: Thread
    board: Board
    # The posts one may choose: the author's, plus the current outcome post and the one asked for.
    posts: list[Post]
    tags: list[ThreadTag]
    # The author's history when the viewer may see it (for "18 months after Gamma Knife").
    history: list[HistoryEvent] | None
    more_posts: bool


CANDIDATES = 60


def outcome_form(
    session: Session, viewer, thread_id: int, chosen_post_id: int | None
) -> OutcomeForm:
    thread, board, _ = load_thread(session, viewer, thread_id)
    wanted = [i for i in (chosen_post_id, thread.outcome_post_id) if i]
    query = (
        select(Post)
        .options(joinedload(Post.author))
        .where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
        .where(or_(Post.author_id == thread.author_id, Post.id.in_(wanted)))
        .order_by(Post.id.in_(wanted).desc(), Post.position.desc())
        .limit(CANDIDATES + 1)
    )
    posts = list(session.scalars(query).unique())
    more = len(posts) > CANDIDATES
    posts = sorted(posts[:CANDIDATES], key=lambda p: p.position)
    history = None
    if thread.author is not None and policies.can_view_history(viewer, thread.author):
        history = list(
            session.scalars(select(HistoryEvent).where(HistoryEvent.user_id == thread.author_id))
        )
    tags = thread_tags(session, [thread.id])[thread.id]
    return OutcomeForm(thread, board, posts, tags, history, more)


@dataclass
class LogEntry:
    entry: ModerationAction
    details: dict[str, Any]
    thread: Thread | None


@dataclass
class ModerationLogPage:
    entries: list[LogEntry]
    page: int
    pages: int
    thread_id: int | None = None


def moderation_log(
    session: Session, page: int, per_page: int, thread_id: int | None = None
) -> ModerationLogPage:
    """Newest first; optionally only the entries about one thread. Moderators only (the
    caller asks ``policies.can_read_moderation_log``)."""
    query = select(ModerationAction)
    if thread_id is not None:
        query = query.where(
            ModerationAction.target_type == "thread", ModerationAction.target_id == thread_id
        )
    total = session.scalar(query.with_only_columns(func.count(ModerationAction.id))) or 0
    pages = page_count(total, per_page)
    check_page(page, pages, "log")
    entries = list(
        session.scalars(
            query.options(joinedload(ModerationAction.actor))
            .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )
    thread_ids = {e.target_id for e in entries if e.target_type == "thread"}
    threads = {}
    if thread_ids:
        found = session.scalars(select(Thread).where(Thread.id.in_(thread_ids)))
        threads = {t.id: t for t in found}
    return ModerationLogPage(
        [
            LogEntry(e, parse_details(e.details), threads.get(e.target_id)
                     if e.target_type == "thread" else None)
            for e in entries
        ],
        page,
        pages,
        thread_id,
    )


@dataclass
class Reminders:
    due: list[UpdateReminder]
    upcoming: list[UpdateReminder]
    now: datetime = field(default_factory=utcnow)


def due_reminders(session: Session, user: User) -> list[UpdateReminder]:
    """The member's reminders that are due and not settled, with their thread: one query."""
    params = {"user_id": user.id, "now": utcnow()}
    return list(session.scalars(_due_reminders_statement(), params).unique())


@functools.cache
def _due_reminders_statement() -> Select[Any]:
    """Asked on every member's page: built once, ``user_id`` and ``now`` bound."""
    return (
        select(UpdateReminder)
        .outerjoin(Thread, Thread.id == UpdateReminder.thread_id)
        .options(contains_eager(UpdateReminder.thread))
        .where(
            UpdateReminder.user_id == bindparam("user_id", type_=Integer),
            UpdateReminder.due_at <= bindparam("now", type_=DateTime),
            UpdateReminder.done_at.is_(None),
            or_(UpdateReminder.thread_id.is_(None), Thread.deleted_at.is_(None)),
        )
        .order_by(UpdateReminder.due_at, UpdateReminder.id)
        .limit(5)
    )


def open_reminders(session: Session, user: User) -> Reminders:
    """Everything the member has not settled yet, due first, then upcoming: one query."""
    now = utcnow()
    rows = list(
        session.scalars(
            select(UpdateReminder)
            .outerjoin(Thread, Thread.id == UpdateReminder.thread_id)
            .options(contains_eager(UpdateReminder.thread))
            .where(
                UpdateReminder.user_id == user.id,
                UpdateReminder.done_at.is_(None),
                or_(UpdateReminder.thread_id.is_(None), Thread.deleted_at.is_(None)),
            )
            .order_by(UpdateReminder.due_at, UpdateReminder.id)
        ).unique()
    )
    return Reminders(
        [r for r in rows if r.due_at <= now], [r for r in rows if r.due_at > now], now
    )
