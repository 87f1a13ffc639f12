"""Old SMF links keep working: ``/index.php?…`` answers with a permanent redirect.

``topic=N.0``, ``topic=N.40`` (a message offset), ``topic=N.msgM#msgM``, ``msg=M``,
``board=N.0`` and ``action=profile;u=N``; SMF separates parameters with ``;`` as well as ``&``.
The ``import_map`` table kept after an import says where each old id went.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from forum import queries
from forum.extensions import db
from forum.models import Board, ImportMap, Post, User
from forum.web.errors import render_error
from forum.web.threads import thread_url

bp = Blueprint("legacy_links", __name__)

_TOPIC = re.compile(r"(\d+)(?:\.(?:msg(\d+)|(\d+)|\w*))?")


def _params() -> dict[str, str]:
    """``a=1;b=2&c=3`` → {"a": "1", "b": "2", "c": "3"} (first value wins)."""
    raw = request.query_string.decode("utf-8", "replace")
    params: dict[str, str] = {}
    for piece in re.split(r"[;&]", raw):
        name, _, value = piece.partition("=")
        params.setdefault(name.strip().lower(), value.strip())
    return params


def _new_id(kind: str, old_id: str | int | None) -> int | None:
    if old_id is None or not str(old_id).isdigit():
        return None
    return db.session.scalar(
        select(ImportMap.new_id)
        .where(ImportMap.kind == kind, ImportMap.old_id == int(old_id))
        .order_by(ImportMap.source)
        .limit(1)
    )


def _to_post(post_id: int):
    thread, page = queries.post_location(
        db.session, current_user, post_id, current_app.config["POSTS_PER_PAGE"]
    )
    return redirect(thread_url(thread, page, post_id), 301)


def _gone(what: str):
    return render_error(
        404,
        f"This link points to {what} from our old forum that didn't come across. "
        "Try the search box, or start from the board list.",
    )


@bp.route("/index.php")
def legacy():
    params = _params()
    if params.get("msg"):
        post_id = _new_id("message", params["msg"])
        return _to_post(post_id) if post_id else _gone("a post")
    if params.get("topic"):
        return _topic(params["topic"])
    if params.get("board"):
        board = db.session.get(Board, _new_id("board", params["board"].split(".")[0]) or 0)
        return (
            redirect(url_for("boards.board", slug=board.slug), 301) if board else _gone("a board")
        )
    if params.get("action") == "profile" and params.get("u"):
        member = db.session.get(User, _new_id("member", params["u"]) or 0)
        if member is None or member.deleted_at is not None:
            return _gone("a member")
        return redirect(url_for("members.show", username=member.username), 301)
    if not params.get("action"):
        return redirect(url_for("boards.index"), 301)
    return _gone("a page")


def _topic(value: str):
    match = _TOPIC.fullmatch(value)
    thread_id = _new_id("topic", match.group(1)) if match else None
    if thread_id is None:
        return _gone("a topic")
    if match and match.group(2):
        post_id = _new_id("message", match.group(2))
        if post_id and db.session.scalar(select(Post.thread_id).where(Post.id == post_id)):
            return _to_post(post_id)
    thread, _board, _is_mod = queries.load_thread(db.session, current_user, thread_id)
    offset = int(match.group(3) or 0) if match else 0
    page = offset // current_app.config["POSTS_PER_PAGE"] + 1
    page = min(page, max(1, -(-thread.post_count // current_app.config["POSTS_PER_PAGE"])))
    return redirect(thread_url(thread, page), 301)
