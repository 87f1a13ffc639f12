"""Board moderators: who moderates which board, loaded once per request onto the user.

``load(session, user)`` puts the ids of the boards a member moderates on the user object, where
``forum.policies`` reads them without a query. The web layer calls it when it loads the
logged-in member; services call it before asking a policy (a no-op when already loaded).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, BoardModerator, User
from forum.services import moderation_log
from forum.services.errors import Conflict, NotFound, PermissionDenied
from forum.services.validation import username_key


def load(session: Session, user, *, refresh: bool = False) -> frozenset[int]:
    """The ids of the boards ``user`` moderates, cached on the user object (one query at most)."""
    if not policies.is_member(user):
        return frozenset()
    cached = getattr(user, policies.MODERATED_BOARDS_ATTR, None)
    if cached is not None and not refresh:
        return cached
    ids = frozenset(
        session.scalars(select(BoardModerator.board_id).where(BoardModerator.user_id == user.id))
    )
    setattr(user, policies.MODERATED_BOARDS_ATTR, ids)
    return ids


def assign(session: Session, actor: User, board: Board, username: str) -> User:
    """Make a member a moderator of one board."""
    if not policies.can_manage_board_moderators(actor):
        raise PermissionDenied("Only admins choose board moderators.")
    name = (username or "").strip()
    member = None
    if name and "\x00" not in name:  # a NUL can't be in a name (and PostgreSQL refuses it)
        member = session.scalar(
            select(User).where(User.username_key == username_key(name), User.deleted_at.is_(None))
        )
    if member is None:
        raise NotFound(f"There is no member called “{(username or '').strip()[:80]}”.")
    if session.get(BoardModerator, (board.id, member.id)) is not None:
        raise Conflict(f"{member.username} already moderates {board.name}.")
    session.add(BoardModerator(board_id=board.id, user_id=member.id))
    moderation_log.record(
        session, actor, "board.moderator_add", "user", member.id, details={"board": board.name}
    )
    session.commit()
    load(session, member, refresh=True)
    return member


def remove(session: Session, actor: User, board: Board, member: User) -> None:
    if not policies.can_manage_board_moderators(actor):
        raise PermissionDenied("Only admins choose board moderators.")
    session.execute(
        delete(BoardModerator).where(
            BoardModerator.board_id == board.id, BoardModerator.user_id == member.id
        )
    )
    moderation_log.record(
        session, actor, "board.moderator_remove", "user", member.id, details={"board": board.name}
    )
    session.commit()
    load(session, member, refresh=True)
