"""The durable queue between database changes and the search index.

Rows are written in the same transaction as the change they describe and removed once the index
has applied them, so a crash between commit and indexing loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow


class SearchQueueEntry(db.Model):
    __tablename__ = "search_queue"
    __table_args__ = (
        CheckConstraint("scope IN ('post', 'thread', 'user', 'board')", name="scope_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What to re-read: one post, every post of a thread, of a user, or of a board.
    scope: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
