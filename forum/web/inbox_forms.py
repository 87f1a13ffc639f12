"""Forms for notifications, watching and private messages: CSRF and fields only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)


class NotificationSettingsForm(FlaskForm):
    email_mode = RadioField(
        "Email me about notifications",
        choices=[
            SelectChoice(
                "immediate", "Straight away (one email per thread or conversation until I read it)"
            ),
            SelectChoice("daily", "In one daily digest"),
            SelectChoice("never", "Never"),
        ],
        default="immediate",
    )
    auto_watch = BooleanField("Watch the threads I start or reply to")
    submit = SubmitField("Save settings")


class NewConversationForm(FlaskForm):
    to = StringField("To (usernames, separated by commas)")
    subject = StringField("Subject")
    body = TextAreaField("Message")
    preview = SubmitField("Preview")
    submit = SubmitField("Send message")


class MessageReplyForm(FlaskForm):
    body = TextAreaField("Message")
    preview = SubmitField("Preview")
    submit = SubmitField("Send reply")


class ReportConversationForm(FlaskForm):
    reason = StringField("What is wrong? (optional, shown to moderators)")
    submit = SubmitField("Report to moderators")


class BlockForm(FlaskForm):
    username = StringField("Username")
    submit = SubmitField("Block")
