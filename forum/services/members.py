"""Changes to member profiles made by moderators."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum import policies
from forum.models import ModerationAction, User
from forum.services import validation
from forum.services.errors import PermissionDenied


def set_in_memoriam(
    session: Session, actor: User, member: User, *, remembered: bool, line: str = ""
) -> User:
    """Mark (or unmark) a member who has died, with a short line shown on their posts."""
    if not policies.can_set_in_memoriam(actor):
        raise PermissionDenied("Only moderators can do that.")
    line = validation.clean_line(line, "memorial_line", "The line", 120)
    member.in_memoriam = remembered
    member.memorial_line = line if remembered else ""
    session.add(
        ModerationAction(
            actor_id=actor.id,
            action="in_memoriam" if remembered else "in_memoriam_removed",
            target_type="user",
            target_id=member.id,
            reason=line,
        )
    )
    session.commit()
    return member
