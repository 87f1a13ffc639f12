"""Cutting a member's signature into clauses, keeping every clause's place in the text.

Clauses end at line breaks, at sentence ends (".", "!", "?", "…" followed by a space; never a
"." inside a number such as "2.0" or ".7", nor after "Dr." or "Jan."), at ";", "|" and "•",
and at a spaced dash (" - "). Pieces of bare punctuation ("--", "...") are not clauses. A
clause that is nothing but a date ("4/11 - tinnitus started") is joined to the clause
after it, because that is how members date a line.

Spans point into the original text so callers can quote the member's exact words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from forum.text.dates import parse_partial_date

__all__ = ["Span", "split_at_commas", "split_clauses"]


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` of the original signature; ``line`` numbers its non-empty line."""

    start: int
    end: int
    line: int


_LINE_RE = re.compile(r"[^\r\n]+")
_CLOSERS = "\"'\u201d\u2019)\\]"
#: "end": the clause ends after the match (kept); "cut": the match itself is dropped.
_BOUNDARIES = re.compile(
    rf"(?P<end>(?:\u2026|\.{{2,}})[{_CLOSERS}]*|[.!?]+[{_CLOSERS}]*(?=\s|$))"
    r"|(?P<cut>\s*[;|\u2022\u00b7]\s*|\s+[-\u2013\u2014~]+\s+|\s+[\u2013\u2014]|[\u2013\u2014]\s+)"
)
#: words after which a single "." does not end a sentence
_ABBREVIATIONS = frozenset(
    (
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("dr", "drs", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "vs", "approx", "appt"),
        *("yr", "yrs", "mo", "mos", "wk", "wks"),
    )
)
_WORD_BEFORE = re.compile(r"(\w+)$")


def _is_abbreviation(line: str, dot_at: int) -> bool:
    window = max(0, dot_at - 16)  # a bounded look back keeps long lines linear
    match = _WORD_BEFORE.search(line, window, dot_at)
    if match is None:
        return False
    word = match.group(1)
    if len(word) == 1:  # an initial ("Dr. R. Smith"), but not the end of "W&W."
        before = line[max(0, match.start() - 1) : match.start()]
        return word.isalpha() and (not before or before.isspace() or before in "(.")
    return word.lower() in _ABBREVIATIONS and not word.isupper()  # "vs." yes, "VS." no


def _has_content(text: str) -> bool:
    """Anything but punctuation and spacing: letters, digits, emoji ("--" or "..." is not)."""
    return any(ch.isalnum() or unicodedata.category(ch) == "So" for ch in text)


def _pieces(line: str) -> list[tuple[int, int]]:
    """(start, end) of each clause within one line, whitespace trimmed, empties skipped."""
    pieces: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARIES.finditer(line):
        if match.group("end") is not None:
            single_dot = match.group().rstrip(_CLOSERS) == "."
            if single_dot and _is_abbreviation(line, match.start()):
                continue
            pieces.append((start, match.end()))
        else:
            pieces.append((start, match.start()))
        start = match.end()
    pieces.append((start, len(line)))
    trimmed = []
    for begin, end in pieces:
        chunk = line[begin:end]
        stripped = chunk.strip()
        if _has_content(stripped):
            lead = len(chunk) - len(chunk.lstrip())
            trimmed.append((begin + lead, begin + lead + len(stripped)))
    return trimmed


def _join_date_prefixes(line: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Glue a date-only clause to the clause after it ("4/11 - tinnitus started")."""
    joined: list[tuple[int, int]] = []
    carry: int | None = None
    for begin, end in pieces:
        if carry is not None:
            begin, carry = carry, None
        if parse_partial_date(line[begin:end].rstrip(":-")) is not None:
            carry = begin
            continue
        joined.append((begin, end))
    if carry is not None:
        joined.append((carry, pieces[-1][1]))
    return joined


def split_clauses(text: str) -> list[Span]:
    """The clauses of ``text`` in order, as spans into it."""
    if not isinstance(text, str):
        return []
    spans: list[Span] = []
    for number, line_match in enumerate(_LINE_RE.finditer(text)):
        line = line_match.group()
        offset = line_match.start()
        for begin, end in _join_date_prefixes(line, _pieces(line)):
            spans.append(Span(offset + begin, offset + end, number))
    return spans


def split_at_commas(
    text: str,
    span: Span,
    starts_event: Callable[[str], bool],
    protected: Sequence[tuple[int, int]] = (),
) -> list[Span]:
    """Cut a clause at each comma whose following words start a new event.

    "One yr: 1.7 x 1.2, Two yr: 1.5 x 1.1" is two measurements, but "Pittsburgh, PA" and
    "Nov 14, 2008" stay whole. ``protected`` holds absolute ranges (dates) never cut inside.
    """
    commas = [
        i
        for i in range(span.start, span.end)
        if text[i] == "," and not any(a <= i < b for a, b in protected)
    ]
    cuts = [
        i for n, i in enumerate(commas)
        if starts_event(text[i + 1 : commas[n + 1] if n + 1 < len(commas) else span.end])
    ]
    pieces: list[Span] = []
    begin = span.start
    for cut in [*cuts, span.end]:
        chunk = text[begin:cut]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            pieces.append(Span(begin + lead, begin + lead + len(stripped), span.line))
        begin = cut + 1
    return pieces
