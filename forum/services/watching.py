"""Watching threads and boards, and muting threads."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from forum import policies
from forum.models import Board, BoardWatch, Thread, ThreadWatch, User
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.upserts import insert

THREAD_STATES = ("watching", "muted", "none")


def set_thread_watch(
    session: Session, actor: User, thread: Thread, board: Board, state: str
) -> None:
    """Watch a thread (notified of replies), mute it (never notified about it), or neither."""
    if not policies.can_watch(actor):
        raise PermissionDenied("Log in to watch threads.")
    if not policies.can_view_thread(actor, thread, board):
        raise NotFound("There is no thread at that address.")
    if state not in THREAD_STATES:
        raise ValidationError({"state": "Choose watching, muted or not watching."})
    if state == "none":
        session.execute(
            delete(ThreadWatch).where(
                ThreadWatch.user_id == actor.id, ThreadWatch.thread_id == thread.id
            )
        )
    else:
        muted = state == "muted"
        statement = insert(session, ThreadWatch).values(
            user_id=actor.id, thread_id=thread.id, muted=muted
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "thread_id"], set_={"muted": muted}
            )
        )
    session.commit()


def set_board_watch(session: Session, actor: User, board: Board, watching: bool) -> None:
    """Watch a board: notified of every new thread on it."""
    if not policies.can_watch(actor):
        raise PermissionDenied("Log in to watch boards.")
    if not policies.can_view_board(actor, board):
        raise NotFound("There is no board at that address.")
    if watching:
        session.execute(
            insert(session, BoardWatch)
            .values(user_id=actor.id, board_id=board.id)
            .on_conflict_do_nothing(index_elements=["user_id", "board_id"])
        )
    else:
        session.execute(
            delete(BoardWatch).where(
                BoardWatch.user_id == actor.id, BoardWatch.board_id == board.id
            )
        )
    session.commit()


def auto_watch(session: Session, user: User, thread: Thread) -> None:
    """Starting or replying watches the thread (unless the member turned that off).

    Runs in the caller's transaction; an existing watch, muted or not, is left as it is.
    """
    if not user.auto_watch:
        return
    session.execute(
        insert(session, ThreadWatch)
        .values(user_id=user.id, thread_id=thread.id, muted=False)
        .on_conflict_do_nothing(index_elements=["user_id", "thread_id"])
    )
