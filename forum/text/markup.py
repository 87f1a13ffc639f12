"""The one sanitizing path: Markdown source → HTML → bleach allowlist.

This is the ONLY module that imports bleach. Every piece of member-written text that is shown
as HTML (post bodies, previews, signatures, PMs) goes through ``render_markdown``.
"""

from __future__ import annotations

import json
import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from forum.text.mentions import mentions_plugin

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "img",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "img": ["src", "alt", "title"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Raw HTML in the source is shown as text, never interpreted: the allowlist is a second fence.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True})
    .enable(["strikethrough", "table"])
    .use(mentions_plugin)  # @name → a link to the member's page
)


def _set_rel(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if href.startswith("/") or href.startswith("#"):
        return attrs  # links inside the forum (quotes, permalinks) are ours
    attrs[(None, "rel")] = LINK_REL
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
)

def render_markdown(source: str) -> Markup:
    """Member Markdown → sanitized HTML, safe to put in a page."""
    html = _markdown.render(source or "")
    return Markup(_cleaner.clean(html))  # noqa: S704 - this IS the sanitizer


def parse_markdown(source: str, env: dict | None = None) -> list:
    """The parser's tokens for ``source`` (mentions and quotes are found from these)."""
    return _markdown.parse(source or "", env if env is not None else {})


def search_snippet(html: str) -> Markup:
    """A search backend's highlighted snippet: escaped text plus <mark>; anything else goes."""
    return Markup(bleach.clean(html or "", tags={"mark"}, attributes={}, strip=True))  # noqa: S704


def html_to_text(html: str) -> str:
    """Plain text of rendered HTML (for search, meta descriptions, feeds' summaries)."""
    text = bleach.clean(html, tags=set(), strip=True)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("&quot;", '"').replace("&#39;", "'")
    return re.sub(r"\s+", " ", text).strip()


def excerpt(html: str, length: int = 160) -> str:
    return text_excerpt(html_to_text(html), length)


def text_excerpt(text: str, length: int = 160) -> str:
    """``text`` cut at a word to at most ``length`` characters (and an ellipsis)."""
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "…"


def stored_html(html: str | None) -> Markup:
    """Mark HTML that ``render_markdown`` produced earlier (cached in the database) as safe."""
    return Markup(html or "")  # noqa: S704 - only ever fed render_markdown output


def json_ld(data: dict) -> Markup:
    """Serialize structured data for a <script type="application/ld+json"> block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - every markup character is escaped above


def quote_markdown(author: str, permalink: str, body: str) -> str:
    """The Markdown a reply starts with when it quotes a post."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.strip().splitlines())
    return f"> **[{author} wrote]({permalink}):**\n>\n{quoted}\n\n"


__all__ = [
    "escape",
    "excerpt",
    "html_to_text",
    "json_ld",
    "quote_markdown",
    "render_markdown",
    "text_excerpt",
]
