"""Atom feeds (RFC 4287), built with ElementTree so every text is escaped by the serializer.

Plain data in, bytes out: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class FeedEntry:
    id: str
    title: str
    url: str
    published: datetime
    updated: datetime
    author: str
    summary: str
    content_html: str = ""
    # (term, label, scheme)
    categories: list[tuple[str, str, str]] = field(default_factory=list)


def _text(value: str) -> str:
    return _NOT_XML.sub("", value or "")


def _stamp(moment: datetime) -> str:
    """RFC 3339 in UTC; Cairn stores naive UTC timestamps."""
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    element = SubElement(parent, tag, {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _text(text)
    return element


def atom_feed(
    *,
    feed_id: str,
    title: str,
    subtitle: str,
    self_url: str,
    page_url: str,
    author: str,
    entries: list[FeedEntry],
    fallback_updated: datetime,
) -> bytes:
    feed = Element("feed", {"xmlns": ATOM})
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "subtitle", subtitle)
    updated = max((e.updated for e in entries), default=fallback_updated)
    _add(feed, "updated", _stamp(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(feed, "author"), "name", author)
    for item in entries:
        entry = _add(feed, "entry")
        _add(entry, "id", item.id)
        _add(entry, "title", item.title)
        _add(entry, "link", rel="alternate", type="text/html", href=item.url)
        _add(entry, "published", _stamp(item.published))
        _add(entry, "updated", _stamp(item.updated))
        _add(_add(entry, "author"), "name", item.author)
        for term, label, scheme in item.categories:
            _add(entry, "category", term=term, label=label, scheme=scheme)
        _add(entry, "summary", item.summary, type="text")
        if item.content_html:
            _add(entry, "content", item.content_html, type="html")
    return tostring(feed, encoding="utf-8", xml_declaration=True)
