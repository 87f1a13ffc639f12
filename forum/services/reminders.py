"""Reminders to come back and tell the thread what happened next."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.models import Thread, UpdateReminder, User, utcnow


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def schedule_thread_reminder(
    session: Session, user: User, thread: Thread, months: int, *, now: datetime | None = None
) -> UpdateReminder:
    now = now or utcnow()
    reminder = UpdateReminder(
        user_id=user.id,
        thread_id=thread.id,
        kind="after_months",
        label=f"{months} months have passed since you started “{thread.title}”.",
        due_at=add_months(now, months),
    )
    session.add(reminder)
    return reminder


def complete_thread_reminders(
    session: Session, user: User, thread: Thread, *, now: datetime | None = None
) -> None:
    """Posting an update settles the reminders that asked for one (due or not)."""
    now = now or utcnow()
    for reminder in session.scalars(
        select(UpdateReminder).where(
            UpdateReminder.user_id == user.id,
            UpdateReminder.thread_id == thread.id,
            UpdateReminder.done_at.is_(None),
        )
    ):
        reminder.done_at = now


def due_reminders(session: Session, user: User, *, now: datetime | None = None) -> list[UpdateReminder]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(UpdateReminder)
            .where(
                UpdateReminder.user_id == user.id,
                UpdateReminder.due_at <= now,
                UpdateReminder.done_at.is_(None),
            )
            .order_by(UpdateReminder.due_at)
        )
    )


def dismiss(session: Session, user: User, reminder_id: int) -> None:
    reminder = session.get(UpdateReminder, reminder_id)
    if reminder is None or reminder.user_id != user.id:
        return
    reminder.done_at = utcnow()
    session.commit()
