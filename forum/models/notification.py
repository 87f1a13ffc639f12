"""In-app notifications: what happened that a member should know about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

NOTIFICATION_KINDS = (
    "reply",  # a reply in a watched thread (several, while unread, share one notification)
    "quote",  # someone quoted my post
    "mention",  # someone wrote @me
    "new_thread",  # a new thread on a watched board
    "moderation",  # a moderator acted on my post
    "resolved",  # my thread was marked resolved
    "reminder",  # the outcomes feature asks me for an update
    "message",  # a private message (several, while unread, share one notification)
)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('reply', 'quote', 'mention', 'new_thread', 'moderation', 'resolved', "
            "'reminder', 'message')",
            name="kind_known",
        ),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # How many events this notification stands for (replies and messages are grouped).
    count: Mapped[int] = mapped_column(Integer, default=1)
    # Extra words from the caller: a moderator's reason, a reminder's label, a board's name.
    text: Mapped[str] = mapped_column(String(280), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set once an email (immediate or digest) has told the member about it.
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime)
