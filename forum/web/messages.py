"""Private conversations under /messages: never indexed, never cached, never public."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from forum import conversation_queries, policies
from forum.extensions import db, limiter
from forum.services import messages
from forum.services.errors import ValidationError
from forum.text.markup import render_markdown
from forum.web.forms import ActionForm
from forum.web.helpers import apply_errors, page_arg
from forum.web.inbox_forms import (
    BlockForm,
    MessageReplyForm,
    NewConversationForm,
    ReportConversationForm,
)

bp = Blueprint("messages", __name__, url_prefix="/messages")


@bp.before_request
@login_required
def _members_only():
    return None


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _per_page() -> int:
    return current_app.config["MESSAGES_PER_PAGE"]


def _require_action_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired or came from elsewhere. Reload the page and try again.")


@bp.route("/")
def index():
    data = conversation_queries.conversations_page(db.session, current_user, page_arg(), 25)
    return render_template(
        "messages/list.html",
        data=data,
        per_page=_per_page(),
        can_review=policies.can_review_reported_conversations(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def new():
    form = NewConversationForm()
    if request.method == "GET" and request.args.get("to"):
        form.to.data = request.args["to"]
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_markdown(form.body.data or "")
        else:
            try:
                conversation = messages.start_conversation(
                    db.session,
                    current_user,
                    form.to.data or "",
                    form.subject.data or "",
                    form.body.data or "",
                    min_posts=current_app.config["PM_MIN_POSTS"],
                    max_recipients=current_app.config["PM_MAX_RECIPIENTS"],
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                flash("Your message is sent.", "success")
                return redirect(url_for("messages.show", conversation_id=conversation.id))
    status = 400 if request.method == "POST" and preview is None else 200
    return render_template("messages/new.html", form=form, preview=preview), status


def _show(conversation_id: int, reply_form: MessageReplyForm, preview=None, status: int = 200):
    page = page_arg() if "page" in request.args else None
    data = conversation_queries.conversation_page(
        db.session, current_user, conversation_id, page, _per_page()
    )
    if data.advance_to is not None:
        # Record the read first, so the header's unread count already knows; the write ends
        # the read transaction, so the page's data is loaded again (three queries).
        unread_after = data.unread_after
        try:
            messages.record_read(db.session, current_user, data.conversation.id, data.advance_to)
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.warning("Recording a conversation as read failed", exc_info=True)
        data = conversation_queries.conversation_page(
            db.session, current_user, conversation_id, data.page, _per_page()
        )
        data.unread_after = unread_after
    can_reply = policies.can_reply_conversation(current_user, data.participant)
    return render_template(
        "messages/show.html",
        data=data,
        reply_form=reply_form if can_reply else None,
        report_form=ReportConversationForm(prefix="report"),
        action_form=ActionForm(),
        preview=preview,
    ), status


@bp.route("/<int:conversation_id>")
def show(conversation_id: int):
    return _show(conversation_id, MessageReplyForm())


@bp.route("/<int:conversation_id>/reply", methods=["POST"])
@limiter.limit("30 per minute")
def reply(conversation_id: int):
    conversation, participant = conversation_queries.load_conversation(
        db.session, current_user, conversation_id
    )
    form = MessageReplyForm()
    if not form.validate_on_submit():
        abort(400, "The form had expired or came from elsewhere. Reload the page and try again.")
    if form.preview.data:
        return _show(conversation_id, form, preview=render_markdown(form.body.data or ""))
    try:
        message = messages.reply(
            db.session, current_user, conversation, participant, form.body.data
        )
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _show(conversation_id, form, status=400)
    page = message.position // _per_page() + 1
    return redirect(
        url_for(
            "messages.show",
            conversation_id=conversation_id,
            page=page if page > 1 else None,
            _anchor=f"m{message.position}",
        )
    )


@bp.route("/<int:conversation_id>/leave", methods=["POST"])
def leave(conversation_id: int):
    conversation, participant = conversation_queries.load_conversation(
        db.session, current_user, conversation_id
    )
    _require_action_form()
    messages.leave(db.session, current_user, conversation, participant)
    flash("You left the conversation.", "info")
    return redirect(url_for("messages.index"))


@bp.route("/<int:conversation_id>/report", methods=["POST"])
def report(conversation_id: int):
    conversation, participant = conversation_queries.load_conversation(
        db.session, current_user, conversation_id
    )
    form = ReportConversationForm(prefix="report")
    if not form.validate_on_submit():
        abort(400, "The form had expired or came from elsewhere. Reload the page and try again.")
    try:
        messages.report(db.session, current_user, conversation, participant, form.reason.data)
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("messages.show", conversation_id=conversation_id)), 303
    flash("Thank you. The moderators can now read this conversation and will look at it.", "info")
    return redirect(url_for("messages.show", conversation_id=conversation_id))


@bp.route("/reported")
def reported():
    if not policies.can_review_reported_conversations(current_user):
        abort(403)
    rows = conversation_queries.reported_conversations(db.session)
    return render_template("messages/reported.html", rows=rows, action_form=ActionForm())


@bp.route("/<int:conversation_id>/clear-report", methods=["POST"])
def clear_report(conversation_id: int):
    conversation, _ = conversation_queries.load_conversation(
        db.session, current_user, conversation_id
    )
    _require_action_form()
    messages.clear_report(db.session, current_user, conversation)
    flash("The report is closed; the conversation is private again.", "info")
    return redirect(url_for("messages.reported"))


@bp.route("/blocked", methods=["GET", "POST"])
def blocked():
    form = BlockForm()
    if request.method == "GET" and request.args.get("username"):
        form.username.data = request.args["username"]
    if form.validate_on_submit():
        try:
            member = messages.block(db.session, current_user, form.username.data or "")
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(f"{member.username} can no longer message or notify you.", "info")
            return redirect(url_for("messages.blocked"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "messages/blocked.html",
        form=form,
        members=conversation_queries.blocked_members(db.session, current_user),
        action_form=ActionForm(),
    ), status


@bp.route("/blocked/<int:user_id>/remove", methods=["POST"])
def unblock(user_id: int):
    _require_action_form()
    messages.unblock(db.session, current_user, user_id)
    flash("Unblocked.", "info")
    return redirect(url_for("messages.blocked"))
