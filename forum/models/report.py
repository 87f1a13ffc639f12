"""Members' reports of posts, and what moderators did about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow

REPORT_STATUSES = ("open", "resolved", "dismissed")


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name="status_known"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    # NULL once the reporter deleted their account: the report stays for the moderators.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The moderator's note when resolving or dismissing.
    resolution: Mapped[str] = mapped_column(Text, default="")

    post = relationship("Post", lazy="raise")
    reporter = relationship("User", foreign_keys=[reporter_id], lazy="raise")
    handled_by = relationship("User", foreign_keys=[handled_by_id], lazy="raise")

    @property
    def is_open(self) -> bool:
        return self.status == "open"
