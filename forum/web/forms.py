"""Flask-WTF forms: CSRF and field plumbing. The rules live in ``forum.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional


class ActionForm(FlaskForm):
    """A button that changes something (delete, restore…): CSRF only."""


class RegisterForm(FlaskForm):
    username = StringField("Username")
    email = EmailField("Email address")
    password = PasswordField("Password")
    confirm = PasswordField("Repeat password")
    # Honeypot: hidden from people, filled by bots.
    website = StringField("Leave this empty")
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    username = StringField("Username or email")
    password = PasswordField("Password")
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")


class ThreadForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Message")
    remind_after_months = IntegerField(
        "Remind me to post an update after (months)", validators=[Optional()]
    )
    preview = SubmitField("Preview")
    submit = SubmitField("Post thread")


class ReplyForm(FlaskForm):
    body = TextAreaField("Message")
    is_update = BooleanField("This is an update on how things went")
    preview = SubmitField("Preview")
    submit = SubmitField("Post reply")


class EditForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Message")
    preview = SubmitField("Preview")
    submit = SubmitField("Save changes")


class CategoryForm(FlaskForm):
    name = StringField("Category name")
    submit = SubmitField("Add category")


class BoardForm(FlaskForm):
    category_id = SelectField("Category", coerce=int)
    name = StringField("Board name")
    slug = StringField("Address (/b/…)")
    description = TextAreaField("Description")
    position = IntegerField("Order", validators=[Optional()])
    members_only = BooleanField("Members only (hidden from visitors, feeds and search)")
    submit = SubmitField("Save board")


class MemoriamForm(FlaskForm):
    remembered = BooleanField("In memoriam")
    memorial_line = StringField("Line shown on their posts (at most 120 characters)")
    submit = SubmitField("Save")
