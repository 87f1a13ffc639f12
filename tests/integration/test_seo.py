"""What search engines and feed readers get: robots.txt, sitemaps, feeds, canonical links,
structured data, social tags, related threads and the helpful 404 — and what they never get."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape

import feedparser

from forum.models import ThreadTag
from forum.services import posting
from tests.conftest import login
from tests.factories import make_board, make_moderator, make_thread, make_user, posts_of


def body(response) -> str:
    return response.get_data(as_text=True)


def json_lds(response) -> list[dict]:
    return [
        json.loads(unescape(m))
        for m in re.findall(
            r'<script type="application/ld\+json">(.*?)</script>', body(response), re.S
        )
    ]


def meta(response, key: str) -> str | None:
    pattern = rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"'
    match = re.search(pattern, body(response))
    return unescape(match.group(1)) if match else None


def sitemap_locs(client) -> list[str]:
    index = body(client.get("/sitemap.xml"))
    locs = []
    for sitemap in re.findall(r"<loc>([^<]+)</loc>", index):
        path = sitemap.split("://", 1)[1].split("/", 1)[1]
        response = client.get("/" + path)
        assert response.status_code == 200
        locs += re.findall(r"<loc>([^<]+)</loc>", body(response))
    return locs


def test_robots_txt_points_at_the_sitemap_and_never_blocks_member_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = body(response)
    assert "Sitemap: http://localhost/sitemap.xml" in text
    assert "Disallow: /search" in text
    disallowed = re.findall(r"Disallow: (\S+)", text)
    assert not any("/u".startswith(d) or d.startswith("/u") for d in disallowed)
    assert not any(d in ("/", "/t", "/b") for d in disallowed)


def test_sitemap_index_lists_paginated_sitemaps_with_lastmod(client, session, app):
    board = make_board(session)
    threads = [make_thread(session, board, title=f"Sitemapped {i}") for i in range(3)]
    app.config["SITEMAP_THREADS_PER_FILE"] = 1
    try:
        index = body(client.get("/sitemap.xml"))
        assert index.startswith("<?xml") and "<sitemapindex" in index
        assert index.count("<sitemap>") >= 4  # pages + one per thread with this tiny page size
        assert "<lastmod>" in index
        locs = sitemap_locs(client)
    finally:
        app.config.pop("SITEMAP_THREADS_PER_FILE")
    for thread in threads:
        assert f"http://localhost/t/{thread.id}/{thread.slug}" in locs
    assert f"http://localhost/b/{board.slug}" in locs
    assert client.get("/sitemap-threads-99999.xml").status_code == 404


def test_sitemaps_hold_later_pages_of_long_threads(client, session, app):
    per_page = app.config["POSTS_PER_PAGE"]
    thread = make_thread(session, replies=per_page + 1)
    locs = sitemap_locs(client)
    assert f"http://localhost/t/{thread.id}/{thread.slug}?page=2" in locs


def test_sitemaps_and_feeds_leave_out_members_only_deleted_and_private(client, session):
    secret_board = make_board(session, "Members lounge", members_only=True)
    secret = make_thread(session, secret_board, title="Members only thread")
    public_board = make_board(session, "Open board")
    author = make_user(session)
    gone = make_thread(session, public_board, author, title="Deleted thread")
    posting.delete_post(session, author, posts_of(session, gone)[0], gone, public_board)
    kept = make_thread(session, public_board, author, title="Kept thread", replies=1)
    removed_reply = posting.reply(session, author, kept, public_board, "A reply that was removed")
    posting.delete_post(session, author, removed_reply, kept, public_board)
    hidden = make_user(session, "hidden_member")
    shown = make_user(session, "shown_member", profile_indexable=True)

    locs = " ".join(sitemap_locs(client))
    assert f"/t/{kept.id}/" in locs
    assert f"/t/{secret.id}/" not in locs and f"/t/{gone.id}/" not in locs
    assert "members-lounge" not in locs
    assert f"/u/{shown.username}" in locs and f"/u/{hidden.username}" not in locs

    forum = feedparser.parse(body(client.get("/feed.atom")))
    titles = [e.title for e in forum.entries]
    assert "Kept thread" in titles
    assert "Members only thread" not in titles and "Deleted thread" not in titles
    assert client.get(f"/b/{secret_board.slug}.atom").status_code == 404
    assert client.get(f"/t/{secret.id}.atom").status_code == 404
    assert client.get(f"/t/{gone.id}.atom").status_code == 404
    login(client, author.username)  # feeds are the same for members: shared and cached
    assert client.get(f"/t/{secret.id}.atom").status_code == 404
    thread_feed = body(client.get(f"/t/{kept.id}.atom"))
    assert "Reply number 1." in thread_feed and "removed" not in thread_feed


def test_board_and_thread_feeds_are_valid_atom(client, session):
    board = make_board(session, "Feeds board")
    thread = make_thread(session, board, title="Feed me", body="The **first** post.", replies=2)
    board_feed = feedparser.parse(body(client.get(f"/b/{board.slug}.atom")))
    assert not board_feed.bozo, board_feed.bozo_exception
    assert [e.title for e in board_feed.entries] == ["Feed me"]
    assert board_feed.entries[0].link == f"http://localhost/t/{thread.id}/{thread.slug}"
    response = client.get(f"/t/{thread.id}.atom")
    assert response.mimetype == "application/atom+xml"
    thread_feed = feedparser.parse(body(response))
    assert not thread_feed.bozo
    assert len(thread_feed.entries) == 3
    assert "<strong>first</strong>" in thread_feed.entries[-1].content[0].value
    page = body(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert f'href="/t/{thread.id}.atom"' in page and 'href="/feed.atom"' in page
    assert f'href="/b/{board.slug}.atom"' in body(client.get(f"/b/{board.slug}"))


def test_thread_page_has_description_opengraph_and_twitter_tags(client, session):
    thread = make_thread(
        session, title="Hearing after radiosurgery", body="My hearing held up for two years."
    )
    response = client.get(f"/t/{thread.id}/{thread.slug}")
    assert meta(response, "description") == "My hearing held up for two years."
    assert meta(response, "og:title") == "Hearing after radiosurgery"
    assert meta(response, "og:description") == "My hearing held up for two years."
    assert meta(response, "og:url") == f"http://localhost/t/{thread.id}/{thread.slug}"
    assert meta(response, "og:type") == "article"
    assert meta(response, "twitter:card") == "summary"
    assert meta(response, "twitter:title") == "Hearing after radiosurgery"


def test_later_pages_repeat_the_first_post_pointing_at_page_one(client, session, app):
    per_page = app.config["POSTS_PER_PAGE"]
    author = make_user(session, "opener")
    board = make_board(session)
    thread = make_thread(session, board, author, body="The opening words.", replies=per_page + 1)
    first = posts_of(session, thread)[0]
    posting.edit_post(session, author, first, thread, board, "The opening words, edited.")
    response = client.get(f"/t/{thread.id}/{thread.slug}?page=2")
    (data,) = json_lds(response)
    assert data["@type"] == "DiscussionForumPosting"
    assert data["url"] == f"http://localhost/t/{thread.id}/{thread.slug}"
    assert data["text"] == "The opening words, edited."
    assert "dateModified" in data
    assert data["author"]["url"] == "http://localhost/u/opener"
    assert all(c["@type"] == "Comment" for c in data["comment"])
    assert len(data["comment"]) == 2  # only this page's replies (positions 20 and 21)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', body(response)).group(1)
    assert canonical == f"http://localhost/t/{thread.id}/{thread.slug}?page=2"


def test_boards_and_members_have_canonical_links_and_profile_markup(client, session):
    board = make_board(session, "Canon board")
    member = make_user(
        session, "CanonMember", custom_title="Ten years on", history_visibility="private"
    )
    make_thread(session, board, member)
    board_page = body(client.get(f"/b/{board.slug}"))
    assert f'<link rel="canonical" href="http://localhost/b/{board.slug}">' in board_page
    response = client.get("/u/canonmember")
    assert '<link rel="canonical" href="http://localhost/u/CanonMember">' in body(response)
    (profile,) = json_lds(response)
    assert profile["@type"] == "ProfilePage"
    assert profile["mainEntity"]["name"] == "CanonMember"
    assert profile["mainEntity"]["url"] == "http://localhost/u/CanonMember"
    assert profile["mainEntity"]["interactionStatistic"]["userInteractionCount"] == 1
    assert "history" not in json.dumps(profile).lower()
    assert '<meta name="robots" content="noindex">' in body(response)


def test_every_posts_author_links_to_their_member_page(client, session):
    thread = make_thread(session, author=make_user(session, "linked_author"), replies=1)
    page = body(client.get(f"/t/{thread.id}/{thread.slug}"))
    assert page.count('href="/u/linked_author"') >= 2


def test_related_threads_share_tags_and_respect_visibility(client, session):
    public = make_board(session)
    secret = make_board(session, members_only=True)
    thread = make_thread(session, public, title="Gamma knife in May")
    near = make_thread(session, public, title="Gamma knife and tinnitus")
    far = make_thread(session, public, title="Unrelated thread")
    hidden = make_thread(session, secret, title="Members-only gamma knife story")
    for t in (thread, near, hidden):
        session.add(ThreadTag(thread_id=t.id, kind="treatment", slug="gamma-knife"))
    session.commit()
    page = body(client.get(f"/t/{thread.id}/{thread.slug}"))
    related = re.search(r'<section class="related".*?</section>', page, re.S).group(0)
    assert "Gamma knife and tinnitus" in related
    assert "Unrelated thread" not in related and "Members-only" not in related
    assert far.id
    assert "Join to reply" in page


def test_helpful_404_offers_search_and_nearest_matches(client, session, app, monkeypatch):
    from forum.search.documents import SearchHit, SearchResults
    from forum.web import errors

    captured = {}

    class FakeBackend:
        def search(self, query, *, include_members_only, **kw):
            captured["query"] = query
            captured["members"] = include_members_only
            hit = SearchHit(1, 1, "Vestibular rehab exercises", "vestibular-rehab", "someone",
                            "rehab", "Rehab", datetime(2020, 1, 1), "open", None, "", 1.0)
            return SearchResults(hits=[hit], total_threads=1)

    monkeypatch.setattr("forum.search.factory.search_backend", lambda: FakeBackend())
    assert errors.url_words("/t/999/vestibular-rehab-exercises") == [
        "vestibular", "rehab", "exercises"
    ]
    response = client.get("/t/999/vestibular-rehab-exercises")
    assert response.status_code == 404
    page = body(response)
    assert 'value="vestibular rehab exercises"' in page
    assert "Perhaps one of these?" in page and "Vestibular rehab exercises" in page
    assert captured["members"] is False
    assert '<meta name="robots" content="noindex">' in page


def test_404_without_words_or_with_a_failing_search_still_renders(client, monkeypatch):
    def broken():
        raise RuntimeError("index gone")

    monkeypatch.setattr("forum.search.factory.search_backend", broken)
    assert client.get("/b/no-such-board").status_code == 404
    assert client.get("/t/12345").status_code == 404


def test_moderators_do_not_leak_deleted_threads_into_feeds(client, session):
    board = make_board(session)
    mod = make_moderator(session)
    thread = make_thread(session, board, title="Removed by a moderator")
    posting.delete_post(session, mod, posts_of(session, thread)[0], thread, board)
    login(client, mod.username)
    assert "Removed by a moderator" not in body(client.get("/feed.atom"))
    assert "Removed by a moderator" not in body(client.get(f"/b/{board.slug}.atom"))
