"""Cairn's search query language.

``parse_query`` turns what a member typed into a small, backend-neutral structure:

* ``clauses`` -- every clause must match; a clause is an OR-group of :class:`Term` (a word,
  analysed by the backend: stemming, synonyms) and :class:`Phrase` (quoted, words in order,
  never synonym-expanded).
* ``excluded`` -- ``-word`` / ``-"a phrase"``: documents matching any of these are dropped.
* ``filters`` -- ``board:``, ``@name`` / ``author:``, ``status:``, ``treatment:``,
  ``symptom:``, ``condition:``, ``before:``, ``after:``, ``in:title``.

Date filters (``before:`` / ``after:``) accept ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and name a
whole period.  ``before:P`` keeps posts made strictly before the *start* of P and ``after:P``
keeps posts made on or after the day following the *end* of P, so neither includes P itself::

    before:2009     ->  created_at <  2009-01-01
    after:2009      ->  created_at >= 2010-01-01
    after:2009-11   ->  created_at >= 2009-12-01

This module never raises on user input: unknown filters, malformed values, unbalanced quotes,
stray operators, control characters and very long input are dropped or trimmed, and a friendly
sentence explaining what was ignored is added to ``ParsedQuery.notices``.

Nothing here knows about Whoosh (or PostgreSQL): backends translate the structure themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

__all__ = [
    "MAX_CLAUSES",
    "MAX_QUERY_CHARS",
    "Clause",
    "DateFilter",
    "Filters",
    "ParsedQuery",
    "Phrase",
    "Term",
    "parse_query",
]

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 24
MAX_FILTER_VALUES = 8

# ---------------------------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A single word as typed (backends lower-case, stem and synonym-expand it)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Phrase:
    """Words in quotes: matched in order and never synonym-expanded."""

    text: str

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.split())

    def __str__(self) -> str:
        return f'"{self.text}"'


Alternative = Term | Phrase


@dataclass(frozen=True)
class Clause:
    """An OR-group: a document matches the clause when it matches any alternative."""

    alternatives: tuple[Alternative, ...]

    def __str__(self) -> str:
        return " OR ".join(str(a) for a in self.alternatives)


@dataclass(frozen=True)
class DateFilter:
    """A date bound.  ``bound`` is the computed limit, ``text`` what the member typed."""

    bound: date
    text: str


@dataclass(frozen=True)
class Filters:
    """Restrictions that are not text matching.

    ``boards`` and ``authors`` are alternatives (any of them); ``treatments``, ``symptoms`` and
    ``conditions`` must all be present (a thread can carry several tags).  Tag values are kept
    as entered (``GK``, ``"gamma knife"``) -- the backend resolves them through the vocabulary.
    ``before`` is exclusive (``created_at < before.bound``), ``after`` inclusive
    (``created_at >= after.bound``).
    """

    boards: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    status: str | None = None  # "open" | "resolved"
    treatments: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    before: DateFilter | None = None
    after: DateFilter | None = None
    in_title: bool = False

    @property
    def is_empty(self) -> bool:
        return self == _NO_FILTERS

    def tags(self) -> Iterable[tuple[str, str]]:
        """``(kind, value)`` pairs for the vocabulary-backed filters."""
        for kind, values in (
            ("treatment", self.treatments),
            ("symptom", self.symptoms),
            ("condition", self.conditions),
        ):
            for value in values:
                yield kind, value


_NO_FILTERS = Filters()


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...] = ()
    excluded: tuple[Alternative, ...] = ()
    filters: Filters = field(default_factory=Filters)
    notices: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to search for (no words, exclusions or filters)."""
        return not self.clauses and not self.excluded and self.filters.is_empty

    @property
    def has_text(self) -> bool:
        """True when there is at least one word or phrase that documents must match."""
        return bool(self.clauses)

    def words(self) -> list[str]:
        """Every word of the positive clauses (terms and phrase words), in order."""
        out: list[str] = []
        for clause in self.clauses:
            for alt in clause.alternatives:
                out.extend(alt.words if isinstance(alt, Phrase) else (alt.text,))
        return out

    def describe(self) -> list[str]:
        """Short human-readable labels for the active filters, e.g. ``["Board: tinnitus"]``."""
        f = self.filters
        labels: list[str] = []
        if f.boards:
            labels.append("Board: " + " or ".join(f.boards))
        if f.authors:
            labels.append("By: " + " or ".join(f.authors))
        if f.status:
            labels.append("Status: " + f.status)
        for kind, value in f.tags():
            labels.append(f"{kind.capitalize()}: {value}")
        if f.after:
            labels.append("After " + f.after.text)
        if f.before:
            labels.append("Before " + f.before.text)
        if f.in_title:
            labels.append("Titles only")
        if self.excluded:
            labels.append("Without: " + ", ".join(str(a) for a in self.excluded))
        return labels

    def to_text(self) -> str:
        """A canonical query string that parses back to an equivalent query."""
        parts = [str(c) for c in self.clauses]
        parts.extend("-" + str(a) for a in self.excluded)
        f = self.filters
        parts.extend("board:" + _quote_value(v) for v in f.boards)
        parts.extend("author:" + _quote_value(v) for v in f.authors)
        if f.status:
            parts.append("status:" + f.status)
        parts.extend(f"{kind}:{_quote_value(value)}" for kind, value in f.tags())
        if f.after:
            parts.append("after:" + f.after.text)
        if f.before:
            parts.append("before:" + f.before.text)
        if f.in_title:
            parts.append("in:title")
        return " ".join(parts)

    __str__ = to_text

    def with_replacements(self, mapping: Mapping[str, str]) -> ParsedQuery:
        """A copy with words replaced (keys are matched case-insensitively).

        Used for "did you mean" suggestions; phrase words are replaced too.
        """
        lowered = {k.lower(): v for k, v in mapping.items()}
        if not lowered:
            return self

        def fix_word(word: str) -> str:
            return lowered.get(word.lower(), word)

        def fix(alt: Alternative) -> Alternative:
            if isinstance(alt, Phrase):
                return Phrase(" ".join(fix_word(w) for w in alt.words))
            return Term(fix_word(alt.text))

        clauses = tuple(Clause(tuple(fix(a) for a in c.alternatives)) for c in self.clauses)
        return replace(self, clauses=clauses)


def _quote_value(value: str) -> str:
    return f'"{value}"' if any(ch.isspace() for ch in value) else value


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SMART_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'}
)
# One token: an optional exclusion sign, then a filter with a quoted value, a quoted phrase
# (an unbalanced quote runs to the end of the input) or a run of non-space characters.
_TOKEN_RE = re.compile(
    r"""
    (?P<neg>-+)?
    (?:
        (?P<fname>[A-Za-z]+):"(?P<fquoted>[^"]*)"?
      | "(?P<phrase>[^"]*)"?
      | (?P<word>[^\s"]+)
    )
    """,
    re.VERBOSE,
)
_HAS_WORD_CHAR = re.compile(r"\w")
_EDGE_PUNCT = ".,;:!?()[]{}<>'`*~^|\\/=+"
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_URL_SCHEMES = frozenset(
    {"http", "https", "ftp", "ftps", "mailto", "file", "www", "tel", "news", "irc", "data"}
)

_FILTER_ALIASES = {
    "board": "board",
    "forum": "board",
    "author": "author",
    "by": "author",
    "user": "author",
    "status": "status",
    "treatment": "treatment",
    "treatments": "treatment",
    "symptom": "symptom",
    "symptoms": "symptom",
    "condition": "condition",
    "conditions": "condition",
    "diagnosis": "condition",
    "before": "before",
    "after": "after",
    "in": "in",
}
_STATUS_VALUES = {
    "resolved": "resolved",
    "solved": "resolved",
    "answered": "resolved",
    "open": "open",
    "unresolved": "open",
    "unsolved": "open",
}

_LQ, _RQ = "\u2018", "\u2019"  # typographic quotes around what the member typed
_DATE_HELP = _LQ + "{name}:" + _RQ + " takes a date like 2009, 2009-11 or 2009-11-05"


def _clean_word(word: str) -> str:
    return word.strip(_EDGE_PUNCT + '"')


def _slugify(value: str) -> str:
    slug = re.sub(r"[^\w]+", "-", value.lower(), flags=re.UNICODE).strip("-_")
    return slug


def _parse_period(text: str) -> tuple[date, date] | None:
    """``(first day, first day after)`` of the period ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    m = _DATE_RE.match(text)
    if not m:
        return None
    year = int(m.group(1))
    if not 1900 <= year <= 2999:
        return None
    try:
        if m.group(3):
            start = date(year, int(m.group(2)), int(m.group(3)))
            return start, date.fromordinal(start.toordinal() + 1)
        if m.group(2):
            month = int(m.group(2))
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return start, end
        return date(year, 1, 1), date(year + 1, 1, 1)
    except ValueError:
        return None


def _canonical_date(text: str) -> str:
    parts = text.split("-")
    return "-".join([parts[0], *(p.zfill(2) for p in parts[1:])])


class _Builder:
    def __init__(self) -> None:
        self.clauses: list[list[Alternative]] = []
        self.excluded: list[Alternative] = []
        self.notices: list[str] = []
        self.join_next = False
        self.boards: list[str] = []
        self.authors: list[str] = []
        self.status: str | None = None
        self.tags: dict[str, list[str]] = {"treatment": [], "symptom": [], "condition": []}
        self.before: DateFilter | None = None
        self.after: DateFilter | None = None
        self.in_title = False
        self.too_many = False

    def notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    # -- text ------------------------------------------------------------------------------

    def positive(self, alt: Alternative) -> None:
        if self.join_next and self.clauses:
            if alt not in self.clauses[-1]:
                self.clauses[-1].append(alt)
        elif len(self.clauses) >= MAX_CLAUSES:
            self.too_many = True
        elif [alt] not in self.clauses:
            self.clauses.append([alt])
        self.join_next = False

    def negative(self, alt: Alternative) -> None:
        if len(self.excluded) >= MAX_CLAUSES:
            self.too_many = True
        elif alt not in self.excluded:
            self.excluded.append(alt)

    def text(self, alt: Alternative, negated: bool) -> None:
        if negated:
            self.negative(alt)
        else:
            self.positive(alt)

    def or_operator(self) -> None:
        # OR at the start (or after another OR) has nothing on its left: ignore it.
        if self.clauses:
            self.join_next = True

    # -- filters ---------------------------------------------------------------------------

    def add_filter(self, name: str, raw_value: str, negated: bool, typed_name: str) -> None:
        value = raw_value.strip()
        if negated:
            self.notice(
                f"Excluding with {_LQ}-{typed_name}:{_RQ} isn't supported, so it was ignored"
            )
            return
        if name == "board":
            slug = _slugify(value)
            if not slug:
                self.notice(f"{_LQ}board:{_RQ} needs a board name, like board:tinnitus")
            elif slug not in self.boards and len(self.boards) < MAX_FILTER_VALUES:
                self.boards.append(slug)
        elif name == "author":
            author = value.lstrip("@").strip(_EDGE_PUNCT)
            if not author:
                self.notice(
                    f"{_LQ}{typed_name}:{_RQ} needs a member's name, like author:jane or @jane"
                )
            elif author not in self.authors and len(self.authors) < MAX_FILTER_VALUES:
                self.authors.append(author)
        elif name == "status":
            status = _STATUS_VALUES.get(value.lower().strip(_EDGE_PUNCT))
            if status is None:
                self.notice(f"{_LQ}status:{_RQ} can be status:resolved or status:open")
            else:
                self.status = status
        elif name in self.tags:
            tag = " ".join(value.strip(_EDGE_PUNCT).split())
            values = self.tags[name]
            if not tag or not _HAS_WORD_CHAR.search(tag):
                self.notice(f"{_LQ}{typed_name}:{_RQ} needs a {name}, like {_TAG_EXAMPLES[name]}")
            elif tag not in values and len(values) < MAX_FILTER_VALUES:
                values.append(tag)
        elif name in ("before", "after"):
            period = _parse_period(value.strip(_EDGE_PUNCT))
            if period is None:
                self.notice(_DATE_HELP.format(name=typed_name))
                return
            text = _canonical_date(value.strip(_EDGE_PUNCT))
            if name == "before":
                bound = DateFilter(period[0], text)
                if self.before is None or bound.bound < self.before.bound:
                    self.before = bound
            else:
                bound = DateFilter(period[1], text)
                if self.after is None or bound.bound > self.after.bound:
                    self.after = bound
        elif name == "in":
            if value.lower().strip(_EDGE_PUNCT) in ("title", "titles"):
                self.in_title = True
            else:
                self.notice(f"{_LQ}in:{_RQ} only understands in:title")

    # -- result ----------------------------------------------------------------------------

    def build(self) -> ParsedQuery:
        if self.too_many:
            self.notice(f"Only the first {MAX_CLAUSES} words were used")
        if self.before and self.after and self.after.bound >= self.before.bound:
            self.notice(
                f"{_LQ}after:{self.after.text}{_RQ} is not earlier than "
                f"{_LQ}before:{self.before.text}{_RQ}, so nothing can match"
            )
        filters = Filters(
            boards=tuple(self.boards),
            authors=tuple(self.authors),
            status=self.status,
            treatments=tuple(self.tags["treatment"]),
            symptoms=tuple(self.tags["symptom"]),
            conditions=tuple(self.tags["condition"]),
            before=self.before,
            after=self.after,
            in_title=self.in_title,
        )
        return ParsedQuery(
            clauses=tuple(Clause(tuple(alts)) for alts in self.clauses),
            excluded=tuple(self.excluded),
            filters=filters,
            notices=tuple(self.notices),
        )


_TAG_EXAMPLES = {
    "treatment": "treatment:gamma-knife",
    "symptom": "symptom:tinnitus",
    "condition": "condition:acoustic-neuroma",
}


def _looks_like_url(name: str, value: str, word: str) -> bool:
    return name.lower() in _URL_SCHEMES or value.startswith("/") or "://" in word


def parse_query(text: str) -> ParsedQuery:
    """Parse what a member typed into the search box.  Never raises on any ``str``."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    b = _Builder()
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        b.notice(f"Your search was long, so only the first {MAX_QUERY_CHARS} characters were used")
    text = _CONTROL_RE.sub(" ", text.translate(_SMART_QUOTES))

    negate_next = False
    for m in _TOKEN_RE.finditer(text):
        negated = bool(m.group("neg")) or negate_next
        negate_next = False
        if m.group("fname") is not None:
            typed = m.group("fname")
            name = _FILTER_ALIASES.get(typed.lower())
            if name is None:
                b.notice(f"Cairn doesn't know the filter {_LQ}{typed}:{_RQ}, so it was ignored")
            else:
                b.add_filter(name, m.group("fquoted"), negated, typed.lower())
            continue
        if m.group("phrase") is not None:
            words = m.group("phrase").split()
            phrase = " ".join(w for w in (_clean_word(w) for w in words) if w)
            if _HAS_WORD_CHAR.search(phrase):
                b.text(Phrase(phrase), negated)
            continue
        word = m.group("word")
        if word is None:  # a lone "-"
            continue
        if word in ("OR", "|") and not negated:
            b.or_operator()
            continue
        if word == "AND" and not negated:  # AND is what we do anyway
            continue
        if word == "NOT" and not negated:  # "NOT word" is "-word"
            negate_next = True
            continue
        if word.startswith("@"):
            name_part = word.lstrip("@")
            if _HAS_WORD_CHAR.search(name_part):
                b.add_filter("author", name_part, negated, "@")
            continue
        if ":" in word:
            typed, _, value = word.partition(":")
            if typed.isalpha() and typed.isascii() and not _looks_like_url(typed, value, word):
                name = _FILTER_ALIASES.get(typed.lower())
                if name is not None:
                    b.add_filter(name, value, negated, typed.lower())
                    continue
                if value.strip(_EDGE_PUNCT):
                    b.notice(f"Cairn doesn't know the filter {_LQ}{typed}:{_RQ}, so it was ignored")
                    continue
        cleaned = _clean_word(word.lstrip("-"))
        if cleaned and _HAS_WORD_CHAR.search(cleaned):
            b.text(Term(cleaned), negated)
    return b.build()
