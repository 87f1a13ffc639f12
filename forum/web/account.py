"""A member's account: settings (username, email, password, sessions), the links from account
emails (verify, reset, confirm a new address), and data rights (download, delete)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forum import moderation_queries
from forum.extensions import db, limiter
from forum.models import utcnow
from forum.services import account_safety, avatars, data_rights
from forum.services.errors import ValidationError
from forum.web.account_forms import (
    AvatarForm,
    ConfirmForm,
    DeleteAccountForm,
    EmailForm,
    PasswordForm,
    ResetPasswordForm,
    ResetRequestForm,
    UsernameForm,
)
from forum.web.forms import ActionForm
from forum.web.helpers import apply_errors
from forum.web.security import configured_limit

bp = Blueprint("account", __name__)
account_mail_limit = limiter.limit(configured_limit("RATELIMIT_ACCOUNT_MAIL"), methods=["POST"])


def _settings_page(status: int = 200, **forms):
    pages = {
        "username_form": UsernameForm(formdata=None, username=current_user.username),
        "email_form": EmailForm(formdata=None),
        "password_form": PasswordForm(formdata=None),
        "avatar_form": AvatarForm(formdata=None, avatar_url=current_user.avatar_url or ""),
        "action_form": ActionForm(formdata=None),
    }
    pages.update(forms)
    return render_template(
        "account/settings.html",
        running=moderation_queries.running_suspension(db.session, current_user),
        **pages,
    ), status


def _change(form, change, form_name: str):
    """Run a settings form through its service (``change`` returns the message to show):
    back to the settings page, with the form's messages when something was wrong."""
    if form.validate_on_submit():
        try:
            message = change(form)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(message, "success")
            return redirect(url_for(".settings"))
    return _settings_page(400, **{form_name: form})


@bp.route("/settings/account")
@login_required
def settings():
    return _settings_page()


@bp.route("/settings/account/username", methods=["POST"])
@login_required
def change_username():
    def change(form):
        user = account_safety.change_username(db.session, current_user, form.username.data)
        return f"Your username is now {user.username}."

    return _change(UsernameForm(), change, "username_form")


@bp.route("/settings/account/avatar", methods=["POST"])
@login_required
def change_avatar():
    def change(form):
        value = "" if form.remove.data else form.avatar_url.data
        user = avatars.set_avatar_url(db.session, current_user, value)
        return "Your avatar is saved." if user.avatar_url else "Your avatar is removed."

    return _change(AvatarForm(), change, "avatar_form")


@bp.route("/settings/account/email", methods=["POST"])
@login_required
@account_mail_limit
def change_email():
    def change(form):
        email = account_safety.request_email_change(
            db.session, current_user, form.email.data, form.current_password.data
        )
        return f"We sent a link to {email}. Your address changes when you open it."

    return _change(EmailForm(), change, "email_form")


@bp.route("/settings/account/password", methods=["POST"])
@login_required
def change_password():
    def change(form):
        user = account_safety.change_password(
            db.session,
            current_user,
            form.current_password.data,
            form.password.data,
            form.confirm.data,
        )
        login_user(user)  # this session continues under the new session token
        return "Your password is changed. Every other session has been logged out."

    return _change(PasswordForm(), change, "password_form")


@bp.route("/settings/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    if not ActionForm().validate_on_submit():
        return _settings_page(400)
    account_safety.log_out_everywhere(db.session, current_user)
    logout_user()
    flash("You are logged out everywhere, on every device. Log in again to continue.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/settings/account/verify", methods=["POST"])
@login_required
@account_mail_limit
def resend_verification():
    if not ActionForm().validate_on_submit():
        return _settings_page(400)
    account_safety.send_verification(db.session, current_user)
    flash(f"We sent a confirmation link to {current_user.email}.", "success")
    return redirect(url_for(".settings"))


# -- links from account emails -----------------------------------------------------------------


def _after_link():
    return redirect(
        url_for(".settings") if current_user.is_authenticated else url_for("auth.login")
    )


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify(token: str):
    user = account_safety.check_verification(db.session, token)
    form = ConfirmForm()
    if form.validate_on_submit():
        account_safety.verify_email(db.session, token)
        flash("Thank you: your email address is confirmed.", "success")
        return _after_link()
    return render_template(
        "account/confirm_link.html",
        form=form,
        title="Confirm your email address",
        text=f"Confirm that {user.email} is the address of {user.username}.",
    )


@bp.route("/settings/account/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    user, email = account_safety.check_email_change(db.session, token)
    form = ConfirmForm()
    if form.validate_on_submit():
        account_safety.confirm_email_change(db.session, token)
        flash(f"Your email address is now {email}.", "success")
        return _after_link()
    return render_template(
        "account/confirm_link.html",
        form=form,
        title="Confirm your new email address",
        text=f"Use {email} as the email address of {user.username} from now on.",
    )


@bp.route("/reset-password", methods=["GET", "POST"])
@account_mail_limit
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        account_safety.request_password_reset(db.session, form.login.data or "")
        flash(
            "If an account has that email address or username, we have sent it a link to "
            "choose a new password. It works for an hour.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("account/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = account_safety.check_reset(db.session, token)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            account_safety.reset_password(db.session, token, form.password.data, form.confirm.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            logout_user()
            flash("Your password is changed. Please log in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/reset_password.html", form=form, user=user), status


# -- data rights -------------------------------------------------------------------------------


@bp.route("/settings/account/export")
@login_required
def export():
    data = data_rights.export_data(db.session, current_user)
    filename = f"cairn-{current_user.username}-{utcnow():%Y-%m-%d}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/settings/account/delete", methods=["GET", "POST"])
@login_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            data_rights.delete_account(
                db.session, current_user, form.password.data, keep_posts=form.posts.data == "keep"
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            logout_user()
            flash("Your account is deleted. Thank you for having been part of it.", "info")
            return redirect(url_for("boards.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/delete.html", form=form), status
