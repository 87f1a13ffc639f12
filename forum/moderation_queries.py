"""The read side of moderation: the queue (reports with their post in context, posts held for
approval, recently deleted threads), thread pickers, and a member's suspension state.

The queue takes a fixed number of queries however many reports it shows; a board moderator
sees only what belongs to the boards they moderate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from forum import policies
from forum.models import Board, HeldPost, Post, Report, Suspension, Thread, User
from forum.services.errors import NotFound, PermissionDenied

QUEUE_LIMIT = 50


@dataclass
class ReportedPost:
    post: Post
    thread: Thread
    board: Board
    reports: list[Report] = field(default_factory=list)
    previous: Post | None = None  # the post before it in the thread, for context


@dataclass
class Queue:
    reported: list[ReportedPost]
    open_reports: int
    held: list[HeldPost]
    held_count: int
    deleted_threads: list[tuple[Thread, Board]]
    all_boards: bool


def _board_filter(viewer):
    """None for global moderators (everything); else the boards they moderate."""
    if policies.is_global_moderator(viewer):
        return None
    return set(policies.moderated_board_ids(viewer))


def queue(session: Session, viewer) -> Queue:
    if not policies.can_work_queue(viewer):
        raise PermissionDenied("Only moderators work the moderation queue.")
    boards = _board_filter(viewer)

    def scoped(query, board_column):
        return query if boards is None else query.where(board_column.in_(boards))

    author = aliased(User)
    reporter = aliased(User)
    open_count = session.scalar(
        scoped(
            select(func.count(Report.id))
            .join(Post, Post.id == Report.post_id)
            .join(Thread, Thread.id == Post.thread_id)
            .where(Report.status == "open"),
            Thread.board_id,
        )
    )
    rows = session.execute(
        scoped(
            select(Report, Post, Thread, Board)
            .join(Post, Post.id == Report.post_id)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Board, Board.id == Thread.board_id)
            .outerjoin(author, author.id == Post.author_id)
            .outerjoin(reporter, reporter.id == Report.reporter_id)
            .options(
                contains_eager(Post.author.of_type(author)),
                contains_eager(Report.reporter.of_type(reporter)),
            )
            .where(Report.status == "open")
            .order_by(Report.created_at, Report.id)
            .limit(QUEUE_LIMIT),
            Thread.board_id,
        )
    ).all()
    by_post: dict[int, ReportedPost] = {}
    for report, post, thread, board in rows:
        item = by_post.setdefault(post.id, ReportedPost(post, thread, board))
        item.reports.append(report)
    before = {(i.thread.id, i.post.position - 1): i for i in by_post.values() if i.post.position}
    if before:
        for previous in session.scalars(
            select(Post)
            .options(joinedload(Post.author))
            .where(tuple_(Post.thread_id, Post.position).in_(list(before)))
        ):
            before[(previous.thread_id, previous.position)].previous = previous
    held_query = scoped(select(HeldPost), HeldPost.board_id)
    held_count = session.scalar(
        held_query.with_only_columns(func.count(HeldPost.id)).order_by(None)
    )
    held = list(
        session.scalars(
            held_query.options(
                joinedload(HeldPost.author), joinedload(HeldPost.board), joinedload(HeldPost.thread)
            )
            .order_by(HeldPost.created_at, HeldPost.id)
            .limit(QUEUE_LIMIT)
        ).unique()
    )
    deleted = session.execute(
        scoped(
            select(Thread, Board)
            .join(Board, Board.id == Thread.board_id)
            .where(Thread.deleted_at.is_not(None), Thread.merged_into_id.is_(None))
            .order_by(Thread.deleted_at.desc())
            .limit(20),
            Thread.board_id,
        )
    ).all()
    return Queue(
        list(by_post.values()),
        open_count or 0,
        held,
        held_count or 0,
        [(t, b) for t, b in deleted],
        boards is None,
    )


def held_post(session: Session, held_id: int) -> HeldPost:
    held = session.get(HeldPost, held_id)
    if held is None:
        raise NotFound("That post is no longer waiting: another moderator may have handled it.")
    return held


def my_held_posts(session: Session, viewer, thread_id: int | None = None) -> list[HeldPost]:
    """The viewer's own posts waiting for approval (on one thread, or anywhere)."""
    if not policies.is_member(viewer):
        return []
    query = select(HeldPost).where(HeldPost.author_id == viewer.id)
    if thread_id is not None:
        query = query.where(HeldPost.thread_id == thread_id)
    return list(session.scalars(query.order_by(HeldPost.created_at)))


def movable_boards(session: Session, viewer, exclude: Board | None = None) -> list[Board]:
    """Boards the viewer may move a thread to."""
    boards = session.scalars(select(Board).order_by(Board.category_id, Board.position)).all()
    return [
        b
        for b in boards
        if policies.can_moderate(viewer, b) and (exclude is None or b.id != exclude.id)
    ]


def running_suspension(session: Session, member: User) -> Suspension | None:
    from forum.services.moderation import current_suspension

    return current_suspension(session, member)


def suspension_history(session: Session, member: User) -> list[Suspension]:
    return list(
        session.scalars(
            select(Suspension)
            .options(joinedload(Suspension.moderator))
            .where(Suspension.user_id == member.id)
            .order_by(Suspension.created_at.desc())
            .limit(20)
        )
    )


def board_moderators_page(session: Session) -> list[tuple[Board, list[User]]]:
    from forum.models import BoardModerator

    boards = session.scalars(select(Board).order_by(Board.category_id, Board.position)).all()
    moderators: dict[int, list[User]] = {b.id: [] for b in boards}
    for board_id, user in session.execute(
        select(BoardModerator.board_id, User)
        .join(User, User.id == BoardModerator.user_id)
        .order_by(User.username_key)
    ):
        moderators.setdefault(board_id, []).append(user)
    return [(b, moderators[b.id]) for b in boards]


def merged_target(session: Session, viewer, thread_id: int) -> Thread | None:
    """The thread a merged thread went into (following merges of merges), if the viewer may
    see it; None for a thread that wasn't merged."""
    from forum.queries import load_thread

    current, seen = thread_id, {thread_id}
    for _ in range(10):
        into = session.scalar(select(Thread.merged_into_id).where(Thread.id == current))
        if into is None or into in seen:
            break
        seen.add(into)
        current = into
    if current == thread_id:
        return None
    try:
        return load_thread(session, viewer, current)[0]
    except NotFound:
        return None
