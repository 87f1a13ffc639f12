"""Who may do what. Asked by services (to enforce) and templates (to show or hide controls).

Every function takes the acting user first; ``None`` or an anonymous user means a visitor.
"""

from __future__ import annotations

from typing import Any

from forum.models import Board, Post, Thread, User, utcnow

# Where a member's moderated board ids are kept on the user object for the request. Loaded once
# per request (and by services) with ``forum.services.board_moderators.load``; never queried here.
MODERATED_BOARDS_ATTR = "_cairn_moderated_board_ids"


def _member(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def moderated_board_ids(user: Any) -> frozenset[int]:
    """The boards this member moderates (not counting global moderation), as loaded."""
    member = _member(user)
    if member is None:
        return frozenset()
    return getattr(member, MODERATED_BOARDS_ATTR, None) or frozenset()


def restriction(user: Any) -> str | None:
    """"suspended" or "banned" while a suspension or ban runs; None otherwise."""
    member = _member(user)
    if member is None or not member.restriction:
        return None
    until = member.restricted_until
    if until is not None and until <= utcnow():
        return None  # it has run out: nothing to lift
    return member.restriction


def is_suspended(user: Any) -> bool:
    """Suspended or banned: may read (a suspended member stays logged in) but not take part."""
    return restriction(user) is not None


def is_banned(user: Any) -> bool:
    return restriction(user) == "banned"


def can_participate(user: Any) -> bool:
    """A member who may post, reply, edit, report: logged in and not suspended."""
    return is_member(user) and not is_suspended(user)


def is_member(user: Any) -> bool:
    return _member(user) is not None


def is_admin(user: Any) -> bool:
    member = _member(user)
    return bool(member and member.role == "admin")


def is_global_moderator(user: Any) -> bool:
    member = _member(user)
    return bool(member and member.role in ("moderator", "admin") and not is_suspended(member))


def can_moderate(
    user: Any, board: Board | None = None, board_moderator_ids: set[int] | None = None
) -> bool:
    """Global moderators and admins moderate everywhere; board moderators only their boards.

    ``board_moderator_ids`` overrides the ids loaded onto the user for the request.
    """
    if is_global_moderator(user):
        return True
    if board is None or is_suspended(user):
        return False
    if board_moderator_ids is None:
        board_moderator_ids = moderated_board_ids(user)
    return board.id in board_moderator_ids


def can_view_board(user: Any, board: Board) -> bool:
    return not board.members_only or is_member(user)


def can_view_thread(user: Any, thread: Thread, board: Board) -> bool:
    if not can_view_board(user, board):
        return False
    return thread.deleted_at is None or can_moderate(user, board)


def can_start_thread(user: Any, board: Board) -> bool:
    return can_participate(user) and can_view_board(user, board)


def can_reply(user: Any, thread: Thread, board: Board) -> bool:
    if not can_participate(user) or not can_view_thread(user, thread, board):
        return False
    return not thread.is_locked or can_moderate(user, board)


def can_edit_post(user: Any, post: Post, board: Board) -> bool:
    member = _member(user)
    if member is None:
        return False
    if can_moderate(member, board):
        return True
    return post.author_id == member.id and post.deleted_at is None and can_participate(member)


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


def can_tag_thread(user: Any, thread: Thread, board: Board) -> bool:
    """The author sets a thread's tags; global moderators curate them."""
    member = _member(user)
    if member is None or thread.deleted_at is not None:
        return False
    return thread.author_id == member.id or can_curate_outcomes(member)


def can_read_moderation_log(user: Any) -> bool:
    return can_work_queue(user)


# Watching, notifications and private conversations.


def can_watch(user: Any) -> bool:
    return is_member(user)


def can_message_freely(user: Any, min_posts: int) -> bool:
    """New members start conversations (other than with moderators) after a few public posts."""
    member = _member(user)
    if member is None or is_suspended(member):
        return False
    return is_global_moderator(member) or member.post_count >= min_posts


def is_active_participant(user: Any, participant: Any) -> bool:
    """``participant`` is the viewer's ConversationParticipant row (or None)."""
    member = _member(user)
    return bool(
        member
        and participant is not None
        and participant.user_id == member.id
        and participant.left_at is None
    )


def can_read_conversation(user: Any, conversation: Any, participant: Any) -> bool:
    """Participants read their conversations; moderators only once a participant reported it."""
    if is_active_participant(user, participant):
        return True
    return is_global_moderator(user) and conversation.reported_at is not None


def can_send_messages(user: Any) -> bool:
    """Suspended and banned members read their conversations but send nothing."""
    return can_participate(user)


def can_reply_conversation(user: Any, participant: Any) -> bool:
    return is_active_participant(user, participant) and can_send_messages(user)


def can_report_conversation(user: Any, participant: Any) -> bool:
    return is_active_participant(user, participant)


def can_review_reported_conversations(user: Any) -> bool:
    return is_global_moderator(user)


# Moderation: threads, approvals, reports, suspensions, board moderators.


def can_lock(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def can_sticky(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def can_move_thread(user: Any, from_board: Board, to_board: Board | None = None) -> bool:
    """A board moderator moves threads only between boards they moderate."""
    if not can_moderate(user, from_board):
        return False
    return to_board is None or can_moderate(user, to_board)


def can_split_thread(user: Any, board: Board, to_board: Board | None = None) -> bool:
    return can_move_thread(user, board, to_board)


def can_merge_threads(user: Any, board: Board, other_board: Board | None = None) -> bool:
    return can_move_thread(user, board, other_board)


def can_approve(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def needs_approval(user: Any, board: Board, approval_post_count: int) -> bool:
    """New members' first posts wait for a moderator; moderators' never do."""
    member = _member(user)
    if member is None or approval_post_count <= 0 or can_moderate(member, board):
        return False
    return member.post_count < approval_post_count


def can_report_post(user: Any, post: Post, board: Board) -> bool:
    member = _member(user)
    if member is None or not can_participate(member) or not can_view_board(member, board):
        return False
    return post.deleted_at is None and post.author_id != member.id


def can_work_queue(user: Any) -> bool:
    """Global moderators see every report and held post; board moderators those of their boards."""
    return is_global_moderator(user) or (
        not is_suspended(user) and bool(moderated_board_ids(user))
    )


def can_handle_report(user: Any, board: Board) -> bool:
    return can_moderate(user, board)


def can_suspend(user: Any, member: User) -> bool:
    """Global moderators suspend and ban members; only admins can do it to moderators.
    Nobody suspends an admin or themselves."""
    actor = _member(user)
    if actor is None or not is_global_moderator(actor) or member.deleted_at is not None:
        return False
    if actor.id == member.id or member.role == "admin":
        return False
    return member.role != "moderator" or is_admin(actor)


def can_manage_board_moderators(user: Any) -> bool:
    return is_admin(user)


# A member's own account: settings, data export, deletion. Suspended members keep these rights.


def can_manage_account(user: Any) -> bool:
    return is_member(user)
