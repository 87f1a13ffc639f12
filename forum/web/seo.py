"""For search engines and feed readers: robots.txt, sitemaps and Atom feeds.

Everything here is what a visitor with no account may see (see ``forum.seo_queries``): the
answers are the same for everyone, so shared caches may keep them.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, Response, current_app, url_for

from forum import seo_queries
from forum.extensions import db
from forum.feeds import FeedEntry, atom_feed
from forum.queries import page_count
from forum.services.errors import NotFound
from forum.text.markup import excerpt

bp = Blueprint("seo", __name__)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Private areas only. Member pages stay crawlable: their noindex must be seen to be obeyed.
DISALLOW = ("/search", "/login", "/register", "/account", "/notifications", "/messages",
            "/moderation", "/admin", "/history", "/reminders")
EPOCH = datetime(2000, 1, 1)


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _xml(root: Element) -> Response:
    body = tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/xml")


def _url(parent: Element, loc: str, lastmod: datetime | None, tag: str = "url") -> None:
    item = SubElement(parent, tag)
    SubElement(item, "loc").text = loc
    if lastmod is not None:
        SubElement(item, "lastmod").text = _stamp(lastmod)


def _size() -> int:
    return current_app.config.get("SITEMAP_THREADS_PER_FILE", 2000)


@bp.route("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOW), "",
             f"Sitemap: {url_for('.sitemap_index', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.route("/sitemap.xml")
def sitemap_index():
    root = Element("sitemapindex", {"xmlns": SITEMAP_NS})
    pages = seo_queries.sitemap_pages(db.session)
    _url(root, url_for(".sitemap_pages", _external=True), pages.latest, "sitemap")
    for number, lastmod in seo_queries.thread_buckets(db.session, _size()):
        _url(root, url_for(".sitemap_threads", number=number, _external=True), lastmod, "sitemap")
    return _xml(root)


@bp.route("/sitemap-pages.xml")
def sitemap_pages():
    data = seo_queries.sitemap_pages(db.session)
    root = Element("urlset", {"xmlns": SITEMAP_NS})
    _url(root, url_for("boards.index", _external=True), data.latest)
    for board, lastmod in data.boards:
        _url(root, url_for("boards.board", slug=board.slug, _external=True), lastmod)
    for member in data.members:
        _url(root, url_for("members.show", username=member.username, _external=True), None)
    return _xml(root)


@bp.route("/sitemap-threads-<int:number>.xml")
def sitemap_threads(number: int):
    threads = seo_queries.sitemap_threads(db.session, number, _size()) if number >= 1 else []
    if not threads and not 1 <= number <= seo_queries.last_bucket(db.session, _size()):
        raise NotFound("There is no such sitemap.")  # (an emptied one in the middle is kept)
    per_page = current_app.config["POSTS_PER_PAGE"]
    root = Element("urlset", {"xmlns": SITEMAP_NS})
    for thread in threads:
        for page in range(1, page_count(thread.posts, per_page) + 1):
            loc = url_for("threads.show", thread_id=thread.id, slug=thread.slug,
                          page=page if page > 1 else None, _external=True)
            _url(root, loc, thread.lastmod)
    return _xml(root)


# ------------------------------------------------------------------------------------------
# Atom feeds: the whole forum, each public board, each public thread


def _feed(feed_id: str, title: str, subtitle: str, page_url: str, entries) -> Response:
    body = atom_feed(
        feed_id=feed_id,
        title=title,
        subtitle=subtitle,
        self_url=feed_id,
        page_url=page_url,
        author=current_app.config["FORUM_NAME"],
        entries=entries,
        fallback_updated=EPOCH,
    )
    return Response(body, mimetype="application/atom+xml")


def _author(post) -> str:
    return post.author.username if post.author else "Former member"


def _thread_entries(rows) -> list[FeedEntry]:
    return [
        FeedEntry(
            id=url_for("threads.show", thread_id=thread.id, _external=True),
            title=thread.title,
            url=url_for("threads.show", thread_id=thread.id, slug=thread.slug, _external=True),
            published=thread.created_at,
            updated=max(thread.changed_at, thread.last_post_at),
            author=_author(post),
            summary=excerpt(post.body_html, 300),
            content_html=post.body_html,
        )
        for thread, post in rows
    ]


@bp.route("/feed.atom")
def forum_feed():
    name = current_app.config["FORUM_NAME"]
    return _feed(
        url_for(".forum_feed", _external=True),
        f"{name}: new threads",
        "The newest threads in the forum's public boards.",
        url_for("boards.index", _external=True),
        _thread_entries(seo_queries.latest_threads(db.session)),
    )


@bp.route("/b/<slug>.atom")
def board_feed(slug: str):
    board = seo_queries.public_board(db.session, slug)
    return _feed(
        url_for(".board_feed", slug=board.slug, _external=True),
        f"{board.name} · {current_app.config['FORUM_NAME']}",
        board.description or f"New threads in {board.name}.",
        url_for("boards.board", slug=board.slug, _external=True),
        _thread_entries(seo_queries.latest_threads(db.session, board)),
    )


@bp.route("/t/<int:thread_id>.atom")
def thread_feed(thread_id: int):
    thread, _board = seo_queries.public_thread(db.session, thread_id)
    entries = [
        FeedEntry(
            id=url_for("threads.permalink", post_id=post.id, _external=True),
            title=thread.title if post.position == 0 else f"Re: {thread.title}",
            url=url_for("threads.permalink", post_id=post.id, _external=True),
            published=post.created_at,
            updated=post.edited_at or post.created_at,
            author=_author(post),
            summary=excerpt(post.body_html, 300),
            content_html=post.body_html,
        )
        for post in seo_queries.latest_posts(db.session, thread)
    ]
    return _feed(
        url_for(".thread_feed", thread_id=thread.id, _external=True),
        thread.title,
        f"Posts in “{thread.title}”.",
        url_for("threads.show", thread_id=thread.id, slug=thread.slug, _external=True),
        entries,
    )
