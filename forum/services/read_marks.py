"""Remembering how far each member has read: per thread, and "mark all read" per board."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, BoardReadMark, Notification, Post, ReadMark, User, utcnow
from forum.services.errors import NotFound, PermissionDenied
from forum.services.upserts import insert

# Notifications about a thread's posts that reading the thread settles.
THREAD_KINDS = ("reply", "quote", "mention", "new_thread")


def record_thread_view(
    session: Session,
    user: User,
    thread_id: int,
    position: int,
    *,
    clear_notifications: bool = False,
    now: datetime | None = None,
) -> None:
    """The member saw the thread up to ``position``: one UPSERT that only ever moves forward.

    Call it after the page is rendered and only when the view advances the mark (the thread
    page's query knows). It first ends the page's read transaction, so on SQLite the write is a
    one-statement transaction of its own that waits its turn briefly and never holds up posting.
    ``clear_notifications`` also marks this thread's notifications up to ``position`` read.
    """
    now = now or utcnow()
    user_id = user.id  # read before the commit expires it
    session.commit()
    statement = insert(session, ReadMark).values(
        user_id=user_id, thread_id=thread_id, last_position=position, read_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "thread_id"],
            set_={"last_position": statement.excluded.last_position, "read_at": now},
            where=ReadMark.last_position < statement.excluded.last_position,
        )
    )
    if clear_notifications:
        seen_posts = select(Post.id).where(Post.thread_id == thread_id, Post.position <= position)
        session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.thread_id == thread_id,
                Notification.read_at.is_(None),
                Notification.kind.in_(THREAD_KINDS),
                Notification.post_id.in_(seen_posts),
            )
            .values(read_at=now)
        )
    session.commit()


def mark_board_read(session: Session, actor: User, board: Board, *, now=None) -> None:
    """Everything posted on the board until now counts as read."""
    if not policies.is_member(actor):
        raise PermissionDenied("Log in to keep track of what you have read.")
    if not policies.can_view_board(actor, board):
        raise NotFound("There is no board at that address.")
    now = now or utcnow()
    statement = insert(session, BoardReadMark).values(
        user_id=actor.id, board_id=board.id, read_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "board_id"], set_={"read_at": now}
        )
    )
    session.commit()
