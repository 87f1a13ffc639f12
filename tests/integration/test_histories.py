"""Treatment histories: events, pasted signatures, dated signatures on posts, privacy."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.models import HistoryEvent, Post
from forum.services import histories, posting
from forum.services.errors import PermissionDenied, ValidationError
from forum.vocabulary import load_vocabulary
from tests.conftest import login, post_form
from tests.factories import make_board, make_thread, make_user, posts_of

VOCABULARY = load_vocabulary()
SEED = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "seeds"
    / ("forum-thread-hemifacial-spasm-after-gk.txt")
)


def visible(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def events(session, user) -> list[HistoryEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(HistoryEvent).where(HistoryEvent.user_id == user.id).order_by(HistoryEvent.id)
        )
    )


def add(session, user, **fields) -> HistoryEvent:
    return histories.add_event(session, user, user, histories.EventInput(**fields), VOCABULARY)


# --- the service -------------------------------------------------------------------------


def test_add_event_keeps_date_precision_and_text(session):
    member = make_user(session)
    event = add(
        session, member, kind="treatment", date="Nov '08", treatment="cyberknife", place="Lakeside"
    )
    assert (event.year, event.month, event.day, event.date_text) == (2008, 11, None, "Nov '08")
    event = add(
        session,
        member,
        kind="diagnosis",
        date="2006",
        condition="acoustic-neuroma",
        side="right",
        size1="8",
        size2="15.5",
    )
    assert (event.year, event.month) == (2006, None)
    assert event.sizes_mm == (15.5, 8.0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "surgery", "date": "2009"}, "kind"),
        ({"kind": "treatment", "date": "", "treatment": "gamma-knife"}, "date"),
        ({"kind": "treatment", "date": "13/45/09", "treatment": "gamma-knife"}, "date"),
        ({"kind": "treatment", "date": "2009", "treatment": "laser-beams"}, "treatment"),
        ({"kind": "treatment", "date": "2009"}, "treatment"),
        ({"kind": "diagnosis", "date": "2009", "condition": "nf2", "side": "up"}, "side"),
        ({"kind": "measurement", "date": "2009", "size1": "-3"}, "size1"),
        ({"kind": "measurement", "date": "2009", "size1": "abc"}, "size1"),
        ({"kind": "measurement", "date": "2009", "size1": "400"}, "size1"),
        ({"kind": "note", "date": ""}, "note"),
        (
            {"kind": "symptom", "date": "2010", "symptom": "tinnitus", "end_date": "2009"},
            "end_date",
        ),
        ({"kind": "treatment", "date": "2009", "treatment": "botox", "place": "x\x00"}, "place"),
    ],
)
def test_bad_events_are_refused_with_a_field_message(session, fields, field):
    member = make_user(session)
    with pytest.raises(ValidationError) as caught:
        add(session, member, **fields)
    assert field in caught.value.errors
    session.rollback()
    assert events(session, member) == []


def test_only_the_owner_changes_a_history(session):
    owner, other = make_user(session), make_user(session)
    event = add(session, owner, kind="note", note="Hello")
    with pytest.raises(PermissionDenied):
        histories.add_event(
            session, other, owner, histories.EventInput(kind="note", note="x"), VOCABULARY
        )
    from forum.services.errors import NotFound

    with pytest.raises(NotFound):
        histories.delete_event(session, other, event.id)


# --- pages ---------------------------------------------------------------------------------


def test_member_adds_edits_and_removes_events_without_javascript(client, session):
    member = make_user(session, "hist_owner")
    login(client, "hist_owner")
    assert client.get("/settings/history").status_code == 200
    response = post_form(
        client,
        "/settings/history/events",
        {
            "kind": "treatment",
            "date": "5/17",
            "treatment": "gamma-knife",
            "place": "Northfield",
            "side": "",
            "condition": "",
            "symptom": "",
        },
        form_url="/settings/history",
    )
    assert response.status_code == 302
    (event,) = events(session, member)
    response = post_form(
        client,
        f"/settings/history/events/{event.id}",
        {
            "kind": "treatment",
            "date": "6/17",
            "treatment": "gamma-knife",
            "side": "",
            "condition": "",
            "symptom": "",
        },
    )
    assert response.status_code == 302
    assert events(session, member)[0].month == 6
    bad = post_form(
        client,
        "/settings/history/events",
        {
            "kind": "treatment",
            "date": "someday",
            "treatment": "gamma-knife",
            "side": "",
            "condition": "",
            "symptom": "",
        },
        form_url="/settings/history",
    )
    assert bad.status_code == 400 and "wasn't understood" in visible(bad)
    response = post_form(
        client, f"/settings/history/events/{event.id}/delete", {}, form_url="/settings/history"
    )
    assert response.status_code == 302
    assert events(session, member) == []


def test_paste_review_and_accept_a_signature(client, session):
    member = make_user(session, "paster")
    login(client, "paster")
    text = "dx 4/09 2.5cm right AN. GK 03/15/2012 @ Pittsburgh. 1 yr: 1.1 x 0.9. Feeling fine!"
    review = post_form(
        client, "/settings/history/read", {"text": text}, form_url="/settings/history"
    )
    assert review.status_code == 200
    page = visible(review)
    assert "Gamma Knife" in page and "Pittsburgh" in page and "Feeling fine!" in page
    # Keep all but the last (the note).
    response = post_form(
        client,
        "/settings/history/accept",
        {"text": text, "keep": ["0", "1", "2"]},
        form_url="/settings/history",
    )
    assert response.status_code == 302
    stored = events(session, member)
    assert [e.kind for e in stored] == ["diagnosis", "treatment", "measurement"]
    assert (stored[1].year, stored[1].month, stored[1].day) == (2012, 3, 15)
    assert stored[1].place == "Pittsburgh"
    assert stored[2].sizes_mm == (11.0, 9.0)
    assert (stored[2].year, stored[2].month, stored[2].day) == (2013, 3, 15)


def test_pasting_nothing_is_a_clear_message(client, session):
    make_user(session, "emptypaste")
    login(client, "emptypaste")
    response = post_form(
        client, "/settings/history/read", {"text": "   "}, form_url="/settings/history"
    )
    assert response.status_code == 400
    assert "nothing to read" in visible(response)


def _seed_signatures() -> list[str]:
    if not SEED.exists():
        pytest.skip(f"seed thread not found at {SEED}")
    text = SEED.read_text(encoding="utf-8")
    first = re.search(r"^4\.5 cm AN diagnosed.*$", text, re.M).group(0)
    block = re.search(r"^GK 5/06 at Mayo.*?\n.*?\n9/09 .*?$", text, re.M | re.S).group(0)
    last = re.search(r"^L An diagnosed.*$", text, re.M).group(0)
    return [first, block, last]


def test_the_seed_signatures_become_correct_histories_through_the_web(client, session):
    first, block, last = _seed_signatures()
    member = make_user(session, "seed_reader")
    login(client, "seed_reader")
    for text in (first, block, last):
        review = post_form(
            client, "/settings/history/read", {"text": text}, form_url="/settings/history"
        )
        count = visible(review).count("Keep event")
        post_form(
            client,
            "/settings/history/accept",
            {"text": text, "keep": [str(i) for i in range(count)]},
            form_url="/settings/history",
        )
    stored = events(session, member)
    summary = {
        (e.kind, e.treatment or e.condition or e.symptom, e.year, e.month, e.day) for e in stored
    }
    assert ("diagnosis", "acoustic-neuroma", 2006, 5, None) in summary
    assert ("treatment", "retrosigmoid", 2006, 6, None) in summary
    assert ("treatment", "fsr", 2006, 10, None) in summary
    assert ("treatment", "gamma-knife", 2006, 5, None) in summary
    assert ("symptom", "hemifacial-spasm", 2009, 3, None) in summary
    assert ("treatment", "translabyrinthine", 2009, 10, 1) in summary
    assert ("treatment", "baha", 2010, 10, 8) in summary
    assert ("treatment", "cyberknife", 2008, 11, None) in summary
    left = [e for e in stored if e.kind == "diagnosis" and e.side == "left"]
    assert left and left[0].sizes_mm == (20.0, 13.0, 11.0)
    follow_ups = sorted(
        (e.year, e.month, max(e.sizes_mm)) for e in stored if e.kind == "measurement" and e.sizes_mm
    )
    assert (2009, 11, 21.0) in follow_ups and (2010, 11, 22.0) in follow_ups
    # Every word of every signature is kept somewhere: nothing dropped.
    assert any("Life is good" in (e.note or "") for e in stored) or any(
        "Life is good" in (e.date_text or "") for e in stored
    )


def test_cli_parse_signature_prints_json(app):
    result = app.test_cli_runner().invoke(
        args=[
            "forum",
            "parse-signature",
            "L AN dx 5/08 2.0 x 1.1 cm. Cyberknife Nov '08 at Lakeside",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data[0] == {
        "kind": "diagnosis",
        "date": "2008-05",
        "condition": "acoustic-neuroma",
        "side": "left",
        "size_mm": [20.0, 11.0],
        "text": "L AN dx 5/08 2.0 x 1.1 cm.",
    }
    assert data[1]["treatment"] == "cyberknife" and data[1]["date"] == "2008-11"
    assert data[1]["place"] == "Lakeside"


# --- on posts --------------------------------------------------------------------------------


def _story(session, member):
    add(session, member, kind="diagnosis", date="2/17", condition="acoustic-neuroma", size1="14")
    add(session, member, kind="treatment", date="5/17", treatment="gamma-knife")
    add(session, member, kind="measurement", date="5/19", size1="9")


def _backdate(session, post: Post, when: datetime) -> None:
    post.created_at = when
    session.commit()


def test_posts_show_the_history_as_it_stood_and_time_since_treatment(client, session):
    member = make_user(session, "storyteller", history_visibility="public")
    _story(session, member)
    board = make_board(session)
    thread = make_thread(session, board, member, title="Six months on", replies=1)
    first, second = posts_of(session, thread)
    _backdate(session, first, datetime(2017, 11, 20))
    _backdate(session, second, datetime(2017, 3, 1))  # before treatment: diagnosis only
    page = visible(client.get(f"/t/{thread.id}/six-months-on"))
    assert "posted 6 months after Gamma Knife" in page
    assert "posted 1 month after diagnosis" in page
    # The 2017 post shows the 2017 story, not the 2019 scan, and links to the story since.
    assert "Scan (9 mm)" not in page
    assert "storyteller’s story since then" in page


def test_no_context_line_without_treatment_or_diagnosis(client, session):
    member = make_user(session, "notes_only", history_visibility="public")
    add(session, member, kind="symptom", date="2015", symptom="tinnitus")
    thread = make_thread(session, make_board(session), member, title="Ringing")
    page = visible(client.get(f"/t/{thread.id}/ringing"))
    assert "posted " not in page.replace("Posts:", "")


@pytest.mark.parametrize(
    ("visibility", "visitor", "member", "owner"),
    [("public", True, True, True), ("members", False, True, True), ("private", False, False, True)],
)
def test_visibility_holds_on_posts_and_member_page(
    client, session, visibility, visitor, member, owner
):
    author = make_user(
        session, "private_person", history_visibility=visibility, signature="My line"
    )
    _story(session, author)
    make_user(session, "other_member")
    thread = make_thread(session, make_board(session), author, title="Visibility")
    thread_url, member_url = f"/t/{thread.id}/visibility", "/u/private_person"

    def shows(url: str) -> bool:
        page = visible(client.get(url))
        return "Gamma Knife" in page or "My line" in page

    assert shows(thread_url) is visitor and shows(member_url) is visitor
    login(client, "other_member")
    assert shows(thread_url) is member and shows(member_url) is member
    login(client, "private_person")
    assert shows(thread_url) is owner and shows(member_url) is owner


def test_member_page_timeline_chart_and_noindex(client, session):
    member = make_user(session, "charted", history_visibility="public")
    _story(session, member)
    page = client.get("/u/charted").get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in page
    assert "<svg" in page and "<table" in page and "14 mm" in page and "9 mm" in page
    member.profile_indexable = True
    session.commit()
    assert 'content="noindex"' not in client.get("/u/charted").get_data(as_text=True)


def test_privacy_form_saves_choices(client, session):
    member = make_user(session, "chooser")
    login(client, "chooser")
    response = post_form(
        client,
        "/settings/history/privacy",
        {"visibility": "public", "indexable": "y", "signature": "Onward"},
        form_url="/settings/history",
    )
    assert response.status_code == 302
    session.expire_all()
    assert (member.history_visibility, member.profile_indexable, member.signature) == (
        "public",
        True,
        "Onward",
    )
    bad = post_form(
        client,
        "/settings/history/privacy",
        {"visibility": "everyone!"},
        form_url="/settings/history",
    )
    assert bad.status_code == 400


def test_history_pages_need_login(client):
    response = client.get("/settings/history")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_thread_query_count_does_not_grow_with_history_size(client, session, count_queries):
    member = make_user(session, "long_story", history_visibility="public")
    board = make_board(session)
    thread = make_thread(session, board, member, title="Counting", replies=2)
    url = f"/t/{thread.id}/counting"
    client.get(url)
    with count_queries() as before:
        client.get(url)
    for year in range(2000, 2030):
        add(session, member, kind="measurement", date=str(year), size1="5")
    posting.reply(session, member, thread, board, "One more")
    with count_queries() as after:
        client.get(url)
    assert len(after) == len(before)
    assert session.scalar(select(func.count()).select_from(HistoryEvent)) == 30
