"""The durable mail queue: written in the same transaction as the change it tells about.

A row says what to send: a notification (rendered when sent, so it reads as it stands then), or
a ready subject and body (digests). Links, the unsubscribe footer and headers are added when it
is sent. Rows are deleted once sent; a failed send stays with its attempts and last error and is
retried later (``flask --app wsgi forum send-mail``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow


class OutboxMail(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The member it is for: their email mode and address are read again at sending time.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Due from this moment; also pushed ahead while a sender holds the row.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
