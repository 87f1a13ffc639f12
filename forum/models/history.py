"""A member's treatment history: ordered events with dates that keep their precision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

EVENT_KINDS = ("diagnosis", "treatment", "measurement", "symptom", "note")
SIDES = ("left", "right", "bilateral")


class HistoryEvent(db.Model):
    __tablename__ = "history_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('diagnosis', 'treatment', 'measurement', 'symptom', 'note')",
            name="kind_known",
        ),
        CheckConstraint(
            "side IS NULL OR side IN ('left', 'right', 'bilateral')", name="side_known"
        ),
        Index("ix_history_events_user_date", "user_id", "year", "month", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    # The date, with its precision: year only, year+month, or a full day; as written.
    year: Mapped[int | None] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[int | None] = mapped_column(Integer)
    date_text: Mapped[str] = mapped_column(String(40), default="")
    # For symptoms: when it stopped.
    end_year: Mapped[int | None] = mapped_column(Integer)
    end_month: Mapped[int | None] = mapped_column(Integer)
    end_day: Mapped[int | None] = mapped_column(Integer)
    end_date_text: Mapped[str] = mapped_column(String(40), default="")
    condition: Mapped[str | None] = mapped_column(String(60))  # vocabulary slug
    treatment: Mapped[str | None] = mapped_column(String(60))
    symptom: Mapped[str | None] = mapped_column(String(60))
    # Free text when the vocabulary has no fitting term.
    label_text: Mapped[str] = mapped_column(String(120), default="")
    side: Mapped[str | None] = mapped_column(String(10))
    size1_mm: Mapped[float | None] = mapped_column(Float)
    size2_mm: Mapped[float | None] = mapped_column(Float)
    size3_mm: Mapped[float | None] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def sizes_mm(self) -> tuple[float, ...]:
        return tuple(s for s in (self.size1_mm, self.size2_mm, self.size3_mm) if s is not None)
