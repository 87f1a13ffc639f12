"""The site generation: bumped in the same transaction as any change to what pages show about
members, their treatment histories and the boards (see ``forum.models.SiteState``).

Services don't call this by hand: ``install()`` watches every ORM session. A flush that adds,
changes or deletes such data, or a bulk ``UPDATE``/``DELETE``/``INSERT`` run through a session on
those tables, marks the session; just before its commit the ``site_state`` row's generation goes
up by one (once per transaction, and last, so the row is locked only for the commit). A write
that bypasses the ORM session (a raw connection) calls ``bump()`` itself.

What counts (what a cached thread page shows that is not the thread's own row):
- members: everything but the columns listed in ``UNSHOWN`` (post counts are part of each
  page's version directly); so names, titles, signatures, avatars, roles, in-memoriam lines,
  history visibility, suspensions and deleted accounts all count, and so will new columns;
- treatment history events: any change;
- boards and categories: everything but their counters;
- posts: an author removed (account deletion), and changes to "update" posts or opening posts
  (other threads' pages link to an author's later updates);
- threads: title, slug, deletion, merging and moving (other pages list related threads).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from forum.models import (
    Board,
    Category,
    HistoryEvent,
    Post,
    SiteState,
    Thread,
    User,
    utcnow,
)

FLAG = "cairn_site_changed"

# Columns whose change alters nothing a page shows to other people (or that each page's
# version covers by itself: ``users.post_count``).
UNSHOWN: dict[str, frozenset[str]] = {
    "users": frozenset({
        "post_count", "last_active_at", "session_token", "password_hash",
        "legacy_password_hash", "email", "email_key", "email_mode", "email_verified_at",
        "auto_watch", "anniversary_reminders", "signature_review_pending", "legacy_member_name",
    }),
    "boards": frozenset({"thread_count", "post_count", "last_post_id"}),
}
# For these tables only the listed columns count.
SHOWN: dict[str, frozenset[str]] = {
    "threads": frozenset({"title", "slug", "deleted_at", "board_id", "merged_into_id"}),
    "posts": frozenset({"author_id", "is_update", "deleted_at", "body_html"}),
}
EVERY_CHANGE = frozenset({"history_events", "categories"})
WATCHED = EVERY_CHANGE | set(UNSHOWN) | set(SHOWN)


def bump(connection_or_session: Any) -> None:
    """Raise the generation now, in the caller's transaction."""
    connection_or_session.execute(
        update(SiteState)
        .where(SiteState.id == 1)
        .values(generation=SiteState.generation + 1, changed_at=utcnow())
    )


def mark(session: Session) -> None:
    """Bump the generation when this session's transaction commits."""
    session.info[FLAG] = True


def counts(table: str, columns: set[str] | None) -> bool:
    """Whether changing these columns of this table changes what pages show (None: unknown)."""
    if table not in WATCHED:
        return False
    if table in EVERY_CHANGE or columns is None:
        return True
    if table in SHOWN:
        return bool(columns & SHOWN[table])
    return bool(columns - UNSHOWN[table])


def _changed(obj: Any) -> set[str]:
    state = inspect(obj)
    return {
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }


def _object_counts(obj: Any, is_new: bool, is_deleted: bool) -> bool:
    if isinstance(obj, HistoryEvent | Category):
        return True
    if is_deleted:
        return isinstance(obj, User | Board | Thread | Post)
    if isinstance(obj, Post):
        if is_new:
            return bool(obj.is_update)
        changed = _changed(obj)
        if changed & {"author_id", "is_update"}:
            return True
        return bool(changed & {"deleted_at", "body_html"}) and (
            bool(obj.is_update) or obj.position == 0
        )
    if isinstance(obj, User | Board | Thread):
        if is_new:
            return False  # nothing shown yet links to it
        return counts(obj.__tablename__, _changed(obj))
    return False


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if session.info.get(FLAG):
        return
    for objects, is_new, is_deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for obj in objects:
            if _object_counts(obj, is_new, is_deleted):
                mark(session)
                return


def _statement_columns(state: ORMExecuteState) -> set[str] | None:
    """The columns an INSERT/UPDATE sets; None when they can't be told."""
    names: set[str] = set()
    values = getattr(state.statement, "_values", None)  # from .values(...)
    for key in values or ():
        names.add(key if isinstance(key, str) else getattr(key, "key", str(key)))
    parameters = state.parameters
    for row in [parameters] if isinstance(parameters, dict) else parameters or ():
        names.update(str(key) for key in row)
    names.discard("id")  # a bulk UPDATE by primary key names the rows, not a change
    return names or None


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in WATCHED:
        return
    if state.is_delete:
        mark(state.session)
        return
    if state.is_insert and name not in EVERY_CHANGE:
        return  # new rows of other tables are on no page yet
    if counts(name, None if state.is_delete else _statement_columns(state)):
        mark(state.session)


def _before_commit(session: Session) -> None:
    session.flush()  # the final flush happens after this hook: run it now to see its changes
    if session.info.pop(FLAG, False):
        bump(session)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(FLAG, None)


def install() -> None:
    """Watch every ORM session in this process (idempotent)."""
    if event.contains(Session, "before_flush", _before_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_rollback", _forget)
