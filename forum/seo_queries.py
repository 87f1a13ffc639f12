"""The read side of feeds and sitemaps: what a visitor with no account may see, nothing more.

Feeds and sitemaps are shared and cached, so they never depend on who asks: members-only
boards, deleted threads and deleted posts are always left out, and so are private messages
(which live in their own tables and are never read here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, literal_column, select
from sqlalchemy.orm import Session, joinedload

from forum.models import Board, Post, Thread, User
from forum.services.errors import NotFound

FEED_LIMIT = 30


def _public_threads(query):
    return query.join(Board, Board.id == Thread.board_id).where(
        Board.members_only.is_(False), Thread.deleted_at.is_(None)
    )


@dataclass
class SitemapThread:
    id: int
    slug: str
    posts: int  # positions used (next_position): the number of pages follows from it
    lastmod: datetime


def thread_buckets(session: Session, size: int) -> list[tuple[int, datetime]]:
    """Sitemap pages of public threads, by id range: (page number from 1, newest change)."""
    # Inlined (size is an int): PostgreSQL matches GROUP BY to the select list by its text, and
    # bound parameters would make the two differ.
    bucket = literal_column(f"({Thread.__tablename__}.id - 1) / {int(size)}", Integer)
    rows = session.execute(
        _public_threads(
            select(bucket, func.max(Thread.changed_at), func.max(Thread.last_post_at))
        ).group_by(bucket).order_by(bucket)
    ).all()
    return [(int(b) + 1, max(c, p)) for b, c, p in rows]


def last_bucket(session: Session, size: int) -> int:
    return ((session.scalar(select(func.max(Thread.id))) or 0) - 1) // size + 1


def sitemap_threads(session: Session, page: int, size: int) -> list[SitemapThread]:
    rows = session.execute(
        _public_threads(
            select(Thread.id, Thread.slug, Thread.next_position, Thread.changed_at,
                   Thread.last_post_at)
        )
        .where(Thread.id > (page - 1) * size, Thread.id <= page * size)
        .order_by(Thread.id)
    ).all()
    return [SitemapThread(i, s, n, max(c, p)) for i, s, n, c, p in rows]


@dataclass
class SitemapPages:
    boards: list[tuple[Board, datetime | None]]
    members: list[User]
    latest: datetime | None


def sitemap_pages(session: Session) -> SitemapPages:
    """Public boards (with their newest post time) and members who chose to be indexed."""
    newest = (
        select(Thread.board_id, func.max(Thread.last_post_at).label("at"))
        .where(Thread.deleted_at.is_(None))
        .group_by(Thread.board_id)
        .subquery()
    )
    boards = [
        (b, at)
        for b, at in session.execute(
            select(Board, newest.c.at)
            .outerjoin(newest, newest.c.board_id == Board.id)
            .where(Board.members_only.is_(False))
            .order_by(Board.position, Board.id)
        ).all()
    ]
    members = list(
        session.scalars(
            select(User)
            .where(User.profile_indexable.is_(True), User.deleted_at.is_(None))
            .order_by(User.id)
        )
    )
    dates = [at for _, at in boards if at]
    return SitemapPages(boards, members, max(dates) if dates else None)


def public_board(session: Session, slug: str) -> Board:
    board = session.scalar(select(Board).where(Board.slug == slug))
    if board is None or board.members_only:
        raise NotFound("There is no public board at that address.")
    return board


def latest_threads(session: Session, board: Board | None = None) -> list[tuple[Thread, Post]]:
    """The newest public threads (with their opening post), forum-wide or in one board."""
    query = (
        _public_threads(select(Thread, Post))
        .join(Post, Post.id == Thread.first_post_id)
        .options(joinedload(Post.author))
        .where(Post.deleted_at.is_(None))
        .order_by(Thread.created_at.desc(), Thread.id.desc())
        .limit(FEED_LIMIT)
    )
    if board is not None:
        query = query.where(Thread.board_id == board.id)
    return [(t, p) for t, p in session.execute(query).unique().all()]


def public_thread(session: Session, thread_id: int) -> tuple[Thread, Board]:
    row = session.execute(
        _public_threads(select(Thread, Board)).where(Thread.id == thread_id)
    ).first()
    if row is None:
        raise NotFound("There is no public thread at that address.")
    return row[0], row[1]


def latest_posts(session: Session, thread: Thread) -> list[Post]:
    """The thread's newest visible posts, newest first."""
    return list(
        session.scalars(
            select(Post)
            .options(joinedload(Post.author))
            .where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
            .order_by(Post.position.desc())
            .limit(FEED_LIMIT)
        ).unique()
    )
