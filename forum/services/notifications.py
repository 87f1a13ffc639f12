"""In-app notifications and the emails they cause.

Other services call into this module *before* their own commit, so a notification (and its
queued email) exists exactly when the change that caused it does:

- ``after_post(session, actor, post, thread, board)`` — from ``posting.start_thread``/``reply``:
  auto-watch, @mentions, quotes, replies to watchers, new threads to board watchers.
- ``notify(session, user_id, kind, …)`` — for other features: "moderation" (a moderator acted on
  a member's post), "resolved" (their thread was marked resolved), "reminder" (outcomes).

Each call costs a fixed number of statements however many members are notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import (
    EMAIL_MODES,
    NOTIFICATION_KINDS,
    Board,
    BoardWatch,
    MemberBlock,
    Notification,
    Post,
    Thread,
    ThreadWatch,
    User,
    utcnow,
)
from forum.services import outbox, watching
from forum.services.errors import ValidationError
from forum.services.validation import username_key
from forum.text.mentions import find_mentions, find_quoted_posts

# While a notification of these kinds is unread, more of the same join it (and send no mail).
GROUPED_KINDS = frozenset({"reply", "message"})
# Kinds about thread activity: a muted thread sends none of them.
THREAD_ACTIVITY_KINDS = frozenset({"reply", "quote", "mention", "new_thread"})


@dataclass
class Event:
    """One member to tell about one thing."""

    user_id: int
    kind: str
    actor_id: int | None = None
    thread_id: int | None = None
    post_id: int | None = None
    conversation_id: int | None = None
    text: str = ""


# -- the hooks other services call ------------------------------------------------------------


def after_post(session: Session, actor: User, post: Post, thread: Thread, board: Board) -> None:
    """Everything a new post sets off. Runs in ``posting``'s transaction, before its commit."""
    watching.auto_watch(session, actor, thread)
    kinds: dict[int, str] = {}  # user id → the one kind they get, strongest first
    names = find_mentions(post.body)
    if names:
        keys = [username_key(n) for n in names]
        for user_id in session.scalars(select(User.id).where(User.username_key.in_(keys))):
            kinds[user_id] = "mention"
    quoted = find_quoted_posts(post.body)
    if quoted:
        for author_id in session.scalars(
            select(Post.author_id).where(Post.id.in_(quoted), Post.deleted_at.is_(None))
        ):
            if author_id is not None:
                kinds.setdefault(author_id, "quote")
    if post.position == 0:
        for user_id in session.scalars(
            select(BoardWatch.user_id).where(BoardWatch.board_id == board.id)
        ):
            kinds.setdefault(user_id, "new_thread")
    else:
        muted: set[int] = set()
        for user_id, is_muted in session.execute(
            select(ThreadWatch.user_id, ThreadWatch.muted).where(ThreadWatch.thread_id == thread.id)
        ):
            if is_muted:
                muted.add(user_id)
            else:
                kinds.setdefault(user_id, "reply")
        for user_id in muted:
            kinds.pop(user_id, None)
    kinds.pop(actor.id, None)
    text = board.name if post.position == 0 else ""
    events = [
        Event(uid, kind, actor.id, thread.id, post.id, text=text if kind == "new_thread" else "")
        for uid, kind in kinds.items()
    ]
    deliver(session, events, thread=thread, board=board)


def after_edit(
    session: Session, actor: User, post: Post, thread: Thread, board: Board, old_body: str
) -> None:
    """An author's edit that adds an @mention or a quote tells the newly named members.

    Names and quotes the post already had were notified when it was written: never twice.
    """
    kinds: dict[int, str] = {}
    added_names = {username_key(n) for n in find_mentions(post.body)} - {
        username_key(n) for n in find_mentions(old_body)
    }
    if added_names:
        for user_id in session.scalars(select(User.id).where(User.username_key.in_(added_names))):
            kinds[user_id] = "mention"
    added_quotes = set(find_quoted_posts(post.body)) - set(find_quoted_posts(old_body))
    if added_quotes:
        for author_id in session.scalars(
            select(Post.author_id).where(Post.id.in_(added_quotes), Post.deleted_at.is_(None))
        ):
            if author_id is not None:
                kinds.setdefault(author_id, "quote")
    kinds.pop(actor.id, None)
    events = [Event(uid, kind, actor.id, thread.id, post.id) for uid, kind in kinds.items()]
    deliver(session, events, thread=thread, board=board)


def notify(
    session: Session,
    user_id: int,
    kind: str,
    *,
    thread_id: int | None = None,
    post_id: int | None = None,
    actor_id: int | None = None,
    conversation_id: int | None = None,
    text: str = "",
) -> Notification | None:
    """Tell one member about something, in the caller's transaction (the caller commits).

    For other features: ``notify(session, author_id, "moderation", post_id=…, thread_id=…,
    actor_id=moderator.id, text="edited your post: <reason>")``, ``"resolved"``, ``"reminder"``.
    Returns the notification, or None when the member doesn't get one: they are the actor, they
    blocked the actor, they can't see the thread, or it is thread activity in a muted thread.
    """
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    thread = board = None
    if post_id is not None and thread_id is None:
        thread_id = session.scalar(select(Post.thread_id).where(Post.id == post_id))
    if thread_id is not None:
        row = session.execute(
            select(Thread, Board)
            .join(Board, Board.id == Thread.board_id)
            .where(Thread.id == thread_id)
        ).first()
        if row is not None:
            thread, board = row
    if (
        kind in THREAD_ACTIVITY_KINDS
        and thread_id is not None
        and session.scalar(
            select(ThreadWatch.muted).where(
                ThreadWatch.user_id == user_id, ThreadWatch.thread_id == thread_id
            )
        )
    ):
        return None
    event = Event(user_id, kind, actor_id, thread_id, post_id, conversation_id, text[:280])
    created = deliver(session, [event], thread=thread, board=board)
    return session.get(Notification, created[0]) if created else None


# -- creating notifications and their mails ---------------------------------------------------


def deliver(
    session: Session,
    events: list[Event],
    *,
    thread: Thread | None = None,
    board: Board | None = None,
    subject: str = "",
    now: datetime | None = None,
) -> list[int]:
    """Write the notifications (grouping where one is still unread) and queue the mails.

    Returns the ids of the notifications created (grouped ones are not new).

    Drops members who are the actor, who blocked the actor, or who can't see the thread.
    ``subject`` is a conversation's subject. Does not commit.
    """
    if not events:
        return []
    now = now or utcnow()
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({e.user_id for e in events})))
    }
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    blocked: set[tuple[int, int]] = set()
    if actor_ids:
        blocked = {
            (blocker, blocked_id)
            for blocker, blocked_id in session.execute(
                select(MemberBlock.user_id, MemberBlock.blocked_id).where(
                    MemberBlock.user_id.in_(users), MemberBlock.blocked_id.in_(actor_ids)
                )
            )
        }
    events = [
        e
        for e in events
        if e.user_id in users
        and e.user_id != e.actor_id
        and (e.user_id, e.actor_id) not in blocked
        and (
            thread is None
            or board is None
            or policies.can_view_thread(users[e.user_id], thread, board)
        )
    ]
    events = _join_unread_groups(session, events)
    if not events:
        return []
    rows = [
        {
            "user_id": e.user_id,
            "kind": e.kind,
            "actor_id": e.actor_id,
            "thread_id": e.thread_id,
            "post_id": e.post_id,
            "conversation_id": e.conversation_id,
            "count": 1,
            "text": e.text,
            "created_at": now,
            "mailed_at": now if users[e.user_id].email_mode == "immediate" else None,
        }
        for e in events
    ]
    # One batched INSERT however many members (an ORM flush would insert them one by one).
    created = session.execute(
        insert(Notification).returning(
            Notification.id, Notification.user_id, Notification.mailed_at
        ),
        rows,
    ).all()
    outbox.queue_notifications(session, [(uid, nid) for nid, uid, mailed in created if mailed])
    return [nid for nid, _, _ in created]


def _join_unread_groups(session: Session, events: list[Event]) -> list[Event]:
    """Grouped kinds: add to the member's unread notification about the same thing, if any."""
    remaining = [e for e in events if e.kind not in GROUPED_KINDS]
    by_target: dict[tuple, list[Event]] = {}
    for e in events:
        if e.kind in GROUPED_KINDS:
            by_target.setdefault((e.kind, e.thread_id, e.conversation_id), []).append(e)
    for (kind, thread_id, conversation_id), group in by_target.items():
        target = (
            Notification.conversation_id == conversation_id
            if conversation_id is not None
            else Notification.thread_id == thread_id
        )
        unread = dict(
            session.execute(
                select(Notification.user_id, Notification.id).where(
                    Notification.user_id.in_([e.user_id for e in group]),
                    Notification.kind == kind,
                    target,
                    Notification.read_at.is_(None),
                )
            ).all()
        )
        if unread:
            session.execute(
                update(Notification)
                .where(Notification.id.in_(unread.values()))
                .values(count=Notification.count + 1)
            )
        remaining.extend(e for e in group if e.user_id not in unread)
    return remaining


# -- the member's own actions -----------------------------------------------------------------


def open_notification(session: Session, actor: User, notification_id: int) -> Notification | None:
    """Mark one of the member's notifications read and return it (None if not theirs).

    Called on a GET: it ends the request's read transaction first, so on SQLite the write is a
    transaction of its own that waits its turn (a read followed by a write in one transaction
    fails with "database is locked" when another worker commits in between).
    """
    actor_id = actor.id  # read before the commit expires it
    session.commit()
    session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.user_id == actor_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    session.commit()
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor_id:
        return None
    return notification


def mark_all_read(session: Session, actor: User) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()


def save_preferences(session: Session, actor: User, *, email_mode: str, auto_watch: bool) -> User:
    if email_mode not in EMAIL_MODES:
        raise ValidationError({"email_mode": "Choose immediately, a daily digest, or never."})
    actor.email_mode = email_mode
    actor.auto_watch = auto_watch
    session.commit()
    return actor


def unsubscribe(session: Session, token: str) -> User:
    """The one-click link in every mail: no login, the signed token says who."""
    user = outbox.read_unsubscribe_token(session, token)
    if user is None:
        raise ValidationError(
            "That unsubscribe link is broken or too old. Log in and change your email settings."
        )
    user.email_mode = "never"
    session.commit()
    return user
