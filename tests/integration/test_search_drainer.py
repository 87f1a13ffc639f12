"""The default drain: a reply is indexed by its process's drain thread, not by the request."""

from __future__ import annotations

import re
import threading

import pytest

from forum.extensions import db
from forum.search.factory import search_backend
from forum.search.query import parse_query
from forum.services import indexing
from tests.conftest import ServerLikeClient, login, migrated_app
from tests.factories import make_thread, make_user


@pytest.fixture
def background_app(tmp_path):
    app = migrated_app(
        f"sqlite:///{tmp_path / 'drain.db'}",
        tmp_path,
        SEARCH_DRAIN_AFTER_REQUEST=True,
        SEARCH_DRAIN_IN_BACKGROUND=True,
    )
    yield app
    app.extensions["cairn_search_drainer"].wait_idle(10)
    with app.app_context():
        search_backend().close()
        db.engine.dispose()


def test_a_reply_is_indexed_by_the_drain_thread_after_the_response(background_app, monkeypatch):
    app = background_app
    with app.app_context():
        author = make_user(db.session, "gannet")
        thread = make_thread(db.session, author=author, title="Drained elsewhere")
        db.session.commit()
        thread_id, page = thread.id, f"/t/{thread.id}/{thread.slug}"
    drainer = app.extensions["cairn_search_drainer"]
    client = ServerLikeClient(app, app.response_class, use_cookies=True)
    login(client, "gannet")
    assert drainer.wait_idle(10)  # the start-up drain (the opening post)

    draining_threads: list[int] = []
    real_drain_all = indexing.drain_all

    def recording_drain_all(session, backend):
        draining_threads.append(threading.get_ident())
        return real_drain_all(session, backend)

    monkeypatch.setattr(indexing, "drain_all", recording_drain_all)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).text).group(1)
    reply = client.post(
        f"/t/{thread_id}/reply", data={"csrf_token": token, "body": "Shearwater sightings."}
    )
    assert reply.status_code == 302
    assert drainer.wait_idle(10)
    assert draining_threads and threading.get_ident() not in draining_threads
    with app.app_context():
        assert indexing.pending(db.session) == 0
        found = search_backend().search(parse_query("shearwater"), include_members_only=True)
    assert [hit.thread_id for hit in found.hits] == [thread_id]
