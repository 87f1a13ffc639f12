"""Starting threads, replying, editing, deleting and restoring posts.

Members' posts from the web go through :class:`PostingRules` (new members' first posts wait
for approval, new members may include only a few links, the same text twice in a row is
refused); imports, demo data and approvals post without them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, HeldPost, Post, PostRevision, Thread, User, utcnow
from forum.services import board_moderators, moderation_log, validation
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.notifications import after_edit, after_post, notify
from forum.services.search_queue import enqueue
from forum.text.markup import render_markdown
from forum.text.slugs import slugify

# A link to another site, written as Markdown, an image, or a bare address.
_OUTSIDE_LINK = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)", re.IGNORECASE)


@dataclass(frozen=True)
class PostingRules:
    """Anti-spam rules for members posting through the web."""

    approval_post_count: int = 0  # members with fewer posts wait for a moderator's approval
    new_member_posts: int = 0  # members with fewer posts than this are "new"
    new_member_max_links: int | None = None  # links and images a new member's post may hold
    refuse_duplicates: bool = False  # the same text as one's previous post is refused

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PostingRules:
        return cls(
            approval_post_count=int(config.get("APPROVAL_POST_COUNT", 0)),
            new_member_posts=int(config.get("NEW_MEMBER_POSTS", 0)),
            new_member_max_links=config.get("NEW_MEMBER_MAX_LINKS"),
            refuse_duplicates=True,
        )


NO_RULES = PostingRules()


def count_outside_links(body: str) -> int:
    """Links and images to other sites in a post's source (links inside the forum are free)."""
    return len(_OUTSIDE_LINK.findall(body))


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _spam_errors(session: Session, actor: User, body: str, rules: PostingRules) -> dict[str, str]:
    """The rules' complaints about a new post's text ({} when it may go)."""
    is_new = actor.post_count < rules.new_member_posts and not policies.is_global_moderator(actor)
    limit = rules.new_member_max_links
    links = count_outside_links(body)
    if is_new and limit is not None and links > limit:
        allowed = "no links" if limit == 0 else f"at most {limit} link{'s' if limit != 1 else ''}"
        return {
            "body": f"New members' posts can hold {allowed} to other sites (this one has "
            f"{links}). Please remove some; the limit lifts after "
            f"{rules.new_member_posts} posts."
        }
    if rules.refuse_duplicates:
        previous = session.execute(
            select(Post.body, Post.created_at)
            .where(Post.author_id == actor.id, Post.deleted_at.is_(None))
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(1)
        ).first()
        held = session.execute(
            select(HeldPost.body, HeldPost.created_at)
            .where(HeldPost.author_id == actor.id)
            .order_by(HeldPost.created_at.desc(), HeldPost.id.desc())
            .limit(1)
        ).first()
        candidates = [r for r in (previous, held) if r is not None]
        latest = max(candidates, key=lambda r: r[1], default=None)
        if latest is not None and _normalized(latest[0]) == _normalized(body):
            return {"body": "You just posted exactly this text. It is already there, once."}
    return {}


def _hold(
    session: Session,
    actor: User,
    board: Board,
    body: str,
    html: str,
    *,
    thread: Thread | None = None,
    title: str = "",
    is_update: bool = False,
    remind_after_months: int | None = None,
) -> HeldPost:
    held = HeldPost(
        author_id=actor.id,
        board_id=board.id,
        thread_id=thread.id if thread is not None else None,
        title=title,
        body=body,
        body_html=html,
        is_update=is_update,
        remind_after_months=remind_after_months,
        created_at=utcnow(),
    )
    session.add(held)
    session.commit()
    return held


def start_thread(
    session: Session,
    actor: User,
    board: Board,
    title: str,
    body: str,
    *,
    remind_after_months: int | None = None,
    rules: PostingRules = NO_RULES,
) -> Thread | HeldPost:
    """The new thread, or (new members under ``rules``) the post held for approval."""
    board_moderators.load(session, actor)
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
    html = str(render_markdown(body)) if "body" not in errors else ""
    if not errors:
        errors.update(_spam_errors(session, actor, body, rules))
    if errors:
        raise ValidationError(errors)
    if policies.needs_approval(actor, board, rules.approval_post_count):
        return _hold(
            session,
            actor,
            board,
            body,
            html,
            title=title,
            remind_after_months=remind_after_months,
        )
    thread = publish_thread(
        session, actor, board, title, body, html, remind_after_months=remind_after_months
    )
    session.commit()
    return thread


def publish_thread(
    session: Session,
    actor: User,
    board: Board,
    title: str,
    body: str,
    html: str,
    *,
    remind_after_months: int | None = None,
    now: datetime | None = None,
) -> Thread:
    """Create a checked thread and its opening post (no policy checks, no commit)."""
    now = now or utcnow()
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
        body_html=html,
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
    after_post(session, actor, post, thread, board)
    return thread


def reply(
    session: Session,
    actor: User,
    thread: Thread,
    board: Board,
    body: str,
    *,
    is_update: bool = False,
    rules: PostingRules = NO_RULES,
) -> Post | HeldPost:
    """The new post, or (new members under ``rules``) the post held for approval."""
    board_moderators.load(session, actor)
    if not policies.can_reply(actor, thread, board):
        if thread.is_locked:
            raise PermissionDenied("This thread is locked.")
        raise PermissionDenied("You can't reply to this thread.")
    if is_update and not policies.can_post_update(actor, thread):
        raise PermissionDenied("Only the thread's author can post an update to it.")
    body = validation.clean_body(body)
    html = str(render_markdown(body))
    errors = _spam_errors(session, actor, body, rules)
    if errors:
        raise ValidationError(errors)
    if policies.needs_approval(actor, board, rules.approval_post_count):
        return _hold(session, actor, board, body, html, thread=thread, is_update=is_update)
    post = publish_reply(session, actor, thread, board, body, html, is_update=is_update)
    session.commit()
    session.refresh(thread)
    return post


def publish_reply(
    session: Session,
    actor: User,
    thread: Thread,
    board: Board,
    body: str,
    html: str,
    *,
    is_update: bool = False,
    now: datetime | None = None,
) -> Post:
    """Add a checked reply (no policy checks, no commit)."""
    now = now or utcnow()
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
        body_html=html,
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
    after_post(session, actor, post, thread, board)
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
    reason: str = "",
) -> Post:
    """Edit a post, keeping the old text as a revision; a moderator's edit is logged."""
    board_moderators.load(session, actor)
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
    try:
        reason = moderation_log.clean_reason(reason)
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
    old_body = post.body
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
    if post.author_id != actor.id:
        _log_and_tell(session, actor, "post.edit", post, thread, reason, "edited your post")
    elif post.deleted_at is None:
        after_edit(session, actor, post, thread, board, old_body)
    session.commit()
    return post


def _log_and_tell(
    session: Session, actor: User, action: str, post: Post, thread: Thread, reason: str, did: str
) -> None:
    """A moderator acted on someone's post: the moderation log, and a word to the author."""
    on_thread = action.startswith("thread.")
    moderation_log.record(
        session,
        actor,
        action,
        "thread" if on_thread else "post",
        thread.id if on_thread else post.id,
        reason,
        {"thread": thread.id, "post": post.id},
    )
    if post.author_id and post.author_id != actor.id:
        text = f"{did} in “{thread.title}”" + (f": {reason}" if reason else "")
        notify(
            session,
            post.author_id,
            "moderation",
            thread_id=thread.id,
            post_id=post.id,
            actor_id=actor.id,
            text=text,
        )


def delete_post(
    session: Session, actor: User, post: Post, thread: Thread, board: Board, *, reason: str = ""
) -> None:
    """Soft-delete a post; deleting the opening post hides the whole thread."""
    board_moderators.load(session, actor)
    if not policies.can_delete_post(actor, post, board):
        raise PermissionDenied("You can't delete this post.")
    reason = moderation_log.clean_reason(reason)
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
    if post.author_id != actor.id:
        action = "thread.delete" if post.position == 0 else "post.delete"
        did = "deleted your thread" if post.position == 0 else "deleted your post"
        _log_and_tell(session, actor, action, post, thread, reason, did)
    session.flush()
    _refresh_last_posts(session, thread, board)
    session.commit()


def restore_post(
    session: Session, actor: User, post: Post, thread: Thread, board: Board, *, reason: str = ""
) -> None:
    board_moderators.load(session, actor)
    if not policies.can_restore_post(actor, board):
        raise PermissionDenied("Only moderators can restore posts.")
    reason = moderation_log.clean_reason(reason)
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
    action = "thread.restore" if post.position == 0 else "post.restore"
    did = "restored your thread" if post.position == 0 else "restored your post"
    _log_and_tell(session, actor, action, post, thread, reason, did)
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
