"""The small readers the signature parser is built from: sizes, follow-up offsets, sides,
places and trigger words, each a regex plus a few lines of judgement.

All functions take one clause of text and return positions within it, never raise, and know
nothing about the vocabulary beyond the spans they are handed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DIAGNOSIS_STRONG",
    "DIAGNOSIS_WEAK",
    "IMAGING",
    "Offset",
    "Size",
    "find_offsets",
    "find_places",
    "find_sides",
    "find_sizes",
    "is_reference",
    "mark_tumour_an",
    "place_after",
]

Ranges = Sequence[tuple[int, int]]

# Trigger words ----------------------------------------------------------------------------

#: words that make a clause a diagnosis even without a condition named ("Dx 4/09")
DIAGNOSIS_STRONG = re.compile(r"\b(?:diagnosed|diagnosis|diag|dx(?:['\u2019]?d)?|dxd)\b", re.I)
#: words that make a named condition a diagnosis ("AN found on MRI 2010")
DIAGNOSIS_WEAK = re.compile(r"\b(?:found|discovered|detected|identified)\b", re.I)
#: a scan: with a date it is a measurement even without a size ("9/09 - MRI shows growth")
IMAGING = re.compile(r"\b(?:mri|mris|scan|scans|imaging|ct)\b", re.I)
#: words before a treatment that make it a reference, not a new event ("loss following GK")
_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:after|following|post|since|from|before|prior\s+to|pre|until|due\s+to)"
    r"[\s\-:]*(?:(?:the|my|his|her|their|a)\s+)?)$",
    re.I,
)


_CHOICE_BEFORE = re.compile(r"\b(?:vs\.?|versus|or)\s*$", re.I)
_CHOICE_AFTER = re.compile(r"\s*(?:vs\.?|versus|or)\b", re.I)


def is_reference(text: str, start: int, end: int | None = None) -> bool:
    """Whether the mention at ``start:end`` refers to a treatment rather than reporting one:
    after "after", "post-", "following the"…, or weighed as an option ("GK vs surgery")."""
    before = text[max(0, start - 24) : start]
    if _REFERENCE_BEFORE.search(before) or _CHOICE_BEFORE.search(before):
        return True
    return end is not None and _CHOICE_AFTER.match(text, end) is not None


# "An" that means AN ----------------------------------------------------------------------------

_AN_WORD = re.compile(r"\b[Aa]n\b")
_AN_AFTER_SIDE_OR_SIZE = re.compile(r"(?:\b[LR]|\bleft|\bright|\dmm|\dcm|\bmm|\bcm)\s*[-(]?$", re.I)
_AN_BEFORE_DIAGNOSIS = re.compile(
    r"\s+(?:diagnosed|dx\b|dx'd|removed|tumou?r|growth|grew|shrank|stable)", re.I
)


def mark_tumour_an(text: str) -> str:
    """``text`` with "An"/"an" written as "AN" where it clearly names the tumour.

    Members write "R An diagnosed 3/11"; the vocabulary only takes "AN" in capitals so the
    article "an" never counts. Same length as ``text``, so positions stay valid.
    """
    chars = list(text)
    for match in _AN_WORD.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        after = text[match.end() : match.end() + 12]
        titled = match.group() == "An"
        if (titled and _AN_AFTER_SIDE_OR_SIZE.search(before)) or _AN_BEFORE_DIAGNOSIS.match(after):
            chars[match.start() : match.end()] = "AN"
    return "".join(chars)


# Sizes ------------------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:\.\d+)?|\.\d+)"
_UNIT = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)(?![a-z])"
_SEP = r"\s*(?:[x\u00d7*]|by)\s*"
_SIZE_RE = re.compile(
    rf"(?<![\w.,/\-])(?P<v1>{_NUM})\s*(?P<u1>{_UNIT})?"
    rf"(?:{_SEP}(?P<v2>{_NUM})\s*(?P<u2>{_UNIT})?"
    rf"(?:{_SEP}(?P<v3>{_NUM})\s*(?P<u3>{_UNIT})?)?)?"
    r"(?![\w/]|\.\d)",
    re.I,
)


@dataclass(frozen=True)
class Size:
    """A tumour size in millimetres; ``unit`` is the unit written, if any ("cm"/"mm")."""

    start: int
    end: int
    mm: tuple[float, ...]
    unit: str | None


def _unit_name(raw: str | None) -> str | None:
    if not raw:
        return None
    return "cm" if raw.lower().startswith("c") else "mm"


def _guess_unit(values: list[float]) -> str:
    """Unitless "1.7 x 1.2" is centimetres; "17 x 12" is millimetres."""
    return "cm" if max(values) < 6 else "mm"


def find_sizes(text: str, default_unit: str | None = None) -> list[Size]:
    """Sizes such as "4.5 cm", "15mm", "2 x 1.5cm", "1.2cm x 8mm" or "1.7 x 1.2 x 1.4".

    A lone number needs a unit; two or three dimensions joined by "x" do not. A missing unit
    is taken from the other dimensions, then ``default_unit`` (the signature's last written
    unit), then guessed from the numbers.
    """
    sizes = []
    for match in _SIZE_RE.finditer(text):
        values = [float(match[f"v{n}"]) for n in (1, 2, 3) if match[f"v{n}"]]
        units = [_unit_name(match[f"u{n}"]) for n in (1, 2, 3)][: len(values)]
        written = [u for u in units if u]
        if len(values) == 1 and not written:
            continue
        fallback = default_unit or _guess_unit(values)
        resolved = []
        for n, unit in enumerate(units):
            later = next((u for u in units[n + 1 :] if u), None)
            earlier = next((u for u in reversed(units[:n]) if u), None)
            resolved.append(unit or later or earlier or fallback)
        mm = tuple(
            round(v * (10 if u == "cm" else 1), 2)
            for v, u in zip(values, resolved, strict=True)
        )
        if max(mm) <= 0:
            continue
        sizes.append(Size(match.start(), match.end(), mm, written[-1] if written else None))
    return sizes


# Follow-up offsets ("One yr", "6 mo", "six months post") ------------------------------------------

_NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18,
}
_OFFSET_RE = re.compile(
    r"(?<![\w./\-])(?P<n>\d{1,2}(?:\.5)?|" + "|".join(_NUMBER_WORDS) + r")[\s\-]*"
    r"(?:(?P<y>years?|yrs?|y)|(?P<m>months?|mos?|mths?)|(?P<w>weeks?|wks?)|(?P<d>days?))\b\.?"
    r"(?P<post>\s*(?:post|out|after|later|on|f/u|follow[\s\-]?ups?)\b"
    r"(?:[\s\-]*(?:op|tx|treatment|surgery)\b)?)?",
    re.I,
)
_LEADING = re.compile(r"^[\W_]*(?:(?:at|@|~|approx\.?|about|around|after)\s*)?$", re.I)
_NOT_AN_OFFSET_AFTER = re.compile(
    r"\b(?:for|every|each|in|over|within|last|past|next|than|per)\s*$", re.I
)
_DURATION_NOUN = re.compile(
    r"\s*(?:\w+\s+)?(?:course|supply|stay|trial|taper|dose|break|period|pack|wait)\b", re.I
)


@dataclass(frozen=True)
class Offset:
    """A follow-up time such as "One yr" counted from an earlier treatment."""

    start: int
    end: int
    months: int
    days: int
    leading: bool  # the clause starts with it ("Two yr: 2.2 x 1.5")


def find_offsets(text: str) -> list[Offset]:
    """Follow-up times that date the clause: at its start ("6 mo MRI stable") or followed by
    "post"/"out"/"after" ("about 6 months out"). Durations ("for 3 years", "10-day steroid
    course") are not offsets."""
    offsets = []
    for match in _OFFSET_RE.finditer(text):
        leading = _LEADING.match(text[: match.start()]) is not None
        if not (leading or match["post"]) or _NOT_AN_OFFSET_AFTER.search(text[: match.start()]):
            continue
        if not match["post"] and _DURATION_NOUN.match(text, match.end()):
            continue  # "10-day steroid course"
        raw = match["n"].lower()
        amount = float(_NUMBER_WORDS.get(raw, 0) or raw)
        months = days = 0
        if match["y"]:
            months = round(amount * 12)
        elif match["m"]:
            months = round(amount)
        elif match["w"]:
            days = round(amount * 7)
        else:
            days = round(amount)
        offsets.append(Offset(match.start(), match.end(), months, days, leading))
    return offsets


# Sides ------------------------------------------------------------------------------------

_BOTH = re.compile(r"\b(?:bilateral|bilat|both\s+sides|both\s+ears)\b", re.I)
_SIDE_WORD = re.compile(r"\b(?P<w>left|right|lt|rt)\b\.?", re.I)
_SIDE_LETTER = re.compile(r"(?<![\w.'\u2019])(?P<w>[LR])(?![\w'\u2019])")
_SIDE_NOUN = re.compile(r"[\s\-]*(?:sided|side|ears?)\b", re.I)
_IN_BRACKETS = re.compile(r"\(\s*$")


def _side_name(word: str) -> str:
    return "left" if word.lower().startswith("l") else "right"


def find_sides(text: str, mentions: Ranges) -> list[tuple[str, int, int]]:
    """Sides as ``("left"|"right"|"bilateral", start, end)``.

    "left"/"right"/"Lt"/"L"/"R" count only next to something with a side: a vocabulary
    mention (``mentions`` ranges) or "side"/"sided"/"ear" ("R AN", "SSD left side",
    "left-sided"), or in brackets ("AN (L)"). That keeps "right away" and "I left work" out.
    """
    found = [("bilateral", m.start(), m.end()) for m in _BOTH.finditer(text)]
    starts = {start for start, _end in mentions}
    for pattern in (_SIDE_WORD, _SIDE_LETTER):
        for match in pattern.finditer(text):
            rest = text[match.end() :]
            gap = len(rest) - len(rest.lstrip(" -"))
            next_to_mention = (gap > 0 or match.group().endswith(".")) and (
                match.end() + gap in starts
            )
            in_brackets = _IN_BRACKETS.search(text[: match.start()]) is not None and (
                rest.lstrip().startswith(")")
            )
            if _SIDE_NOUN.match(rest) or next_to_mention or in_brackets:
                found.append((_side_name(match["w"]), match.start(), match.end()))
    return sorted(found, key=lambda f: f[1])


# Places -----------------------------------------------------------------------------------

_PLACE_INTRO = re.compile(r"(?:\b(?:at|in)\s+(?:the\s+)?|@\s*)", re.I)
_TOKEN = re.compile(r"\s*(\S+)")
_CONNECTORS = frozenset({"of", "de", "la", "the", "&", "and"})
_MONTHS = frozenset(
    (
        *("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov"),
        *("dec", "january", "february", "march", "april", "june", "july", "august"),
        *("september", "october", "november", "december"),
    )
)
_NOT_PLACES = frozenset(
    (
        *("a", "after", "an", "and", "annual", "at", "before", "both", "by", "complete"),
        *("completed", "ct", "day", "diagnosed", "doctor", "done", "dr", "dr.", "drs", "drs."),
        *("dx", "ear", "eye", "facial", "failed", "failure", "follow", "follow-up", "for"),
        *("from", "good", "great", "growth", "he", "hearing", "her", "his", "i", "i'm"),
        *("improved", "it", "its", "left", "life", "month", "mr", "mri", "mris", "mrs", "ms"),
        *("my", "no", "now", "off", "on", "one", "partial", "post", "pre", "prof", "professor"),
        *("radiation", "recovered", "removal", "resection", "result", "results", "right"),
        *("she", "side", "since", "size", "stable", "still", "success", "successful"),
        *("surgery", "the", "then", "they", "total", "treatment", "tumor", "tumour", "two"),
        *("we", "week", "with", "year", "yes"),
    )
)
_TRAILING = ",.;:!?)\"'\u2019\u201d"
_MAX_PLACE_WORDS = 6  # "University of Pittsburgh Medical Center Presbyterian Hospital"


def _place_words(text: str, pos: int, blocked: Ranges) -> tuple[str, int] | None:
    """The run of capitalised words starting at ``pos`` ("Mayo", "University of Pittsburgh")."""
    words: list[str] = []
    end = pos
    pending: list[str] = []
    for match in _TOKEN.finditer(text, pos):
        token = match.group(1)
        core = token.rstrip(_TRAILING).lstrip("(\"'")
        if not core or any(a <= match.start(1) < b for a, b in blocked):
            break
        if core.lower() in _CONNECTORS and words:
            pending.append(core)
            if core != token:
                break
            continue
        usable = (
            core[0].isupper()
            and len(core) > 1
            and core.lower() not in _NOT_PLACES
            and core.lower().rstrip(".") not in _MONTHS
            and not any(ch.isdigit() for ch in core)
        )
        if not usable:
            break
        words.extend([*pending, core])
        pending = []
        end = match.start(1) + len(core)
        if core != token or len(words) >= _MAX_PLACE_WORDS:  # "Mayo," ends the place
            break
    return (" ".join(words), end) if words else None


def find_places(text: str, blocked: Ranges) -> list[tuple[str, int, int]]:
    """Places introduced by "at", "in" or "@" ("at Mayo", "@ Pittsburgh", "in Boston")."""
    places = []
    for intro in _PLACE_INTRO.finditer(text):
        found = _place_words(text, intro.end(), blocked)
        if found:
            places.append((found[0], intro.start(), found[1]))
    return places


def place_after(text: str, pos: int, blocked: Ranges) -> tuple[str, int, int] | None:
    """A place written straight after a treatment ("CyberKnife Stanford, Dr Lee…")."""
    if pos >= len(text) or not text[pos].isspace():
        return None
    found = _place_words(text, pos, blocked)
    return (found[0], pos, found[1]) if found else None
