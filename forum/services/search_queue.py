"""Writing to the durable search queue, inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.models import SearchQueueEntry

PENDING_KEY = "search_pending"


def enqueue(session: Session, scope: str, target_id: int) -> None:
    """Ask for ``scope`` (post/thread/user/board) ``target_id`` to be re-read into the index.

    Written in the same transaction as the change: both commit, or neither does.
    """
    session.add(SearchQueueEntry(scope=scope, target_id=target_id))
    session.info[PENDING_KEY] = True
