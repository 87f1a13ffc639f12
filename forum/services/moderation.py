"""Moderating threads and members: lock, sticky, move, split, merge, approve held posts,
suspend and ban. Every action is checked by ``forum.policies`` and written to the moderation
log in the same transaction.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import (
    RESTRICTIONS,
    Board,
    HeldPost,
    Post,
    Suspension,
    Thread,
    ThreadWatch,
    UpdateReminder,
    User,
    utcnow,
)
from forum.services import board_moderators, moderation_log, posting, validation
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.services.notifications import notify
from forum.services.search_queue import enqueue
from forum.text.slugs import slugify

MAX_DAYS = 3650


def _require(allowed: bool, message: str = "Only this board's moderators can do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _tell(session: Session, actor: User, user_id: int | None, text: str, **target) -> None:
    if user_id is not None and user_id != actor.id:
        notify(session, user_id, "moderation", actor_id=actor.id, text=text, **target)


# -- thread state ------------------------------------------------------------------------------


def set_locked(
    session: Session, actor: User, thread: Thread, board: Board, locked: bool, reason: str = ""
) -> Thread:
    board_moderators.load(session, actor)
    _require(policies.can_lock(actor, board))
    return _set_flag(session, actor, thread, "is_locked", locked, "thread.lock", "thread.unlock",
                     reason)


def set_sticky(
    session: Session, actor: User, thread: Thread, board: Board, sticky: bool, reason: str = ""
) -> Thread:
    board_moderators.load(session, actor)
    _require(policies.can_sticky(actor, board))
    return _set_flag(session, actor, thread, "is_sticky", sticky, "thread.sticky",
                     "thread.unsticky", reason)


def _set_flag(
    session: Session, actor: User, thread: Thread, flag: str, value: bool,
    on_action: str, off_action: str, reason: str,
) -> Thread:
    """Turn a thread's flag on or off; a real change is logged with the moderator's reason."""
    reason = moderation_log.clean_reason(reason)
    if getattr(thread, flag) != value:
        setattr(thread, flag, value)
        thread.changed_at = utcnow()
        action = on_action if value else off_action
        moderation_log.record(session, actor, action, "thread", thread.id, reason)
    session.commit()
    return thread


# -- moving, splitting, merging ----------------------------------------------------------------


def _visible_posts(session: Session, thread_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.thread_id == thread_id, Post.deleted_at.is_(None))
        )
        or 0
    )


def recount_board(session: Session, board: Board) -> None:
    """A board's thread and post counts and latest post, from its threads (a few statements)."""
    live = (Thread.board_id == board.id, Thread.deleted_at.is_(None))
    count, posts = session.execute(
        select(func.count(), func.coalesce(func.sum(Thread.post_count), 0)).where(*live)
    ).one()
    board.thread_count = count
    board.post_count = posts
    board.last_post_id = session.scalar(
        select(Thread.last_post_id).where(*live).order_by(Thread.last_post_at.desc()).limit(1)
    )


def recount_thread(session: Session, thread: Thread) -> None:
    thread.post_count = _visible_posts(session, thread.id)
    last = session.execute(
        select(Post.id, Post.created_at)
        .where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
        .order_by(Post.position.desc())
        .limit(1)
    ).first()
    if last is not None:
        thread.last_post_id, thread.last_post_at = last
    thread.changed_at = utcnow()


def move_thread(
    session: Session, actor: User, thread: Thread, board: Board, to_board: Board, reason: str = ""
) -> Thread:
    board_moderators.load(session, actor)
    _require(
        policies.can_move_thread(actor, board, to_board),
        "You can move threads only between boards you moderate.",
    )
    reason = moderation_log.clean_reason(reason)
    if to_board.id == board.id:
        raise ValidationError({"board_id": "The thread is already on that board."})
    thread.board_id = to_board.id
    thread.changed_at = utcnow()
    session.execute(
        update(HeldPost).where(HeldPost.thread_id == thread.id).values(board_id=to_board.id)
    )
    session.flush()
    recount_board(session, board)
    recount_board(session, to_board)
    enqueue(session, "thread", thread.id)
    moderation_log.record(
        session,
        actor,
        "thread.move",
        "thread",
        thread.id,
        reason,
        {"board": [board.name, to_board.name]},
    )
    _tell(
        session,
        actor,
        thread.author_id,
        f"moved your thread “{thread.title}” to {to_board.name}",
        thread_id=thread.id,
    )
    session.commit()
    return thread


def split_thread(
    session: Session,
    actor: User,
    post: Post,
    thread: Thread,
    board: Board,
    title: str,
    to_board: Board | None = None,
    reason: str = "",
) -> Thread:
    """Move ``post`` and every later post of its thread into a new thread."""
    board_moderators.load(session, actor)
    to_board = to_board or board
    _require(
        policies.can_split_thread(actor, board, to_board),
        "You can split threads only on boards you moderate.",
    )
    errors: dict[str, str] = {}
    try:
        title = validation.clean_title(title)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        reason = moderation_log.clean_reason(reason)
    except ValidationError as exc:
        errors.update(exc.errors)
    if post.position == 0:
        errors["form"] = "Split at a reply: the opening post is the whole thread (move it instead)."
    elif post.deleted_at is not None:
        errors["form"] = "That post is deleted. Restore it first, or split at another post."
    if errors:
        raise ValidationError(errors)

    moved = list(
        session.scalars(
            select(Post)
            .where(Post.thread_id == thread.id, Post.position >= post.position)
            .order_by(Post.position)
        )
    )
    now = utcnow()
    new = Thread(
        board_id=to_board.id,
        author_id=post.author_id,
        title=title,
        slug=slugify(title),
        created_at=post.created_at,
        last_post_at=post.created_at,
        changed_at=now,
        next_position=len(moved),
    )
    session.add(new)
    session.flush()
    for position, moving in enumerate(moved):
        moving.thread_id = new.id
        moving.position = position
    new.first_post_id = moved[0].id
    session.flush()
    recount_thread(session, new)
    recount_thread(session, thread)
    recount_board(session, board)
    if to_board.id != board.id:
        recount_board(session, to_board)
    enqueue(session, "thread", thread.id)
    enqueue(session, "thread", new.id)
    details = {"new_thread": new.id, "posts": len(moved), "title": title}
    moderation_log.record(session, actor, "thread.split", "thread", thread.id, reason, details)
    moderation_log.record(
        session, actor, "thread.split_into", "thread", new.id, reason, {"from_thread": thread.id}
    )
    _tell(
        session,
        actor,
        post.author_id,
        f"split your post into a new thread, “{title}”",
        thread_id=new.id,
        post_id=post.id,
    )
    session.commit()
    return new


def merge_threads(
    session: Session,
    actor: User,
    source: Thread,
    source_board: Board,
    target: Thread,
    target_board: Board,
    reason: str = "",
) -> Thread:
    """Append every post of ``source`` to ``target``; old links to ``source`` lead to it."""
    board_moderators.load(session, actor)
    _require(
        policies.can_merge_threads(actor, source_board, target_board),
        "You can merge threads only on boards you moderate.",
    )
    reason = moderation_log.clean_reason(reason)
    if source.id == target.id:
        raise ValidationError({"target": "A thread can't be merged into itself."})
    if target.deleted_at is not None or target.merged_into_id is not None:
        raise ValidationError({"target": "That thread is deleted: choose another one."})
    if source.deleted_at is not None:
        raise Conflict("This thread is deleted. Restore it before merging it.")

    posts = list(
        session.scalars(select(Post).where(Post.thread_id == source.id).order_by(Post.position))
    )
    start = session.execute(
        update(Thread)
        .where(Thread.id == target.id)
        .values(next_position=Thread.next_position + len(posts))
        .returning(Thread.next_position)
    ).scalar_one() - len(posts)
    for offset, moving in enumerate(posts):
        moving.thread_id = target.id
        moving.position = start + offset
    now = utcnow()
    source.deleted_at = now
    source.merged_into_id = target.id
    source.first_post_id = None
    source.last_post_id = None
    source.post_count = 0
    source.changed_at = now
    watching = select(ThreadWatch.user_id).where(ThreadWatch.thread_id == target.id)
    for watch in session.scalars(
        select(ThreadWatch).where(
            ThreadWatch.thread_id == source.id, ThreadWatch.user_id.not_in(watching)
        )
    ):
        session.add(ThreadWatch(user_id=watch.user_id, thread_id=target.id, muted=watch.muted))
    for model in (UpdateReminder, HeldPost):
        session.execute(
            update(model).where(model.thread_id == source.id).values(thread_id=target.id)
        )
    session.execute(
        update(HeldPost).where(HeldPost.thread_id == target.id).values(board_id=target_board.id)
    )
    session.flush()
    session.refresh(target)
    recount_thread(session, target)
    recount_board(session, source_board)
    if target_board.id != source_board.id:
        recount_board(session, target_board)
    enqueue(session, "thread", target.id)
    enqueue(session, "thread", source.id)
    moderation_log.record(
        session,
        actor,
        "thread.merge",
        "thread",
        target.id,
        reason,
        {"from_thread": source.id, "title": source.title},
    )
    moderation_log.record(
        session, actor, "thread.merged_into", "thread", source.id, reason, {"into": target.id}
    )
    _tell(
        session,
        actor,
        source.author_id,
        f"merged your thread “{source.title}” into “{target.title}”",
        thread_id=target.id,
    )
    session.commit()
    return target


# -- posts held for approval -------------------------------------------------------------------


def _held_context(session: Session, held: HeldPost) -> tuple[Board, Thread | None, User]:
    board = session.get(Board, held.board_id)
    thread = session.get(Thread, held.thread_id) if held.thread_id else None
    author = session.get(User, held.author_id)
    if board is None or author is None:
        raise NotFound("That post is no longer waiting.")
    return board, thread, author


def approve(session: Session, actor: User, held: HeldPost) -> Post:
    """Publish a held post as its author wrote it; returns the post."""
    board_moderators.load(session, actor)
    board, thread, author = _held_context(session, held)
    _require(policies.can_approve(actor, board))
    if held.thread_id is not None:
        if thread is None or thread.deleted_at is not None:
            raise Conflict(
                "The thread it replies to was deleted meanwhile: reject the post instead."
            )
        post = posting.publish_reply(
            session, author, thread, board, held.body, held.body_html, is_update=held.is_update
        )
    else:
        thread = posting.publish_thread(
            session,
            author,
            board,
            held.title,
            held.body,
            held.body_html,
            remind_after_months=held.remind_after_months,
        )
        session.flush()
        post = session.get(Post, thread.first_post_id)
    session.delete(held)
    moderation_log.record(
        session, actor, "post.approve", "post", post.id, "", {"thread": thread.id}
    )
    _tell(
        session,
        actor,
        author.id,
        f"approved your post in “{thread.title}”",
        thread_id=thread.id,
        post_id=post.id,
    )
    session.commit()
    return post


def reject(session: Session, actor: User, held: HeldPost, reason: str = "") -> None:
    board_moderators.load(session, actor)
    board, thread, author = _held_context(session, held)
    _require(policies.can_approve(actor, board))
    reason = moderation_log.clean_reason(reason)
    where = f"“{thread.title}”" if thread is not None else f"“{held.title}” on {board.name}"
    moderation_log.record(
        session,
        actor,
        "post.reject",
        "user",
        author.id,
        reason,
        {
            "board": board.name,
            "thread": thread.id if thread else None,
            "excerpt": " ".join(held.body.split())[:200],
        },
    )
    session.delete(held)
    _tell(
        session,
        actor,
        author.id,
        f"didn't approve your post in {where}" + (f": {reason}" if reason else ""),
        thread_id=thread.id if thread is not None else None,
    )
    session.commit()


# -- suspending and banning members ------------------------------------------------------------


def suspend(
    session: Session,
    actor: User,
    member: User,
    *,
    kind: str,
    reason: str,
    days: int | None,
) -> Suspension:
    """Suspend (may read, may not post) or ban (may not log in) for ``days``, or until lifted."""
    if not policies.can_suspend(actor, member):
        raise PermissionDenied("You can't suspend or ban this member.")
    errors: dict[str, str] = {}
    if kind not in RESTRICTIONS:
        errors["kind"] = "Choose a suspension or a ban."
    try:
        reason = moderation_log.clean_reason(reason, required=True)
    except ValidationError as exc:
        errors.update(exc.errors)
    if days is not None and not 1 <= days <= MAX_DAYS:
        errors["days"] = f"Give a number of days from 1 to {MAX_DAYS}, or leave it empty."
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    ends_at = now + timedelta(days=days) if days is not None else None
    _close_running(session, actor, member, now, "Replaced by a new decision.")
    record = Suspension(
        user_id=member.id,
        moderator_id=actor.id,
        kind=kind,
        reason=reason,
        created_at=now,
        ends_at=ends_at,
    )
    session.add(record)
    member.restriction = kind
    member.restricted_until = ends_at
    if kind == "banned":
        member.session_token = secrets.token_hex(8)  # logged out everywhere at once
    until = ends_at.isoformat(timespec="minutes") if ends_at else "until lifted"
    action = "user.ban" if kind == "banned" else "user.suspend"
    moderation_log.record(session, actor, action, "user", member.id, reason, {"until": until})
    session.commit()
    return record


def lift(session: Session, actor: User, member: User, reason: str = "") -> None:
    if not policies.can_suspend(actor, member):
        raise PermissionDenied("You can't lift this member's suspension.")
    reason = moderation_log.clean_reason(reason)
    if member.restriction is None:
        raise Conflict(f"{member.username} isn't suspended or banned.")
    _close_running(session, actor, member, utcnow(), reason)
    member.restriction = None
    member.restricted_until = None
    moderation_log.record(session, actor, "user.lift", "user", member.id, reason)
    session.commit()


def _close_running(session: Session, actor: User, member: User, now, reason: str) -> None:
    session.execute(
        update(Suspension)
        .where(Suspension.user_id == member.id, Suspension.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by_id=actor.id, lift_reason=reason)
    )


def current_suspension(session: Session, member: User) -> Suspension | None:
    """The record behind the member's running suspension or ban, if any."""
    if not policies.is_suspended(member):
        return None
    return session.scalar(
        select(Suspension)
        .where(Suspension.user_id == member.id, Suspension.lifted_at.is_(None))
        .order_by(Suspension.created_at.desc(), Suspension.id.desc())
        .limit(1)
    )
