"""Resolved outcomes, tags, the Outcomes page and its feed, updates, and the moderation log."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import feedparser
import pytest
from sqlalchemy import func, select

from forum.models import HistoryEvent, ModerationAction, Thread, ThreadTag, utcnow
from forum.services import outcomes, posting, tags
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.vocabulary import load_vocabulary
from tests.conftest import login, logout, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of
from tests.integration.test_search import searching  # noqa: F401 - the search fixture

VOCABULARY = load_vocabulary()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def visible(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def url(thread) -> str:
    return f"/t/{thread.id}/{thread.slug}"


def log_actions(session, thread) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(ModerationAction.action)
            .where(
                ModerationAction.target_type == "thread", ModerationAction.target_id == thread.id
            )
            .order_by(ModerationAction.id)
        )
    )


def story(session, *, author=None, board=None, title="Hemifacial spasm after GK", replies=2):
    """A thread whose author came back with an update (the last post)."""
    author = author or make_user(session)
    thread = make_thread(session, board, author, title=title, replies=replies)
    board = board or thread_board(session, thread)
    posting.reply(session, author, thread, board, "Eighteen months on: the spasms stopped.",
                  is_update=True)
    return thread


def thread_board(session, thread):
    from forum.models import Board

    return session.get(Board, thread.board_id)


def resolve(session, thread, actor=None, *, outcome="resolved", summary="Spasms stopped",
            post=None, reason="", board=None):
    actor = actor or thread_author(session, thread)
    post = post or posts_of(session, thread)[-1]
    return outcomes.mark_resolved(
        session, actor, thread, board or thread_board(session, thread),
        post_id=post.id, outcome=outcome, summary=summary, reason=reason,
    )


def thread_author(session, thread):
    from forum.models import User

    return session.get(User, thread.author_id)


# ------------------------------------------------------------------------------------------
# Marking resolved through the real HTTP flow


def test_author_marks_resolved_and_everyone_sees_banner_highlight_and_badges(client, session):
    author = make_user(session, "gk_spasms")
    thread = story(session, author=author)
    update = posts_of(session, thread)[-1]
    login(client, "gk_spasms")
    form = text(client.get(f"/t/{thread.id}/outcome"))
    assert "Eighteen months on" in form
    checked = rf'<input checked id="post_id-\d+" name="post_id" type="radio" value="{update.id}"'
    assert re.search(checked, form)
    response = post_form(client, f"/t/{thread.id}/outcome", {
        "post_id": str(update.id), "outcome": "resolved",
        "summary": "  Spasms stopped about 18 months\n after Gamma Knife ",
    })
    assert response.status_code == 302 and response.headers["Location"] == url(thread)
    session.expire_all()
    saved = session.get(Thread, thread.id)
    assert (saved.outcome, saved.outcome_post_id) == ("resolved", update.id)
    assert saved.outcome_summary == "Spasms stopped about 18 months after Gamma Knife"
    assert saved.resolved_by_id == author.id and saved.resolved_at is not None
    assert log_actions(session, thread) == ["outcome.mark"]

    logout(client)
    page = text(client.get(url(thread)))
    banner = re.search(r'<aside class="outcome-banner outcome-resolved".*?</aside>', page, re.S)
    assert "Spasms stopped about 18 months after Gamma Knife" in banner.group(0)
    assert f'href="/p/{update.id}"' in banner.group(0)
    assert f'<article id="post-{update.id}" class="post outcome-post update-post"' in page
    board = thread_board(session, thread)
    assert 'class="badge badge-resolved"' in text(client.get(f"/b/{board.slug}"))
    assert 'class="badge badge-resolved"' in text(client.get("/u/gk_spasms"))
    outcomes_page = text(client.get("/outcomes"))
    assert thread.title in outcomes_page and "Spasms stopped about 18 months" in outcomes_page


BAD_OUTCOMES = [
    ({"outcome": "cured"}, "Choose how it turned out"),
    ({"outcome": ""}, "Choose how it turned out"),
    ({"summary": "   "}, "Please write a short summary"),
    ({"summary": "x" * 281}, "at most 280 characters"),
    ({"summary": "bad \x07 bell"}, "control characters"),
    ({"post_id": "999999"}, "Choose the post of this thread"),
    ({"post_id": ""}, "Choose the post of this thread"),
    ({"post_id": "abc"}, "Choose the post of this thread"),
]


@pytest.mark.parametrize(("change", "message"), BAD_OUTCOMES)
def test_bad_outcome_input_is_a_form_message_and_saves_nothing(client, session, change, message):
    author = make_user(session, "careful")
    thread = story(session, author=author)
    other = make_thread(session, thread_board(session, thread), author, title="Other thread")
    login(client, "careful")
    data = {"post_id": str(posts_of(session, thread)[-1].id), "outcome": "improved",
            "summary": "Better now", **change}
    if data["post_id"] == "999999":
        data["post_id"] = str(posts_of(session, other)[0].id)  # a post of another thread
    response = post_form(client, f"/t/{thread.id}/outcome", data)
    assert response.status_code == 400
    assert message in text(response)
    session.expire_all()
    assert session.get(Thread, thread.id).outcome is None
    assert log_actions(session, thread) == []


def test_a_deleted_post_cannot_tell_the_outcome(session):
    author = make_user(session)
    thread = story(session, author=author)
    post = posts_of(session, thread)[1]
    posting.delete_post(session, author, post, thread, thread_board(session, thread))
    with pytest.raises(ValidationError) as caught:
        resolve(session, thread, post=post)
    assert "post_id" in caught.value.errors


def test_only_the_author_or_a_moderator_may_mark(client, session):
    thread = story(session, author=make_user(session, "owner1"))
    make_user(session, "bystander")
    assert client.get(f"/t/{thread.id}/outcome").status_code == 302  # visitors log in first
    login(client, "bystander")
    assert client.get(f"/t/{thread.id}/outcome").status_code == 403
    page = text(client.get(url(thread)))
    assert "Mark as outcome" not in page and "Mark resolved" not in page
    response = post_form(client, f"/t/{thread.id}/outcome", {
        "post_id": str(posts_of(session, thread)[-1].id), "outcome": "resolved", "summary": "x",
    }, form_url=url(thread))
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Thread, thread.id).outcome is None


def test_moderator_marking_someone_elses_thread_must_say_why(client, session):
    thread = story(session, author=make_user(session, "remembered"))
    make_moderator(session, "steward")
    login(client, "steward")
    data = {"post_id": str(posts_of(session, thread)[-1].id), "outcome": "improved",
            "summary": "Improved after surgery"}
    response = post_form(client, f"/t/{thread.id}/outcome", data)
    assert response.status_code == 400 and "Please say why" in text(response)
    response = post_form(client, f"/t/{thread.id}/outcome",
                         {**data, "reason": "Family asked us to record it"})
    assert response.status_code == 302
    entry = session.scalar(select(ModerationAction))
    assert (entry.action, entry.reason) == ("outcome.mark", "Family asked us to record it")


def test_changing_and_unmarking_are_recorded(client, session):
    author = make_user(session, "changer")
    thread = story(session, author=author)
    first, *_, last = posts_of(session, thread)
    resolve(session, thread, post=first, outcome="improved", summary="A bit better")
    resolve(session, thread, post=first, outcome="improved", summary="A bit better")  # no-op
    login(client, "changer")
    form = text(client.get(f"/t/{thread.id}/outcome"))
    assert "Change the outcome" in form and "Remove the outcome" in form
    post_form(client, f"/t/{thread.id}/outcome",
              {"post_id": str(last.id), "outcome": "resolved", "summary": "Gone for good"})
    response = post_form(client, f"/t/{thread.id}/outcome/unmark", {},
                         form_url=f"/t/{thread.id}/outcome")
    assert response.status_code == 302
    assert log_actions(session, thread) == ["outcome.mark", "outcome.change", "outcome.unmark"]
    change = session.scalar(
        select(ModerationAction).where(ModerationAction.action == "outcome.change")
    )
    assert '"summary": ["A bit better", "Gone for good"]' in change.details
    saved = session.get(Thread, thread.id)
    assert saved.outcome is None and saved.outcome_post_id is None and saved.resolved_at is None
    page = text(client.get(url(thread)))
    assert "outcome-banner" not in page and "outcome-post" not in page
    assert thread.title not in text(client.get("/outcomes"))


def test_banner_has_no_link_when_the_outcome_post_was_deleted(client, session):
    author = make_user(session)
    thread = story(session, author=author)
    post = posts_of(session, thread)[1]
    resolve(session, thread, post=post, summary="Told in reply one")
    posting.delete_post(session, author, post, thread, thread_board(session, thread))
    page = text(client.get(url(thread)))
    assert "Told in reply one" in page and f'href="/p/{post.id}"' not in page
    listing = text(client.get("/outcomes"))
    assert "Told in reply one" in listing and f'href="/p/{post.id}"' not in listing


# ------------------------------------------------------------------------------------------
# Moderators: feature, unfeature, edit, unmark; the log


def test_moderators_feature_edit_and_unmark_and_the_log_says_who_what_when_why(client, session):
    thread = story(session, author=make_user(session, "storyteller"))
    resolve(session, thread, summary="Spasms stopped")
    make_moderator(session, "curator")
    make_user(session, "plainmember")
    login(client, "curator")
    page = text(client.get(url(thread)))
    assert "Moderator: outcome, tags and featuring" in page
    assert "Feature on the Outcomes page" in page
    response = post_form(client, f"/t/{thread.id}/feature", {"reason": "Hopeful & clear"},
                         form_url=url(thread))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Thread, thread.id).featured_at is not None
    assert "Featured story" in text(client.get(url(thread)))
    post_form(client, f"/t/{thread.id}/outcome", {
        "post_id": str(posts_of(session, thread)[-1].id), "outcome": "resolved",
        "summary": "Spasms stopped 18 months after GK", "reason": "Clearer summary",
    })
    post_form(client, f"/t/{thread.id}/unfeature", {}, form_url=url(thread))
    response = post_form(client, f"/t/{thread.id}/outcome/unmark", {"reason": ""},
                         form_url=f"/t/{thread.id}/outcome")
    assert response.status_code == 400 and "Please say why" in text(response)
    post_form(client, f"/t/{thread.id}/outcome/unmark", {"reason": "Duplicate of another story"},
              form_url=f"/t/{thread.id}/outcome")
    assert log_actions(session, thread) == [
        "outcome.mark", "outcome.feature", "outcome.change", "outcome.unfeature", "outcome.unmark",
    ]
    log = visible(client.get("/moderation/log"))
    for words in ("Featured", "Hopeful & clear", "Changed the outcome", "Clearer summary",
                  "Removed the outcome", "Duplicate of another story", "curator", "storyteller"):
        assert words in log, words
    assert "Spasms stopped → Spasms stopped 18 months after GK" in log
    assert visible(client.get(f"/moderation/log?thread={thread.id}")).count("curator") >= 4
    login(client, "plainmember")
    assert client.get("/moderation/log").status_code == 403
    logout(client)
    assert client.get("/moderation/log").status_code == 302


def test_only_resolved_threads_can_be_featured_and_only_by_moderators(client, session):
    thread = story(session, author=make_user(session, "notyet"))
    moderator = make_moderator(session)
    with pytest.raises(Conflict):
        outcomes.set_featured(session, moderator, thread, True)
    resolve(session, thread)
    with pytest.raises(PermissionDenied):
        outcomes.set_featured(session, thread_author(session, thread), thread, True)
    login(client, "notyet")
    response = post_form(client, f"/t/{thread.id}/feature", {}, form_url=url(thread))
    assert response.status_code == 403
    assert client.post(f"/t/{thread.id}/feature", data={}).status_code == 400  # no CSRF token


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/t/99999999999999999999/outcome", 404),
        ("/t/99999999999999999999/tags", 404),
        ("/moderation/log?thread=99999999999999999999", 404),
        ("/moderation/log?thread=%C2%B2", 404),
        ("/moderation/log?thread=" + "9" * 5000, 404),
        ("/t/{id}/outcome?post=99999999999999999999", 200),
        ("/t/{id}/outcome?post=-3", 200),
    ],
)
def test_ids_too_large_or_odd_are_never_a_500(client, session, address, status):
    thread = story(session)
    make_moderator(session, "idmod")
    login(client, "idmod")
    assert client.get(address.format(id=thread.id)).status_code == status
    response = post_form(client, "/reminders/99999999999999999999/dismiss", {}, form_url="/")
    assert response.status_code == 404


# ------------------------------------------------------------------------------------------
# Tags


def test_author_tags_a_thread_and_tags_link_to_their_listing(client, session):
    thread = story(session, author=make_user(session, "tagger"), title="After GK: spasms")
    login(client, "tagger")
    form = text(client.get(f"/t/{thread.id}/tags"))
    assert "Gamma Knife" in form and "Hemifacial spasm" in form
    response = post_form(client, f"/t/{thread.id}/tags", {
        "condition": "acoustic-neuroma", "treatment": ["gamma-knife"],
        "symptom": ["hemifacial-spasm", "tinnitus"],
    })
    assert response.status_code == 302
    saved = {(t.kind, t.slug) for t in session.scalars(select(ThreadTag))}
    assert saved == {("condition", "acoustic-neuroma"), ("treatment", "gamma-knife"),
                     ("symptom", "hemifacial-spasm"), ("symptom", "tinnitus")}
    assert log_actions(session, thread) == []  # the author's own tags are not moderation
    logout(client)
    page = text(client.get(url(thread)))
    assert 'href="/tags/treatment/gamma-knife"' in page
    board = thread_board(session, thread)
    assert 'href="/tags/symptom/tinnitus"' in text(client.get(f"/b/{board.slug}"))
    listing = visible(client.get("/tags/treatment/gamma-knife"))
    assert "Gamma Knife" in listing and "After GK: spasms" in listing
    assert client.get("/tags/treatment/cyberknife").status_code == 200  # known term, no threads
    assert client.get("/tags/treatment/no-such-term").status_code == 404
    assert client.get("/tags/colour/blue").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"treatment": "laser-magic"}, "is not one of the treatments we know"),
        ({"symptom": ["tinnitus", "vertigo", "dizziness", "headache", "fatigue", "numbness",
                      "dry-eye"]}, "at most 6 symptoms"),
        ({"reason": "x\x00y"}, "NUL character"),
    ],
)
def test_bad_tags_are_a_form_message_and_save_nothing(client, session, data, message):
    thread = story(session)
    make_moderator(session, "badtags")  # moderators see the reason field
    login(client, "badtags")
    response = post_form(client, f"/t/{thread.id}/tags", data)
    assert response.status_code == 400 and message in text(response)
    assert session.scalar(select(func.count()).select_from(ThreadTag)) == 0


def test_moderators_curate_tags_and_it_is_logged(client, session):
    thread = story(session, author=make_user(session, "tagowner"))
    tags.set_tags(session, thread_author(session, thread), thread, thread_board(session, thread),
                  {"treatment": ["surgery"]}, VOCABULARY)
    make_moderator(session, "tagmod")
    make_user(session, "tagstranger")
    login(client, "tagstranger")
    assert client.get(f"/t/{thread.id}/tags").status_code == 403
    login(client, "tagmod")
    response = post_form(client, f"/t/{thread.id}/tags",
                         {"treatment": ["retrosigmoid"], "reason": "More precise"})
    assert response.status_code == 302
    entry = session.scalar(select(ModerationAction))
    assert (entry.action, entry.reason) == ("thread.tags", "More precise")
    assert '"added": ["treatment:retrosigmoid"]' in entry.details
    assert '"removed": ["treatment:surgery"]' in entry.details


def test_a_tag_that_left_the_vocabulary_can_be_kept(session):
    thread = story(session)
    session.add(ThreadTag(thread_id=thread.id, kind="treatment", slug="retired-term"))
    session.commit()
    kept = tags.set_tags(session, thread_author(session, thread), thread,
                         thread_board(session, thread),
                         {"treatment": ["retired-term", "gamma-knife"]}, VOCABULARY)
    assert {t.slug for t in kept} == {"retired-term", "gamma-knife"}


@pytest.mark.usefixtures("searching")
def test_search_results_follow_outcome_and_tag_changes(client, session):
    thread = story(session, author=make_user(session, "searched"), title="Quokka spasms story")
    login(client, "searched")
    post_form(client, f"/t/{thread.id}/tags", {"treatment": ["botox"]})
    post_form(client, f"/t/{thread.id}/outcome", {
        "post_id": str(posts_of(session, thread)[-1].id), "outcome": "improved",
        "summary": "Spasms eased",
    })
    logout(client)
    results = text(client.get("/search?q=quokka+treatment:botox"))
    assert "Quokka spasms story" in results and 'class="badge badge-improved"' in results
    login(client, "searched")
    post_form(client, f"/t/{thread.id}/outcome/unmark", {}, form_url=f"/t/{thread.id}/outcome")
    logout(client)
    assert "badge-improved" not in text(client.get("/search?q=quokka"))


# ------------------------------------------------------------------------------------------
# The Outcomes page


def _tagged_story(session, board, title, outcome, tag_pairs, *, featured=False, moderator=None):
    thread = story(session, board=board, title=title)
    author = thread_author(session, thread)
    grouped: dict[str, list[str]] = {}
    for kind, slug in tag_pairs:
        grouped.setdefault(kind, []).append(slug)
    tags.set_tags(session, author, thread, board, grouped, VOCABULARY)
    resolve(session, thread, outcome=outcome, summary=f"Summary of {title}", board=board)
    if featured:
        outcomes.set_featured(session, moderator, thread, True)
    return thread


def test_outcomes_page_filters_featured_first_then_newest(client, session):
    board = make_board(session)
    moderator = make_moderator(session)
    gk = ("treatment", "gamma-knife")
    an = ("condition", "acoustic-neuroma")
    old = _tagged_story(session, board, "Old GK story", "resolved",
                        [gk, an, ("symptom", "tinnitus")])
    mid = _tagged_story(session, board, "Surgery story", "improved",
                        [an, ("treatment", "translabyrinthine")], featured=True,
                        moderator=moderator)
    new = _tagged_story(session, board, "New GK story", "worse", [gk, ("symptom", "vertigo")])
    make_thread(session, board, title="Never resolved", replies=0)
    for i, thread in enumerate((old, mid, new)):  # resolved in this order, a day apart
        thread.resolved_at = utcnow() - timedelta(days=3 - i)
    session.commit()

    page = visible(client.get("/outcomes"))
    order = [page.index(t) for t in ("Surgery story", "New GK story", "Old GK story")]
    assert order == sorted(order) and "Never resolved" not in page
    assert "Featured" in page

    def titles(query: str) -> list[str]:
        found = visible(client.get(f"/outcomes?{query}"))
        return [t for t in ("Old GK story", "Surgery story", "New GK story") if t in found]

    assert titles("treatment=gamma-knife") == ["Old GK story", "New GK story"]
    assert titles("treatment=GK") == ["Old GK story", "New GK story"]  # aliases work too
    assert titles("treatment=gamma-knife&outcome=resolved") == ["Old GK story"]
    assert titles("condition=acoustic-neuroma&symptom=tinnitus") == ["Old GK story"]
    assert titles("condition=acoustic-neuroma") == ["Old GK story", "Surgery story"]
    assert titles("outcome=worse") == ["New GK story"]
    assert titles("symptom=hearing-loss") == []
    filtered = text(client.get("/outcomes?treatment=gamma-knife"))
    assert '<option selected value="gamma-knife">Gamma Knife (2)</option>' in filtered
    assert 'href="/outcomes.atom?treatment=gamma-knife"' in filtered


@pytest.mark.parametrize(
    "query", ["treatment=laser-magic", "outcome=cured", "condition=%00", "symptom=" + "x" * 300]
)
def test_unknown_filters_are_a_clear_400(client, session, query):
    response = client.get(f"/outcomes?{query}")
    assert response.status_code == 400
    assert "we know" in text(response) or "Choose resolved" in text(response)
    assert client.get(f"/outcomes.atom?{query}").status_code == 400


def test_members_only_and_deleted_threads_stay_hidden(client, session):
    private = make_board(session, members_only=True)
    public = make_board(session)
    hidden = _tagged_story(session, private, "Members only story", "resolved", [])
    gone = _tagged_story(session, public, "Deleted story", "resolved", [])
    first = posts_of(session, gone)[0]
    posting.delete_post(session, thread_author(session, gone), first, gone, public)
    assert "Members only story" not in visible(client.get("/outcomes"))
    assert "Deleted story" not in visible(client.get("/outcomes"))
    make_user(session, "insider")
    login(client, "insider")
    assert "Members only story" in visible(client.get("/outcomes"))
    # Feeds are shared: members-only stories never appear in them, even for members.
    assert "Members only story" not in client.get("/outcomes.atom").get_data(as_text=True)
    assert hidden.id


def test_outcomes_pages_paginate_and_bad_pages_are_404(client, session):
    board = make_board(session)
    for i in range(22):
        _tagged_story(session, board, f"Story {i:02d}", "improved", [], )
    first, second = text(client.get("/outcomes")), text(client.get("/outcomes?page=2"))
    assert first.count('class="thread-title"') == 20 and second.count('class="thread-title"') == 2
    assert client.get("/outcomes?page=3").status_code == 404
    assert client.get("/outcomes?page=x").status_code == 404


# ------------------------------------------------------------------------------------------
# The Atom feed


def test_feed_validates_with_feedparser(client, session):
    board = make_board(session)
    thread = _tagged_story(session, board, 'Scans & "spasms" <b>bold</b>', "improved",
                           [("treatment", "gamma-knife"), ("symptom", "hemifacial-spasm")])
    response = client.get("/outcomes.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.get_data())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Cairn: resolved outcomes"
    assert feed.feed.link == "http://localhost/outcomes"
    assert feed.feed.updated_parsed is not None
    [entry] = feed.entries
    assert entry.title == 'Improved: Scans & "spasms" <b>bold</b>'
    assert entry.link == f"http://localhost{url(thread)}"
    assert entry.id == f"http://localhost/t/{thread.id}"
    assert entry.author == thread_author(session, thread).username
    assert entry.summary == 'Summary of Scans & "spasms" <b>bold</b>'
    assert entry.published_parsed and entry.updated_parsed
    assert {(t.term, t.label) for t in entry.tags} == {
        ("gamma-knife", "Gamma Knife"), ("hemifacial-spasm", "Hemifacial spasm")
    }
    assert "Read the post that tells the outcome" in entry.content[0].value
    assert "<b>bold</b>" not in entry.content[0].value  # member text stays text in the HTML

    filtered = feedparser.parse(client.get("/outcomes.atom?treatment=fsr").get_data())
    assert filtered.bozo == 0 and filtered.entries == []
    assert filtered.feed.title == (
        "Cairn: resolved outcomes (Fractionated stereotactic radiotherapy)"
    )


# ------------------------------------------------------------------------------------------
# The time from treatment to outcome, from the author's history


def _history(session, user, year, month, treatment="gamma-knife"):
    session.add(HistoryEvent(user_id=user.id, kind="treatment", year=year, month=month,
                             treatment=treatment, date_text=f"{month}/{year}"))
    session.commit()


def test_outcome_form_suggests_time_since_treatment_when_the_history_allows(client, session):
    author = make_user(session, "historian", history_visibility="private")
    thread = story(session, author=author)
    update = posts_of(session, thread)[-1]
    when = update.created_at.date() - timedelta(days=548)
    _history(session, author, when.year, when.month, "cyberknife")
    login(client, "historian")
    page = visible(client.get(f"/t/{thread.id}/outcome"))
    assert "months after CyberKnife" in page and "Suggested from historian" in page
    make_moderator(session, "nosy_mod")
    login(client, "nosy_mod")
    page = visible(client.get(f"/t/{thread.id}/outcome"))
    assert "CyberKnife" not in page  # a private history stays private, even to moderators
    assert "Suggested from" not in page


def test_suggest_interval_prefers_the_tagged_treatment_and_skips_watch_and_wait(session):
    user = make_user(session)
    _history(session, user, 2019, 3, "gamma-knife")
    _history(session, user, 2020, 9, "vestibular-rehab")
    _history(session, user, 2021, 1, "watch-and-wait")
    events = list(session.scalars(select(HistoryEvent)))
    day = date(2021, 3, 1)
    assert outcomes.suggest_interval(events, day, VOCABULARY) == (
        "6 months after Vestibular rehabilitation"
    )
    assert outcomes.suggest_interval(events, day, VOCABULARY, ["gamma-knife"]) == (
        "2 years after Gamma Knife"
    )
    assert outcomes.suggest_interval(events, date(2018, 1, 1), VOCABULARY) is None


# ------------------------------------------------------------------------------------------
# Updates: "what happened next"


def test_old_posts_point_to_the_authors_later_update_in_the_thread(client, session):
    author = make_user(session, "returner")
    thread = story(session, author=author, replies=1)
    opening, reply, update = posts_of(session, thread)
    page = text(client.get(url(thread)))
    link = f'<a href="/p/{update.id}">The author posted an update →</a>'
    opening_html = page[page.index(f'id="post-{opening.id}"'):page.index(f'id="post-{reply.id}"')]
    assert link in opening_html
    assert page.count("The author posted an update") == 2  # the opening post and the reply
    assert "What happened next" in page


def test_old_posts_point_to_an_update_in_a_linked_thread(client, session):
    board = make_board(session)
    private = make_board(session, members_only=True)
    author = make_user(session, "linker")
    helper = make_user(session, "helper")
    old = make_thread(session, board, author, title="Dizzy after FSR")
    posting.reply(session, helper, old, board, "I had that too.")
    # The helper later writes their own story, linking back to the old thread.
    later = make_thread(session, board, helper, title="My own story, two years on",
                        body=f"Following up on [the old thread](/t/{old.id}/dizzy-after-fsr).")
    update = posting.reply(session, helper, later, board, "All settled now.", is_update=True)
    # An update in a members-only thread linking here (by a quote permalink).
    quoted = posts_of(session, old)[0]
    secret = make_thread(session, private, author, title="Members only follow-up")
    secret_update = posting.reply(session, author, secret, private,
                                  f"As I [wrote](/p/{quoted.id}): better now.", is_update=True)
    page = text(client.get(url(old)))
    expected = f'href="/p/{update.id}">The author posted an update in “My own story, two years on”'
    assert expected + " →" in page
    assert f"/p/{secret_update.id}" not in page  # visitors can't see that board
    login(client, "helper")
    page = text(client.get(url(old)))
    assert f"/p/{secret_update.id}" in page  # members can: the quote links to a post here


def test_old_thread_note_for_visitors_and_replies_stay_open(client, session):
    author = make_user(session, "longago")
    thread = make_thread(session, author=author, title="From long ago")
    thread.created_at = utcnow() - timedelta(days=3 * 366)
    session.commit()
    page = visible(client.get(url(thread)))
    assert "This thread started 3 years ago" in page
    make_user(session, "newcomer")
    login(client, "newcomer")
    assert "This thread started 3 years ago" in visible(client.get(url(thread)))
    response = post_form(client, f"/t/{thread.id}/reply", {"body": "Same here, years later."})
    assert response.status_code == 302  # never closed for age
    login(client, "longago")
    assert "This thread started" not in visible(client.get(url(thread)))
    fresh = make_thread(session, author=author, title="Brand new")
    assert "This thread started" not in visible(client.get(url(fresh)))


# ------------------------------------------------------------------------------------------
# Fixed query counts


def _count(client, count_queries, address: str) -> int:
    client.get(address)
    with count_queries() as statements:
        assert client.get(address).status_code == 200
    return len(statements)


def test_outcome_pages_have_fixed_query_counts(client, session, count_queries):
    board = make_board(session)
    moderator = make_moderator(session, "countmod")
    gk = [("treatment", "gamma-knife"), ("symptom", "vertigo")]
    first = _tagged_story(session, board, "First story", "resolved", gk, featured=True,
                          moderator=moderator)
    tags.set_tags(session, moderator, first, board, {"treatment": ["gamma-knife"]}, VOCABULARY,
                  reason="tidy")
    pages = ["/outcomes", "/outcomes?treatment=gamma-knife", "/outcomes.atom",
             "/tags/treatment/gamma-knife", url(first)]

    def measure():
        counts = {p: _count(client, count_queries, p) for p in pages}
        login(client, "countmod")
        counts["log"] = _count(client, count_queries, "/moderation/log")
        counts["thread-mod"] = _count(client, count_queries, url(first))
        logout(client)
        return counts

    small = measure()
    for i in range(6):
        thread = _tagged_story(session, board, f"Story {i}", "improved", gk)
        outcomes.set_featured(session, moderator, thread, True, reason="more")
    for i in range(5):
        posting.reply(session, make_user(session), first, board, f"Reply {i}")
    large = measure()
    assert large == small
    assert small[url(first)] <= 6, small
