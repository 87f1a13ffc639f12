"""What a notification says and where it leads: one wording for the list, the mails and digests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from forum.models import Notification, Thread, User
from forum.services import outbox


def describe(kind: str, actor: str | None, title: str, text: str, count: int) -> str:
    """One line saying what happened: the notification list and the mails both use it."""
    who = actor or "A former member"
    if kind == "reply":
        if count > 1:
            return f"{count} new replies in “{title}”"
        return f"{who} replied in “{title}”"
    if kind == "quote":
        return f"{who} quoted you in “{title}”"
    if kind == "mention":
        return f"{who} mentioned you in “{title}”"
    if kind == "new_thread":
        return f"{who} started “{title}”" + (f" on {text}" if text else "")
    if kind == "moderation":
        return f"A moderator {text}" if text else f"A moderator acted on your post in “{title}”"
    if kind == "resolved":
        return f"Your thread “{title}” was marked resolved" + (f": {text}" if text else "")
    if kind == "reminder":
        return text or f"Time for an update on “{title}”?"
    if kind == "message":
        # Never the subject or the words: private conversations stay out of mailboxes.
        if count > 1:
            return f"{count} new private messages"
        return f"{who} sent you a private message"
    return text or kind


def target_endpoint(notification: Notification) -> tuple[str, dict]:
    """Where opening a notification leads: (endpoint, values)."""
    if notification.conversation_id is not None:
        return "messages.show", {"conversation_id": notification.conversation_id}
    if notification.post_id is not None:
        return "threads.permalink", {"post_id": notification.post_id}
    if notification.thread_id is not None:
        return "notifications.first_unread", {"thread_id": notification.thread_id}
    return "notifications.index", {}


def mail_for(session: Session, notification_id: int) -> tuple[str, str]:
    """The subject and body of the mail about a notification, as it stands now (app context)."""
    actor = aliased(User)
    notification, actor_name, title = session.execute(
        select(Notification, actor.username, Thread.title)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .where(Notification.id == notification_id)
    ).one()
    words = describe(
        notification.kind, actor_name, title or "", notification.text, notification.count
    )
    endpoint, values = target_endpoint(notification)
    return words, f"{words}.\n\nRead it here: {outbox.external_url(endpoint, **values)}\n"
