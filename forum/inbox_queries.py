"""The read side of a member's own things: the header's unread counts, notifications, and what
they have read and watch on board and thread pages. Each answer takes a fixed number of queries.

Conversations are read in ``forum.conversation_queries``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, exists, false, func, select
from sqlalchemy.orm import Session, aliased

from forum import policies
from forum.models import (
    Board,
    BoardReadMark,
    BoardWatch,
    Conversation,
    ConversationParticipant,
    Notification,
    Post,
    ReadMark,
    Thread,
    ThreadWatch,
    User,
)
from forum.services.notification_texts import describe

COUNT_CAP = 100  # the header says "99+" beyond this; counting further costs for nothing


def pages_for(items: int, per_page: int) -> int:
    return max(1, -(-items // per_page))


def check_page(page: int, pages: int) -> None:
    if page < 1 or page > pages:
        from forum.queries import PageOutOfRange

        raise PageOutOfRange(f"There is no page {page}; there are {pages}.")


# -- the header -------------------------------------------------------------------------------


@dataclass
class HeaderCounts:
    notifications: int = 0
    conversations: int = 0


def header_counts(
    session: Session, user: User, settling: tuple[int, int] | None = None
) -> HeaderCounts:
    """Unread notifications and conversations with unread messages: one query.

    ``settling`` is (thread id, position) when the page being shown marks that thread's
    notifications up to there read: they are left out already.
    """
    if settling is None:  # most pages: the statement is built once (``user_id`` bound)
        row = session.execute(_header_counts_statement(), {"user_id": user.id}).one()
    else:
        row = session.execute(_counts_statement(user.id, _settled(user, *settling))).one()
    return HeaderCounts(row[0] or 0, row[1] or 0)


@functools.cache
def _header_counts_statement():
    return _counts_statement(bindparam("user_id", type_=Integer))


def _counts_statement(user_id, settled=None):
    unread = select(Notification.id).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if settled is not None:
        unread = unread.where(Notification.id.not_in(settled))
    unread = unread.limit(COUNT_CAP).subquery()
    conversations = (
        select(ConversationParticipant.conversation_id)
        .join(Conversation, Conversation.id == ConversationParticipant.conversation_id)
        .where(
            ConversationParticipant.user_id == user_id,
            ConversationParticipant.left_at.is_(None),
            Conversation.next_position - 1 > ConversationParticipant.last_read_position,
        )
        .limit(COUNT_CAP)
        .subquery()
    )
    return select(
        select(func.count()).select_from(unread).scalar_subquery(),
        select(func.count()).select_from(conversations).scalar_subquery(),
    )


def _settled(user: User, thread_id: int, position: int):
    """Ids of the notifications that reading ``thread_id`` up to ``position`` settles."""
    from forum.services.read_marks import THREAD_KINDS

    return select(Notification.id).where(
        Notification.user_id == user.id,
        Notification.thread_id == thread_id,
        Notification.kind.in_(THREAD_KINDS),
        Notification.post_id.in_(
            select(Post.id).where(Post.thread_id == thread_id, Post.position <= position)
        ),
    )


# -- board and thread pages -------------------------------------------------------------------


def _floor(viewer: User, board_read_at: datetime | None) -> datetime:
    """Posts older than this are read: the member joined, or marked the board read, later."""
    return max(viewer.created_at, board_read_at) if board_read_at else viewer.created_at


# Aliases are built once: building one (its columns) costs more than the query using it.
_LAST_POST = aliased(Post)


@dataclass
class BoardReading:
    watching: bool = False
    unread: set[int] = field(default_factory=set)  # threads with posts the viewer hasn't seen


def board_reading(
    session: Session, viewer, board: Board, threads: list[Thread]
) -> BoardReading | None:
    """The viewer's marks for the threads on a board page, and whether they watch it: one query."""
    if not policies.is_member(viewer):
        return None
    ids = [t.id for t in threads]
    params = {"user_id": viewer.id, "board_id": board.id, "thread_ids": ids}
    rows = session.execute(_board_reading_statement(bool(ids)), params).all()
    if not rows:
        return BoardReading()
    floor = _floor(viewer, rows[0][0])
    unread = {
        thread_id
        for _, _, thread_id, mark, last_position, last_at in rows
        if thread_id is not None
        and last_position is not None
        and last_position > (mark if mark is not None else -1)
        and last_at > floor
    }
    return BoardReading(bool(rows[0][1]), unread)


@functools.cache
def _board_reading_statement(any_threads: bool):
    """``board_reading``'s query, built once: ``user_id``, ``board_id`` and ``thread_ids``."""
    user_id = bindparam("user_id", type_=Integer)
    board_id = bindparam("board_id", type_=Integer)
    last = _LAST_POST
    board_read_at = (
        select(BoardReadMark.read_at)
        .where(BoardReadMark.user_id == user_id, BoardReadMark.board_id == board_id)
        .scalar_subquery()
    )
    watching = exists().where(BoardWatch.user_id == user_id, BoardWatch.board_id == board_id)
    shown = Thread.id.in_(bindparam("thread_ids", expanding=True)) if any_threads else false()
    return (
        select(
            board_read_at,
            watching,
            Thread.id,
            ReadMark.last_position,
            last.position,
            last.created_at,
        )
        .select_from(User)
        .outerjoin(Thread, shown)
        .outerjoin(ReadMark, and_(ReadMark.thread_id == Thread.id, ReadMark.user_id == User.id))
        .outerjoin(last, last.id == Thread.last_post_id)
        .where(User.id == user_id)
    )


@dataclass
class ThreadReading:
    watch: str = "none"  # watching | muted | none
    last_read: int = -1
    first_unread_id: int | None = None  # the first unread post, when it is on this page
    more_unread: bool = False  # unread posts after this page
    advance_to: int | None = None  # the view moves the read mark here
    clear_notifications: bool = False  # …and settles notifications about posts up to there

    @property
    def has_unread(self) -> bool:
        return self.first_unread_id is not None or self.more_unread


def thread_reading(
    session: Session, viewer, thread: Thread, board: Board, posts: list[Post]
) -> ThreadReading | None:
    """The viewer's read mark and watch for a thread page: one query."""
    if not policies.is_member(viewer):
        return None
    params = {
        "user_id": viewer.id,
        "thread_id": thread.id,
        "board_id": board.id,
        "last_post_id": thread.last_post_id,
    }
    mark, board_read_at, muted, last_position, pending = session.execute(
        _thread_reading_statement(), params
    ).one()
    last_read = mark if mark is not None else -1
    floor = _floor(viewer, board_read_at)
    shown = [p for p in posts if p.deleted_at is None]
    shown_to = shown[-1].position if shown else -1
    first_unread = next(
        (p.id for p in shown if p.position > last_read and p.created_at > floor), None
    )
    more = (
        last_position is not None
        and last_position > max(last_read, shown_to)
        and thread.last_post_at > floor
    )
    advance = shown_to if shown_to > last_read else None
    watch = "none" if muted is None else ("muted" if muted else "watching")
    return ThreadReading(watch, last_read, first_unread, more, advance, bool(pending and advance))


@functools.cache
def _thread_reading_statement():
    """``thread_reading``'s query, built once: ``user_id``, ``thread_id``, ``board_id`` and
    ``last_post_id``."""
    user_id = bindparam("user_id", type_=Integer)
    thread_id = bindparam("thread_id", type_=Integer)
    return select(
        select(ReadMark.last_position)
        .where(ReadMark.user_id == user_id, ReadMark.thread_id == thread_id)
        .scalar_subquery(),
        select(BoardReadMark.read_at)
        .where(
            BoardReadMark.user_id == user_id,
            BoardReadMark.board_id == bindparam("board_id", type_=Integer),
        )
        .scalar_subquery(),
        select(ThreadWatch.muted)
        .where(ThreadWatch.user_id == user_id, ThreadWatch.thread_id == thread_id)
        .scalar_subquery(),
        select(Post.position)
        .where(Post.id == bindparam("last_post_id", type_=Integer))
        .scalar_subquery(),
        exists().where(
            Notification.user_id == user_id,
            Notification.thread_id == thread_id,
            Notification.read_at.is_(None),
        ),
    )


def first_unread_post(session: Session, viewer: User, thread: Thread) -> Post | None:
    """The first post the viewer hasn't seen (None when they have seen them all): one query."""
    mark = (
        select(ReadMark.last_position)
        .where(ReadMark.user_id == viewer.id, ReadMark.thread_id == thread.id)
        .scalar_subquery()
    )
    board_read_at = (
        select(BoardReadMark.read_at)
        .where(BoardReadMark.user_id == viewer.id, BoardReadMark.board_id == thread.board_id)
        .scalar_subquery()
    )
    floor = func.coalesce(board_read_at, viewer.created_at)
    return session.scalar(
        select(Post)
        .where(
            Post.thread_id == thread.id,
            Post.deleted_at.is_(None),
            Post.position > func.coalesce(mark, -1),
            Post.created_at > viewer.created_at,
            Post.created_at > floor,
        )
        .order_by(Post.position)
        .limit(1)
    )


# -- notifications ----------------------------------------------------------------------------


@dataclass
class NotificationRow:
    notification: Notification
    words: str


@dataclass
class NotificationsPage:
    rows: list[NotificationRow]
    page: int
    pages: int


def notifications_page(session: Session, user: User, page: int, per_page: int) -> NotificationsPage:
    total = (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user.id)
        )
        or 0
    )
    pages = pages_for(total, per_page)
    check_page(page, pages)
    actor = aliased(User)
    rows = session.execute(
        select(Notification, actor.username, Thread.title)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return NotificationsPage(
        [
            NotificationRow(n, describe(n.kind, name, title or "", n.text, n.count))
            for n, name, title in rows
        ],
        page,
        pages,
    )
