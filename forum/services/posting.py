"""Starting threads, replying, editing, deleting and restoring posts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, Post, PostRevision, Thread, User, utcnow
from forum.services import validation
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.search_queue import enqueue
from forum.text.markup import render_markdown
from forum.text.slugs import slugify


def start_thread(
    session: Session,
    actor: User,
    board: Board,
    title: str,
    body: str,
    *,
    remind_after_months: int | None = None,
) -> Thread:
    if not policies.can_start_thread(actor, board):
        raise PermissionDenied("You can't start a thread on this board.")
    errors: dict[str, str] = {}
    try:
        title = validation.clean_title(title)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        body = validation.clean_body(body)
    except ValidationError as exc:
        errors.update(exc.errors)
    if remind_after_months is not None and not 1 <= remind_after_months <= 120:
        errors["remind_after_months"] = "Reminders can be set from 1 to 120 months ahead."
    if errors:
        raise ValidationError(errors)

    now = utcnow()
    thread = Thread(
        board_id=board.id,
        author_id=actor.id,
        title=title,
        slug=slugify(title),
        created_at=now,
        last_post_at=now,
        changed_at=now,
        next_position=1,
        post_count=1,
        remind_after_months=remind_after_months,
    )
    session.add(thread)
    session.flush()
    post = Post(
        thread_id=thread.id,
        author_id=actor.id,
        position=0,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
    )
    session.add(post)
    session.flush()
    thread.first_post_id = post.id
    thread.last_post_id = post.id
    session.execute(
        update(Board)
        .where(Board.id == board.id)
        .values(
            thread_count=Board.thread_count + 1,
            post_count=Board.post_count + 1,
            last_post_id=post.id,
        )
    )
    session.execute(update(User).where(User.id == actor.id).values(post_count=User.post_count + 1))
    if remind_after_months:
        from forum.services.reminders import schedule_thread_reminder

        schedule_thread_reminder(session, actor, thread, remind_after_months, now=now)
    enqueue(session, "post", post.id)
    session.commit()
    return thread


def reply(
    session: Session,
    actor: User,
    thread: Thread,
    board: Board,
    body: str,
    *,
    is_update: bool = False,
) -> Post:
    if not policies.can_reply(actor, thread, board):
        if thread.is_locked:
            raise PermissionDenied("This thread is locked.")
        raise PermissionDenied("You can't reply to this thread.")
    if is_update and not policies.can_post_update(actor, thread):
        raise PermissionDenied("Only the thread's author can post an update to it.")
    body = validation.clean_body(body)

    now = utcnow()
    position = session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(
            next_position=Thread.next_position + 1,
            post_count=Thread.post_count + 1,
            last_post_at=now,
            changed_at=now,
        )
        .returning(Thread.next_position)
    ).scalar_one() - 1
    post = Post(
        thread_id=thread.id,
        author_id=actor.id,
        position=position,
        body=body,
        body_html=str(render_markdown(body)),
        created_at=now,
        is_update=is_update,
    )
    session.add(post)
    session.flush()
    session.execute(update(Thread).where(Thread.id == thread.id).values(last_post_id=post.id))
    session.execute(
        update(Board)
        .where(Board.id == board.id)
        .values(post_count=Board.post_count + 1, last_post_id=post.id)
    )
    session.execute(update(User).where(User.id == actor.id).values(post_count=User.post_count + 1))
    if is_update:
        from forum.services.reminders import complete_thread_reminders

        complete_thread_reminders(session, actor, thread, now=now)
    enqueue(session, "post", post.id)
    session.commit()
    session.refresh(thread)
    return post


def edit_post(
    session: Session,
    actor: User,
    post: Post,
    thread: Thread,
    board: Board,
    body: str,
    *,
    title: str | None = None,
) -> Post:
    if not policies.can_edit_post(actor, post, board):
        raise PermissionDenied("You can't edit this post.")
    errors: dict[str, str] = {}
    try:
        body = validation.clean_body(body)
    except ValidationError as exc:
        errors.update(exc.errors)
    new_title = None
    if title is not None and post.position == 0:
        try:
            new_title = validation.clean_title(title)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    title_changed = new_title is not None and new_title != thread.title
    if body == post.body and not title_changed:
        return post  # nothing changed: no revision, no "Last edit"

    now = utcnow()
    session.add(
        PostRevision(
            post_id=post.id,
            body=post.body,
            title=thread.title if title_changed else None,
            editor_id=actor.id,
            created_at=now,
        )
    )
    post.body = body
    post.body_html = str(render_markdown(body))
    post.edited_at = now
    post.edited_by_id = actor.id
    thread.changed_at = now
    if title_changed:
        thread.title = new_title
        thread.slug = slugify(new_title)
        enqueue(session, "thread", thread.id)
    else:
        enqueue(session, "post", post.id)
    session.commit()
    return post


def delete_post(session: Session, actor: User, post: Post, thread: Thread, board: Board) -> None:
    """Soft-delete a post; deleting the opening post hides the whole thread."""
    if not policies.can_delete_post(actor, post, board):
        raise PermissionDenied("You can't delete this post.")
    if post.deleted_at is not None:
        return
    now = utcnow()
    post.deleted_at = now
    post.deleted_by_id = actor.id
    thread.changed_at = now
    if post.position == 0:
        thread.deleted_at = now
        board.thread_count = Board.thread_count - 1
        board.post_count = Board.post_count - thread.post_count
        enqueue(session, "thread", thread.id)
    else:
        thread.post_count = Thread.post_count - 1
        board.post_count = Board.post_count - 1
        enqueue(session, "post", post.id)
    if post.author_id:
        session.execute(
            update(User).where(User.id == post.author_id).values(post_count=User.post_count - 1)
        )
    session.flush()
    _refresh_last_posts(session, thread, board)
    session.commit()


def restore_post(session: Session, actor: User, post: Post, thread: Thread, board: Board) -> None:
    if not policies.can_restore_post(actor, board):
        raise PermissionDenied("Only moderators can restore posts.")
    if post.deleted_at is None:
        return
    post.deleted_at = None
    post.deleted_by_id = None
    thread.changed_at = utcnow()
    if post.position == 0:
        thread.deleted_at = None
        board.thread_count = Board.thread_count + 1
        board.post_count = Board.post_count + thread.post_count
        enqueue(session, "thread", thread.id)
    else:
        thread.post_count = Thread.post_count + 1
        board.post_count = Board.post_count + 1
        enqueue(session, "post", post.id)
    if post.author_id:
        session.execute(
            update(User).where(User.id == post.author_id).values(post_count=User.post_count + 1)
        )
    session.flush()
    _refresh_last_posts(session, thread, board)
    session.commit()


def _refresh_last_posts(session: Session, thread: Thread, board: Board) -> None:
    last = session.execute(
        select(Post.id, Post.created_at)
        .where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
        .order_by(Post.position.desc())
        .limit(1)
    ).first()
    if last is not None:
        thread.last_post_id, thread.last_post_at = last
    board.last_post_id = session.scalar(
        select(Thread.last_post_id)
        .where(Thread.board_id == board.id, Thread.deleted_at.is_(None))
        .order_by(Thread.last_post_at.desc())
        .limit(1)
    )
