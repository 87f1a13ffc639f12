"""Who may do what. Asked by services (to enforce) and templates (to show or hide controls).

Every function takes the acting user first; ``None`` or an anonymous user means a visitor.
"""

from __future__ import annotations

from typing import Any

from forum.models import Board, Post, Thread, User


def _member(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def is_member(user: Any) -> bool:
    return _member(user) is not None


def is_admin(user: Any) -> bool:
    member = _member(user)
    return bool(member and member.role == "admin")


def is_global_moderator(user: Any) -> bool:
    member = _member(user)
    return bool(member and member.role in ("moderator", "admin"))


def can_moderate(
    user: Any, board: Board | None = None, board_moderator_ids: set[int] | None = None
) -> bool:
    """Global moderators and admins moderate everywhere; board moderators only their boards.

    ``board_moderator_ids`` is the set of board ids the user moderates, when the caller loaded it.
    """
    if is_global_moderator(user):
        return True
    if board is None or not board_moderator_ids:
        return False
    return board.id in board_moderator_ids


def can_view_board(user: Any, board: Board) -> bool:
    return not board.members_only or is_member(user)


def can_view_thread(user: Any, thread: Thread, board: Board) -> bool:
    if not can_view_board(user, board):
        return False
    return thread.deleted_at is None or can_moderate(user, board)


def can_start_thread(user: Any, board: Board) -> bool:
    return is_member(user) and can_view_board(user, board)


def can_reply(user: Any, thread: Thread, board: Board) -> bool:
    if not is_member(user) or not can_view_thread(user, thread, board):
        return False
    return not thread.is_locked or can_moderate(user, board)


def can_edit_post(user: Any, post: Post, board: Board) -> bool:
    member = _member(user)
    if member is None:
        return False
    if can_moderate(member, board):
        return True
    return post.author_id == member.id and post.deleted_at is None


def can_delete_post(user: Any, post: Post, board: Board) -> bool:
    return can_edit_post(user, post, board)


def can_restore_post(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def can_see_deleted(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def can_read_revisions(user: Any, post: Post, board: Board) -> bool:
    return can_moderate(user, board)


def can_mark_outcome(user: Any, thread: Thread, board: Board) -> bool:
    member = _member(user)
    if member is None:
        return False
    return thread.author_id == member.id or can_moderate(member, board)


def can_curate_outcomes(user: Any) -> bool:
    """Feature, re-tag, edit summaries of any resolved thread."""
    return is_global_moderator(user)


def can_post_update(user: Any, thread: Thread) -> bool:
    member = _member(user)
    return bool(member and thread.author_id == member.id)


def can_view_history(viewer: Any, owner: User) -> bool:
    """The member's own choice: everyone, members only, or only themselves."""
    member = _member(viewer)
    if member is not None and member.id == owner.id:
        return True
    if owner.history_visibility == "public":
        return True
    if owner.history_visibility == "members":
        return member is not None
    return False


def can_set_in_memoriam(user: Any) -> bool:
    return is_global_moderator(user)


def can_manage_boards(user: Any) -> bool:
    return is_admin(user)
