"""Member pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from forum import queries
from forum.extensions import db
from forum.services.validation import username_key

bp = Blueprint("members", __name__)


@bp.route("/u/<username>")
def show(username: str):
    data = queries.member_page(db.session, current_user, username_key(username))
    return render_template("member.html", data=data)
