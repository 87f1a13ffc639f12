"""Search through the web: fresh after every change, private where it must be, never a 500."""

from __future__ import annotations

import os
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from forum.models import SearchQueueEntry, Thread, ThreadTag
from forum.search.factory import search_backend
from forum.services import histories, indexing, posting
from forum.services.search_queue import enqueue
from forum.vocabulary import load_vocabulary
from tests.conftest import login, post_form
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


@pytest.fixture(params=["whoosh"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else []))
def searching(request, app):
    """Index changes after each request (as in production), starting from an empty index.

    Once per search backend: Whoosh, and PostgreSQL when the test database is PostgreSQL.
    """
    from forum.extensions import db
    from forum.search.factory import EXTENSION_KEY

    saved = app.config["SEARCH_BACKEND"], app.extensions.get(EXTENSION_KEY)
    if request.param != saved[0]:
        with app.app_context():
            if request.param == "postgres" and db.engine.dialect.name != "postgresql":
                pytest.skip("the postgres search backend needs the PostgreSQL test database")
        app.config["SEARCH_BACKEND"] = request.param
        app.extensions.pop(EXTENSION_KEY, None)
    app.config["SEARCH_DRAIN_AFTER_REQUEST"] = True
    try:
        with app.app_context():
            search_backend().clear()
        yield app
        app.config["SEARCH_DRAIN_AFTER_REQUEST"] = False
        with app.app_context():
            search_backend().clear()
    finally:
        app.config["SEARCH_DRAIN_AFTER_REQUEST"] = False
        if request.param != saved[0]:
            app.config["SEARCH_BACKEND"] = saved[0]
            app.extensions.pop(EXTENSION_KEY, None)
            if saved[1] is not None:
                app.extensions[EXTENSION_KEY] = saved[1]


def hits(client, q: str, **params) -> list[str]:
    response = client.get("/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return [
        unescape(t) for t in re.findall(r'<h2>.*?<a href="/p/\d+">([^<]*)</a></h2>', html, re.S)
    ]


def page_text(client, q: str) -> str:
    html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def drain(app, session) -> None:
    with app.app_context():
        indexing.drain_all(session, search_backend())


def test_a_new_thread_is_searchable_right_after_posting(searching, client, session):
    board = make_board(session, "Radiation")
    make_user(session, "poster_a")
    login(client, "poster_a")
    post_form(
        client,
        f"/b/{board.slug}/new",
        {"title": "Facial twitching after gamma knife", "body": "Spasms started at month six."},
    )
    assert hits(client, "twitching") == ["Facial twitching after gamma knife"]
    assert hits(client, "GK spasm") == ["Facial twitching after gamma knife"]  # synonym + stem
    assert session.scalar(select(func.count()).select_from(SearchQueueEntry)) == 0


def test_edits_deletes_and_restores_reach_the_index(searching, client, session, app):
    board = make_board(session)
    make_user(session, "writer_b")
    login(client, "writer_b")
    post_form(client, f"/b/{board.slug}/new", {"title": "Hearing aids", "body": "Opening words"})
    thread = session.scalar(select(Thread))
    post_form(client, f"/t/{thread.id}/reply", {"body": "My audiologist suggested marigolds."})
    reply = posts_of(session, thread)[1]
    assert hits(client, "marigolds") == ["Hearing aids"]
    post_form(client, f"/p/{reply.id}/edit", {"body": "My audiologist suggested sunflowers."})
    assert hits(client, "marigolds") == []
    assert hits(client, "sunflowers") == ["Hearing aids"]
    post_form(client, f"/p/{reply.id}/delete", {}, form_url=f"/t/{thread.id}/{thread.slug}")
    assert hits(client, "sunflowers") == []
    make_moderator(session, "mod_b")
    login(client, "mod_b")
    post_form(client, f"/p/{reply.id}/restore", {}, form_url=f"/t/{thread.id}/{thread.slug}")
    assert hits(client, "sunflowers") == ["Hearing aids"]
    # A title edit re-indexes every post of the thread.
    first = posts_of(session, thread)[0]
    post_form(
        client, f"/p/{first.id}/edit", {"title": "Hearing aids and CROS", "body": "Opening words"}
    )
    assert hits(client, "sunflowers") == ["Hearing aids and CROS"]


def test_members_only_boards_are_hidden_from_visitors(searching, client, session, app):
    private = make_board(session, "Members lounge", members_only=True)
    author = make_user(session, "lounger")
    make_thread(
        session, private, author, title="Private worries", body="Quietly anxious about scans"
    )
    drain(app, session)
    assert hits(client, "anxious") == []
    login(client, "lounger")
    assert hits(client, "anxious") == ["Private worries"]


def test_history_treatments_are_searchable_only_when_public(searching, client, session, app):
    vocab = load_vocabulary()
    author = make_user(session, "open_book", history_visibility="public")
    histories.add_event(
        session,
        author,
        author,
        histories.EventInput(kind="treatment", date="2015", treatment="cyberknife"),
        vocab,
    )
    shy = make_user(session, "shy_one", history_visibility="members")
    histories.add_event(
        session,
        shy,
        shy,
        histories.EventInput(kind="treatment", date="2015", treatment="cyberknife"),
        vocab,
    )
    board = make_board(session)
    make_thread(session, board, author, title="Open story", body="Tired these days")
    make_thread(session, board, shy, title="Shy story", body="Tired these days")
    drain(app, session)
    assert hits(client, "tired treatment:ck") == ["Open story"]
    assert sorted(hits(client, "tired")) == ["Open story", "Shy story"]


def test_tags_and_resolved_status_filters(searching, client, session, app):
    board = make_board(session)
    thread = make_thread(
        session, board, title="Botox helped my spasms", body="It took three rounds"
    )
    make_thread(session, board, title="Still twitching", body="It took three rounds so far")
    session.add(ThreadTag(thread_id=thread.id, kind="treatment", slug="botox"))
    thread.outcome, thread.outcome_summary = "improved", "Spasms eased after three rounds"
    enqueue(session, "thread", thread.id)
    session.commit()
    drain(app, session)
    assert hits(client, "rounds status:resolved") == ["Botox helped my spasms"]
    assert hits(client, "rounds treatment:botox") == ["Botox helped my spasms"]
    assert "Improved" in page_text(client, "rounds status:resolved")


def test_a_crash_between_commit_and_indexing_loses_nothing(searching, client, session, app):
    board = make_board(session)
    author = make_user(session)
    app.config["SEARCH_DRAIN_AFTER_REQUEST"] = False  # the process "dies" before draining
    thread = make_thread(session, board, author, title="Lost and found", body="Zebrafish dreams")
    posting.reply(session, author, thread, board, "More zebrafish")
    assert hits(client, "zebrafish") == []
    assert session.scalar(select(func.count()).select_from(SearchQueueEntry)) == 2
    result = app.test_cli_runner().invoke(args=["forum", "index", "--drain"])
    assert result.exit_code == 0 and "Applied 2 queued change(s); 0 left." in result.output
    assert hits(client, "zebrafish") == ["Lost and found"]


def test_pending_changes_are_applied_when_the_next_process_starts(tmp_path):
    """Process A commits a thread and dies before indexing; process B indexes it at start-up."""
    from flask_migrate import upgrade

    from config import TestingConfig
    from forum import create_app
    from forum.extensions import db

    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'crash.db'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SEARCH_DRAIN_AFTER_REQUEST": True,
    }
    dying = create_app(
        type("A", (TestingConfig,), {**settings, "SEARCH_DRAIN_AFTER_REQUEST": False})
    )
    with dying.app_context():
        upgrade()
        board = make_board(db.session)
        make_thread(db.session, board, title="Left behind", body="Kingfisher notes")
        assert indexing.pending(db.session) == 1
        db.engine.dispose()
    restarted = create_app(type("B", (TestingConfig,), settings))
    client = restarted.test_client()
    assert hits(client, "kingfisher") == ["Left behind"]
    with restarted.app_context():
        assert indexing.pending(db.session) == 0
        db.engine.dispose()


def test_reindex_rebuilds_from_the_database(searching, client, session, app):
    board = make_board(session)
    for i in range(3):
        make_thread(session, board, title=f"Rebuilt thread {i}", body="Heronsbill words", replies=2)
    with app.app_context():
        search_backend().clear()
    assert hits(client, "heronsbill") == []
    result = app.test_cli_runner().invoke(args=["forum", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 9 posts." in result.output
    assert sorted(hits(client, "heronsbill")) == [f"Rebuilt thread {i}" for i in range(3)]
    assert session.scalar(select(func.count()).select_from(SearchQueueEntry)) == 0


def test_results_group_by_thread_and_link_to_the_best_post(searching, client, session, app):
    board = make_board(session)
    thread = make_thread(session, board, title="Grouping", body="Lapwing once", replies=3)
    for post in posts_of(session, thread)[1:]:
        post.body_html = "<p>Lapwing lapwing again</p>"
        enqueue(session, "post", post.id)
    session.commit()
    drain(app, session)
    html = client.get("/search", query_string={"q": "lapwing"}).get_data(as_text=True)
    assert html.count("<li>\n      <h2>") == 1 or len(hits(client, "lapwing")) == 1


@pytest.mark.parametrize(
    "q",
    [
        "foo:bar spasm",
        "before:2009-13",
        "status:maybe",
        "author:",
        '"unbalanced',
        "-",
        "OR",
        "a" * 5000,
        "nul\x00byte",
        "<script>alert(1)</script>",
        "%",
        "((((",
        "in:nowhere",
    ],
)
def test_odd_queries_get_a_page_never_a_500(searching, client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert "<script>alert" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "params", [{"page": "0"}, {"page": "-3"}, {"page": "x"}, {"sort": "weird"}]
)
def test_bad_parameters_are_handled(searching, client, params):
    response = client.get("/search", query_string={"q": "spasm", **params})
    assert response.status_code in (200, 404)


def test_misspellings_suggest_the_right_words(searching, client, session, app):
    board = make_board(session)
    make_thread(session, board, title="Gamma knife day", body="The gamma knife frame was fine")
    drain(app, session)
    text = page_text(client, "gama knife")
    assert "Did you mean gamma knife" in text
