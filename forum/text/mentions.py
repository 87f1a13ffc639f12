"""``@name`` mentions: a markdown-it inline rule that links them to the member's page.

Plugged into the one Markdown parser in ``forum.text.markup``, so mentions are rendered through
the same sanitizing path as everything else, and never inside code spans, code blocks or links.
``find_mentions`` and ``find_quoted_posts`` read the same parser's tokens.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

# Usernames as forum.services.validation allows them; a trailing "." or "-" is punctuation.
_NAME = re.compile(r"@([A-Za-z0-9][A-Za-z0-9._-]{2,24})")
# After one of these, "@" is part of a word or address (an email, a path), not a mention.
_GLUED = re.compile(r"[A-Za-z0-9._+/@-]")
MAX_MENTIONS = 20  # per post: more than this is not a conversation


def member_path(name: str) -> str:
    return f"/u/{name}"


def _mention_rule(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "@" or state.linkLevel > 0:
        return False
    if pos > 0 and _GLUED.match(state.src[pos - 1]):
        return False
    match = _NAME.match(state.src, pos)
    if match is None:
        return False
    name = match.group(1).rstrip(".-")
    if len(name) < 3:
        return False
    if not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": member_path(name)}
        token.markup = "mention"
        token = state.push("text", "", 0)
        token.content = f"@{name}"
        state.push("link_close", "a", -1)
    state.pos = pos + 1 + len(name)
    return True


def mentions_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.push("mention", _mention_rule)


def _inline_at_depth(source: str, quote_depth: int):
    """Children of the inline tokens nested in exactly ``quote_depth`` blockquotes."""
    from forum.text.markup import parse_markdown

    depth = 0
    for token in parse_markdown(source):
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
        elif token.type == "inline" and depth == quote_depth:
            yield from token.children or []


def find_mentions(source: str) -> list[str]:
    """Distinct names ``@mentioned`` in Markdown source, in order; quoted text doesn't count."""
    names: dict[str, str] = {}  # case-folded → as written; usernames ignore case
    for child in _inline_at_depth(source, 0):
        if child.type == "link_open" and child.markup == "mention":
            name = str(child.attrs["href"]).removeprefix(member_path(""))
            names.setdefault(name.casefold(), name)
    return list(names.values())[:MAX_MENTIONS]


_POST_LINK = re.compile(r"/p/(\d+)")


def find_quoted_posts(source: str) -> list[int]:
    """Ids of posts quoted directly: a ``/p/N`` permalink in a (not nested) blockquote."""
    found: list[int] = []
    for child in _inline_at_depth(source, 1):
        href = str(child.attrs.get("href", "")) if child.type == "link_open" else ""
        match = _POST_LINK.fullmatch(href)
        if match and int(match.group(1)) not in found:
            found.append(int(match.group(1)))
    return found[:MAX_MENTIONS]
