"""The read side: what each page shows, loaded in a fixed number of queries.

Every function here answers one page's question and returns plain objects the template reads.
The number of statements does not grow with the number of boards, threads or posts shown.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from forum import inbox_queries, policies
from forum.models import (
    Board,
    BoardModerator,
    Category,
    HistoryEvent,
    Post,
    Thread,
    ThreadTag,
    User,
)
from forum.services.errors import NotFound


class PageOutOfRange(NotFound):
    """A page number past the end (or before the start)."""


def page_count(items: int, per_page: int) -> int:
    return max(1, math.ceil(items / per_page))


def check_page(page: int, pages: int, what: str) -> None:
    if page < 1 or page > pages:
        raise PageOutOfRange(f"There is no page {page} of this {what}; it has {pages}.")


def moderated_board_ids(session: Session, user) -> frozenset[int]:
    """The boards ``user`` moderates: loaded once per request onto the user object."""
    from forum.services import board_moderators

    return board_moderators.load(session, user)


@dataclass
class LastPost:
    post_id: int
    thread_id: int
    thread_title: str
    thread_slug: str
    author: User | None
    created_at: object


# Aliases used by the page queries, built once: building one (its columns) per request cost
# more than running the query.
_LAST_AUTHOR = aliased(User)
_EDITOR = aliased(User)
_RELATED_TAG = aliased(ThreadTag)


def _last_posts(session: Session, post_ids: list[int]) -> dict[int, LastPost]:
    """One query for the latest post (thread, author, time) of many boards or threads."""
    if not post_ids:
        return {}
    rows = session.execute(_LAST_POSTS, {"post_ids": post_ids}).all()
    return {r[0]: LastPost(r[0], r[1], r[3], r[4], r[5], r[2]) for r in rows}


_LAST_POSTS = (  # built once; ``post_ids`` bound
    select(Post.id, Post.thread_id, Post.created_at, Thread.title, Thread.slug, _LAST_AUTHOR)
    .join(Thread, Thread.id == Post.thread_id)
    .outerjoin(_LAST_AUTHOR, _LAST_AUTHOR.id == Post.author_id)
    .where(Post.id.in_(bindparam("post_ids", expanding=True)))
)


@dataclass
class BoardIndex:
    categories: list[tuple[Category, list[Board]]]
    last_posts: dict[int, LastPost]
    children: dict[int, list[Board]] = field(default_factory=dict)  # parent id -> child boards


def board_index(session: Session, viewer) -> BoardIndex:
    """Categories and their top-level boards; child boards listed under their parent (a child
    whose parent the viewer can't see stands at the top level)."""
    categories = session.scalars(
        select(Category)
        .options(selectinload(Category.boards))
        .order_by(Category.position, Category.id)
    ).all()
    shown = {b.id for c in categories for b in c.boards if policies.can_view_board(viewer, b)}
    children: dict[int, list[Board]] = {}
    visible: list[tuple[Category, list[Board]]] = []
    last_ids: list[int] = []
    for category in categories:
        boards = []
        for b in category.boards:
            if b.id not in shown:
                continue
            if b.parent_id in shown:
                children.setdefault(b.parent_id, []).append(b)
            else:
                boards.append(b)
                if b.last_post_id:
                    last_ids.append(b.last_post_id)
        if boards:
            visible.append((category, boards))
    return BoardIndex(visible, _last_posts(session, last_ids), children)


@dataclass
class BoardPage:
    board: Board
    threads: list[Thread]
    last_posts: dict[int, LastPost]
    page: int
    pages: int
    tags: dict[int, list[ThreadTag]] = field(default_factory=dict)
    reading: inbox_queries.BoardReading | None = None  # the viewer's read marks and watch
    # The board's parent, that one's parent…, root first; then its child boards.
    parents: list[Board] = field(default_factory=list)
    children: list[Board] = field(default_factory=list)


def board_family(session: Session, viewer, board: Board) -> tuple[list[Board], list[Board]]:
    """The board's visible ancestors (root first) and child boards, in one query: the boards
    table is small, and walking up in Python keeps the count fixed however deep the nesting."""
    boards = {b.id: b for b in session.scalars(select(Board).order_by(Board.position, Board.id))}
    parents: list[Board] = []
    seen = {board.id}
    parent = boards.get(board.parent_id) if board.parent_id else None
    while parent is not None and parent.id not in seen:
        seen.add(parent.id)
        if policies.can_view_board(viewer, parent):
            parents.insert(0, parent)
        parent = boards.get(parent.parent_id) if parent.parent_id else None
    children = [
        b for b in boards.values() if b.parent_id == board.id and policies.can_view_board(viewer, b)
    ]
    return parents, children


def thread_tags(session: Session, thread_ids: list[int]) -> dict[int, list[ThreadTag]]:
    """One query for the tags of many threads: thread id -> tags (kind, then slug)."""
    tags: dict[int, list[ThreadTag]] = {tid: [] for tid in thread_ids}
    if thread_ids:
        for tag in session.scalars(
            select(ThreadTag)
            .where(ThreadTag.thread_id.in_(thread_ids))
            .order_by(ThreadTag.kind, ThreadTag.slug)
        ):
            tags[tag.thread_id].append(tag)
    return tags


def board_page(session: Session, viewer, slug: str, page: int, per_page: int) -> BoardPage:
    board = session.scalar(select(Board).where(Board.slug == slug))
    if board is None:
        raise NotFound("There is no board at that address.")
    if not policies.can_view_board(viewer, board):
        raise NotFound("There is no board at that address.")
    pages = page_count(board.thread_count, per_page)
    check_page(page, pages, "board")
    threads = session.scalars(
        select(Thread)
        .options(joinedload(Thread.author))
        .where(Thread.board_id == board.id, Thread.deleted_at.is_(None))
        .order_by(Thread.is_sticky.desc(), Thread.last_post_at.desc(), Thread.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    parents, children = board_family(session, viewer, board)
    last_ids = [t.last_post_id for t in threads if t.last_post_id]
    last_ids += [b.last_post_id for b in children if b.last_post_id]
    last_posts = _last_posts(session, last_ids)
    tags = thread_tags(session, [t.id for t in threads])
    reading = inbox_queries.board_reading(session, viewer, board, list(threads))
    return BoardPage(
        board, list(threads), last_posts, page, pages, tags, reading, parents, children
    )


@dataclass
class ThreadPage:
    thread: Thread
    board: Board
    posts: list[Post]
    page: int
    pages: int
    first_post: Post | None
    histories: dict[int, list[HistoryEvent]] = field(default_factory=dict)
    updates: list[Post] = field(default_factory=list)
    can_moderate: bool = False
    tags: list[ThreadTag] = field(default_factory=list)
    # post id -> the latest update its author posted since (here or in a linked thread)
    later_updates: dict[int, LaterUpdate] = field(default_factory=dict)
    outcome_post_visible: bool = False
    reading: inbox_queries.ThreadReading | None = None  # the viewer's read mark and watch


@dataclass
class LaterUpdate:
    post_id: int
    thread_id: int
    thread_title: str
    created_at: object


def load_thread(session: Session, viewer, thread_id: int) -> tuple[Thread, Board, bool]:
    """The thread and its board, or NotFound when it doesn't exist or the viewer can't see it."""
    row = session.execute(
        select(Thread, Board)
        .join(Board, Board.id == Thread.board_id)
        .options(joinedload(Thread.author))
        .where(Thread.id == thread_id)
    ).first()
    if row is None:
        raise NotFound("There is no thread at that address.")
    thread, board = row
    is_mod = policies.can_moderate(viewer, board, moderated_board_ids(session, viewer))
    if not policies.can_view_board(viewer, board) or (thread.deleted_at and not is_mod):
        raise NotFound("There is no thread at that address.")
    return thread, board, is_mod


def thread_page(
    session: Session,
    viewer,
    thread_id: int,
    page: int,
    per_page: int,
    loaded: tuple[Thread, Board, bool] | None = None,
) -> ThreadPage:
    """``loaded``: ``load_thread``'s answer when the caller already asked it."""
    thread, board, is_mod = loaded or load_thread(session, viewer, thread_id)
    pages = page_count(thread.next_position, per_page)
    check_page(page, pages, "thread")
    query = (
        select(Post)
        .options(joinedload(Post.author), joinedload(Post.edited_by.of_type(_EDITOR)))
        .where(
            Post.thread_id == thread.id,
            Post.position >= (page - 1) * per_page,
            Post.position < page * per_page,
        )
        .order_by(Post.position)
    )
    if not is_mod:
        query = query.where(Post.deleted_at.is_(None))
    posts = list(session.scalars(query).unique())
    first_post = posts[0] if posts and posts[0].position == 0 else None
    if first_post is None and thread.first_post_id:
        first_post = session.scalar(
            select(Post).options(joinedload(Post.author)).where(Post.id == thread.first_post_id)
        )
    author_ids = {p.author_id for p in posts if p.author_id}
    histories: dict[int, list[HistoryEvent]] = {uid: [] for uid in author_ids}
    if author_ids:
        for event in session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.user_id.in_(author_ids))
            .order_by(HistoryEvent.year, HistoryEvent.month, HistoryEvent.day, HistoryEvent.id)
        ):
            histories[event.user_id].append(event)
    updates, later, outcome_visible = _updates_and_outcome(session, viewer, thread, posts)
    return ThreadPage(
        thread,
        board,
        posts,
        page,
        pages,
        first_post,
        histories,
        updates,
        is_mod,
        tags=thread_tags(session, [thread.id])[thread.id],
        later_updates=later,
        outcome_post_visible=outcome_visible,
        reading=inbox_queries.thread_reading(session, viewer, thread, board, posts),
    )


_LINK_ENDS = ("/", '"', "#", "?")


def _links_to_thread(html, thread_id):
    """SQL: ``html`` links to the thread (``/t/<id>``) or to one of its posts (``/p/<id>``).

    ``thread_id`` is a bound parameter, and so are the patterns for the thread's own address
    (``_thread_link_params``)."""
    target = aliased(Post)
    post_link = literal("%/p/") + cast(target.id, String)
    return or_(
        *(html.like(bindparam(f"thread_link_{i}")) for i in range(len(_LINK_ENDS))),
        exists().where(
            target.thread_id == thread_id,
            or_(*(html.like(post_link + literal(f"{end}%")) for end in _LINK_ENDS)),
        ),
    )


def _thread_link_params(thread_id: int) -> dict[str, str]:
    return {f"thread_link_{i}": f"%/t/{thread_id}{end}%" for i, end in enumerate(_LINK_ENDS)}


@functools.cache
def _updates_statement(members: bool, with_authors: bool):
    """``_updates_and_outcome``'s query, built once per kind of viewer: building it (aliases,
    a dozen LIKEs) cost more than running it. Parameters: ``thread_id``, ``outcome_post_id``,
    ``author_ids`` and ``_thread_link_params``."""
    thread_id = bindparam("thread_id", type_=Integer)
    opening = aliased(Post)
    here = and_(
        Post.thread_id == thread_id,
        or_(Post.is_update.is_(True), Post.id == bindparam("outcome_post_id", type_=Integer)),
    )
    where = here
    if with_authors:
        linked = and_(
            Post.is_update.is_(True),
            Post.author_id.in_(bindparam("author_ids", expanding=True)),
            Thread.deleted_at.is_(None),
            or_(
                _links_to_thread(Post.body_html, thread_id),
                and_(
                    opening.author_id == Post.author_id,
                    _links_to_thread(opening.body_html, thread_id),
                ),
            ),
        )
        if not members:
            linked = and_(linked, Board.members_only.is_(False))
        where = or_(here, linked)
    return (
        select(Post, Thread.title)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .outerjoin(opening, opening.id == Thread.first_post_id)
        .where(Post.deleted_at.is_(None), where)
        .order_by(Post.created_at, Post.id)
    )


def _updates_and_outcome(session: Session, viewer, thread: Thread, posts: list[Post]):
    """One query for three things: the thread's updates (listed at the top), whether the
    outcome post is visible, and, for each post shown, a later update by its author, in this
    thread or in one that links here (from the update itself or from its opening post)."""
    author_ids = sorted({p.author_id for p in posts if p.author_id})
    statement = _updates_statement(policies.is_member(viewer), bool(author_ids))
    params: dict = {"thread_id": thread.id, "outcome_post_id": thread.outcome_post_id}
    if author_ids:
        params.update(_thread_link_params(thread.id), author_ids=author_ids)
    rows = session.execute(statement, params).all()
    updates = [p for p, _ in rows if p.thread_id == thread.id and p.is_update]
    outcome_visible = any(p.id == thread.outcome_post_id for p, _ in rows)
    later: dict[int, LaterUpdate] = {}
    for post in posts:
        for update, title in rows:  # oldest first: the last match is the latest update
            if (
                update.is_update
                and update.author_id == post.author_id
                and update.created_at > post.created_at
                and not post.deleted_at
            ):
                later[post.id] = LaterUpdate(update.id, update.thread_id, title, update.created_at)
    return updates, later, outcome_visible


def related_threads(
    session: Session, viewer, thread: Thread, tags: list[ThreadTag], limit: int = 5
) -> list[Thread]:
    """One query: visible threads sharing the most tags (condition, treatment, symptom) with
    ``thread``, most recently active first among equals; without tags, the newest in its board."""
    query = (
        select(Thread)
        .join(Board, Board.id == Thread.board_id)
        .where(Thread.id != thread.id, Thread.deleted_at.is_(None))
        .limit(limit)
    )
    if not policies.is_member(viewer):
        query = query.where(Board.members_only.is_(False))
    if tags:
        other = _RELATED_TAG
        shared = or_(*(and_(other.kind == t.kind, other.slug == t.slug) for t in tags))
        query = (
            query.join(other, other.thread_id == Thread.id)
            .where(shared)
            .group_by(Thread.id)
            .order_by(func.count().desc(), Thread.last_post_at.desc(), Thread.id.desc())
        )
    else:
        query = query.where(Thread.board_id == thread.board_id).order_by(
            Thread.last_post_at.desc(), Thread.id.desc()
        )
    return list(session.scalars(query))


def post_location(session: Session, viewer, post_id: int, per_page: int) -> tuple[Thread, int]:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("There is no post with that number.")
    thread, _board, is_mod = load_thread(session, viewer, post.thread_id)
    if post.deleted_at and not is_mod:
        raise NotFound("That post was removed.")
    return thread, post.position // per_page + 1


@dataclass
class MemberPage:
    member: User
    posts: list[tuple[Post, Thread]]
    history: list[HistoryEvent]
    moderated_boards: list[Board]


def member_page(session: Session, viewer, username_key: str, recent: int = 10) -> MemberPage:
    member = session.scalar(select(User).where(User.username_key == username_key))
    if member is None or member.deleted_at is not None:  # deleted accounts have no page
        raise NotFound("There is no member with that name.")
    query = (
        select(Post, Thread)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .where(
            Post.author_id == member.id,
            Post.deleted_at.is_(None),
            Thread.deleted_at.is_(None),
        )
        .order_by(Post.created_at.desc())
        .limit(recent)
    )
    if not policies.is_member(viewer):
        query = query.where(Board.members_only.is_(False))
    posts = [(p, t) for p, t in session.execute(query).all()]
    history = list(
        session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.user_id == member.id)
            .order_by(HistoryEvent.year, HistoryEvent.month, HistoryEvent.day, HistoryEvent.id)
        )
    )
    boards = list(
        session.scalars(
            select(Board)
            .join(BoardModerator, BoardModerator.board_id == Board.id)
            .where(BoardModerator.user_id == member.id)
        )
    )
    return MemberPage(member, posts, history, boards)


def revisions(session: Session, post_id: int):
    from forum.models import PostRevision

    return list(
        session.scalars(
            select(PostRevision)
            .options(joinedload(PostRevision.editor))
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.created_at.desc(), PostRevision.id.desc())
        )
    )


def count_rows(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0
