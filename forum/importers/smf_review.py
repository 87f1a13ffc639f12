"""An imported member's review of the history read from their old signature.

Until they decide, their SMF signature stays as their free-text signature. "Keep" stores the
events they ticked (``histories.accept_proposals``), "discard" stores none; both end the review.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from forum.models import HistoryEvent, User
from forum.services import histories
from forum.services.signature_parser import ProposedEvent, parse_signature


def proposals_for(user: User, vocabulary, *, day_first: bool = False) -> list[ProposedEvent]:
    """What we read from the member's signature (read again, the same way, every time)."""
    return parse_signature(user.signature or "", vocabulary, day_first=day_first)


def keep(
    session: Session, user: User, proposals: list[ProposedEvent], chosen: Iterable[int]
) -> list[HistoryEvent]:
    """Store the ticked proposals and end the review (all together, or nothing)."""
    kept = [proposals[i] for i in sorted(set(chosen)) if 0 <= i < len(proposals)]
    user.signature_review_pending = False
    if kept:
        return histories.accept_proposals(session, user, user, kept)
    session.commit()
    return []


def discard(session: Session, user: User) -> None:
    """End the review without storing anything; the signature stays as it is."""
    user.signature_review_pending = False
    session.commit()
