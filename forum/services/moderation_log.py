"""The moderation log: one row per moderating action (who, what, when, why).

Services call :func:`record` inside their own transaction, before they commit, so an action and
its log entry are saved together or not at all. ``details`` is a small JSON object (what
changed: ``{"summary": ["old", "new"]}``), stored as text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from forum.models import ModerationAction, User, utcnow
from forum.services.errors import ValidationError
from forum.services.validation import clean_line

REASON_MAX = 500

# What each logged action is called on the moderation log page.
ACTION_LABELS = {
    "board.moderator_add": "Made a board moderator",
    "board.moderator_remove": "Removed a board moderator",
    "outcome.mark": "Marked resolved",
    "outcome.change": "Changed the outcome",
    "outcome.unmark": "Removed the outcome",
    "outcome.feature": "Featured",
    "outcome.unfeature": "Stopped featuring",
    "post.approve": "Approved a held post",
    "post.reject": "Did not approve a held post",
    "post.edit": "Edited a post",
    "post.delete": "Deleted a post",
    "post.restore": "Restored a post",
    "report.resolve": "Resolved a report",
    "report.dismiss": "Dismissed a report",
    "report.delete": "Deleted a reported post",
    "thread.delete": "Deleted a thread",
    "thread.restore": "Restored a thread",
    "thread.lock": "Locked",
    "thread.unlock": "Unlocked",
    "thread.sticky": "Made sticky",
    "thread.unsticky": "Unstuck",
    "thread.move": "Moved",
    "thread.split": "Split",
    "thread.split_into": "Split into a new thread",
    "thread.merge": "Merged another thread into",
    "thread.merged_into": "Merged into another thread",
    "thread.tags": "Changed the tags",
    "user.ban": "Banned a member",
    "user.suspend": "Suspended a member",
    "user.lift": "Lifted a suspension or ban",
    "user.deleted_account": "A member deleted their account",
}


def action_label(action: str) -> str:
    """Plain words for a logged action (an unknown one reads as itself, never a blank)."""
    return ACTION_LABELS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def clean_reason(reason: str | None, *, required: bool = False, field: str = "reason") -> str:
    """A reason typed by a moderator: one line of at most 500 characters."""
    reason = " ".join(clean_line(reason, field, "The reason", REASON_MAX).split())
    if required and not reason:
        raise ValidationError({field: "Please say why: the reason goes in the moderation log."})
    return reason


def record(
    session: Session,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int,
    reason: str = "",
    details: dict[str, Any] | str | None = None,
) -> ModerationAction:
    """Add one log entry to the session (the caller commits). ``actor`` None means the system."""
    if isinstance(details, dict):
        details = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    entry = ModerationAction(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason or "",
        details=details or "",
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def parse_details(details: str) -> dict[str, Any]:
    """The stored details as a dict (``{"text": …}`` for entries written as plain text)."""
    if not details:
        return {}
    try:
        value = json.loads(details)
    except ValueError:
        return {"text": details}
    return value if isinstance(value, dict) else {"text": details}
