"""Forms for moderation and reports: CSRF and fields only (the rules live in the services)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from forum.web.forms import EditForm

REASON_LABEL = "Reason (for the moderation log)"


class ReasonForm(FlaskForm):
    """A moderator's button with an optional reason: lock, sticky, approve, restore…"""

    reason = StringField(REASON_LABEL)
    submit = SubmitField("Save")


class ModeratorEditForm(EditForm):
    reason = StringField("Reason for the edit (for the moderation log and the author)")


class MoveForm(FlaskForm):
    board_id = SelectField("Move to board", coerce=int)
    reason = StringField(REASON_LABEL)
    submit = SubmitField("Move thread")


class SplitForm(FlaskForm):
    title = StringField("Title of the new thread")
    board_id = SelectField("Board of the new thread", coerce=int)
    reason = StringField(REASON_LABEL)
    submit = SubmitField("Split thread here")


class MergeForm(FlaskForm):
    target = StringField("Merge into thread (its number, or its address)")
    reason = StringField(REASON_LABEL)
    submit = SubmitField("Merge threads")


class ReportForm(FlaskForm):
    reason = TextAreaField("What is wrong with this post?")
    submit = SubmitField("Send report to the moderators")


class DecisionForm(FlaskForm):
    note = StringField("Note (optional, for the moderation log)")
    resolve = SubmitField("Resolve")
    dismiss = SubmitField("Dismiss")
    delete = SubmitField("Delete post and resolve")


class SuspendForm(FlaskForm):
    kind = RadioField(
        "What",
        choices=[
            SelectChoice(
                "suspended", "Suspend: may log in and read; not post, reply, report or message"
            ),
            SelectChoice("banned", "Ban: may not log in at all"),
        ],
        default="suspended",
    )
    days = IntegerField("For how many days (empty: until lifted)", validators=[Optional()])
    reason = StringField("Reason (required; the member sees it)")
    submit = SubmitField("Suspend or ban")


class LiftForm(FlaskForm):
    reason = StringField(REASON_LABEL)
    submit = SubmitField("Lift now")


class BoardModeratorForm(FlaskForm):
    board_id = SelectField("Board", coerce=int)
    username = StringField("Member")
    submit = SubmitField("Make board moderator")
