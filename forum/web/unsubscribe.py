"""The one-click unsubscribe link in every mail: no login, the signed token says who.

GET shows a page with one button (mail scanners that follow links must not unsubscribe anyone);
POST unsubscribes. Mail clients that support RFC 8058 POST here directly from the
``List-Unsubscribe-Post`` header, without a form token: the signed token is what authorises it,
so this one view is exempt from CSRF.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from forum.extensions import csrf, db
from forum.services import notifications, outbox
from forum.services.errors import ValidationError

bp = Blueprint("unsubscribe", __name__)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def confirm(token: str):
    if request.method == "POST":
        try:
            user = notifications.unsubscribe(db.session, token)
        except ValidationError as exc:
            return render_template("notifications/unsubscribe.html", error=exc.message), 400
        return render_template("notifications/unsubscribe.html", done=True, member=user)
    user = outbox.read_unsubscribe_token(db.session, token)
    if user is None:
        message = (
            "That unsubscribe link is broken or too old. Log in and change your email settings."
        )
        return render_template("notifications/unsubscribe.html", error=message), 400
    return render_template("notifications/unsubscribe.html", member=user, token=token)
