"""HTTP caching: ETag/Last-Modified and 304 for visitors only, Vary: Cookie, compression, and
fingerprinted static files with long cache lifetimes."""

from __future__ import annotations

import re

from forum.services import posting
from tests.conftest import login
from tests.factories import make_board, make_thread, make_user


def test_visitors_get_validators_and_a_304_without_rendering(client, session, count_queries):
    thread = make_thread(session, replies=2)
    url = f"/t/{thread.id}/{thread.slug}"
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in first.headers["Vary"]
    with count_queries() as statements:
        again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert len(statements) <= 1, statements  # the thread's own row, nothing rendered
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_a_new_reply_or_another_page_changes_the_etag(client, session, app):
    board = make_board(session)
    author = make_user(session)
    thread = make_thread(session, board, author, replies=app.config["POSTS_PER_PAGE"] + 1)
    url = f"/t/{thread.id}/{thread.slug}"
    etag = client.get(url).headers["ETag"]
    assert client.get(url + "?page=2").headers["ETag"] != etag
    posting.reply(session, author, thread, board, "Something new to say.")
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_members_never_get_validators_or_public_caching(client, session):
    thread = make_thread(session)
    url = f"/t/{thread.id}/{thread.slug}"
    etag = client.get(url).headers["ETag"]
    login(client, make_user(session, "cached_member").username)
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "ETag" not in response.headers
    assert "public" not in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert "Cookie" in response.headers["Vary"]


def test_members_only_threads_give_visitors_no_304(client, session):
    board = make_board(session, members_only=True)
    thread = make_thread(session, board)
    response = client.get(f"/t/{thread.id}/{thread.slug}", headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_html_is_compressed_when_the_browser_accepts_it(client, session):
    thread = make_thread(session, replies=5, body="Words " * 200)
    url = f"/t/{thread.id}/{thread.slug}"
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    etag = response.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_static_files_are_fingerprinted_and_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/static/cairn\.css\?v=[0-9a-f]{12})">', page)
    assert href, page[:600]
    with client.get(href.group(1)) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get("/static/cairn.css?v=000000000000") as stale:
        assert "immutable" not in stale.headers.get("Cache-Control", "")


def test_visitor_pages_set_no_cookie(client, session):
    thread = make_thread(session, replies=1)
    response = client.get(f"/t/{thread.id}/{thread.slug}")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, no-cache"


def test_a_20_post_thread_weighs_under_100_kb_with_its_stylesheet(client, session):
    """Uncompressed, the stricter measure: no fonts or scripts to add (system fonts only)."""
    board = make_board(session)
    author = make_user(session)
    words = "After the scan I waited three weeks for the results; the waiting was hard. "
    thread = make_thread(session, board, author, body=words * 6)
    for _ in range(19):
        posting.reply(session, author, thread, board, words * 6)
    page = client.get(f"/t/{thread.id}/{thread.slug}")
    html = page.get_data()
    assert html.count(b'class="post') >= 20
    assert b"<script src" not in html and b"@font-face" not in html
    css_url = re.search(rb'<link rel="stylesheet" href="([^"]+)"', html).group(1).decode()
    with client.get(css_url) as css:
        total = len(html) + len(css.get_data())
    assert total < 100_000, total
    compressed = client.get(f"/t/{thread.id}/{thread.slug}", headers={"Accept-Encoding": "gzip"})
    assert len(compressed.get_data()) < len(html) / 3


def test_other_visitor_pages_get_a_body_etag_and_304(client, session):
    board = make_board(session)
    make_thread(session, board)
    for url in ("/", f"/b/{board.slug}", "/feed.atom", "/sitemap.xml"):
        first = client.get(url)
        assert first.headers["Cache-Control"] == "public, no-cache", url
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url
    login_page = client.get("/login")  # a CSRF token in the session: never shared
    assert "ETag" not in login_page.headers
    assert login_page.headers["Cache-Control"] == "private, no-cache"
