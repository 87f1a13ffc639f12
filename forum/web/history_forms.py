"""Forms for a member's treatment history and privacy choices (plain HTML, no JavaScript)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forum.vocabulary import Vocabulary

KIND_CHOICES = [
    SelectChoice("diagnosis", "Diagnosis"),
    SelectChoice("treatment", "Treatment"),
    SelectChoice("measurement", "Scan or measurement"),
    SelectChoice("symptom", "Symptom"),
    SelectChoice("note", "Note"),
]
SIDE_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("left", "Left"),
    SelectChoice("right", "Right"),
    SelectChoice("bilateral", "Both sides"),
]
VISIBILITY_CHOICES = [
    SelectChoice("public", "Everyone, including visitors and search engines"),
    SelectChoice("members", "Logged-in members only"),
    SelectChoice("private", "Only me"),
]


class EventForm(FlaskForm):
    kind = SelectField("What happened", choices=KIND_CHOICES)
    date = StringField("When (e.g. 2009, 5/09, Nov '08, 10/1/09)")
    condition = SelectField("Condition (for a diagnosis)")
    treatment = SelectField("Treatment")
    symptom = SelectField("Symptom")
    label_text = StringField("Other (if it isn't in the lists)")
    side = SelectField("Side", choices=SIDE_CHOICES)
    size1 = StringField("Size (mm)")
    size2 = StringField("× (mm)")
    size3 = StringField("× (mm)")
    place = StringField("Where (hospital or centre, optional)")
    end_date = StringField("Symptom stopped (optional)")
    note = TextAreaField("Note (optional; required for a note)")
    submit = SubmitField("Save event")

    def fill_choices(self, vocabulary: Vocabulary) -> EventForm:
        for kind, field in (
            ("condition", self.condition),
            ("treatment", self.treatment),
            ("symptom", self.symptom),
        ):
            terms = sorted(vocabulary.terms(kind).values(), key=lambda t: t.label.casefold())
            field.choices = [SelectChoice("", "—")] + [SelectChoice(t.slug, t.label) for t in terms]
        return self


class PasteForm(FlaskForm):
    text = TextAreaField("Paste your signature or story")
    submit = SubmitField("Read it")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AcceptForm(FlaskForm):
    text = HiddenField()
    keep = MultiCheckboxField("Keep these events", coerce=int)
    submit = SubmitField("Add the ticked events to my history")


class PrivacyForm(FlaskForm):
    visibility = RadioField("Who can see my history and signature", choices=VISIBILITY_CHOICES)
    indexable = BooleanField("Let search engines index my member page")
    signature = StringField("Free-text signature line (optional, at most 300 characters)")
    submit = SubmitField("Save privacy and signature")
