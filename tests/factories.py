"""Test data through the real services, with traits (moderator, admin, with_history…)."""

from __future__ import annotations

import itertools

from forum.models import Board, Category, Post, Thread, User
from forum.services import accounts, boards, posting

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(session, username: str | None = None, *, role: str = "member", **fields) -> User:
    n = next(_counter)
    username = username or f"member{n}"
    user = accounts.register(session, username, f"{username}@example.org", PASSWORD, role=role)
    for key, value in fields.items():
        setattr(user, key, value)
    if fields:
        session.commit()
    return user


def make_moderator(session, username: str | None = None, **fields) -> User:
    return make_user(session, username, role="moderator", **fields)


def make_admin(session, username: str | None = None, **fields) -> User:
    return make_user(session, username, role="admin", **fields)


def make_board(session, name: str | None = None, *, members_only: bool = False, **fields) -> Board:
    n = next(_counter)
    category = Category(name=f"Category {n}", position=n)
    session.add(category)
    session.commit()
    board = boards.save_board(
        session,
        None,
        category_id=category.id,
        name=name or f"Board {n}",
        members_only=members_only,
        **fields,
    )
    return board


def make_thread(
    session,
    board: Board | None = None,
    author: User | None = None,
    *,
    title: str | None = None,
    body: str = "Opening post text.",
    replies: int = 0,
    repliers: list[User] | None = None,
) -> Thread:
    board = board or make_board(session)
    author = author or make_user(session)
    thread = posting.start_thread(session, author, board, title or f"Thread {next(_counter)}", body)
    for i in range(replies):
        who = (repliers or [author])[i % len(repliers or [author])]
        posting.reply(session, who, thread, board, f"Reply number {i + 1}.")
    return thread


def posts_of(session, thread: Thread) -> list[Post]:
    from sqlalchemy import select

    return list(
        session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.position))
    )
