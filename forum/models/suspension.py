"""Suspensions and bans: each one with who decided, why, and until when.

The member's current state is copied onto ``User.restriction``/``User.restricted_until`` so
permission checks need no query; these rows are the record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow

RESTRICTIONS = ("suspended", "banned")


class Suspension(db.Model):
    """``suspended``: may read and log in, may not post. ``banned``: may not log in."""

    __tablename__ = "suspensions"
    __table_args__ = (CheckConstraint("kind IN ('suspended', 'banned')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # NULL: until a moderator lifts it.
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    moderator = relationship("User", foreign_keys=[moderator_id], lazy="raise")
