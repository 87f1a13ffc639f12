"""Reminders to come back and tell the thread what happened next."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from forum.models import HistoryEvent, Thread, ThreadTag, UpdateReminder, User, utcnow
from forum.text.dates import PartialDate
from forum.text.histories import event_date, event_label
from forum.vocabulary import Vocabulary

log = logging.getLogger(__name__)


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


def due_reminders(
    session: Session, user: User, *, now: datetime | None = None
) -> list[UpdateReminder]:
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


# --------------------------------------------------------------------------------------------
# Anniversary reminders: on each anniversary of a treatment in the member's history (opt-in).


def next_anniversary(when: PartialDate, today: date) -> tuple[date, int] | None:
    """The first anniversary of ``when`` on or after ``today`` and how many years it marks.

    A date known only to the year has no anniversary to speak of.
    """
    if when.month is None:
        return None
    first = max(1, today.year - when.year)
    for years in (first, first + 1):
        year = when.year + years
        day = min(when.day or 1, calendar.monthrange(year, when.month)[1])
        if date(year, when.month, day) >= today:
            return date(year, when.month, day), years
    return None


def _wanted_anniversaries(
    session: Session, user: User, vocabulary: Vocabulary, today: date
) -> dict[tuple[datetime, str], int | None]:
    """(due_at, label) -> the thread to update, for every treatment's next anniversary."""
    events = session.scalars(
        select(HistoryEvent).where(
            HistoryEvent.user_id == user.id, HistoryEvent.kind == "treatment"
        )
    ).all()
    thread_ids = list(
        session.scalars(
            select(Thread.id)
            .where(Thread.author_id == user.id, Thread.deleted_at.is_(None))
            .order_by(Thread.last_post_at.desc())
        )
    )
    by_treatment: dict[str, int] = {}
    if thread_ids:
        rank = {tid: i for i, tid in enumerate(thread_ids)}
        rows = session.execute(
            select(ThreadTag.thread_id, ThreadTag.slug).where(
                ThreadTag.kind == "treatment", ThreadTag.thread_id.in_(thread_ids)
            )
        ).all()
        for tid, slug in sorted(rows, key=lambda r: rank[r[0]], reverse=True):
            by_treatment[slug] = tid  # the most recently active thread wins
    wanted: dict[tuple[datetime, str], int | None] = {}
    for event in events:
        when = event_date(event)
        if when is None or event.treatment == "watch-and-wait":
            continue
        found = next_anniversary(when, today)
        if found is None:
            continue
        day, years = found
        unit = "year" if years == 1 else "years"
        label = (
            f"{years} {unit} since your {event_label(event, vocabulary)} ({when.display()}): "
            "how are things now?"
        )[:200]
        thread_id = by_treatment.get(event.treatment or "", thread_ids[0] if thread_ids else None)
        wanted[(datetime.combine(day, time()), label)] = thread_id
    return wanted


def sync_anniversary_reminders(
    session: Session, user: User, vocabulary: Vocabulary, *, now: datetime | None = None
) -> int:
    """Bring the member's anniversary reminders in line with their history and choice.

    Adds the next anniversary of each dated treatment (once: a dismissed one is not
    re-added), drops pending ones whose treatment left the history, and all pending ones when
    the member opted out. Does not commit. Returns how many were added.
    """
    now = now or utcnow()
    opted_in = user.anniversary_reminders and not user.in_memoriam
    wanted = _wanted_anniversaries(session, user, vocabulary, now.date()) if opted_in else {}
    mine = session.scalars(
        select(UpdateReminder).where(
            UpdateReminder.user_id == user.id, UpdateReminder.kind == "anniversary"
        )
    ).all()
    for reminder in mine:
        pending = reminder.done_at is None and (reminder.due_at > now or not opted_in)
        if pending and (reminder.due_at, reminder.label) not in wanted:
            session.delete(reminder)
    known = {(r.due_at, r.label) for r in mine}
    added = 0
    for (due_at, label), thread_id in wanted.items():
        if (due_at, label) not in known:
            session.add(
                UpdateReminder(
                    user_id=user.id,
                    thread_id=thread_id,
                    kind="anniversary",
                    label=label,
                    due_at=due_at,
                )
            )
            added += 1
    return added


def set_anniversary_reminders(
    session: Session, actor: User, enabled: bool, vocabulary: Vocabulary
) -> int:
    """The member's opt-in (or out) for treatment-anniversary reminders."""
    actor.anniversary_reminders = bool(enabled)
    added = sync_anniversary_reminders(session, actor, vocabulary)
    session.commit()
    return added


def sync_all_anniversaries(session: Session, vocabulary: Vocabulary) -> int:
    """For the daily job: every opted-in member's next anniversaries."""
    added = 0
    for user in session.scalars(select(User).where(User.anniversary_reminders.is_(True))).all():
        added += sync_anniversary_reminders(session, user, vocabulary)
    session.commit()
    return added


# --------------------------------------------------------------------------------------------
# Mail: the daily job sends each due reminder once.

Sender = Callable[[UpdateReminder, User, Thread | None], None]


def mail_due_reminders(
    session: Session, send: Sender, *, now: datetime | None = None
) -> tuple[int, int]:
    """Call ``send`` for every due reminder not mailed yet; returns (sent, failed).

    Each sent reminder is committed on its own, so a failure halfway sends nothing twice;
    failed ones are tried again on the next run. Remembered members get no mail.
    """
    now = now or utcnow()
    rows = session.execute(
        select(UpdateReminder, User, Thread)
        .join(User, User.id == UpdateReminder.user_id)
        .outerjoin(Thread, Thread.id == UpdateReminder.thread_id)
        .where(
            UpdateReminder.due_at <= now,
            UpdateReminder.done_at.is_(None),
            UpdateReminder.mailed_at.is_(None),
            or_(UpdateReminder.thread_id.is_(None), Thread.deleted_at.is_(None)),
        )
        .order_by(UpdateReminder.due_at, UpdateReminder.id)
    ).all()
    sent = failed = 0
    for reminder, user, thread in rows:
        if user.in_memoriam:
            reminder.done_at = now
            session.commit()
            continue
        try:
            send(reminder, user, thread)
        except Exception:  # one bad address must not stop the others
            log.warning("reminder %s to user %s not sent", reminder.id, user.id, exc_info=True)
            failed += 1
            continue
        reminder.mailed_at = now
        session.commit()
        sent += 1
    return sent, failed


def reminder_message(
    reminder: UpdateReminder,
    user: User,
    thread: Thread | None,
    *,
    forum_name: str,
    update_url: str | None,
    settings_url: str,
) -> tuple[str, str]:
    """The subject and plain text of a reminder mail."""
    lines = [f"Hello {user.username},", "", reminder.label, ""]
    if thread is not None and update_url:
        lines += [
            f"When you are ready, tell the thread \u201c{thread.title}\u201d what happened next:",
            update_url,
        ]
    else:
        lines += ["When you are ready, post an update in one of your threads."]
    lines += [
        "",
        "Your update is someone else's map: newcomers read old threads to learn how things",
        "turned out. There is no hurry, and no wrong answer.",
        "",
        f"You asked {forum_name} for this reminder. Change your reminders: {settings_url}",
    ]
    return f"{forum_name}: a reminder to post an update", "\n".join(lines) + "\n"
