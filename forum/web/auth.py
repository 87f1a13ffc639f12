"""Registering, logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forum.extensions import db, limiter
from forum.services import accounts
from forum.services.errors import ValidationError
from forum.web.forms import ActionForm, LoginForm, RegisterForm
from forum.web.helpers import apply_errors

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only redirect back inside the forum."""
    if not target:
        return url_for("boards.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("boards.index")
    return target


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("boards.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        if form.website.data:
            flash("Your account could not be created.", "error")
            return render_template("auth/register.html", form=form), 400
        try:
            user = accounts.register(
                db.session,
                form.username.data,
                form.email.data,
                form.password.data,
                form.confirm.data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login_user(user)
            flash(f"Welcome to the community, {user.username}!", "success")
            return redirect(url_for("boards.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            flash(f"Welcome back, {user.username}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("That username or email and password don't match an account.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("boards.index"))
