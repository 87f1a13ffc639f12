"""The daily digest: one mail per "daily" member listing what they haven't read or been sent.

Run by cron: ``flask --app wsgi forum send-digests`` (queues the digests, then sends them).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from forum.models import Notification, Thread, User, utcnow
from forum.services import outbox
from forum.services.notification_texts import describe, target_endpoint

MAX_LINES = 50


def queue_digests(session: Session, *, now: datetime | None = None) -> int:
    """Queue a digest for every "daily" member with unread, unmailed notifications; commit.

    Returns how many digests were queued. Each notification goes into one digest at most.
    """
    now = now or utcnow()
    actor = aliased(User)
    rows = session.execute(
        select(Notification, User, actor.username, Thread.title)
        .join(User, User.id == Notification.user_id)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(Thread, Thread.id == Notification.thread_id)
        .where(
            User.email_mode == "daily",
            Notification.mailed_at.is_(None),
            Notification.read_at.is_(None),
        )
        .order_by(User.id, Notification.created_at, Notification.id)
    ).all()
    by_user: dict[int, tuple[User, list]] = {}
    for notification, user, actor_name, title in rows:
        by_user.setdefault(user.id, (user, []))[1].append((notification, actor_name, title))
    forum = current_app.config["FORUM_NAME"]
    for user, items in by_user.values():
        lines = []
        for notification, actor_name, title in items[:MAX_LINES]:
            words = describe(
                notification.kind, actor_name, title or "", notification.text, notification.count
            )
            endpoint, values = target_endpoint(notification)
            lines.append(f"- {words}\n  {outbox.external_url(endpoint, **values)}")
        if len(items) > MAX_LINES:
            lines.append(f"… and {len(items) - MAX_LINES} more.")
        count = len(items)
        subject = f"{forum}: {count} new notification{'s' if count != 1 else ''}"
        body = (
            f"Hello {user.username},\n\nWhat happened on {forum} since your last digest:\n\n"
            + "\n".join(lines)
            + f"\n\nAll your notifications: {outbox.external_url('notifications.index')}\n"
        )
        outbox.queue_for_member(session, user, subject, body)
    if rows:
        session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n, *_ in rows]))
            .values(mailed_at=now)
        )
    session.commit()
    return len(by_user)
