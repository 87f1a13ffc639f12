"""Posts by new members waiting for a moderator's approval.

A held post is not a ``Post`` yet: nothing public (pages, counters, search, feeds,
notifications) can see it until a moderator approves it and it is posted for real.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow


class HeldPost(db.Model):
    __tablename__ = "held_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    # NULL for a new thread (then ``title`` is its title); else the thread it replies to.
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    # Rendered by forum.text.markup.render_markdown, the one sanitizing path.
    body_html: Mapped[str] = mapped_column(Text)
    is_update: Mapped[bool] = mapped_column(Boolean, default=False)
    remind_after_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author = relationship("User", lazy="raise")
    board = relationship("Board", lazy="raise")
    thread = relationship("Thread", lazy="raise")
