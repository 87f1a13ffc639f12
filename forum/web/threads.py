"""Reading threads; starting, replying, quoting, editing, deleting and restoring posts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from forum import moderation_queries, policies, queries
from forum.extensions import db, limiter
from forum.models import HeldPost, Post
from forum.services import posting
from forum.services.errors import NotFound, ValidationError
from forum.text.markup import quote_markdown, render_markdown
from forum.web import page_cache
from forum.web.caching import anonymous_request, not_modified
from forum.web.forms import ActionForm, EditForm, ReplyForm, ThreadForm
from forum.web.helpers import apply_errors, page_arg
from forum.web.moderation_forms import ModeratorEditForm, ReasonForm
from forum.web.notifications import record_reading
from forum.web.presenters import post_histories
from forum.web.security import configured_limit
from forum.web.structured_data import thread_json_ld, thread_social

bp = Blueprint("threads", __name__)
HELD_MESSAGE = (
    "Thank you! Welcome: a new member's first posts are read by a moderator before everyone "
    "sees them. Yours will appear once approved; usually within a day."
)


def thread_url(thread, page: int = 1, post_id: int | None = None, **kw) -> str:
    return url_for(
        "threads.show",
        thread_id=thread.id,
        slug=thread.slug,
        page=page if page > 1 else None,
        _anchor=f"post-{post_id}" if post_id else None,
        **kw,
    )


@bp.app_template_global()
def thread_link(thread, page: int = 1, post_id: int | None = None) -> str:
    return thread_url(thread, page, post_id)


def _per_page() -> int:
    return current_app.config["POSTS_PER_PAGE"]


@bp.route("/t/<int:thread_id>")
@bp.route("/t/<int:thread_id>/<slug>")
def show(thread_id: int, slug: str | None = None):
    page = page_arg()
    unchanged, loaded = _unchanged_for_visitor(thread_id, slug, page)
    if unchanged is not None:
        return unchanged
    try:
        data = queries.thread_page(
            db.session, current_user, thread_id, page, _per_page(), loaded=loaded
        )
    except NotFound:
        merged = moderation_queries.merged_target(db.session, current_user, thread_id)
        if merged is None:
            raise
        return redirect(thread_url(merged), code=301)
    if data.thread.merged_into_id is not None:  # moderators see deleted threads
        merged = moderation_queries.merged_target(db.session, current_user, thread_id)
        if merged is not None:
            return redirect(thread_url(merged), code=301)
    if slug != data.thread.slug:
        return redirect(thread_url(data.thread, page), code=301)
    current_app.extensions["cairn_views"].record(data.thread.id)
    record_reading(data)  # the viewer's read mark (written once the page is rendered)
    return render_template(
        "thread.html",
        data=data,
        json_ld=thread_json_ld(data),
        social=thread_social(data),
        related=queries.related_threads(db.session, current_user, data.thread, data.tags),
        post_histories=post_histories(current_user, data.posts, data.histories),
        reply_form=ReplyForm()
        if policies.can_reply(current_user, data.thread, data.board)
        else None,
        # Visitors get no forms: a CSRF token would start a session and spoil caching.
        action_form=ActionForm() if current_user.is_authenticated else None,
        held=moderation_queries.my_held_posts(db.session, current_user, data.thread.id),
    )


def _unchanged_for_visitor(thread_id: int, slug: str | None, page: int):
    """A 304 for a visitor whose copy is current, from one small query and no rendering
    (and that query's thread and board, which the full page reuses).

    The validators are the page's version (``page_cache``: the thread's own timestamps, what
    it shows about its authors and board, the page and the day); they are registered for the
    full response too, which the page cache may then keep. Members always get a freshly
    rendered page.
    """
    if not anonymous_request():
        return None, None
    found = page_cache.load_thread_for_visitor(current_app, db.session, thread_id, page)
    if found is None:
        return None, None
    thread, board, version = found
    # A visitor can't moderate: a deleted thread is not theirs to see (the full check runs
    # in queries.thread_page when this answers None).
    if not policies.can_view_board(current_user, board) or thread.deleted_at is not None:
        return None, None
    loaded = (thread, board, False)
    if thread.merged_into_id is not None or slug != thread.slug:
        return None, loaded
    if page > queries.page_count(thread.next_position, _per_page()):
        return None, loaded
    unchanged = not_modified(version.token, version.last_modified)
    if unchanged is not None:
        current_app.extensions["cairn_views"].record(thread.id)
    else:
        page_cache.remember(version)
    return unchanged, loaded


@bp.route("/p/<int:post_id>")
def permalink(post_id: int):
    thread, page = queries.post_location(db.session, current_user, post_id, _per_page())
    return redirect(thread_url(thread, page, post_id))


@bp.route("/b/<slug>/new", methods=["GET", "POST"])
@login_required
@limiter.limit(configured_limit("RATELIMIT_NEW_THREAD"), methods=["POST"])
def new_thread(slug: str):
    board = queries.board_page(db.session, current_user, slug, 1, 1).board
    if not policies.can_start_thread(current_user, board):
        abort(403)
    form = ThreadForm()
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data or "")
        else:
            try:
                thread = posting.start_thread(
                    db.session,
                    current_user,
                    board,
                    form.title.data,
                    form.body.data,
                    remind_after_months=form.remind_after_months.data,
                    rules=posting.PostingRules.from_config(current_app.config),
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                if isinstance(thread, HeldPost):
                    flash(HELD_MESSAGE, "info")
                    return redirect(url_for("boards.board", slug=board.slug))
                flash("Your thread is posted.", "success")
                return redirect(thread_url(thread))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "post_form.html", form=form, board=board, mode="new", preview=preview
    ), status


@bp.route("/t/<int:thread_id>/reply", methods=["GET", "POST"])
@login_required
@limiter.limit(configured_limit("RATELIMIT_REPLY"), methods=["POST"])
def reply(thread_id: int):
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    if not policies.can_reply(current_user, thread, board):
        abort(403, "This thread is locked." if thread.is_locked else None)
    form = ReplyForm()
    preview = None
    quote = request.args.get("quote", "")
    if request.method == "GET" and quote.isascii() and quote.isdigit() and len(quote) < 10:
        form.body.data = _quote(int(quote), thread.id)
    if request.method == "GET" and request.args.get("update") == "1":
        form.is_update.data = True
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data or "")
        else:
            try:
                post = posting.reply(
                    db.session,
                    current_user,
                    thread,
                    board,
                    form.body.data,
                    is_update=bool(form.is_update.data),
                    rules=posting.PostingRules.from_config(current_app.config),
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                if isinstance(post, HeldPost):
                    flash(HELD_MESSAGE, "info")
                    return redirect(thread_url(thread))
                return redirect(url_for("threads.permalink", post_id=post.id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "post_form.html", form=form, thread=thread, board=board, mode="reply", preview=preview
    ), status


def _quote(post_id: int, thread_id: int) -> str:
    post = db.session.get(Post, post_id, options=[joinedload(Post.author)])
    if post is None or post.thread_id != thread_id or post.deleted_at:
        return ""
    author = post.author.username if post.author else "A former member"
    return quote_markdown(author, url_for("threads.permalink", post_id=post.id), post.body)


def _load_post(post_id: int):
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound("There is no post with that number.")
    thread, board, is_mod = queries.load_thread(db.session, current_user, post.thread_id)
    if post.deleted_at and not is_mod and post.author_id != getattr(current_user, "id", None):
        raise NotFound("That post was removed.")
    return post, thread, board


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int):
    post, thread, board = _load_post(post_id)
    if not policies.can_edit_post(current_user, post, board):
        abort(403)
    as_moderator = post.author_id != current_user.id
    form = ModeratorEditForm() if as_moderator else EditForm()
    if request.method == "GET":
        form.body.data = post.body
        form.title.data = thread.title
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data or "")
        else:
            try:
                posting.edit_post(
                    db.session,
                    current_user,
                    post,
                    thread,
                    board,
                    form.body.data,
                    title=form.title.data if post.position == 0 else None,
                    reason=form.reason.data if as_moderator else "",
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                flash("Your changes are saved.", "success")
                return redirect(url_for("threads.permalink", post_id=post.id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template(
        "post_form.html",
        form=form,
        thread=thread,
        board=board,
        post=post,
        mode="edit",
        preview=preview,
    ), status


@bp.route("/p/<int:post_id>/delete", methods=["POST"])
@login_required
def delete(post_id: int):
    post, thread, board = _load_post(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    posting.delete_post(db.session, current_user, post, thread, board, reason=form.reason.data)
    if post.position == 0:
        flash("The thread was deleted.", "info")
        return redirect(url_for("boards.board", slug=board.slug))
    flash("The post was deleted.", "info")
    return redirect(thread_url(thread))


@bp.route("/p/<int:post_id>/restore", methods=["POST"])
@login_required
def restore(post_id: int):
    post, thread, board = _load_post(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    posting.restore_post(db.session, current_user, post, thread, board, reason=form.reason.data)
    flash("The post was restored.", "success")
    return redirect(url_for("threads.permalink", post_id=post.id))


@bp.route("/p/<int:post_id>/revisions")
@login_required
def revisions(post_id: int):
    post, thread, board = _load_post(post_id)
    if not policies.can_read_revisions(current_user, post, board):
        abort(403)
    return render_template(
        "revisions.html",
        post=post,
        thread=thread,
        board=board,
        revisions=queries.revisions(db.session, post.id),
    )
