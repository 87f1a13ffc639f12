"""Forms for a member's account settings and data rights: CSRF and fields only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    URLField,
)


class UsernameForm(FlaskForm):
    username = StringField("New username")
    submit = SubmitField("Change username", id="username_submit")


class EmailForm(FlaskForm):
    email = EmailField("New email address")
    # Its own id: the password form on the same page has a current_password field too.
    current_password = PasswordField("Your current password", id="email_current_password")
    submit = SubmitField("Send a confirmation link", id="email_submit")


class AvatarForm(FlaskForm):
    avatar_url = URLField("Picture address")
    # Their own ids: the other forms on the settings page have a "submit" too.
    submit = SubmitField("Save avatar", id="avatar_submit")
    remove = SubmitField("Remove avatar", id="avatar_remove")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    password = PasswordField("New password")
    confirm = PasswordField("Repeat the new password")
    submit = SubmitField("Change password", id="password_submit")


class ResetRequestForm(FlaskForm):
    login = StringField("Your email address or username")
    submit = SubmitField("Email me a reset link")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password")
    confirm = PasswordField("Repeat the new password")
    submit = SubmitField("Set new password")


class ConfirmForm(FlaskForm):
    """Uses a link from an email. Opening the link (GET) never uses it: mail scanners do that."""

    submit = SubmitField("Confirm")


class DeleteAccountForm(FlaskForm):
    posts = RadioField(
        "My posts",
        choices=[
            SelectChoice("keep", "Keep them, shown as written by “Former member”"),
            SelectChoice("remove", "Remove them: their text is erased"),
        ],
    )
    password = PasswordField("Your password, to confirm")
    submit = SubmitField("Delete my account")
