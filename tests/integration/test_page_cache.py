"""The shared page cache for visitors' thread pages: hits and misses, 304s, invalidation by
every change a page shows, never for members nor for responses that set a cookie; with the
per-process store and with Redis."""

from __future__ import annotations

import os
import uuid

import pytest
from flask import flash
from sqlalchemy import select, update

from forum.models import SiteState, User
from forum.services import account_safety, histories, moderation, outcomes, posting, tags
from forum.services.data_rights import delete_account
from forum.vocabulary import load_vocabulary
from forum.web.page_store import LocalStore, RedisStore, TieredStore
from tests.conftest import login
from tests.factories import PASSWORD, make_board, make_moderator, make_thread, make_user, posts_of

VOCABULARY = load_vocabulary()
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_store() -> RedisStore:
    store = RedisStore(REDIS_URL, ttl=60, prefix=f"cairn-test:{uuid.uuid4().hex}:")
    try:
        store.client.ping()
    except Exception as exc:  # any failure to reach it means: skip
        store.client.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc})")
    return store


@pytest.fixture(params=["local", "redis", "tiered"])
def cache(request, app):
    """The page cache, on, with a fresh store of each kind."""
    page_cache = app.extensions["cairn_page_cache"]
    store = LocalStore(100, 60) if request.param == "local" else _redis_store()
    if request.param == "tiered":
        store = TieredStore(LocalStore(100, 60), store)
    saved = page_cache.store, app.config["PAGE_CACHE_ENABLED"]
    page_cache.store = store
    app.config["PAGE_CACHE_ENABLED"] = True
    page_cache.hits = page_cache.stored = 0
    yield page_cache
    page_cache.store, app.config["PAGE_CACHE_ENABLED"] = saved
    if isinstance(store, TieredStore):
        store = store.far
    if isinstance(store, RedisStore):
        keys = list(store.client.scan_iter(match=store.prefix + "*"))
        if keys:
            store.client.delete(*keys)
        store.client.close()


def url_of(thread, page: int = 1) -> str:
    return f"/t/{thread.id}/{thread.slug}" + (f"?page={page}" if page > 1 else "")


def visit(client, thread, **kw):
    response = client.get(url_of(thread), **kw)
    assert response.status_code == 200
    return response


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_a_second_visit_is_served_from_the_cache_with_the_same_headers(
    client, session, cache, app
):
    thread = make_thread(session, replies=2)
    first = visit(client, thread, headers={"Accept-Encoding": "gzip"})
    assert (cache.stored, cache.hits) == (1, 0)
    counter = app.extensions["cairn_views"]
    before = counter.pending(thread.id)
    second = visit(client, thread, headers={"Accept-Encoding": "gzip"})
    assert (cache.stored, cache.hits) == (1, 1)
    assert second.get_data() == first.get_data()
    assert second.headers["Content-Encoding"] == "gzip"
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Security-Policy",
                 "X-Content-Type-Options", "Referrer-Policy", "Content-Type"):
        assert second.headers[name] == first.headers[name], name
    assert "Set-Cookie" not in second.headers
    assert counter.pending(thread.id) == before + 1  # the view still counts
    # Another encoding is another entry; HEAD is answered from the GET's entry.
    plain = visit(client, thread, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and cache.stored == 2
    head = client.head(url_of(thread), headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.get_data() == b"" and cache.hits == 2


def test_a_conditional_get_is_answered_304_from_the_cache(client, session, cache, count_queries):
    thread = make_thread(session, replies=1)
    first = visit(client, thread)
    etag = first.headers["ETag"]
    with count_queries() as statements:
        again = client.get(url_of(thread), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Content-Security-Policy"]
    assert len(statements) == 1, statements  # the version, nothing else
    assert cache.hits == 1
    other = client.get(url_of(thread), headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    stamp = first.headers["Last-Modified"]
    since = client.get(url_of(thread), headers={"If-Modified-Since": stamp})
    assert since.status_code == 304 and cache.hits == 3


def test_pages_of_a_thread_are_cached_apart(client, session, cache, app):
    thread = make_thread(session, replies=app.config["POSTS_PER_PAGE"] + 1)
    one, two = visit(client, thread), client.get(url_of(thread, 2))
    assert two.status_code == 200 and two.get_data() != one.get_data()
    assert text_of(client.get(url_of(thread, 2))) == text_of(two)
    assert cache.hits == 1
    assert client.get(url_of(thread) + "?utm=x").status_code == 200  # never cached
    assert client.get(url_of(thread, 9)).status_code == 404
    assert cache.stored == 2


def _changes(session, thread, board, author, moderator):
    """(name, change, text the page shows afterwards) for each change to the thread."""
    posts = posts_of(session, thread)
    other = make_board(session, "Elsewhere board")
    return [
        ("reply", lambda: posting.reply(session, author, thread, board, "A brand new reply."),
         "A brand new reply."),
        ("edit", lambda: posting.edit_post(session, author, posts[1], thread, board,
                                           "An edited reply."), "An edited reply."),
        ("delete", lambda: posting.delete_post(session, author, posts[1], thread, board),
         None),
        ("move", lambda: moderation.move_thread(session, moderator, thread, board, other),
         "Elsewhere board"),
        ("resolve", lambda: outcomes.mark_resolved(
            session, author, thread, other, post_id=posts[0].id, outcome="improved",
            summary="Much better after all."), "Much better after all."),
        ("tag", lambda: tags.set_tags(session, author, thread, other,
                                      {"treatment": ["gamma-knife"]}, VOCABULARY),
         "Gamma Knife"),
    ]


def test_every_change_to_the_thread_refreshes_the_cached_page(client, session, cache):
    board = make_board(session)
    author = make_user(session)
    moderator = make_moderator(session)
    thread = make_thread(session, board, author, body="The opening post.", replies=1)
    for name, change, shown in _changes(session, thread, board, author, moderator):
        before = visit(client, thread)
        assert text_of(visit(client, thread)) == text_of(before)  # cached
        hits = cache.hits
        change()
        after = visit(client, thread)
        assert cache.hits == hits, name  # not served from the old entry
        assert after.headers["ETag"] != before.headers["ETag"], name
        if shown:
            assert shown in text_of(after), name
        else:
            assert "An edited reply." not in text_of(after), name


def _history_page(session, client):
    author = make_user(session, history_visibility="public")
    histories.add_event(
        session, author, author,
        histories.EventInput(kind="diagnosis", date="4/09", condition="acoustic-neuroma",
                             side="right", size1="25"),
        VOCABULARY,
    )
    thread = make_thread(session, author=author, body="My story so far.")
    page = text_of(visit(client, thread))
    return author, thread, page


def test_hiding_a_history_removes_it_from_every_cached_page(client, session, cache):
    author, thread, page = _history_page(session, client)
    assert 'class="history-sig"' in page
    assert text_of(visit(client, thread)) == page and cache.hits == 1
    histories.update_privacy(session, author, author, visibility="private", indexable=False,
                             signature="")
    hidden = text_of(visit(client, thread))
    assert 'class="history-sig"' not in hidden
    assert cache.hits == 1


def test_a_new_history_event_or_a_new_name_or_a_deleted_account_shows_at_once(
    client, session, cache
):
    author, thread, _ = _history_page(session, client)
    histories.add_event(session, author, author, histories.EventInput(
        kind="treatment", date="5/09", treatment="gamma-knife"), VOCABULARY)
    assert "Gamma Knife" in text_of(visit(client, thread))
    replier = make_user(session, "oldname")
    posting.reply(session, replier, thread, thread_board(session, thread), "Hello from me.")
    assert "oldname" in text_of(visit(client, thread))
    account_safety.change_username(session, replier, "newname")
    renamed = text_of(visit(client, thread))
    assert "newname" in renamed and "oldname" not in renamed
    delete_account(session, replier, PASSWORD, keep_posts=True)
    gone = text_of(visit(client, thread))
    assert "newname" not in gone and "Former member" in gone
    assert cache.hits == 0


def thread_board(session, thread):
    from forum.models import Board

    return session.get(Board, thread.board_id)


def test_an_authors_post_elsewhere_updates_their_post_count(client, session, cache):
    author = make_user(session)
    thread = make_thread(session, author=author)
    assert "Posts: 1" in text_of(visit(client, thread))
    make_thread(session, author=author)
    assert "Posts: 2" in text_of(visit(client, thread))


def test_an_update_posted_in_another_thread_shows_on_the_cached_page(client, session, cache):
    board = make_board(session)
    author = make_user(session)
    asked = make_thread(session, board, body="Has anyone had GK?")
    posting.reply(session, author, asked, board, "I am having it next month.")
    assert "posted an update" not in text_of(visit(client, asked))
    own = make_thread(session, board, author, body="My Gamma Knife story.")
    update = posting.reply(session, author, own, board, "One year on.", is_update=True)
    assert "posted an update" not in text_of(visit(client, asked))
    assert "posted an update" not in text_of(visit(client, asked))
    assert cache.hits == 1
    # The same post counts, another thread: only the site generation tells.
    posting.edit_post(session, author, update, own, board,
                      f"One year on: see /t/{asked.id}/ too.")
    assert "The author posted an update" in text_of(visit(client, asked))
    assert cache.hits == 1


def test_a_board_made_members_only_is_never_served_to_visitors(client, session, cache):
    board = make_board(session)
    thread = make_thread(session, board)
    visit(client, thread)
    admin = make_user(session, role="admin")
    from forum.services import boards

    boards.save_board(session, admin, category_id=board.category_id, name=board.name,
                      slug=board.slug, members_only=True, board=board)
    assert client.get(url_of(thread)).status_code == 404
    assert cache.hits == 0


def test_members_are_never_served_a_cached_page_nor_stored(client, session, cache):
    thread = make_thread(session, replies=1)
    make_user(session, "reader")
    visit(client, thread)
    login(client, "reader")
    stored = cache.stored
    page = visit(client, thread)
    assert "Log out" in text_of(page)
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert cache.hits == 0 and cache.stored == stored
    # A leftover remember-me cookie alone also skips the cache.
    other = type(client)(client.application)
    other.set_cookie("remember_token", "x")
    assert other.get(url_of(thread)).status_code == 200
    assert cache.hits == 0


def test_a_response_that_sets_a_cookie_is_never_stored(client, session, cache, app):
    thread = make_thread(session)

    def flash_on_request():
        from flask import request

        if request.headers.get("X-Flash"):
            flash("Just for you.")

    app.before_request_funcs.setdefault(None, []).append(flash_on_request)
    try:
        response = visit(client, thread, headers={"X-Flash": "1"})
    finally:
        app.before_request_funcs[None].remove(flash_on_request)
    assert "Set-Cookie" in response.headers
    assert cache.stored == 0
    client.delete_cookie("session")
    visit(client, thread)
    assert cache.stored == 1 and cache.hits == 0


def test_the_generation_moves_with_what_pages_show_and_not_with_post_counts(session):
    def generation():
        return session.scalar(select(SiteState.generation).where(SiteState.id == 1))

    member = make_user(session)
    board = make_board(session)
    start = generation()
    make_thread(session, board, member, replies=2)  # posts, post counts, last-active times
    session.execute(update(User).where(User.id == member.id).values(post_count=9))
    session.commit()
    assert generation() == start
    member.custom_title = "Veteran"
    session.commit()
    assert generation() == start + 1
    session.execute(update(User).where(User.id == member.id).values(signature="Hi"))
    session.commit()
    assert generation() == start + 2
    member.last_active_at = None
    session.commit()
    assert generation() == start + 2
    from forum.services import avatars

    avatars.set_avatar_url(session, member, "https://example.org/me.png")
    assert generation() == start + 3
    moderator = make_moderator(session)
    before = generation()
    moderation.suspend(session, moderator, member, kind="suspended", reason="Spam.", days=3)
    assert generation() == before + 1
