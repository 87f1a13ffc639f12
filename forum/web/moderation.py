"""Moderation pages: the queue, thread tools (lock, sticky, move, split, merge), reports,
held posts, suspensions and bans, board moderators. Every decision is the policies'."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from forum import moderation_queries, policies, queries
from forum.extensions import db, limiter
from forum.models import Board, Post, User
from forum.services import board_moderators, moderation, reports
from forum.services.errors import Conflict, NotFound, ValidationError
from forum.services.validation import username_key
from forum.web.helpers import apply_errors
from forum.web.moderation_forms import (
    BoardModeratorForm,
    DecisionForm,
    LiftForm,
    MergeForm,
    MoveForm,
    ReasonForm,
    ReportForm,
    SplitForm,
    SuspendForm,
)
from forum.web.security import configured_limit
from forum.web.threads import thread_url

bp = Blueprint("moderation", __name__)


def _thread(thread_id: int):
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    return thread, board


def _post(post_id: int):
    post = db.session.get(Post, post_id, options=[joinedload(Post.author)])
    if post is None:
        raise NotFound("There is no post with that number.")
    thread, board, is_mod = queries.load_thread(db.session, current_user, post.thread_id)
    if post.deleted_at and not is_mod:
        raise NotFound("That post was removed.")
    return post, thread, board


def _member(username: str) -> User:
    member = db.session.scalar(
        select(User).where(User.username_key == username_key(username), User.deleted_at.is_(None))
    )
    if member is None:
        raise NotFound("There is no member with that name.")
    return member


def _submitted(form) -> None:
    """Buttons: the CSRF check already ran; a field that fails its own check is a 400."""
    if not form.validate_on_submit():
        abort(400, " ".join(m for msgs in form.errors.values() for m in msgs))


# -- the queue ---------------------------------------------------------------------------------


@bp.route("/moderation")
@login_required
def queue():
    data = moderation_queries.queue(db.session, current_user)
    return render_template(
        "moderation/queue.html", data=data, decision_form=DecisionForm(), reason_form=ReasonForm()
    )


@bp.route("/moderation/held/<int:held_id>/approve", methods=["POST"])
@login_required
def approve(held_id: int):
    form = ReasonForm()
    _submitted(form)
    held = moderation_queries.held_post(db.session, held_id)
    moderation.approve(db.session, current_user, held)
    flash("Approved: the post is public now.", "success")
    return redirect(url_for(".queue"))


@bp.route("/moderation/held/<int:held_id>/reject", methods=["POST"])
@login_required
def reject(held_id: int):
    form = ReasonForm()
    _submitted(form)
    held = moderation_queries.held_post(db.session, held_id)
    moderation.reject(db.session, current_user, held, form.reason.data or "")
    flash("The post was not approved; its author was told.", "info")
    return redirect(url_for(".queue"))


@bp.route("/moderation/reports/<int:post_id>", methods=["POST"])
@login_required
def decide(post_id: int):
    post, thread, board = _post(post_id)
    form = DecisionForm()
    _submitted(form)
    decision = "delete" if form.delete.data else "dismiss" if form.dismiss.data else "resolve"
    settled = reports.decide(
        db.session, current_user, post, thread, board, decision, form.note.data
    )
    words = {"resolve": "resolved", "dismiss": "dismissed", "delete": "resolved, post deleted"}
    flash(f"{settled} report{'s' if settled != 1 else ''} {words[decision]}.", "success")
    return redirect(url_for(".queue"))


# -- reporting a post --------------------------------------------------------------------------


@bp.route("/p/<int:post_id>/report", methods=["GET", "POST"])
@login_required
@limiter.limit(configured_limit("RATELIMIT_REPORT"), methods=["POST"])
def report(post_id: int):
    post, thread, board = _post(post_id)
    if not policies.can_report_post(current_user, post, board):
        abort(403)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.report_post(db.session, current_user, post, thread, board, form.reason.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Thank you. The moderators will look at the post.", "success")
            return redirect(url_for("threads.permalink", post_id=post.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "moderation/report.html", form=form, post=post, thread=thread, board=board
    ), status


# -- thread tools ------------------------------------------------------------------------------


def _thread_button(thread_id: int, change, message: str):
    thread, board = _thread(thread_id)
    form = ReasonForm()
    _submitted(form)
    change(db.session, current_user, thread, board, form.reason.data or "")
    flash(message, "success")
    return redirect(thread_url(thread))


@bp.route("/t/<int:thread_id>/lock", methods=["POST"])
@login_required
def lock(thread_id: int):
    def change(session, actor, thread, board, reason):
        moderation.set_locked(session, actor, thread, board, True, reason)

    return _thread_button(thread_id, change, "The thread is locked: no new replies.")


@bp.route("/t/<int:thread_id>/unlock", methods=["POST"])
@login_required
def unlock(thread_id: int):
    def change(session, actor, thread, board, reason):
        moderation.set_locked(session, actor, thread, board, False, reason)

    return _thread_button(thread_id, change, "The thread is open for replies again.")


@bp.route("/t/<int:thread_id>/stick", methods=["POST"])
@login_required
def stick(thread_id: int):
    def change(session, actor, thread, board, reason):
        moderation.set_sticky(session, actor, thread, board, True, reason)

    return _thread_button(thread_id, change, "The thread stays at the top of its board.")


@bp.route("/t/<int:thread_id>/unstick", methods=["POST"])
@login_required
def unstick(thread_id: int):
    def change(session, actor, thread, board, reason):
        moderation.set_sticky(session, actor, thread, board, False, reason)

    return _thread_button(thread_id, change, "The thread is no longer sticky.")


def _board_choices(form_field, boards: list[Board]) -> None:
    form_field.choices = [SelectChoice(b.id, b.name) for b in boards]


@bp.route("/t/<int:thread_id>/move", methods=["GET", "POST"])
@login_required
def move(thread_id: int):
    thread, board = _thread(thread_id)
    if not policies.can_move_thread(current_user, board):
        abort(403)
    form = MoveForm()
    _board_choices(
        form.board_id, moderation_queries.movable_boards(db.session, current_user, exclude=board)
    )
    if form.validate_on_submit():
        try:
            to_board = db.session.get(Board, form.board_id.data)
            moderation.move_thread(
                db.session, current_user, thread, board, to_board, form.reason.data or ""
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(f"The thread is now on {to_board.name}.", "success")
            return redirect(thread_url(thread))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/move.html", form=form, thread=thread, board=board), status


@bp.route("/p/<int:post_id>/split", methods=["GET", "POST"])
@login_required
def split(post_id: int):
    post, thread, board = _post(post_id)
    if not policies.can_split_thread(current_user, board):
        abort(403)
    form = SplitForm()
    _board_choices(form.board_id, moderation_queries.movable_boards(db.session, current_user))
    if request.method == "GET":
        form.board_id.data = board.id
    if form.validate_on_submit():
        try:
            new = moderation.split_thread(
                db.session,
                current_user,
                post,
                thread,
                board,
                form.title.data,
                db.session.get(Board, form.board_id.data),
                form.reason.data or "",
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("The thread was split: this is the new thread.", "success")
            return redirect(thread_url(new))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "moderation/split.html", form=form, post=post, thread=thread, board=board
    ), status


_THREAD_NUMBER = re.compile(r"(?:^|/t/)(\d{1,9})(?:[/?#]|$)")


@bp.route("/t/<int:thread_id>/merge", methods=["GET", "POST"])
@login_required
def merge(thread_id: int):
    thread, board = _thread(thread_id)
    if not policies.can_merge_threads(current_user, board):
        abort(403)
    form = MergeForm()
    if form.validate_on_submit():
        match = _THREAD_NUMBER.search((form.target.data or "").strip())
        try:
            if match is None:
                raise ValidationError({"target": "Give the other thread's number or address."})
            try:
                target, target_board = _thread(int(match.group(1)))
            except NotFound:
                raise ValidationError(
                    {"target": f"There is no thread number {match.group(1)}."}
                ) from None
            moderation.merge_threads(
                db.session, current_user, thread, board, target, target_board, form.reason.data
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(f"“{thread.title}” was merged into this thread.", "success")
            return redirect(thread_url(target))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/merge.html", form=form, thread=thread, board=board), status


# -- members: suspensions and bans -------------------------------------------------------------


@bp.route("/u/<username>/suspend", methods=["GET", "POST"])
@login_required
def suspend(username: str):
    member = _member(username)
    if not policies.can_suspend(current_user, member):
        abort(403)
    form = SuspendForm()
    if form.validate_on_submit():
        try:
            moderation.suspend(
                db.session,
                current_user,
                member,
                kind=form.kind.data,
                reason=form.reason.data,
                days=form.days.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            what = "banned" if form.kind.data == "banned" else "suspended"
            flash(f"{member.username} is {what}.", "success")
            return redirect(url_for("members.show", username=member.username))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "moderation/suspend.html",
        form=form,
        lift_form=LiftForm(formdata=None),
        member=member,
        running=moderation_queries.running_suspension(db.session, member),
        history=moderation_queries.suspension_history(db.session, member),
    ), status


@bp.route("/u/<username>/lift", methods=["POST"])
@login_required
def lift(username: str):
    member = _member(username)
    form = LiftForm()
    _submitted(form)
    moderation.lift(db.session, current_user, member, form.reason.data or "")
    flash(f"{member.username} may take part again.", "success")
    return redirect(url_for("members.show", username=member.username))


# -- board moderators (admins) -----------------------------------------------------------------


@bp.route("/moderation/moderators", methods=["GET", "POST"])
@login_required
def board_moderators_page():
    if not policies.can_manage_board_moderators(current_user):
        abort(403)
    rows = moderation_queries.board_moderators_page(db.session)
    form = BoardModeratorForm()
    _board_choices(form.board_id, [board for board, _ in rows])
    if form.validate_on_submit():
        board = db.session.get(Board, form.board_id.data)
        try:
            member = board_moderators.assign(db.session, current_user, board, form.username.data)
        except (ValidationError, NotFound, Conflict) as exc:
            db.session.rollback()
            form.username.errors = [exc.message]
        else:
            flash(f"{member.username} now moderates {board.name}.", "success")
            return redirect(url_for(".board_moderators_page"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "moderation/moderators.html", rows=rows, form=form, remove_form=ReasonForm()
    ), status


@bp.route("/moderation/moderators/<int:board_id>/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_board_moderator(board_id: int, user_id: int):
    if not policies.can_manage_board_moderators(current_user):
        abort(403)
    _submitted(ReasonForm())
    board, member = db.session.get(Board, board_id), db.session.get(User, user_id)
    if board is None or member is None:
        raise NotFound("There is no such board or member.")
    board_moderators.remove(db.session, current_user, board, member)
    flash(f"{member.username} no longer moderates {board.name}.", "info")
    return redirect(url_for(".board_moderators_page"))
