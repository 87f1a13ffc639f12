"""Recomputing denormalised counters after bulk loads (demo data, synthetic data, imports)."""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from forum.models import Board, Post, Thread, User


def recount_all(session: Session) -> None:
    """Set every thread's, board's and member's counters and latest posts from the posts."""
    visible = and_(Post.deleted_at.is_(None))
    post_stats = (
        select(
            Post.thread_id.label("tid"),
            func.count().label("n"),
            func.max(Post.position).label("maxpos"),
        )
        .where(visible)
        .group_by(Post.thread_id)
        .subquery()
    )
    session.execute(
        update(Thread)
        .values(
            post_count=func.coalesce(
                select(post_stats.c.n).where(post_stats.c.tid == Thread.id).scalar_subquery(), 0
            ),
            next_position=func.coalesce(
                select(func.max(Post.position) + 1)
                .where(Post.thread_id == Thread.id)
                .scalar_subquery(),
                0,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    last_post = (
        select(Post.id)
        .where(Post.thread_id == Thread.id, visible)
        .order_by(Post.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    first_post = (
        select(Post.id)
        .where(Post.thread_id == Thread.id)
        .order_by(Post.position)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(Thread)
        .values(last_post_id=last_post, first_post_id=first_post)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Thread)
        .values(
            last_post_at=func.coalesce(
                select(Post.created_at).where(Post.id == Thread.last_post_id).scalar_subquery(),
                Thread.created_at,
            )
        )
        .execution_options(synchronize_session=False)
    )
    live_threads = and_(Thread.board_id == Board.id, Thread.deleted_at.is_(None))
    session.execute(
        update(Board)
        .values(
            thread_count=select(func.count()).select_from(Thread).where(live_threads).scalar_subquery(),
            post_count=func.coalesce(
                select(func.sum(Thread.post_count)).where(live_threads).scalar_subquery(), 0
            ),
            last_post_id=select(Thread.last_post_id)
            .where(live_threads)
            .order_by(Thread.last_post_at.desc())
            .limit(1)
            .scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(User)
        .values(
            post_count=select(func.count())
            .select_from(Post)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Post.author_id == User.id, visible, Thread.deleted_at.is_(None))
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
