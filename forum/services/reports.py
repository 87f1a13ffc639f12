"""Members report posts; moderators resolve, dismiss, or act on them (delete the post).

A reason is kept exactly as the member typed it (it is only checked for length and for
characters that can't be stored); moderators read it in the queue next to the post.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, Post, Report, Thread, User, utcnow
from forum.services import board_moderators, moderation_log, posting, validation
from forum.services.errors import Conflict, PermissionDenied, ValidationError

REASON_MAX = 1000
DECISIONS = ("resolve", "dismiss", "delete")


def clean_report_reason(reason: str | None) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": "Please tell the moderators what is wrong with the post."})
    reason = validation.clean_body(reason, field="reason", label="The reason")
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"The reason can be at most {REASON_MAX} characters."})
    return reason


def report_post(
    session: Session, actor: User, post: Post, thread: Thread, board: Board, reason: str
) -> Report:
    if not policies.can_report_post(actor, post, board):
        raise PermissionDenied("You can't report this post.")
    reason = clean_report_reason(reason)
    already = session.scalar(
        select(Report.id).where(
            Report.post_id == post.id, Report.reporter_id == actor.id, Report.status == "open"
        )
    )
    if already is not None:
        raise Conflict("You have already reported this post; the moderators will look at it.")
    report = Report(post_id=post.id, reporter_id=actor.id, reason=reason, created_at=utcnow())
    session.add(report)
    session.commit()
    return report


def decide(
    session: Session,
    actor: User,
    post: Post,
    thread: Thread,
    board: Board,
    decision: str,
    note: str = "",
) -> int:
    """Settle every open report about ``post``: ``resolve`` (dealt with), ``dismiss`` (nothing
    wrong), or ``delete`` (delete the post, then resolve). Returns how many were settled."""
    board_moderators.load(session, actor)
    if not policies.can_handle_report(actor, board):
        raise PermissionDenied("Only this board's moderators can handle its reports.")
    if decision not in DECISIONS:
        raise ValidationError({"decision": "Choose resolve, dismiss or delete."})
    note = moderation_log.clean_reason(note, field="note")
    open_reports = select(Report.id).where(Report.post_id == post.id, Report.status == "open")
    if session.scalar(open_reports.limit(1)) is None:
        raise Conflict("These reports were already handled (perhaps by another moderator).")
    if decision == "delete" and post.deleted_at is None:
        # Commits the deletion with its own log entry; the reports are settled just after.
        posting.delete_post(session, actor, post, thread, board, reason=note)
    status = "dismissed" if decision == "dismiss" else "resolved"
    settled = session.execute(
        update(Report)
        .where(Report.post_id == post.id, Report.status == "open")
        .values(status=status, handled_by_id=actor.id, handled_at=utcnow(), resolution=note)
    ).rowcount
    moderation_log.record(
        session, actor, f"report.{decision}", "post", post.id, note, {"reports": settled}
    )
    session.commit()
    return settled
