"""Admins manage categories and boards."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from forum import policies
from forum.extensions import db
from forum.models import Board, Category
from forum.services import boards as board_service
from forum.services.errors import ValidationError
from forum.web.forms import BoardForm, CategoryForm
from forum.web.helpers import apply_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    if not policies.can_manage_boards(current_user):
        abort(403)


def _board_form(board: Board | None = None) -> BoardForm:
    form = BoardForm(obj=board)
    form.category_id.choices = [
        SelectChoice(c.id, c.name)
        for c in db.session.scalars(select(Category).order_by(Category.position))
    ]
    return form


@bp.route("/boards", methods=["GET", "POST"])
def boards():
    category_form = CategoryForm(prefix="category")
    board_form = _board_form()
    status = 200
    if request.method == "POST":
        status = 400
        if "category-submit" in request.form and category_form.validate_on_submit():
            try:
                board_service.create_category(db.session, current_user, category_form.name.data)
            except ValidationError as exc:
                apply_errors(category_form, exc)
            else:
                flash("Category added.", "success")
                return redirect(url_for("admin.boards"))
        elif board_form.validate_on_submit():
            try:
                board_service.save_board(
                    db.session,
                    current_user,
                    category_id=board_form.category_id.data,
                    name=board_form.name.data,
                    slug=board_form.slug.data,
                    description=board_form.description.data,
                    members_only=bool(board_form.members_only.data),
                    position=board_form.position.data,
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(board_form, exc)
            else:
                flash("Board added.", "success")
                return redirect(url_for("admin.boards"))
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    all_boards = db.session.scalars(select(Board).order_by(Board.category_id, Board.position)).all()
    return render_template(
        "admin/boards.html",
        categories=categories,
        boards=all_boards,
        category_form=category_form,
        board_form=board_form,
    ), status


@bp.route("/boards/<int:board_id>", methods=["GET", "POST"])
def edit_board(board_id: int):
    board = db.session.get(Board, board_id)
    if board is None:
        abort(404)
    form = _board_form(board)
    if form.validate_on_submit():
        try:
            board_service.save_board(
                db.session,
                current_user,
                board=board,
                category_id=form.category_id.data,
                name=form.name.data,
                slug=form.slug.data,
                description=form.description.data,
                members_only=bool(form.members_only.data),
                position=form.position.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Board saved.", "success")
            return redirect(url_for("admin.boards"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/board_edit.html", board=board, form=form), status
