"""Notifications, notification settings, watching, read marks — and sending the request's mail."""

from __future__ import annotations

from functools import partial

from flask import (
    Blueprint,
    Flask,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from forum import inbox_queries, queries
from forum.extensions import db
from forum.services import boards, notifications, outbox, read_marks, watching
from forum.services.errors import ValidationError
from forum.services.notification_texts import target_endpoint
from forum.web.after_response import after_response
from forum.web.forms import ActionForm
from forum.web.helpers import apply_errors, page_arg
from forum.web.inbox_forms import NotificationSettingsForm

bp = Blueprint("notifications", __name__)


def inbox_counts() -> inbox_queries.HeaderCounts | None:
    """The header's unread counts: one query per request for members, none for visitors."""
    if not current_user.is_authenticated:
        return None
    if "inbox_counts" not in g:
        g.inbox_counts = inbox_queries.header_counts(
            db.session, current_user, settling=g.get("inbox_settling")
        )
    return g.inbox_counts


def record_reading(data: queries.ThreadPage) -> None:
    """Called by the thread page: move the viewer's read mark if this view advances it.

    The write waits until the page is rendered (it ends the page's read transaction, which
    expires what it loaded); meanwhile the header already leaves out the notifications it
    settles. A read mark never fails a page: a failure is logged and the next view tries again.
    """
    reading = data.reading
    if reading is None or reading.advance_to is None:
        return
    thread_id, position, clear = data.thread.id, reading.advance_to, reading.clear_notifications
    if clear:
        g.inbox_settling = (thread_id, position)

    @after_this_request
    def _write(response):
        try:
            read_marks.record_thread_view(
                db.session, current_user, thread_id, position, clear_notifications=clear
            )
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.warning("Recording a read mark failed", exc_info=True)
        return response


def _require_action_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired or came from elsewhere. Reload the page and try again.")


@bp.route("/notifications")
@login_required
def index():
    data = inbox_queries.notifications_page(
        db.session, current_user, page_arg(), current_app.config["NOTIFICATIONS_PER_PAGE"]
    )
    return render_template("notifications/list.html", data=data, action_form=ActionForm())


@bp.route("/notifications/<int:notification_id>")
@login_required
def follow(notification_id: int):
    notification = notifications.open_notification(db.session, current_user, notification_id)
    if notification is None:
        abort(404)
    endpoint, values = target_endpoint(notification)
    return redirect(url_for(endpoint, **values))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read():
    _require_action_form()
    notifications.mark_all_read(db.session, current_user)
    flash("All notifications are marked read.", "info")
    return redirect(url_for("notifications.index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    form = NotificationSettingsForm(
        email_mode=current_user.email_mode, auto_watch=current_user.auto_watch
    )
    if form.validate_on_submit():
        try:
            notifications.save_preferences(
                db.session,
                current_user,
                email_mode=form.email_mode.data,
                auto_watch=bool(form.auto_watch.data),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Your notification settings are saved.", "success")
            return redirect(url_for("notifications.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/settings.html", form=form), status


@bp.route("/t/<int:thread_id>/watch", methods=["POST"])
@login_required
def watch_thread(thread_id: int):
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    _require_action_form()
    state = request.form.get("state", "")
    watching.set_thread_watch(db.session, current_user, thread, board, state)
    flash(
        {
            "watching": "You are watching this thread: replies will be in your notifications.",
            "muted": "This thread is muted: it will send you no notifications.",
            "none": "You are no longer watching this thread.",
        }[state],
        "info",
    )
    return redirect(url_for("threads.show", thread_id=thread.id, slug=thread.slug))


@bp.route("/b/<slug>/watch", methods=["POST"])
@login_required
def watch_board(slug: str):
    board = boards.get_board(db.session, slug)
    _require_action_form()
    on = request.form.get("state") == "watching"
    watching.set_board_watch(db.session, current_user, board, on)
    flash(
        "You'll be notified of new threads on this board."
        if on
        else "You are no longer watching this board.",
        "info",
    )
    return redirect(url_for("boards.board", slug=board.slug))


@bp.route("/b/<slug>/read", methods=["POST"])
@login_required
def mark_board_read(slug: str):
    board = boards.get_board(db.session, slug)
    _require_action_form()
    read_marks.mark_board_read(db.session, current_user, board)
    flash(f"Everything on {board.name} is marked read.", "info")
    return redirect(url_for("boards.board", slug=board.slug))


@bp.route("/t/<int:thread_id>/unread")
@login_required
def first_unread(thread_id: int):
    """Jump to the first post the member hasn't read (or the latest one, when all are read)."""
    from forum.web.threads import thread_url

    thread, _, _ = queries.load_thread(db.session, current_user, thread_id)
    post = inbox_queries.first_unread_post(db.session, current_user, thread)
    if post is None:
        if thread.last_post_id is None:
            return redirect(thread_url(thread))
        return redirect(url_for("threads.permalink", post_id=thread.last_post_id))
    page = post.position // current_app.config["POSTS_PER_PAGE"] + 1
    return redirect(thread_url(thread, page, post.id))


# -- mail queued during the request goes out after the response -------------------------------


@bp.after_app_request
def _send_queued_mail(response):
    ids = outbox.take_queued_ids(db.session)
    if ids and current_app.config["MAIL_DELIVERY"] == "after_response":
        app = current_app._get_current_object()
        after_response(partial(_deliver_after_response, app, ids))
    return response


def _deliver_after_response(app: Flask, ids: list[int]) -> None:
    """Runs once the response is sent, in an app context (and session) of its own."""
    with app.app_context():
        try:
            outbox.deliver(db.session, ids)
        except Exception:  # the mail stays in the outbox for `forum send-mail`
            db.session.rollback()
            app.logger.exception("Sending queued mail %s failed; it stays in the outbox", ids)
