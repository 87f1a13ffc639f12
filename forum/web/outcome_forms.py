"""Forms for outcomes, tags and reminders. Rules live in the services; these carry CSRF and
fields. Choices that depend on the thread or the vocabulary are filled by the view."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.models import OUTCOMES
from forum.services.outcomes import OUTCOME_LABELS, SUMMARY_MAX
from forum.vocabulary import Vocabulary

OUTCOME_CHOICES = [SelectChoice(o, OUTCOME_LABELS[o]) for o in OUTCOMES]
REASON_HINT = "Goes in the moderation log, which moderators can read."


def _post_number(value) -> int | None:
    """A post id, or None for anything else: the service then asks for a post of the thread."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 12 else None


class OutcomeForm(FlaskForm):
    post_id = RadioField(
        "Which post tells the outcome?", coerce=_post_number, validate_choice=False
    )
    outcome = RadioField("How did it turn out?", choices=OUTCOME_CHOICES, validate_choice=False)
    summary = StringField(
        f"Summary (at most {SUMMARY_MAX} characters)",
        render_kw={"maxlength": SUMMARY_MAX, "size": 80},
    )
    reason = StringField("Reason (moderators)", render_kw={"maxlength": 500})
    submit = SubmitField("Save outcome")


class UnmarkForm(FlaskForm):
    reason = StringField("Reason", render_kw={"maxlength": 500})
    submit = SubmitField("Remove the outcome")


class FeatureForm(FlaskForm):
    reason = StringField("Reason (optional)", render_kw={"maxlength": 500})
    submit = SubmitField("Feature")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TagsForm(FlaskForm):
    condition = MultiCheckboxField("Conditions", validate_choice=False)
    treatment = MultiCheckboxField("Treatments", validate_choice=False)
    symptom = MultiCheckboxField("Symptoms", validate_choice=False)
    reason = StringField("Reason (moderators, optional)", render_kw={"maxlength": 500})
    submit = SubmitField("Save tags")

    def fill_choices(self, vocabulary: Vocabulary, current: list[tuple[str, str]]) -> TagsForm:
        """Every vocabulary term, plus tags the thread has whose term left the vocabulary."""
        for kind in ("condition", "treatment", "symptom"):
            terms = vocabulary.terms(kind)
            choices = [SelectChoice(slug, term.label) for slug, term in terms.items()]
            choices += [
                SelectChoice(slug, slug) for k, slug in current if k == kind and slug not in terms
            ]
            getattr(self, kind).choices = choices
        return self


class OutcomeFilterForm(FlaskForm):
    """The Outcomes page filters: a GET form, so no CSRF token (it changes nothing and its
    URL is meant to be shared and bookmarked)."""

    class Meta:
        csrf = False

    condition = SelectField("Condition", validators=[Optional()])
    treatment = SelectField("Treatment", validators=[Optional()])
    symptom = SelectField("Symptom", validators=[Optional()])
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Any outcome"), *OUTCOME_CHOICES],
        validators=[Optional()],
    )
    submit = SubmitField("Filter")


class ReminderSettingsForm(FlaskForm):
    anniversaries = BooleanField(
        "Remind me on each anniversary of a treatment in my history"
    )
    submit = SubmitField("Save")
