"""Registering, logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forum import policies
from forum.extensions import db, limiter
from forum.services import account_safety, accounts
from forum.services.errors import ValidationError
from forum.web.forms import ActionForm, LoginForm, RegisterForm
from forum.web.helpers import apply_errors
from forum.web.security import configured_limit

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
@limiter.limit(configured_limit("RATELIMIT_REGISTER"), methods=["POST"])
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
            try:
                account_safety.send_verification(db.session, user)
            except account_safety.MailNotSent:
                sent = "(We couldn't email you just now: confirm your address from Settings.)"
            else:
                sent = f"Please open the link we sent to {user.email} to confirm your address."
            flash(f"Welcome to the community, {user.username}! {sent}", "success")
            return redirect(url_for("boards.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(configured_limit("RATELIMIT_LOGIN"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data or "", form.password.data or "")
        if user is not None and policies.is_banned(user):
            until = user.restricted_until
            form.form_errors.append(
                "This account is banned"
                + (f" until {until:%d %B %Y}." if until else ".")
                + " If you think this is a mistake, write to the moderators."
            )
        elif user is not None:
            login_user(user, remember=bool(form.remember.data))
            flash(f"Welcome back, {user.username}.", "success")
            if user.signature_review_pending:  # imported: "we read this from your old signature"
                return redirect(url_for("signature_review.review"))
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
