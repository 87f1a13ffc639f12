"""Tokenizer and tree builder for SMF BBCode (the first half of ``bbcode.py``).

SMF stores a message body HTML-escaped (``&quot;``, ``&#039;``, ``&amp;``, ``&nbsp;``,
numeric references) with ``<br />`` for newlines.  We tokenize the *stored* text and
decode entities afterwards, piece by piece, so that an escaped bracket (``&#91;b]``)
stays text and never turns into a tag.

The tree is forgiving in the way SMF's ``parse_bbc`` (Sources/Subs.php) is:

* unknown tags and tags whose attributes do not fit are plain text;
* verbatim tags (``[code]``, ``[php]``, ``[nobbc]``, ``[img]``, a bare ``[url]``…) take
  everything up to their closing tag, untouched; without one they are text;
* ``[*]``/``[li]`` close the previous item; ``[/list]`` closes open items;
* a closing tag closes whatever was opened inside it.  Those implicitly closed tags
  are *tentative*: their own stray closing tag later on confirms them, otherwise
  they are shown as the literal text they were (as are tags never closed at all).
* nesting deeper than ``MAX_DEPTH`` is text, so rendering cannot recurse too far.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from dataclasses import dataclass, field

MAX_DEPTH = 32

_TAG_RE = re.compile(r"\[(/?)([A-Za-z][A-Za-z0-9]{0,15}|\*)((?:=|[ \t])[^\[\]\n]{0,500})?\]")
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Control characters, plus the private-use code points bbcode.py uses as markers.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ue000-\ue003]")

#: Tags whose content is taken verbatim up to the matching closing tag.
VERBATIM = frozenset({"code", "php", "nobbc", "html", "noparse", "img", "youtube", "flash"})
#: ... and these too, but only in their bare form (``[url]x[/url]``, not ``[url=x]``).
VERBATIM_IF_BARE = frozenset({"url", "iurl", "email", "ftp"})
#: Verbatim tags whose content is a single URL-ish token (no newline, no ``[``).
_URLISH = frozenset({"img", "youtube", "flash", *VERBATIM_IF_BARE})
SELF_CLOSING = frozenset({"hr", "br"})
LIST_ITEMS = frozenset({"*", "li"})

_CLOSERS_RE = re.compile(
    r"\[/(" + "|".join(sorted(VERBATIM | VERBATIM_IF_BARE)) + r")\]", re.IGNORECASE
)

# How each known tag takes attributes.
_NONE, _EQ, _EQ_OPT, _ANY = "none", "eq", "eq?", "any"
_NO_ATTR = (
    "b", "i", "u", "s", "del", "strike", "tt", "sup", "sub", "center", "left", "right",
    "pre", "hr", "br", "table", "tr", "td", "th", "ltr", "rtl", "move", "nobbc", "html",
    "noparse", "php", "black", "red", "green", "blue", "white", "li", "*", "youtube",
)  # fmt: skip
_NEEDS_VALUE = (
    "color", "size", "font", "glow", "shadow", "me", "abbr", "acronym", "anchor", "bdo",
    "float", "member",
)  # fmt: skip
_SPEC: dict[str, str | tuple[str, ...]] = {
    **dict.fromkeys(_NO_ATTR, _NONE),
    **dict.fromkeys(_NEEDS_VALUE, _EQ),
    **dict.fromkeys(("url", "iurl", "ftp", "email", "code"), _EQ_OPT),
    **dict.fromkeys(("img", "attach", "flash", "time"), _ANY),
    "list": ("type",),
    "quote": ("author", "link", "date"),
}


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class Verbatim:
    name: str
    attr: str
    content: str


@dataclass(slots=True)
class Element:
    name: str
    attr: str
    open_raw: str
    children: list[Node] = field(default_factory=list)
    #: True when the tag turned out malformed: show ``open_raw`` then the children.
    literal: bool = False


Node = Text | Verbatim | Element


def decode(text: str) -> str:
    """Decode HTML character references (``;`` required) and drop control characters."""
    text = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
    return _CONTROL_RE.sub(
        lambda m: "" if m.group(0) < "\x80" and m.group(0) != "\x00" else "\ufffd", text
    )


def preprocess(text: str) -> str:
    """Normalise line endings and turn SMF's ``<br />`` into newlines."""
    return _BR_RE.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))


def params(attr: str, keys: tuple[str, ...]) -> dict[str, str] | None:
    """Split ``author=Jo Bloggs link=topic=1.msg2 date=123`` into a dict.

    Values may contain spaces (SMF does not quote them); a value runs up to the next
    `` key=``.  Returns None when the text does not start with a known key.
    """
    attr = attr.strip()
    marks = list(re.finditer(r"(?:^|\s)(" + "|".join(keys) + r")=", attr))
    if not marks or marks[0].start() != 0:
        return None
    found: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(attr)
        found.setdefault(mark.group(1), unquote(attr[mark.end() : end].strip()))
    return found


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def equals_value(attr: str) -> str:
    """The value of ``[tag=value]`` (quotes removed), or ``""``."""
    return unquote(attr[1:].strip()) if attr.startswith("=") else ""


def _accepts(name: str, attr: str) -> bool:
    spec = _SPEC[name]
    if spec == _ANY:
        return True
    if spec == _NONE:
        return not attr.strip()
    if spec == _EQ:
        return bool(equals_value(attr))
    if spec == _EQ_OPT:
        return not attr.strip() or attr.startswith("=")
    assert isinstance(spec, tuple)
    if not attr.strip():
        return True
    if name == "quote" and attr.startswith("="):
        return bool(equals_value(attr))
    return params(attr, spec) is not None


class _TreeBuilder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.root = Element("", "", "")
        self.stack = [self.root]
        self.pending: dict[str, list[Element]] = {}
        self.buffer: list[str] = []
        self.closers: dict[str, list[tuple[int, int]]] = {}
        for m in _CLOSERS_RE.finditer(text):
            self.closers.setdefault(m.group(1).lower(), []).append((m.start(), m.end()))

    def build(self) -> list[Node]:
        pos = 0
        while (m := _TAG_RE.search(self.text, pos)) is not None:
            self.buffer.append(self.text[pos : m.start()])
            pos = m.end()
            name = m.group(2).lower()
            attr = decode(m.group(3) or "")
            if m.group(1):
                handled = self._close(name)
            else:
                new_pos = self._open(name, attr, m.group(0), pos)
                handled = new_pos is not None
                pos = new_pos if new_pos is not None else pos
            if not handled:
                self.buffer.append(m.group(0))
        self.buffer.append(self.text[pos:])
        self._flush_text()
        for element in self.stack[1:]:
            if element.name not in LIST_ITEMS:
                element.literal = True
        for elements in self.pending.values():
            for element in elements:
                element.literal = True
        return self.root.children

    def _flush_text(self) -> None:
        text = decode("".join(self.buffer))
        self.buffer.clear()
        if text:
            self.stack[-1].children.append(Text(text))

    def _append(self, node: Node) -> None:
        self._flush_text()
        self.stack[-1].children.append(node)

    def _open(self, name: str, attr: str, raw: str, pos: int) -> int | None:
        """Open a tag; returns the new scan position, or None to keep it as text."""
        if name not in _SPEC or not _accepts(name, attr):
            return None
        if name in VERBATIM or (name in VERBATIM_IF_BARE and not attr.strip()):
            return self._verbatim(name, attr, pos)
        if name in SELF_CLOSING:
            self._append(Element(name, attr, decode(raw)))
            return pos
        if name in LIST_ITEMS:
            lists = [i for i, e in enumerate(self.stack) if e.name == "list"]
            if not lists:
                return None
            self._flush_text()
            self._pop_to(lists[-1] + 1)
        elif len(self.stack) > MAX_DEPTH:
            return None
        element = Element(name, attr, decode(raw))
        self._append(element)
        self.stack.append(element)
        return pos

    def _verbatim(self, name: str, attr: str, pos: int) -> int | None:
        closers = self.closers.get(name, [])
        i = bisect_left(closers, (pos, pos))
        if i == len(closers):
            return None
        start, end = closers[i]
        content = decode(self.text[pos:start])
        if name in _URLISH and ("\n" in content.strip() or "[" in content):
            return None
        self._append(Verbatim(name, attr, content))
        return end

    def _close(self, name: str) -> bool:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].name == name:
                self._flush_text()
                self._pop_to(i + 1)
                self.stack.pop()
                return True
        if self.pending.get(name):
            self.pending[name].pop()  # confirms an implicitly closed tag
            return True
        return False

    def _pop_to(self, depth: int) -> None:
        """Implicitly close everything above ``depth`` (list items close for good)."""
        while len(self.stack) > depth:
            element = self.stack.pop()
            if element.name not in LIST_ITEMS:
                self.pending.setdefault(element.name, []).append(element)


def parse(text: str) -> list[Node]:
    """Parse stored SMF message text into a list of nodes (never raises)."""
    return _TreeBuilder(preprocess(text)).build()
