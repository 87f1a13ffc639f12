"""Outcomes: the Outcomes page and feed, tag pages, marking a thread resolved, featuring,
tags and the moderation log."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import escape
from wtforms import SelectChoice

from forum import current_vocabulary, outcome_queries, policies, queries
from forum.extensions import db
from forum.feeds import FeedEntry, atom_feed
from forum.models import OUTCOMES, TAG_KINDS, utcnow
from forum.services import moderation_log as moderation_log_service
from forum.services import outcomes
from forum.services import tags as tag_service
from forum.services.errors import NotFound, ValidationError
from forum.text.dates import PartialDate, describe_interval
from forum.text.markup import excerpt
from forum.web.helpers import apply_errors, page_arg
from forum.web.outcome_forms import (
    FeatureForm,
    OutcomeFilterForm,
    OutcomeForm,
    TagsForm,
    UnmarkForm,
)
from forum.web.threads import thread_url

bp = Blueprint("outcomes", __name__)

PER_PAGE = 20
# Ids in URLs: larger numbers are no row of ours and would overflow the database's integers.
from forum.web.helpers import ID_MAX  # noqa: E402 - shared with the app-wide id check

LOG_PER_PAGE = 50
PLURALS = {"condition": "conditions", "treatment": "treatments", "symptom": "symptoms"}


# ------------------------------------------------------------------------------------------
# Template helpers (shared by thread, board and member pages)


@bp.app_template_global()
def tag_label(kind: str, slug: str) -> str:
    """A term's short label ("Glomus tumour" for "Glomus tumour (paraganglioma)")."""
    return current_vocabulary().label(kind, slug).split(" (")[0]


@bp.app_template_global()
def years_since(moment: datetime | None) -> int:
    if moment is None:
        return 0
    now = utcnow()
    return now.year - moment.year - ((now.month, now.day) < (moment.month, moment.day))


@bp.app_template_global()
def time_between(start: datetime, end: datetime) -> str:
    """"2 years", "18 months": how long after ``start`` the moment ``end`` came."""
    return describe_interval(PartialDate(start.year, start.month, start.day), end.date()) or ""


@bp.app_template_global()
def outcome_label(outcome: str | None) -> str:
    return outcomes.OUTCOME_LABELS.get(outcome or "", "")


# ------------------------------------------------------------------------------------------
# The Outcomes page and its feed




def id_arg(name: str) -> int | None:
    """A row id from the query string, or None for anything that can't be one."""
    raw = request.args.get(name, "")
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= ID_MAX
    return int(raw) if ok else None


def _parse_filters(vocabulary) -> tuple[outcome_queries.OutcomeFilters, dict[str, str]]:
    filters, errors = outcome_queries.OutcomeFilters(), {}
    for kind in TAG_KINDS:
        value = request.args.get(kind, "").strip()
        if value:
            term = vocabulary.get(kind, value) or vocabulary.lookup(kind, value)
            if term is None:
                errors[kind] = f"“{value[:60]}” isn't one of the {PLURALS[kind]} we know."
            else:
                setattr(filters, kind, term.slug)
    outcome = request.args.get("outcome", "").strip()
    if outcome in OUTCOMES:
        filters.outcome = outcome
    elif outcome:
        errors["outcome"] = "Choose resolved, improved, unchanged or worse."
    return filters, errors


def _filter_form(vocabulary, filters, facets, errors) -> OutcomeFilterForm:
    form = OutcomeFilterForm(formdata=None, data=filters.args())
    for kind in TAG_KINDS:
        counts = dict(facets[kind])
        if getattr(filters, kind):
            counts.setdefault(getattr(filters, kind), 0)
        options = sorted(counts.items(), key=lambda item: tag_label(kind, item[0]).lower())
        field = getattr(form, kind)
        field.choices = [SelectChoice("", f"Any {kind}")] + [
            SelectChoice(slug, f"{tag_label(kind, slug)} ({count})") for slug, count in options
        ]
        if kind in errors:
            field.errors = [errors[kind]]
    if "outcome" in errors:
        form.outcome.errors = [errors["outcome"]]
    return form


@bp.route("/outcomes")
def index():
    vocabulary = current_vocabulary()
    filters, errors = _parse_filters(vocabulary)
    data = outcome_queries.outcomes_page(db.session, current_user, filters, page_arg(), PER_PAGE)
    form = _filter_form(vocabulary, filters, data.facets, errors)
    return render_template(
        "outcomes/index.html", data=data, form=form, filters=filters, errors=errors,
    ), 400 if errors else 200


def _feed_entry(row, tags) -> FeedEntry:
    thread = row.thread
    url = thread_url(thread, _external=True)
    label = outcome_label(thread.outcome)
    content = f"<p><strong>{escape(label)}:</strong> {escape(thread.outcome_summary)}</p>"
    if row.outcome_post_visible:
        post_url = url_for("threads.permalink", post_id=thread.outcome_post_id, _external=True)
        content += f'<p><a href="{escape(post_url)}">Read the post that tells the outcome</a></p>'
    return FeedEntry(
        id=url_for("threads.show", thread_id=thread.id, _external=True),
        title=f"{label}: {thread.title}",
        url=url,
        published=thread.resolved_at or thread.created_at,
        updated=max(thread.changed_at, thread.resolved_at or thread.changed_at),
        author=thread.author.username if thread.author else "Former member",
        summary=thread.outcome_summary,
        content_html=content,
        categories=[
            (t.slug, tag_label(t.kind, t.slug), url_for(".tag", kind=t.kind, slug="x",
                                                        _external=True)[:-1])
            for t in tags.get(thread.id, [])
        ],
    )


@bp.route("/outcomes.atom")
def feed():
    filters, errors = _parse_filters(current_vocabulary())
    if errors:
        abort(400, " ".join(errors.values()))
    rows, tags = outcome_queries.outcome_feed(db.session, filters)
    chosen = [tag_label(k, v) for k, v in filters.tags()] + [outcome_label(filters.outcome)]
    title = f"{current_app.config['FORUM_NAME']}: resolved outcomes"
    if any(chosen):
        title += " (" + ", ".join(c for c in chosen if c) + ")"
    body = atom_feed(
        feed_id=url_for(".feed", _external=True, **filters.args()),
        title=title,
        subtitle="What happened in the end: members' threads marked with their outcome.",
        self_url=url_for(".feed", _external=True, **filters.args()),
        page_url=url_for(".index", _external=True, **filters.args()),
        author=current_app.config["FORUM_NAME"],
        entries=[_feed_entry(row, tags) for row in rows],
        fallback_updated=datetime(2000, 1, 1),
    )
    return Response(body, mimetype="application/atom+xml")


@bp.route("/tags/<kind>/<slug>")
def tag(kind: str, slug: str):
    if kind not in TAG_KINDS:
        raise NotFound("There is no such kind of tag.")
    term = current_vocabulary().get(kind, slug)
    data = outcome_queries.tag_page(
        db.session, current_user, kind, slug, term is not None, page_arg(), PER_PAGE
    )
    return render_template("outcomes/tag.html", data=data, term=term)


# ------------------------------------------------------------------------------------------
# Marking a thread resolved, unmarking, featuring


def _outcome_page(thread_id: int, form=None, unmark_form=None, status: int = 200):
    chosen = id_arg("post")
    data = outcome_queries.outcome_form(db.session, current_user, thread_id, chosen)
    thread = data.thread
    if thread.deleted_at or not policies.can_mark_outcome(current_user, thread, data.board):
        abort(403)
    if form is None:
        default = chosen or thread.outcome_post_id
        if default is None and data.posts:
            updates = [p for p in data.posts if p.is_update]
            default = (updates or data.posts)[-1].id
        form = OutcomeForm(
            formdata=None,
            post_id=default,
            outcome=thread.outcome,
            summary=thread.outcome_summary,
        )
    form.post_id.choices = [SelectChoice(p.id, _post_name(p)) for p in data.posts]
    vocabulary = current_vocabulary()
    treated = [t.slug for t in data.tags if t.kind == "treatment"]
    suggestions = {}
    if data.history is not None:  # only when the viewer may see the author's history
        suggestions = {
            p.id: s for p in data.posts
            if (s := outcomes.suggest_interval(data.history, p.created_at.date(), vocabulary,
                                               treated))
        }
    return render_template(
        "outcomes/outcome_form.html",
        data=data,
        form=form,
        unmark_form=unmark_form or UnmarkForm(formdata=None),
        posts={p.id: p for p in data.posts},
        excerpts={p.id: excerpt(p.body_html, 220) for p in data.posts},
        suggestions=suggestions,
        as_moderator=thread.author_id != current_user.id,
    ), status


def _post_name(post) -> str:
    return "Opening post" if post.position == 0 else f"Reply #{post.position}"


@bp.route("/t/<int:thread_id>/outcome", methods=["GET", "POST"])
@login_required
def outcome(thread_id: int):
    if request.method == "GET":
        return _outcome_page(thread_id)
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            outcomes.mark_resolved(
                db.session, current_user, thread, board,
                post_id=form.post_id.data, outcome=form.outcome.data,
                summary=form.summary.data, reason=form.reason.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("The outcome is saved. Thank you for coming back to tell it.", "success")
            return redirect(thread_url(thread))
    return _outcome_page(thread_id, form=form, status=400)


@bp.route("/t/<int:thread_id>/outcome/unmark", methods=["POST"])
@login_required
def unmark(thread_id: int):
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    form = UnmarkForm()
    if form.validate_on_submit():
        try:
            outcomes.unmark(db.session, current_user, thread, board, reason=form.reason.data)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("The outcome was removed.", "info")
            return redirect(thread_url(thread))
    return _outcome_page(thread_id, unmark_form=form, status=400)


def _set_featured(thread_id: int, featured: bool):
    thread, _board, _ = queries.load_thread(db.session, current_user, thread_id)
    form = FeatureForm()
    if not form.validate_on_submit():
        abort(400)
    outcomes.set_featured(db.session, current_user, thread, featured, reason=form.reason.data)
    flash("Featured on the Outcomes page." if featured else "No longer featured.", "success")
    return redirect(thread_url(thread))


@bp.route("/t/<int:thread_id>/feature", methods=["POST"])
@login_required
def feature(thread_id: int):
    return _set_featured(thread_id, True)


@bp.route("/t/<int:thread_id>/unfeature", methods=["POST"])
@login_required
def unfeature(thread_id: int):
    return _set_featured(thread_id, False)


@bp.route("/t/<int:thread_id>/tags", methods=["GET", "POST"])
@login_required
def edit_tags(thread_id: int):
    thread, board, _ = queries.load_thread(db.session, current_user, thread_id)
    if not policies.can_tag_thread(current_user, thread, board):
        abort(403)
    vocabulary = current_vocabulary()
    current = [(t.kind, t.slug) for t in queries.thread_tags(db.session, [thread.id])[thread.id]]
    form = TagsForm().fill_choices(vocabulary, current)
    if request.method == "GET":
        for kind in TAG_KINDS:
            getattr(form, kind).data = [slug for k, slug in current if k == kind]
    elif form.validate_on_submit():
        try:
            tag_service.set_tags(
                db.session, current_user, thread, board,
                {kind: getattr(form, kind).data or [] for kind in TAG_KINDS},
                vocabulary, reason=form.reason.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash("The tags are saved.", "success")
            return redirect(thread_url(thread))
    return render_template(
        "outcomes/tags_form.html", form=form, thread=thread, board=board,
        as_moderator=thread.author_id != current_user.id,
    ), 400 if request.method == "POST" else 200


@bp.route("/moderation/log")
@login_required
def moderation_log():
    if not policies.can_read_moderation_log(current_user):
        abort(403)
    thread_id = id_arg("thread")
    if thread_id is None and request.args.get("thread"):
        raise NotFound("There is no thread with that number.")
    data = outcome_queries.moderation_log(db.session, page_arg(), LOG_PER_PAGE, thread_id)
    return render_template(
        "outcomes/moderation_log.html", data=data, action_label=moderation_log_service.action_label
    )
