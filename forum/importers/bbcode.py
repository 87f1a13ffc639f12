"""Convert SMF BBCode message bodies to Markdown (CommonMark, as markdown-it-py renders it).

``bbcode_to_markdown(text, message_url=...)`` takes a body exactly as SMF stores it
(HTML-escaped, ``<br />`` newlines).  ``bbcode_parse`` turns it into a tree; this
module renders the tree.  Choices worth knowing:

* ``[b]`` → ``**strong**``, ``[i]`` → ``*em*``, ``[s]`` → ``~~strike~~``.  Markdown has
  no underline, so ``[u]`` becomes *emphasis* too (underline was used for emphasis).
* SMF newlines are kept: one newline is a hard line break (``\\`` at end of line),
  a blank line starts a new paragraph.
* ``[quote]`` → blockquote; with an author its first paragraph is ``**NAME wrote:**``
  plus the post date and a link to the quoted message via ``message_url(msg_id)``.
* ``[code]``/``[php]`` → fenced blocks, content untouched; ``[pre]`` → fenced block
  of the text; ``[tt]`` → code span; tables → one line per row, cells joined by `` | ``.
* Layout-only tags (colour, size, font, alignment, glow, shadow, move…) keep their text
  and drop the styling; ``[sup]``/``[sub]`` use Unicode super/subscripts when they can.
* Links and images only for http(s)/ftp/mailto targets; otherwise the text is kept.
* Smileys become emoji (SMF's own matching rules), never inside code or URLs.
* Text is escaped so it renders as written: ``*``, ``_`` (not inside words), `````,
  ``[``, ``]``, ``<``, ``~``, ``\\``, entity-like ``&``, and block markers at the
  start of a line (``#``, ``>``, ``-``/``+`` bullets, ``1.``, setext underlines).
* Malformed or unknown markup is kept as visible text; the function never raises.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import groupby

from forum.importers.bbcode_parse import (
    LIST_ITEMS,
    Element,
    Node,
    Text,
    Verbatim,
    decode,
    equals_value,
    params,
    parse,
    preprocess,
    unquote,
)

log = logging.getLogger(__name__)

MessageUrl = Callable[[int], str]
MAX_BLOCK_DEPTH = 8  # nested quotes/lists beyond this are flattened (markdown-it maxNesting)

# SMF's default smileys (install SQL and parsesmileys() in Sources/Subs.php), plus the
# ":name:" codes that custom smiley sets commonly use, named after SMF's image files.
_NAMED = {
    "smiley": "🙂", "wink": "😉", "cheesy": "😀", "grin": "😁", "angry": "😠", "sad": "🙁",
    "shocked": "😮", "cool": "😎", "huh": "😕", "rolleyes": "🙄", "tongue": "😛",
    "embarrassed": "😳", "lipsrsealed": "🤐", "undecided": "😐", "kiss": "😘", "cry": "😢",
    "evil": "😈", "azn": "😊", "afro": "😎", "laugh": "😂", "police": "👮", "angel": "😇",
}  # fmt: skip
_SMILEYS = {
    ":)": "smiley", ";)": "wink", ":D": "cheesy", ";D": "grin", ">:(": "angry", ":(": "sad",
    ":o": "shocked", "8)": "cool", "???": "huh", "::)": "rolleyes", ":P": "tongue",
    ":-[": "embarrassed", ":-X": "lipsrsealed", ":-\\": "undecided", ":-*": "kiss",
    ":'(": "cry", ">:D": "evil", "^-^": "azn", "O0": "afro", ":))": "laugh", "C:-)": "police",
    "O:-)": "angel", "0:)": "angel", "O:)": "angel",
}  # fmt: skip
SMILEYS = {code: _NAMED[name] for code, name in _SMILEYS.items()} | {
    f":{name}:": emoji for name, emoji in _NAMED.items()
}
# A smiley must follow a space, start or one of >:?.[]()*\; and not precede a letter/digit.
_TEXT_RE = re.compile(
    r"(?P<url>(?:https?|ftps?)://[^\s<>\[\]\"]+|www\.[^\s<>\[\]\"]+)"
    r"|(?:^|(?<=[>:?.\s\[\]()*\\;]))(?P<smiley>"
    + "|".join(re.escape(c) for c in sorted(SMILEYS, key=len, reverse=True))
    + r")(?=[^A-Za-z0-9]|$)"
)
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
# Lines that would start a block: heading, quote, bullet, setext underline, thematic
# break, or a GFM table delimiter row ("---|:--"), in case tables are enabled.
_LINE_START = re.compile(
    r"#{1,6}(?:[ \t]|$)|>|[-+](?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$|(?:-[ \t]*){3,}$"
    r"|(?=[|:-][|: \t-]*$)(?=.*-)(?=.*[|:])"
)
_ORDERED_START = re.compile(r"(\d{1,9})([.)](?:[ \t]|$))")
_PARA_BREAK = re.compile(r"(\n\s*\n)")
_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>\\`\x00-\x1f\x7f]+")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_SUPERSCRIPT = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SUBSCRIPT = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_STYLES = {"b": "strong", "i": "em", "u": "em", "s": "strike", "del": "strike", "strike": "strike"}
# Emphasis markers are written as private-use sentinels, one per (marker, open/close)
# (bbcode_parse.decode removes any from the input); _resolve_markers finishes them.
_MARKERS = {"strong": ("\ue000\ue000", "\ue001\ue001"), "em": ("\ue000", "\ue001")}
_MARKERS["strike"] = ("\ue002\ue002", "\ue003\ue003")
_MARKER_RUN = re.compile("(\ue000+|\ue002+)|\ue001+|\ue003+")  # group 1: an opening run
_SENTINELS = str.maketrans("\ue000\ue001\ue002\ue003", "**~~")
_ZERO_WIDTH = "&#8203;"
_BLOCK_TAGS = frozenset(
    {"quote", "list", "table", "tr", "center", "left", "right", "ltr", "rtl", "pre", "hr", "me"}
)
_LINK_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "mailto"})
_FILE_SUFFIXES = frozenset(
    {"php", "html", "htm", "shtml", "asp", "aspx", "jsp", "cgi", "pl", "txt", "pdf", "jpg", "png"}
)
_ORDERED_TYPES = frozenset({"", "disc", "circle", "square", "none"})  # ...are *not* ordered


def bbcode_to_markdown(text: str, *, message_url: MessageUrl | None = None) -> str:
    """Convert one SMF message body to Markdown.  Never raises for any ``text``.

    Exceptions raised by ``message_url`` itself are passed on to the caller.
    """
    try:
        renderer = _Renderer(message_url)
        return renderer.render(renderer.walk(parse(text), _Ctx())).strip("\n")
    except _CallbackError as exc:
        raise exc.original from None
    except Exception:  # a bug here must not stop an import: fall back to plain text
        log.exception("BBCode conversion failed; importing the message as plain text")
        return "\n\n".join(_paragraphs(escape(decode(preprocess(str(text))))))


# ---------------------------------------------------------------- Markdown helpers


def escape(text: str) -> str:
    """Backslash-escape inline Markdown syntax in plain text (newlines are kept)."""
    out = []
    for i, ch in enumerate(text):
        if ch in "\\`*[]<~":
            out.append("\\" + ch)
        elif ch == "_":
            inside_word = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
            out.append("_" if inside_word else "\\_")
        elif ch == "&" and _ENTITY_LIKE.match(text, i):
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def _escape_line_start(line: str) -> str:
    if m := _ORDERED_START.match(line):
        return m.group(1) + "\\" + line[m.end(1) :]
    return "\\" + line if _LINE_START.match(line) else line


def _paragraphs(inline: str) -> list[str]:
    """Split inline Markdown into paragraphs; single newlines become hard breaks."""
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in [*inline.split("\n"), ""]:
        if line and not line.isspace():
            lines.append(_escape_line_start(line.strip(" \t")))
        elif lines:
            paragraphs.append("\\\n".join(lines))
            lines = []
    return paragraphs


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _is_word(ch: str) -> bool:
    return not ch.isspace() and not _is_punct(ch)


def _resolve_markers(inline: str) -> str:
    """Turn marker sentinels into ``*``/``~`` that CommonMark will pair up.

    A closing ``**`` after punctuation cannot be followed by a letter (``**Note:**text``)
    and an opening one after a letter cannot be followed by punctuation; a zero-width
    space reference next to the run fixes that without a visible change.
    """
    plain = inline.translate(_SENTINELS)
    runs = list(_MARKER_RUN.finditer(inline))
    out, pos = [], 0
    for i, m in enumerate(runs):
        before = plain[m.start() - 1] if m.start() else " "
        after = plain[m.end()] if m.end() < len(plain) else " "
        out.append(plain[pos : m.start()])
        run = plain[m.start() : m.end()]
        if m.group(1) and _is_word(before) and _is_punct(after):
            run = _ZERO_WIDTH + run
        elif not m.group(1) and _is_punct(before) and _is_word(after):
            run += _ZERO_WIDTH
        elif not m.group(1) and _opens_at(runs, i + 1, m.end(), run[0], plain):
            run += _ZERO_WIDTH  # "**" closing then "*" opening would read as one "***" run
        out.append(run)
        pos = m.end()
    out.append(plain[pos:])
    return "".join(out)


def _opens_at(runs: list[re.Match[str]], i: int, pos: int, char: str, plain: str) -> bool:
    """Whether ``runs[i]`` is an opening run of ``char`` starting exactly at ``pos``."""
    return (
        i < len(runs) and runs[i].start() == pos and bool(runs[i].group(1)) and plain[pos] == char
    )


def _wrap(inner: str, marker: tuple[str, str]) -> str:
    """Wrap inline Markdown in an emphasis marker, paragraph by paragraph."""
    pieces = _PARA_BREAK.split(inner)
    for i in range(0, len(pieces), 2):
        core = pieces[i].strip()
        if core:
            lead = pieces[i][: len(pieces[i]) - len(pieces[i].lstrip())]
            trail = pieces[i][len(pieces[i].rstrip()) :]
            pieces[i] = f"{lead}{marker[0]}{core}{marker[1]}{trail}"
    return "".join(pieces)


def _code_span(text: str) -> str:
    text = text.replace("\n", " ")
    if not text.strip():
        return ""
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(lang: str, text: str) -> str:
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}" if text else f"{fence}{lang}\n{fence}"


def _safe_url(url: str, default_scheme: str = "http") -> str | None:
    """A link target we are willing to emit, or None (relative, javascript:, junk)."""
    url = re.sub(r"[\t\n]", "", url).strip()
    if m := re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url):
        return url if m.group(1).lower() in _LINK_SCHEMES and len(url) > m.end() else None
    if url.startswith("//") and len(url) > 2:
        return f"{default_scheme}:{url}"
    host = re.match(r"(www\.)?[\w-]+(?:\.[\w-]+)*\.([A-Za-z]{2,24})(?::\d+)?(?:[/?#]|$)", url)
    if host and (host.group(1) or host.group(2).lower() not in _FILE_SUFFIXES):
        return f"{default_scheme}://{url}"
    return None  # "index.php?topic=5" is a link into the old forum, not a host


def _destination(url: str) -> str:
    for ch, code in ((" ", "%20"), ("<", "%3C"), (">", "%3E"), ("(", "%28"), (")", "%29")):
        url = url.replace(ch, code)
    return url.replace("\\", "%5C")


def _one_line(inline: str) -> str:
    return re.sub(r"\s*\n\s*", " ", inline).strip()


# ---------------------------------------------------------------- intermediate blocks


@dataclass(slots=True)
class _Quote:
    parts: list[Part]


@dataclass(slots=True)
class _List:
    ordered: bool
    items: list[list[Part]]


@dataclass(slots=True)
class _Code:
    lang: str
    text: str


@dataclass(slots=True)
class _Rule:
    pass


@dataclass(slots=True)
class _Rows:
    rows: list[str]


Part = str | _Quote | _List | _Code | _Rule | _Rows  # str: inline Markdown, already escaped


@dataclass(frozen=True, slots=True)
class _Ctx:
    em: bool = False
    strong: bool = False
    strike: bool = False
    in_link: bool = False
    depth: int = 0


class _CallbackError(Exception):
    """Carries an exception raised by the caller's ``message_url`` past the fallback."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


class _Renderer:
    def __init__(self, message_url: MessageUrl | None) -> None:
        self.message_url = message_url
        self._block_cache: dict[int, bool] = {}

    # -- tree → parts

    def walk(self, nodes: list[Node], ctx: _Ctx, out: list[Part] | None = None) -> list[Part]:
        out = [] if out is None else out
        for node in nodes:
            if isinstance(node, Text):
                out.append(self._text(node.text))
            elif isinstance(node, Verbatim):
                self._verbatim(node, ctx, out)
            else:
                self._element(node, ctx, out)
        return out

    def _text(self, text: str, smileys: bool = True) -> str:
        if not smileys:
            return escape(text)
        out, pos = [], 0
        for m in _TEXT_RE.finditer(text):
            out.append(escape(text[pos : m.start()]))
            out.append(SMILEYS[m.group("smiley")] if m.group("smiley") else escape(m.group()))
            pos = m.end()
        out.append(escape(text[pos:]))
        return "".join(out)

    def _inline(self, nodes: list[Node], ctx: _Ctx) -> str:
        return "".join(p if isinstance(p, str) else self._flatten(p) for p in self.walk(nodes, ctx))

    def _flatten(self, part: Part) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, _Quote):
            return " ".join(_one_line(self._flatten(p)) for p in part.parts)
        if isinstance(part, _List):
            return "; ".join(_one_line("".join(map(self._flatten, i))) for i in part.items)
        if isinstance(part, _Code):
            return _code_span(part.text)
        if isinstance(part, _Rows):
            return "; ".join(part.rows)
        return " "

    def _has_block(self, node: Node) -> bool:
        if isinstance(node, Text):
            return False
        if isinstance(node, Verbatim):
            return node.name in ("code", "php")
        if id(node) not in self._block_cache:
            self._block_cache[id(node)] = (not node.literal and node.name in _BLOCK_TAGS) or any(
                self._has_block(child) for child in node.children
            )
        return self._block_cache[id(node)]

    def _verbatim(self, node: Verbatim, ctx: _Ctx, out: list[Part]) -> None:
        name, content = node.name, node.content
        if name in ("code", "php"):
            lang = "php" if name == "php" else equals_value(node.attr)
            if lang and not re.fullmatch(r"[A-Za-z0-9_+#.-]{1,32}", lang):
                out.append(f"\n\n{escape(lang)}:\n\n")  # a caption, not a language
                lang = ""
            out.append(_Code(lang.lower(), content.replace("\xa0", " ").strip("\n")))
        elif name == "img":
            src = _safe_url(content)
            alt = (params(node.attr, ("alt", "title", "width", "height")) or {}).get("alt", "")
            if src and src.split(":", 1)[0].lower() in ("http", "https"):
                out.append(f"![{escape(_one_line(alt))}]({_destination(src)})")
            else:
                out.append(escape(content.strip()))
        elif name in ("url", "iurl", "ftp", "flash"):
            out.append(self._bare_link(content.strip(), ctx, "ftp" if name == "ftp" else "http"))
        elif name == "email":
            address = content.strip()
            ok = _EMAIL.fullmatch(address) and not ctx.in_link
            out.append(f"<{address}>" if ok else escape(address))
        elif name == "youtube":
            video = content.strip()
            if re.fullmatch(r"[\w-]{6,20}", video):
                video = f"https://www.youtube.com/watch?v={video}"
            out.append(self._bare_link(video, ctx))
        else:  # nobbc, html, noparse: text exactly as written
            out.append(escape(content))

    def _bare_link(self, url: str, ctx: _Ctx, scheme: str = "http") -> str:
        dest = _safe_url(url, scheme)
        if dest is None or ctx.in_link:
            return escape(url)
        if dest == url and _AUTOLINK.fullmatch(url):
            return f"<{url}>"
        return f"[{escape(url)}]({_destination(dest)})"

    def _element(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        name = el.name
        if el.literal or name in LIST_ITEMS:  # malformed, or an item outside a list
            out.append(escape(el.open_raw))
            self.walk(el.children, ctx, out)
        elif name in _STYLES:
            style = _STYLES[name]
            if getattr(ctx, style):  # [i][u]x[/u][/i]: already emphasised
                self.walk(el.children, ctx, out)
            elif not self._has_block(el):
                inner = self._inline(el.children, replace(ctx, **{style: True}))
                out.append(_wrap(inner, _MARKERS[style]))
            else:  # it spans blocks: style the inline runs between them
                parts = self.walk(el.children, replace(ctx, **{style: True}))
                for is_text, run in groupby(parts, key=lambda p: isinstance(p, str)):
                    if is_text:
                        out.append(_wrap("".join(run), _MARKERS[style]))  # type: ignore[arg-type]
                    else:
                        out.extend(run)
        elif name in ("url", "iurl", "ftp", "email"):
            self._labelled_link(el, ctx, out)
        elif name == "quote":
            self._quote(el, ctx, out)
        elif name == "list":
            self._list(el, ctx, out)
        elif name == "table":
            self._table(el, ctx, out)
        elif name == "hr":
            out.append(_Rule())
        elif name == "br":
            out.append("\n")
        elif name == "pre":
            out.append(_Code("", _plain(el.children).replace("\xa0", " ").strip("\n")))
        elif name == "tt":
            out.append(_code_span(_plain(el.children)))
        elif name in ("sup", "sub"):
            self._script(el, ctx, out)
        elif name == "me":
            out.append(f"\n\n\\* {self._text(equals_value(el.attr), smileys=False)} ")
            self.walk(el.children, ctx, out)
            out.append("\n\n")
        elif name in ("abbr", "acronym"):
            self.walk(el.children, ctx, out)
            out.append(f" ({self._text(equals_value(el.attr), smileys=False)})")
        elif name in _BLOCK_TAGS:  # center, left, right, ltr, rtl, tr outside a table
            out.append("\n\n")
            self.walk(el.children, ctx, out)
            out.append("\n\n")
        else:  # colour, size, font, glow, shadow, move, td, member, time…: keep the text
            self.walk(el.children, ctx, out)

    def _labelled_link(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        target = equals_value(el.attr)
        label = _one_line(self._inline(el.children, replace(ctx, in_link=True)))
        if el.name == "email":
            dest = f"mailto:{target}" if _EMAIL.fullmatch(target) else None
        else:
            dest = _safe_url(target, "ftp" if el.name == "ftp" else "http")
        if ctx.in_link or dest is None:
            shown = self._text(target, smileys=False)
            out.append(f"{label} ({shown})" if label and shown else label or shown)
        else:
            out.append(f"[{label or escape(target)}]({_destination(dest)})")

    def _quote(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        header = self._quote_header(el.attr, ctx)
        inner = replace(ctx, depth=ctx.depth + 1)
        parts: list[Part] = [header, "\n\n"] if header else []
        self.walk(el.children, inner, parts)
        if ctx.depth >= MAX_BLOCK_DEPTH:
            out.extend(["\n\n", *parts, "\n\n"])
        else:
            out.append(_Quote(parts))

    def _quote_header(self, attr: str, ctx: _Ctx) -> str:
        if attr.startswith("="):
            found = {"author": equals_value(attr)}
        else:
            found = params(attr, ("author", "link", "date")) or {}
        extras = []
        if (date := found.get("date", "")).isdigit() and len(date) <= 11:
            with contextlib.suppress(ValueError, OverflowError, OSError):
                extras.append(datetime.fromtimestamp(int(date), UTC).date().isoformat())
        msg = re.search(r"msg=?(\d{1,12})", found.get("link", ""))
        if msg and self.message_url is not None and not ctx.in_link:
            try:
                url = self.message_url(int(msg.group(1)))
            except Exception as exc:
                raise _CallbackError(exc) from exc
            extras.append(f"[original message]({_destination(str(url))})")
        author = self._text(unquote(found.get("author", "")), smileys=False).strip()
        header = f"**{author} wrote:**" if author else ("**Quote**" if extras else "")
        return f"{header} ({', '.join(extras)})" if extras else header

    def _list(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        kind = (params(el.attr, ("type",)) or {}).get("type", "").lower()
        inner = replace(ctx, depth=ctx.depth + 1)
        items: list[list[Part]] = []
        out.append("\n\n")
        for child in el.children:
            if isinstance(child, Element) and child.name in LIST_ITEMS and not child.literal:
                items.append(self.walk(child.children, inner))
            elif items:
                self.walk([child], inner, items[-1])
            elif not (isinstance(child, Text) and child.text.isspace()):
                self.walk([child], ctx, out)  # text before the first item
        if ctx.depth >= MAX_BLOCK_DEPTH:
            for item in items:
                out.extend(["\n\n• ", *item])
            out.append("\n\n")
        else:
            out.append(_List(kind not in _ORDERED_TYPES, items))

    def _table(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        rows = []
        for row in el.children:
            if isinstance(row, Element) and row.name == "tr" and not row.literal:
                cells = [
                    _one_line(self._inline(c.children if _is_cell(c) else [c], ctx))
                    for c in row.children
                    if not (isinstance(c, Text) and c.text.isspace())
                ]
                rows.append(" | ".join(cells))
            elif not (isinstance(row, Text) and row.text.isspace()):
                rows.append(_one_line(self._inline([row], ctx)))
        out.append(_Rows([r for r in rows if r.strip(" |")]))

    def _script(self, el: Element, ctx: _Ctx, out: list[Part]) -> None:
        plain = _plain(el.children)
        if not plain.strip():
            return
        table = _SUPERSCRIPT if el.name == "sup" else _SUBSCRIPT
        mapped = plain.translate(table)
        if plain and all(ord(ch) > 127 for ch in mapped):
            out.append(mapped)
        else:
            inner = self._inline(el.children, ctx)
            out.append(f"^({inner})" if el.name == "sup" else f"\\_({inner})")

    # -- parts → Markdown

    def render(self, parts: list[Part], tight: bool = False) -> str:
        chunks: list[tuple[str, str]] = []  # (kind, markdown)
        inline: list[str] = []

        def flush() -> None:
            chunks.extend(("p", p) for p in _paragraphs(_resolve_markers("".join(inline))))
            inline.clear()

        for part in parts:
            if isinstance(part, str):
                inline.append(part)
                continue
            flush()
            if isinstance(part, _Quote):
                body = self.render(part.parts)
                if body:
                    lines = body.split("\n")
                    chunks.append(("q", "\n".join(f"> {ln}" if ln else ">" for ln in lines)))
            elif isinstance(part, _List):
                kind = "ol" if part.ordered else "ul"
                alternate = bool(chunks) and chunks[-1][0] == kind
                body = self._list_md(part, alternate)
                if body:
                    chunks.append((kind, body))
            elif isinstance(part, _Code):
                chunks.append(("code", _fence(part.lang, part.text)))
            elif isinstance(part, _Rule):
                chunks.append(("hr", "___"))
            else:
                rows = _resolve_markers("\n".join(part.rows))
                chunks.extend(("p", p) for p in _paragraphs(rows))
        flush()
        out = []
        for i, (kind, md) in enumerate(chunks):
            if i:
                close = tight and chunks[i - 1][0] == "p" and kind in ("ul", "ol")
                out.append("\n" if close else "\n\n")
            out.append(md)
        return "".join(out)

    def _list_md(self, part: _List, alternate: bool) -> str:
        """Render a list; ``alternate`` switches marker so adjacent lists stay apart."""
        lines: list[str] = []
        number = 0
        for item in part.items:
            body = self.render(item, tight=True)
            if not body:
                continue
            number += 1
            if part.ordered:
                marker = f"{number}{')' if alternate else '.'}"
            else:
                marker = "*" if alternate else "-"
            first, *rest = body.split("\n")
            lines.append(f"{marker} {first}")
            pad = " " * (len(marker) + 1)
            lines.extend(f"{pad}{ln}" if ln else "" for ln in rest)
        return "\n".join(lines)


def _is_cell(node: Node) -> bool:
    return isinstance(node, Element) and node.name in ("td", "th") and not node.literal


def _plain(nodes: list[Node]) -> str:
    """The text of a subtree with the markup removed (malformed tags stay as text)."""
    out = []
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Verbatim):
            out.append(node.content)
        else:
            out.append(node.open_raw if node.literal or node.name in LIST_ITEMS else "")
            out.append("\n" if node.name == "br" else _plain(node.children))
    return "".join(out)
