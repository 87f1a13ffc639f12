"""Posts and their edit history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("thread_id", "position", name="uq_posts_thread_position"),
        Index("ix_posts_author_created", "author_id", "created_at"),
        # A thread page looks for its posters' updates (queries._updates_and_outcome).
        Index("ix_posts_author_update", "author_id", "is_update"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    # NULL once the author deleted their account and chose to leave posts as "former member".
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 0 for the opening post, then 1, 2, … ("Reply #N"); never reused.
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # Rendered by forum.text.markup.render_markdown, the one sanitizing path.
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The thread author's "what happened next" posts.
    is_update: Mapped[bool] = mapped_column(Boolean, default=False)

    thread = relationship("Thread", foreign_keys=[thread_id], lazy="raise")
    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    edited_by = relationship("User", foreign_keys=[edited_by_id], lazy="raise")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostRevision(db.Model):
    """The text of a post before an edit."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    editor = relationship("User", lazy="raise")
