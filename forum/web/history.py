"""A member's own treatment history, signature and privacy settings: /settings/history."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from forum import current_vocabulary
from forum.extensions import db
from forum.models import HistoryEvent
from forum.services import histories
from forum.services.errors import ValidationError
from forum.web.forms import ActionForm
from forum.web.helpers import apply_errors
from forum.web.history_forms import AcceptForm, EventForm, PasteForm, PrivacyForm
from forum.web.presenters import timeline

bp = Blueprint("history", __name__, url_prefix="/settings/history")

EVENT_FIELDS = (
    "kind",
    "date",
    "end_date",
    "condition",
    "treatment",
    "symptom",
    "label_text",
    "side",
    "size1",
    "size2",
    "size3",
    "place",
    "note",
)


@bp.before_request
@login_required
def _members_only():
    return None


def _day_first() -> bool:
    return current_app.config["SIGNATURE_DATES_DAY_FIRST"]


def _events():
    return list(
        db.session.scalars(select(HistoryEvent).where(HistoryEvent.user_id == current_user.id))
    )


def _input(form: EventForm) -> histories.EventInput:
    return histories.EventInput(**{name: getattr(form, name).data or "" for name in EVENT_FIELDS})


def _page(new_event_form=None, paste_form=None, privacy_form=None, status=200):
    vocabulary = current_vocabulary()
    privacy_form = privacy_form or PrivacyForm(
        visibility=current_user.history_visibility,
        indexable=current_user.profile_indexable,
        signature=current_user.signature,
    )
    return render_template(
        "history/settings.html",
        timeline=timeline(current_user, _events()),
        new_event_form=new_event_form or EventForm().fill_choices(vocabulary),
        paste_form=paste_form or PasteForm(),
        privacy_form=privacy_form,
        action_form=ActionForm(),
    ), status


@bp.route("")
def settings():
    return _page()


@bp.route("/events", methods=["POST"])
def add_event():
    vocabulary = current_vocabulary()
    form = EventForm().fill_choices(vocabulary)
    if form.validate_on_submit():
        try:
            histories.add_event(
                db.session,
                current_user,
                current_user,
                _input(form),
                vocabulary,
                day_first=_day_first(),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Event added to your history.", "success")
            return redirect(url_for("history.settings"))
    return _page(new_event_form=form, status=400)


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
def edit_event(event_id: int):
    vocabulary = current_vocabulary()
    event = db.session.get(HistoryEvent, event_id)
    if event is None or event.user_id != current_user.id:
        abort(404)
    form = EventForm().fill_choices(vocabulary)
    if request.method == "GET":
        for name, value in (
            ("kind", event.kind),
            ("date", event.date_text),
            ("end_date", event.end_date_text),
            ("condition", event.condition or ""),
            ("treatment", event.treatment or ""),
            ("symptom", event.symptom or ""),
            ("label_text", event.label_text),
            ("side", event.side or ""),
            ("place", event.place),
            ("note", event.note),
        ):
            getattr(form, name).data = value
        for i, size in enumerate(event.sizes_mm, start=1):
            getattr(form, f"size{i}").data = f"{size:g}"
    elif form.validate_on_submit():
        try:
            histories.update_event(
                db.session, current_user, event_id, _input(form), vocabulary, day_first=_day_first()
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Event updated.", "success")
            return redirect(url_for("history.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("history/edit_event.html", form=form, event=event), status


@bp.route("/events/<int:event_id>/delete", methods=["POST"])
def delete_event(event_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    histories.delete_event(db.session, current_user, event_id)
    flash("Event removed from your history.", "info")
    return redirect(url_for("history.settings"))


@bp.route("/read", methods=["POST"])
def read_signature():
    """Step 1 of pasting a signature: show what was read, for the member to review."""
    form = PasteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        proposals = histories.propose(
            form.text.data or "", current_vocabulary(), day_first=_day_first()
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return _page(paste_form=form, status=400)
    if not proposals:
        form.text.errors = ["There was nothing to read. Paste your signature or story first."]
        return _page(paste_form=form, status=400)
    accept = AcceptForm(text=form.text.data)
    accept.keep.choices = [SelectChoice(i, str(i)) for i in range(len(proposals))]
    accept.keep.data = list(range(len(proposals)))
    return render_template(
        "history/review.html", proposals=proposals, form=accept, vocabulary=current_vocabulary()
    )


@bp.route("/accept", methods=["POST"])
def accept_signature():
    """Step 2: store the ticked events (the same text is read again the same way)."""
    form = AcceptForm()
    proposals = histories.propose(
        form.text.data or "", current_vocabulary(), day_first=_day_first()
    )
    form.keep.choices = [SelectChoice(i, str(i)) for i in range(len(proposals))]
    if not form.validate_on_submit():
        abort(400)
    kept = [proposals[i] for i in sorted(set(form.keep.data or [])) if 0 <= i < len(proposals)]
    if kept:
        histories.accept_proposals(db.session, current_user, current_user, kept)
        flash(f"Added {len(kept)} event{'s' if len(kept) != 1 else ''} to your history.", "success")
    else:
        flash("Nothing was added.", "info")
    return redirect(url_for("history.settings"))


@bp.route("/privacy", methods=["POST"])
def privacy():
    form = PrivacyForm()
    if form.validate_on_submit():
        try:
            histories.update_privacy(
                db.session,
                current_user,
                current_user,
                visibility=form.visibility.data or "",
                indexable=bool(form.indexable.data),
                signature=form.signature.data or "",
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("Your privacy choices are saved.", "success")
            return redirect(url_for("history.settings"))
    return _page(privacy_form=form, status=400)
