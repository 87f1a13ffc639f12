"""Update reminders: the member's reminder settings and dismissing a due reminder."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum import current_vocabulary, outcome_queries
from forum.extensions import db
from forum.services import reminders
from forum.web.forms import ActionForm
from forum.web.outcome_forms import ReminderSettingsForm

bp = Blueprint("reminders", __name__)


@bp.route("/settings/reminders", methods=["GET", "POST"])
@login_required
def settings():
    form = ReminderSettingsForm()
    if request.method == "GET":
        form.anniversaries.data = current_user.anniversary_reminders
    elif form.validate_on_submit():
        enabled = bool(form.anniversaries.data)
        added = reminders.set_anniversary_reminders(
            db.session, current_user, enabled, current_vocabulary()
        )
        if not enabled:
            flash("Anniversary reminders are off.", "info")
        elif added:
            flash(f"Anniversary reminders are on: {added} scheduled.", "success")
        else:
            flash("Anniversary reminders are on. Add dated treatments to your history "
                  "(month and year) so we know when to remind you.", "success")
        return redirect(url_for(".settings"))
    else:
        abort(400)
    data = outcome_queries.open_reminders(db.session, current_user)
    return render_template(
        "outcomes/reminders.html", form=form, data=data, action_form=ActionForm()
    )


def _safe_next(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/reminders/<int:reminder_id>/dismiss", methods=["POST"])
@login_required
def dismiss(reminder_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    reminders.dismiss(db.session, current_user, reminder_id)
    flash("Reminder dismissed. You can still post an update whenever you like.", "info")
    return redirect(_safe_next(request.form.get("next")) or url_for(".settings"))
