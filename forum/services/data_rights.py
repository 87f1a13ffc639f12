"""Members' data rights: download everything about me, and delete my account.

Deleting an account keeps the ``users`` row (as an anonymous "former member", so moderation
records and other members' threads keep their shape) but erases what identified the member:
name, email, password, signature, titles, treatment history, settings, watches, notifications.
The member chooses whether their posts stay (under "Former member") or are removed (their
text erased). Threads they started that others replied to keep their title, so the replies
keep their context.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from forum import policies
from forum.models import (
    AccountToken,
    Board,
    BoardModerator,
    BoardReadMark,
    BoardWatch,
    HeldPost,
    HistoryEvent,
    Notification,
    OutboxMail,
    Post,
    PostRevision,
    ReadMark,
    Report,
    Suspension,
    Thread,
    ThreadWatch,
    UpdateReminder,
    User,
    utcnow,
)
from forum.services import account_safety, moderation_log, validation
from forum.services.errors import PermissionDenied
from forum.services.search_queue import enqueue

EXPORT_FORMAT = 1


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export_data(session: Session, user: User) -> dict[str, Any]:
    """Everything the forum keeps about ``user`` that is theirs, as plain JSON-ready data.

    A fixed number of queries whatever the amount: history, posts, held posts, reports,
    suspensions, boards moderated, watches.
    """
    if not policies.can_manage_account(user):
        raise PermissionDenied("Please log in first.")
    history = session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.user_id == user.id)
        .order_by(HistoryEvent.year, HistoryEvent.month, HistoryEvent.day, HistoryEvent.id)
    ).all()
    posts = session.execute(
        select(Post, Thread.title, Board.name)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Board, Board.id == Thread.board_id)
        .where(Post.author_id == user.id)
        .order_by(Post.created_at, Post.id)
    ).all()
    held = session.scalars(
        select(HeldPost).where(HeldPost.author_id == user.id).order_by(HeldPost.created_at)
    ).all()
    reports = session.execute(
        select(Report, Post.thread_id)
        .join(Post, Post.id == Report.post_id)
        .where(Report.reporter_id == user.id)
        .order_by(Report.created_at, Report.id)
    ).all()
    suspensions = session.scalars(
        select(Suspension).where(Suspension.user_id == user.id).order_by(Suspension.created_at)
    ).all()
    moderated = session.scalars(
        select(Board.name)
        .join(BoardModerator, BoardModerator.board_id == Board.id)
        .where(BoardModerator.user_id == user.id)
    ).all()
    watched = session.execute(
        select(Thread.id, Thread.title, ThreadWatch.muted)
        .join(ThreadWatch, ThreadWatch.thread_id == Thread.id)
        .where(ThreadWatch.user_id == user.id)
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "profile": {
            "username": user.username,
            "email": user.email,
            "email_verified_at": _iso(user.email_verified_at),
            "role": user.role,
            "custom_title": user.custom_title,
            "signature": user.signature,
            "history_visibility": user.history_visibility,
            "profile_indexable": user.profile_indexable,
            "joined_at": _iso(user.created_at),
            "last_active_at": _iso(user.last_active_at),
            "post_count": user.post_count,
            "email_mode": user.email_mode,
            "auto_watch": user.auto_watch,
            "anniversary_reminders": user.anniversary_reminders,
            "moderates_boards": list(moderated),
        },
        "history": [
            {
                "kind": e.kind,
                "date": e.date_text,
                "year": e.year,
                "month": e.month,
                "day": e.day,
                "end_date": e.end_date_text,
                "condition": e.condition,
                "treatment": e.treatment,
                "symptom": e.symptom,
                "label": e.label_text,
                "side": e.side,
                "sizes_mm": list(e.sizes_mm),
                "place": e.place,
                "note": e.note,
            }
            for e in history
        ],
        "posts": [
            {
                "id": post.id,
                "thread_id": post.thread_id,
                "thread_title": title,
                "board": board,
                "opening_post": post.position == 0,
                "is_update": post.is_update,
                "created_at": _iso(post.created_at),
                "edited_at": _iso(post.edited_at),
                "deleted_at": _iso(post.deleted_at),
                "body": post.body,
            }
            for post, title, board in posts
        ],
        "posts_awaiting_approval": [
            {"created_at": _iso(h.created_at), "title": h.title, "body": h.body} for h in held
        ],
        "reports_made": [
            {
                "post_id": report.post_id,
                "thread_id": thread_id,
                "reason": report.reason,
                "created_at": _iso(report.created_at),
                "status": report.status,
            }
            for report, thread_id in reports
        ],
        "suspensions": [
            {
                "kind": s.kind,
                "reason": s.reason,
                "from": _iso(s.created_at),
                "until": _iso(s.ends_at),
                "lifted_at": _iso(s.lifted_at),
            }
            for s in suspensions
        ],
        "watched_threads": [
            {"thread_id": tid, "title": title, "muted": muted} for tid, title, muted in watched
        ],
    }


def delete_account(session: Session, actor: User, password: str, *, keep_posts: bool) -> None:
    """Erase the member's account. ``keep_posts``: their posts stay as "Former member";
    otherwise their text is erased and the posts removed."""
    if not policies.can_manage_account(actor):
        raise PermissionDenied("Please log in first.")
    account_safety._check_password(actor, password, field="password")
    now = utcnow()
    user_id = actor.id
    if keep_posts:
        _keep_posts(session, user_id)
    else:
        _remove_posts(session, user_id, now)

    # What identified the member, and everything that was only theirs.
    for model, column in (
        (HistoryEvent, HistoryEvent.user_id),
        (HeldPost, HeldPost.author_id),
        (ThreadWatch, ThreadWatch.user_id),
        (BoardWatch, BoardWatch.user_id),
        (ReadMark, ReadMark.user_id),
        (BoardReadMark, BoardReadMark.user_id),
        (Notification, Notification.user_id),
        (OutboxMail, OutboxMail.user_id),
        (UpdateReminder, UpdateReminder.user_id),
        (AccountToken, AccountToken.user_id),
        (BoardModerator, BoardModerator.user_id),
    ):
        session.execute(delete(model).where(column == user_id))
    session.execute(update(Report).where(Report.reporter_id == user_id).values(reporter_id=None))
    session.execute(
        update(Notification).where(Notification.actor_id == user_id).values(actor_id=None)
    )
    session.execute(
        update(PostRevision).where(PostRevision.editor_id == user_id).values(editor_id=None)
    )
    placeholder = f"former-member-{user_id}"
    actor.username = placeholder
    actor.username_key = validation.username_key(placeholder)
    actor.email = f"{placeholder}@deleted.invalid"
    actor.email_key = actor.email
    actor.email_verified_at = None
    actor.password_hash = None
    actor.legacy_password_hash = None
    actor.legacy_member_name = None  # the name on the old forum identifies them too
    actor.signature_review_pending = False
    actor.role = "member"
    actor.custom_title = ""
    actor.signature = ""
    actor.memorial_line = ""
    actor.in_memoriam = False
    actor.history_visibility = "private"
    actor.profile_indexable = False
    actor.anniversary_reminders = False
    actor.email_mode = "never"
    actor.post_count = 0
    actor.session_token = secrets.token_hex(8)
    actor.deleted_at = now
    moderation_log.record(
        session,
        None,
        "user.deleted_account",
        "user",
        user_id,
        details={"posts": "kept" if keep_posts else "removed"},
    )
    session.commit()


def _keep_posts(session: Session, user_id: int) -> None:
    thread_ids = set(session.scalars(select(Post.thread_id).where(Post.author_id == user_id)))
    session.execute(update(Post).where(Post.author_id == user_id).values(author_id=None))
    session.execute(update(Thread).where(Thread.author_id == user_id).values(author_id=None))
    for thread_id in thread_ids:  # the index shows authors' names
        enqueue(session, "thread", thread_id)


def _remove_posts(session: Session, user_id: int, now) -> None:
    post_ids = list(session.scalars(select(Post.id).where(Post.author_id == user_id)))
    thread_ids = set(session.scalars(select(Post.thread_id).where(Post.author_id == user_id)))
    started = set(session.scalars(select(Thread.id).where(Thread.author_id == user_id)))
    if post_ids:
        session.execute(delete(PostRevision).where(PostRevision.post_id.in_(post_ids)))
        session.execute(
            update(Post)
            .where(Post.id.in_(post_ids))
            .values(
                body="",
                body_html="",
                author_id=None,
                deleted_at=func.coalesce(Post.deleted_at, now),
                deleted_by_id=None,
            )
        )
    # Threads they started: gone when nobody else wrote in them; otherwise they stay for the
    # replies (with their title), the opening post removed.
    other = aliased(Post)
    others_wrote = (
        select(other.id).where(other.thread_id == Thread.id, other.deleted_at.is_(None)).exists()
    )
    if started:
        session.execute(
            update(Thread)
            .where(Thread.id.in_(started), ~others_wrote, Thread.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        session.execute(update(Thread).where(Thread.id.in_(started)).values(author_id=None))
    session.flush()
    from forum.services.moderation import recount_board, recount_thread

    boards: set[int] = set()
    for thread in session.scalars(select(Thread).where(Thread.id.in_(thread_ids | started))):
        recount_thread(session, thread)
        boards.add(thread.board_id)
        enqueue(session, "thread", thread.id)
    for board in session.scalars(select(Board).where(Board.id.in_(boards))):
        recount_board(session, board)
