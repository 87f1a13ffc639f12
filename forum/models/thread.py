"""Threads, their tags and their outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow

OUTCOMES = ("resolved", "improved", "unchanged", "worse")
TAG_KINDS = ("condition", "treatment", "symptom")


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_board_listing", "board_id", "is_sticky", "last_post_at"),
        # A board's latest threads, stickiness aside (queries.related_threads).
        Index("ix_threads_board_activity", "board_id", "last_post_at"),
        Index("ix_threads_outcome_listing", "outcome", "resolved_at"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('resolved', 'improved', 'unchanged', 'worse')",
            name="outcome_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    last_post_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    first_post_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "posts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        ),
        index=True,  # see migration 0009
    )
    last_post_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "posts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        ),
        index=True,  # see migration 0009
    )
    # Visible (not deleted) posts, including the first one.
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    # Every post ever added takes the next position; positions never change, so permalinks stay.
    next_position: Mapped[int] = mapped_column(Integer, default=0)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    is_sticky: Mapped[bool] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped on every change that alters how the thread page looks (HTTP caching, ETags).
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # Outcome: set when the author or a moderator marks the thread resolved.
    outcome: Mapped[str | None] = mapped_column(String(12))
    outcome_summary: Mapped[str] = mapped_column(String(280), default="")
    outcome_post_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "posts.id", use_alter=True, ondelete="SET NULL", deferrable=True, initially="DEFERRED"
        ),
        index=True,  # see migration 0009
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    featured_at: Mapped[datetime | None] = mapped_column(DateTime)
    remind_after_months: Mapped[int | None] = mapped_column(Integer)
    # Set when a moderator merged this thread into another: old links lead there. (No foreign
    # key: threads are only ever soft-deleted, and a missing target just means no redirect.)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)

    board = relationship("Board", lazy="raise")
    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    tags: Mapped[list[ThreadTag]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def reply_count(self) -> int:
        return max(0, self.post_count - 1)

    @property
    def is_resolved(self) -> bool:
        return self.outcome is not None


class ThreadTag(db.Model):
    """A vocabulary term (condition, treatment, symptom) attached to a thread."""

    __tablename__ = "thread_tags"
    __table_args__ = (
        CheckConstraint("kind IN ('condition', 'treatment', 'symptom')", name="kind_known"),
        Index("ix_thread_tags_term", "kind", "slug"),
    )

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), primary_key=True)

    thread: Mapped[Thread] = relationship(back_populates="tags")
