"""The board index and board pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from forum import queries
from forum.extensions import db
from forum.web.helpers import page_arg

bp = Blueprint("boards", __name__)


@bp.route("/")
def index():
    data = queries.board_index(db.session, current_user)
    return render_template("index.html", data=data)


@bp.route("/b/<slug>")
def board(slug: str):
    page = page_arg()
    data = queries.board_page(
        db.session, current_user, slug, page, current_app.config["THREADS_PER_PAGE"]
    )
    return render_template("board.html", data=data)
