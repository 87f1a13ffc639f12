"""Member pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forum import policies, queries
from forum.extensions import db
from forum.services import members as member_service
from forum.services.errors import ValidationError
from forum.services.validation import username_key
from forum.web.forms import MemoriamForm
from forum.web.presenters import timeline
from forum.web.structured_data import member_json_ld

bp = Blueprint("members", __name__)


@bp.route("/u/<username>")
def show(username: str):
    data = queries.member_page(db.session, current_user, username_key(username))
    memoriam_form = None
    if policies.can_set_in_memoriam(current_user):
        memoriam_form = MemoriamForm(
            remembered=data.member.in_memoriam, memorial_line=data.member.memorial_line
        )
    history = None
    if policies.can_view_history(current_user, data.member):
        history = timeline(data.member, data.history)
    return render_template(
        "member.html",
        data=data,
        memoriam_form=memoriam_form,
        history=history,
        json_ld=member_json_ld(data),
    )


@bp.route("/u/<username>/memoriam", methods=["POST"])
@login_required
def memoriam(username: str):
    if not policies.can_set_in_memoriam(current_user):
        abort(403)
    data = queries.member_page(db.session, current_user, username_key(username), recent=0)
    form = MemoriamForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        member_service.set_in_memoriam(
            db.session,
            current_user,
            data.member,
            remembered=bool(form.remembered.data),
            line=form.memorial_line.data,
        )
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("members.show", username=data.member.username)), 303
    flash("Saved.", "success")
    return redirect(url_for("members.show", username=data.member.username))
