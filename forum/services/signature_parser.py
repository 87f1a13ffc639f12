"""Turn a member's one-line story into proposed treatment-history events.

    "GK 7/04 at Mayo for small AN. 2/06 - facial spasms began. Translab 9/1/07 success!"

becomes a diagnosis of acoustic neuroma, Gamma Knife in July 2004 at Mayo, hemifacial spasm
from February 2006 and translabyrinthine surgery on 1 September 2007. The member (or the SMF
importer's reviewer) confirms the proposals; nothing is stored here.

How a signature is read:

1. It is cut into clauses (:mod:`forum.text.clauses`), and a clause further at commas that
   start a new event ("One yr: 1.7 x 1.2, Two yr: 1.5 x 1.1").
2. In each clause the vocabulary finds treatments, conditions and symptoms; dates, sizes,
   sides, places and follow-up times ("One yr", "6 mo") are found by
   :mod:`forum.text.signature_patterns`.
3. Each treatment, diagnosed condition and symptom is an event "head". Every date goes to
   the nearest head before it that has none, else the nearest after it. Sizes go to the
   diagnosis (else a measurement, else the treatment), sides to the nearest head, places to
   the nearest treatment or diagnosis.
4. Follow-up times count from the treatment before them (of the treatment they name, in
   "6 months post GK"), or the diagnosis when there was no treatment, and keep that date's
   precision. A line that starts "2/06 -" dates the rest of its line.
5. A treatment named after "after", "post", "following"… or named again without a date
   ("GK failed") refers back rather than adding an event. A condition named only as what a
   treatment was for ("GK for small AN") is the treatment's condition, and implies an undated
   diagnosis unless the signature has one.
6. Nothing is dropped: a clause with nothing readable becomes a ``note`` with its text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from forum.services.signature_events import (
    EVENT_KINDS,
    Head,
    ProposedEvent,
    Ranges,
    base_date,
    give_dates,
    give_places,
    give_sides,
    give_sizes,
    imply_diagnoses,
    nearest_before_or_after,
    overlaps,
)
from forum.text import signature_patterns as pat
from forum.text.clauses import Span, split_at_commas, split_clauses
from forum.text.dates import PartialDate, find_partial_dates
from forum.vocabulary import Term, Vocabulary

__all__ = ["EVENT_KINDS", "GENERIC_TREATMENTS", "ProposedEvent", "parse_signature"]

logger = logging.getLogger(__name__)

#: treatment slugs that only say "surgery" or "radiation"; dropped beside a specific one
#: ("Retrosigmoid surgery", "gamma knife radiation")
GENERIC_TREATMENTS = frozenset({"surgery", "radiation", "other"})


# --------------------------------------------------------------------------------------------
# Working state


@dataclass
class _Mention:
    start: int
    end: int
    terms: dict[str, Term]  # kind -> term


@dataclass
class _Context:
    vocabulary: Vocabulary
    day_first: bool
    today: date
    events: list[ProposedEvent] = field(default_factory=list)
    unit: str | None = None  # last size unit written ("cm"/"mm")
    line_date: PartialDate | None = None  # from a line starting "2/06 -"
    line: int = -1


_FOR_BEFORE = re.compile(r"\bfor\b(?:\s+[\w.()]+){0,3}\s*$", re.I)
_LEADING_DATE_SEPARATOR = re.compile(r"\s*[-\u2013\u2014:)]")
_CONNECTIVE = re.compile(r"^\s*(?:and|then|&|\+|plus)\s+", re.I)
_SIDE_PREFIX = re.compile(r"^(?:(?:left|right|bilateral)\b|[LR](?=\s))\s*", re.I)
_GAP_WORDS = {"", "approach", "procedure", "via", "using", "with", "by"}


def _mentions(vocabulary: Vocabulary, text: str) -> list[_Mention]:
    mentions: list[_Mention] = []
    for term, start, end in vocabulary.find_in(pat.mark_tumour_an(text)):
        if mentions and mentions[-1].start == start:
            mentions[-1].terms.setdefault(term.kind, term)
        else:
            mentions.append(_Mention(start, end, {term.kind: term}))
    return mentions


# --------------------------------------------------------------------------------------------
# Heads: which mentions start events


def _beside(text: str, one: _Mention, other: _Mention) -> bool:
    """Whether two mentions are written next to each other ("translab surgery")."""
    first, second = sorted((one, other), key=lambda m: m.start)
    gap = re.sub(r"[\s\-:()/,]+", " ", text[first.end : second.start]).strip().lower()
    return first is not second and gap in _GAP_WORDS


def _treatment_heads(text: str, mentions: list[_Mention]) -> tuple[list[Head], list[_Mention]]:
    """(treatment heads, references back to earlier treatments)."""
    treating = [m for m in mentions if "treatment" in m.terms]
    specific = [m for m in treating if m.terms["treatment"].slug not in GENERIC_TREATMENTS]
    heads, references = [], []
    for mention in treating:
        slug = mention.terms["treatment"].slug
        if pat.is_reference(text, mention.start, mention.end):
            references.append(mention)
        elif slug in GENERIC_TREATMENTS and any(_beside(text, mention, s) for s in specific):
            continue
        else:
            heads.append(Head("treatment", mention.start, slug))
    return heads, references


def _other_heads(
    ctx: _Context, text: str, mentions: list[_Mention], treatments: list[Head]
) -> tuple[list[Head], list[tuple[int, str]]]:
    """(diagnosis and symptom heads, conditions a treatment was for as (position, slug))."""
    strong = pat.DIAGNOSIS_STRONG.search(text)
    trigger = strong or pat.DIAGNOSIS_WEAK.search(text)
    diagnosed = {e.condition for e in ctx.events if e.kind == "diagnosis"}
    heads: list[Head] = []
    treated: list[tuple[int, str]] = []
    seen: set[tuple[str, str]] = set()
    for mention in (m for m in mentions if "treatment" not in m.terms):
        condition, symptom = mention.terms.get("condition"), mention.terms.get("symptom")
        after_treatment = any(t.start < mention.start for t in treatments)
        for_treatment = after_treatment and not trigger
        treated_for = for_treatment and _FOR_BEFORE.search(text[: mention.start])
        if condition and symptom and not trigger and not treated_for:
            condition = None  # "facial spasms began": the symptom, not a diagnosis
        if condition and for_treatment:
            treated.append((mention.start, condition.slug))
        elif condition and not trigger and condition.slug in diagnosed:
            continue  # "my AN" again: already in the history
        elif condition or symptom:
            kind, slug = ("diagnosis", condition.slug) if condition else ("symptom", symptom.slug)
            if (kind, slug) not in seen:
                seen.add((kind, slug))
                heads.append(Head(kind, mention.start, slug))
    if strong and not any(h.kind == "diagnosis" for h in heads):
        heads.append(Head("diagnosis", strong.start()))
    return heads, treated


# --------------------------------------------------------------------------------------------
# Dates and follow-up times


def _offset_reference(text: str, offset: pat.Offset, references: list[_Mention]) -> str | None:
    for mention in references:
        if mention.start >= offset.end and not text[offset.end : mention.start].strip(" -:"):
            return mention.terms["treatment"].slug
    return None


def _date_tokens(
    ctx: _Context,
    text: str,
    dates: list[tuple[PartialDate, int, int]],
    heads: list[Head],
    references: list[_Mention],
) -> tuple[list[tuple[int, PartialDate | None]], list[pat.Offset], Ranges]:
    """Explicit dates and follow-up times as (position, date), plus the offsets and the
    ranges both cover."""
    ranges = [(start, end) for _d, start, end in dates]
    offsets = [o for o in pat.find_offsets(text) if not overlaps(o.start, o.end, ranges)]
    tokens: list[tuple[int, PartialDate | None]] = [(start, d) for d, start, _e in dates]
    for offset in offsets:
        earlier = [h.event("") for h in heads if h.start < offset.start and h.date]
        base = base_date(ctx.events + earlier, _offset_reference(text, offset, references))
        shifted = base.plus(months=offset.months, days=offset.days) if base else None
        tokens.append((offset.start, shifted))
    ranges += [(o.start, o.end) for o in offsets]
    return sorted(tokens, key=lambda t: t[0]), offsets, ranges


# --------------------------------------------------------------------------------------------
# One clause


def _is_measurement(
    ctx: _Context,
    text: str,
    heads: list[Head],
    tokens: list[tuple[int, PartialDate | None]],
    offsets: list[pat.Offset],
    sizes: list[pat.Size],
) -> bool:
    """A clause with no treatment or diagnosis is a scan result when it gives a size, or
    names a scan with a date ("9/09 - MRI shows growth"); a leading follow-up time alone
    ("6 mo: stable") makes one only when there is no symptom to date instead."""
    if any(h.kind in ("treatment", "diagnosis") for h in heads):
        return False
    scanned = pat.IMAGING.search(text) is not None and bool(tokens or ctx.line_date)
    leading = not heads and any(o.leading for o in offsets)
    return bool(sizes) or scanned or leading


def _without_repeats(ctx: _Context, heads: list[Head]) -> list[Head]:
    """Drop undated treatments the signature already has ("GK failed" after "GK 7/04")."""
    seen = {e.treatment for e in ctx.events if e.kind == "treatment"}
    return [h for h in heads if not (h.kind == "treatment" and not h.date and h.slug in seen)]


def _attach_conditions(heads: list[Head], treated: list[tuple[int, str]]) -> None:
    """In "GK for small AN", AN becomes the nearest treatment's condition."""
    for position, slug in treated:
        head = nearest_before_or_after(
            heads, position, lambda h: h.kind == "treatment" and h.condition is None
        )
        if head is not None:
            head.condition = slug


def _read_clause(ctx: _Context, text: str) -> list[ProposedEvent]:
    """The events of one clause (``text`` is already trimmed)."""
    mentions = _mentions(ctx.vocabulary, text)
    treatments, references = _treatment_heads(text, mentions)
    others, treated = _other_heads(ctx, text, mentions, treatments)
    heads = sorted(treatments + others, key=lambda h: h.start)
    dates = find_partial_dates(text, day_first=ctx.day_first, today=ctx.today)
    tokens, offsets, taken = _date_tokens(ctx, text, dates, heads, references)
    sizes = [s for s in pat.find_sizes(text, ctx.unit) if not overlaps(s.start, s.end, taken)]
    if _is_measurement(ctx, text, heads, tokens, offsets, sizes):
        heads.insert(0, Head("measurement", 0))
    give_dates(heads, tokens)
    heads = _without_repeats(ctx, heads)
    if not tokens and ctx.line_date:
        for head in heads:
            head.date = head.date or ctx.line_date
    _attach_conditions(heads, treated)
    give_sizes(heads, sizes)
    ctx.unit = next((z.unit for z in reversed(sizes) if z.unit), ctx.unit)
    spans = [(m.start, m.end) for m in mentions]
    give_sides(text, heads, spans)
    treatment_ends = [m.end for m in mentions if "treatment" in m.terms]
    give_places(text, heads, [*taken, *spans], treatment_ends)
    if dates and dates[0][1] == 0 and _LEADING_DATE_SEPARATOR.match(text, dates[0][2]):
        ctx.line_date = dates[0][0]  # "2/06 - …" dates the rest of the line
    if not heads:
        when = next((d for _pos, d in tokens if d), None) or ctx.line_date
        return [ProposedEvent("note", when, note=text, text=text)]
    return [h.event(text) for h in sorted(heads, key=lambda h: h.start)]


# --------------------------------------------------------------------------------------------
# The whole signature


def _starts_event(ctx: _Context, piece: str) -> bool:
    """Whether text after a comma begins a new event: a date, a term or a follow-up time.
    A size or "diagnosed" does not: "AN, diagnosed 2014, 1.8 x 1.2 cm" is one diagnosis."""
    piece = _CONNECTIVE.sub("", piece.lstrip())
    bare = _SIDE_PREFIX.sub("", piece)
    if any(o.leading for o in pat.find_offsets(piece)):
        return True
    dates = find_partial_dates(piece, day_first=ctx.day_first, today=ctx.today)
    if dates and dates[0][1] == 0:
        return True
    mentions = ctx.vocabulary.find_in(pat.mark_tumour_an(bare))
    return bool(mentions) and mentions[0][1] == 0


def _clauses(ctx: _Context, text: str) -> list[Span]:
    pieces: list[Span] = []
    for clause in split_clauses(text):
        dates = find_partial_dates(
            text[clause.start : clause.end], day_first=ctx.day_first, today=ctx.today
        )
        protected = [(clause.start + s, clause.start + e) for _d, s, e in dates]
        pieces.extend(
            split_at_commas(text, clause, lambda p: _starts_event(ctx, p), protected)
        )
    return pieces


def parse_signature(
    text: str,
    vocabulary: Vocabulary,
    *,
    day_first: bool = False,
    today: date | None = None,
) -> list[ProposedEvent]:
    """Proposed events for a signature, in the order written. Never raises.

    ``day_first`` reads "10/1/09" as 10 January; ``today`` (default: the real today) sets
    the two-digit-year pivot.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    ctx = _Context(vocabulary, day_first, today or date.today())
    for span in _clauses(ctx, text):
        if span.line != ctx.line:
            ctx.line, ctx.line_date = span.line, None
        words = text[span.start : span.end]
        try:
            events = _read_clause(ctx, words)
        except Exception:  # a parser bug must not lose the member's words
            logger.warning("could not read signature clause %r", words[:200], exc_info=True)
            events = [ProposedEvent("note", note=words, text=words)]
        ctx.events.extend(events)
    return imply_diagnoses(ctx.events)
