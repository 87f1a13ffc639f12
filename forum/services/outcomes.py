"""Resolved outcomes: marking a thread resolved, changing, unmarking, featuring.

Every outcome change is written to the moderation log, the author's own included, so the
history of a thread's outcome can be read back; a moderator acting on someone else's outcome
must say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from forum import policies
from forum.models import OUTCOMES, Board, HistoryEvent, Post, Thread, User, utcnow
from forum.services import moderation_log, notifications
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.services.search_queue import enqueue
from forum.services.validation import clean_line
from forum.text.dates import describe_interval
from forum.text.histories import event_date, event_label
from forum.vocabulary import Vocabulary

SUMMARY_MAX = 280
OUTCOME_LABELS = {
    "resolved": "Resolved",
    "improved": "Improved",
    "unchanged": "Unchanged",
    "worse": "Worse",
}


def _snapshot(thread: Thread) -> dict[str, Any]:
    return {
        "outcome": thread.outcome,
        "summary": thread.outcome_summary or "",
        "post_id": thread.outcome_post_id,
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before[key], after[key]] for key in before if before[key] != after[key]}


def _check_thread(actor: User, thread: Thread, board: Board) -> None:
    if thread.deleted_at is not None:
        raise NotFound("There is no thread at that address.")
    if not policies.can_mark_outcome(actor, thread, board):
        raise PermissionDenied("Only the thread's author or a moderator can set its outcome.")


def clean_summary(summary: str | None) -> str:
    summary = " ".join(clean_line(summary, "summary", "The summary", 10_000).split())
    if not summary:
        raise ValidationError({"summary": "Please write a short summary of the outcome."})
    if len(summary) > SUMMARY_MAX:
        raise ValidationError(
            {"summary": f"The summary can be at most {SUMMARY_MAX} characters "
                        f"({len(summary)} now)."}
        )
    return summary


def mark_resolved(
    session: Session,
    actor: User,
    thread: Thread,
    board: Board,
    *,
    post_id: int | None,
    outcome: str | None,
    summary: str | None,
    reason: str = "",
) -> Thread:
    """Mark the thread resolved (or change its outcome): the post that tells it, a category
    and a summary of at most 280 characters."""
    _check_thread(actor, thread, board)
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose how it turned out: resolved, improved, unchanged or worse."
    try:
        summary = clean_summary(summary)
    except ValidationError as exc:
        errors.update(exc.errors)
    post = session.get(Post, post_id) if isinstance(post_id, int) else None
    if post is None or post.thread_id != thread.id or post.deleted_at is not None:
        errors["post_id"] = "Choose the post of this thread that tells the outcome."
    # A moderator overriding the author's own account of their outcome says why.
    as_moderator = actor.id != thread.author_id
    try:
        reason = moderation_log.clean_reason(reason, required=as_moderator)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)

    before = _snapshot(thread)
    after = {"outcome": outcome, "summary": summary, "post_id": post.id}
    if before == after:
        return thread
    now = utcnow()
    if thread.outcome is None:
        thread.resolved_at = now
        thread.resolved_by_id = actor.id
    thread.outcome, thread.outcome_summary, thread.outcome_post_id = outcome, summary, post.id
    thread.changed_at = now
    action = "outcome.mark" if before["outcome"] is None else "outcome.change"
    moderation_log.record(
        session, actor, action, "thread", thread.id, reason, _changes(before, after)
    )
    if thread.author_id is not None:  # nothing when the author resolved it themselves
        notifications.notify(
            session, thread.author_id, "resolved", thread_id=thread.id, actor_id=actor.id,
            text=summary,
        )
    enqueue(session, "thread", thread.id)
    session.commit()
    return thread


def unmark(
    session: Session, actor: User, thread: Thread, board: Board, *, reason: str = ""
) -> None:
    """Take the outcome off the thread (and off the Outcomes page)."""
    _check_thread(actor, thread, board)
    reason = moderation_log.clean_reason(reason, required=actor.id != thread.author_id)
    if thread.outcome is None:
        return
    details: dict[str, Any] = _changes(_snapshot(thread), dict.fromkeys(_snapshot(thread)))
    if thread.featured_at is not None:
        details["featured"] = [True, False]
    thread.outcome = None
    thread.outcome_summary = ""
    thread.outcome_post_id = None
    thread.resolved_at = None
    thread.resolved_by_id = None
    thread.featured_at = None
    thread.changed_at = utcnow()
    moderation_log.record(session, actor, "outcome.unmark", "thread", thread.id, reason, details)
    enqueue(session, "thread", thread.id)
    session.commit()


def set_featured(
    session: Session, actor: User, thread: Thread, featured: bool, *, reason: str = ""
) -> None:
    """Feature a resolved thread at the top of the Outcomes page, or stop featuring it."""
    if thread.deleted_at is not None:
        raise NotFound("There is no thread at that address.")
    if not policies.can_curate_outcomes(actor):
        raise PermissionDenied("Only moderators can feature stories.")
    reason = moderation_log.clean_reason(reason)
    if featured and thread.outcome is None:
        raise Conflict("Only a thread with an outcome can be featured. Mark it resolved first.")
    if featured == (thread.featured_at is not None):
        return
    now = utcnow()
    thread.featured_at = now if featured else None
    thread.changed_at = now
    action = "outcome.feature" if featured else "outcome.unfeature"
    moderation_log.record(session, actor, action, "thread", thread.id, reason)
    session.commit()


def suggest_interval(
    events: Sequence[HistoryEvent],
    day: date,
    vocabulary: Vocabulary,
    treatments: Iterable[str] = (),
) -> str | None:
    """"18 months after Gamma Knife": the time from the latest treatment before ``day``.

    A treatment the thread is tagged with is preferred over other treatments. The caller
    passes only a history the viewer may see (``policies.can_view_history``).
    """
    tagged = set(treatments)
    best: tuple[tuple[bool, tuple[int, int, int]], HistoryEvent] | None = None
    for event in events:
        when = event_date(event)
        if event.kind != "treatment" or when is None or when.earliest() > day:
            continue
        if event.treatment == "watch-and-wait":
            continue
        key = (event.treatment in tagged, when.sort_key())
        if best is None or key >= best[0]:
            best = (key, event)
    if best is None:
        return None
    when = event_date(best[1])
    interval = describe_interval(when, day) if when else None
    if interval is None:
        return None
    return f"{interval} after {event_label(best[1], vocabulary)}"
