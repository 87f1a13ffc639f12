"""First login after an import: "we read this from your old signature — keep, edit or discard"."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SubmitField
from wtforms.validators import Optional

from forum import current_vocabulary
from forum.extensions import db
from forum.importers import smf_review
from forum.web.history_forms import MultiCheckboxField

bp = Blueprint("signature_review", __name__, url_prefix="/welcome")


class ReviewForm(FlaskForm):
    keep = MultiCheckboxField("Keep these events", coerce=int, validators=[Optional()])
    save = SubmitField("Keep the ticked events")
    edit = SubmitField("Keep them, then edit my history")
    discard = SubmitField("Discard; I'll write my history myself")


def _proposals():
    return smf_review.proposals_for(
        current_user,
        current_vocabulary(),
        day_first=current_app.config["SIGNATURE_DATES_DAY_FIRST"],
    )


@bp.route("/signature", methods=["GET", "POST"])
@login_required
def review():
    if not current_user.signature_review_pending:
        return redirect(url_for("history.settings"))
    proposals = _proposals()
    form = ReviewForm()
    form.keep.choices = [SelectChoice(i, str(i)) for i in range(len(proposals))]
    if not form.is_submitted():
        form.keep.data = list(range(len(proposals)))
    elif form.validate():
        if form.discard.data:
            smf_review.discard(db.session, current_user)
            flash("Nothing was added. Your old signature is still shown as it was.", "info")
            return redirect(url_for("boards.index"))
        kept = smf_review.keep(db.session, current_user, proposals, form.keep.data or [])
        flash(f"Added {len(kept)} event{'s' if len(kept) != 1 else ''} to your history.", "success")
        return redirect(url_for("history.settings" if form.edit.data else "boards.index"))
    return render_template(
        "import/signature_review.html",
        proposals=proposals,
        form=form,
        vocabulary=current_vocabulary(),
    )
