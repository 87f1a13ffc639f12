"""One SMF message body → Cairn's Markdown and its sanitized HTML, as fast as it can be exact.

Nearly all of an import's time is spent here: BBCode → Markdown (``bbcode.py``), then
markdown-it and bleach (``forum.text.markup.render_markdown``, the one sanitizing path).

Many posts on a support forum are plain prose: no BBCode, no URL, nothing Markdown would
read as markup. For those the result is known without running the three converters: the
paragraphs' text, HTML-escaped, with ``<br>`` for SMF's line breaks. ``plain_body`` decides
conservatively, character by character, and answers only when the full path would give the
same two strings (``tests/unit/test_bbcode.py`` compares both paths on generated and
hostile text); anything else — a bracket, an asterisk, a URL or domain name, a list or
quote marker at the start of a line, an ``@`` — takes the full path. Smileys become emoji
here too.
"""

from __future__ import annotations

import re
import unicodedata

from forum.importers.bbcode import _TEXT_RE, SMILEYS, _escape_line_start, bbcode_to_markdown
from forum.importers.bbcode_parse import decode, preprocess
from forum.text.markup import render_markdown

# ASCII that means nothing to BBCode, Markdown (with Cairn's settings: GFM tables and
# strikethrough, @mentions), bleach's linkifier or SMF's smiley matcher in running text; any
# other ASCII character sends the body down the full path. (Of these, only "<" is escaped.)
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9 \n!\"$%'(),\-./:;?&<>\x80-\U0010ffff]")
# Two letters after a dot could be a top-level domain (the linkifier's "example.org"; its
# domains all have two letters or more, so "e.g.", "i.e." and "1.8 cm" are fine); an
# entity-like "&…;" is escaped specially on both sides.
_RISKY = re.compile(r"\.[^\W\d_]{2}|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_UNSAFE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cs", "Cn"})
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def convert_body(bbcode: str) -> tuple[str, str]:
    """One SMF body as Cairn's Markdown and its sanitized HTML."""
    plain = plain_body(bbcode)
    return plain if plain is not None else full_conversion(bbcode)


def full_conversion(bbcode: str) -> tuple[str, str]:
    """The whole path, BBCode → Markdown → sanitized HTML (module-level: picklable)."""
    markdown = bbcode_to_markdown(bbcode, message_url=legacy_message_url)
    return markdown, str(render_markdown(markdown))


def legacy_message_url(msg_id: int) -> str:
    """Links inside converted posts to old messages: the legacy-link redirect answers them."""
    return f"/index.php?msg={msg_id}"


def plain_body(bbcode: str) -> tuple[str, str] | None:
    """``convert_body``'s answer for a body of plain prose, or None to take the full path."""
    if "[" in bbcode:
        return None
    text = decode(preprocess(bbcode))
    if not _plain_characters(text) or _RISKY.search(text):
        return None
    text = _with_emoji(text)
    if text is None:
        return None
    paragraphs: list[list[str]] = []
    lines: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip(" "):
            line = line.strip(" ")
            if _escape_line_start(line) != line:
                return None  # "1. …", "- …", "> …": a block marker the full path escapes
            lines.append(line)
        elif lines:
            paragraphs.append(lines)
            lines = []
    # bbcode.escape() of these characters is exactly this (asserted by the tests).
    markdown = "\n\n".join("\\\n".join(line.replace("<", "\\<") for line in p) for p in paragraphs)
    html = "".join(
        "<p>" + "<br>\n".join(line.translate(_HTML_ESCAPES) for line in p) + "</p>\n"
        for p in paragraphs
    )
    return markdown, html


def _with_emoji(text: str) -> str | None:
    """SMF's smileys as emoji, as ``bbcode`` does it; None when the text has a URL."""
    out, pos = [], 0
    for m in _TEXT_RE.finditer(text):
        if not m.group("smiley"):
            return None
        out += [text[pos : m.start()], SMILEYS[m.group("smiley")]]
        pos = m.end()
    return "".join(out) + text[pos:] if out else text


def _plain_characters(text: str) -> bool:
    if _NOT_PLAIN_ASCII.search(text):
        return False
    return all(
        unicodedata.category(ch) not in _UNSAFE_CATEGORIES for ch in set(text) if ch >= "\x80"
    )
