"""Proposed treatment-history events, and how the signature parser fills them in.

:class:`ProposedEvent` is what :func:`forum.services.signature_parser.parse_signature`
returns. The rest of this module is the parser's second half: once it knows which words in a
clause start events (the "heads"), these helpers hand each head its date, size, side and place
by position, and add the diagnoses a treatment implies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from forum.text import signature_patterns as pat
from forum.text.dates import PartialDate

__all__ = ["EVENT_KINDS", "Head", "ProposedEvent"]

EVENT_KINDS = ("diagnosis", "treatment", "measurement", "symptom", "note")

Ranges = Sequence[tuple[int, int]]


@dataclass
class ProposedEvent:
    """One event read from a signature. ``text`` is always the member's exact words."""

    kind: str  # one of EVENT_KINDS
    date: PartialDate | None = None
    treatment: str | None = None  # vocabulary slugs
    condition: str | None = None  # for a treatment: what it treated
    symptom: str | None = None
    side: str | None = None  # "left" | "right" | "bilateral"
    size_mm: tuple[float, ...] = ()  # up to three dimensions
    place: str | None = None
    note: str | None = None  # a note's words
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        """``kind``, ``date`` (ISO or null) and ``text`` always; other keys only when known."""
        data: dict[str, Any] = {"kind": self.kind, "date": self.date.iso() if self.date else None}
        for key in ("treatment", "condition", "symptom", "side"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.size_mm:
            data["size_mm"] = list(self.size_mm)
        if self.place:
            data["place"] = self.place
        data["text"] = self.text
        return data


@dataclass
class Head:
    """An event taking shape inside one clause; ``start`` is where its words begin."""

    kind: str
    start: int
    slug: str | None = None  # the treatment, condition (diagnosis) or symptom
    date: PartialDate | None = None
    size: tuple[float, ...] = ()
    side: str | None = None
    place: str | None = None
    condition: str | None = None  # what a treatment was for

    def event(self, text: str) -> ProposedEvent:
        return ProposedEvent(
            self.kind,
            self.date,
            treatment=self.slug if self.kind == "treatment" else None,
            condition=self.slug if self.kind == "diagnosis" else self.condition,
            symptom=self.slug if self.kind == "symptom" else None,
            side=self.side,
            size_mm=self.size,
            place=self.place,
            text=text,
        )


def overlaps(start: int, end: int, ranges: Ranges) -> bool:
    return any(start < b and a < end for a, b in ranges)


def nearest_before_or_after(
    heads: list[Head], pos: int, wanted: Callable[[Head], bool]
) -> Head | None:
    """The closest wanted head at or before ``pos``, else the closest after it."""
    before = [h for h in heads if h.start <= pos and wanted(h)]
    if before:
        return max(before, key=lambda h: h.start)
    after = [h for h in heads if h.start > pos and wanted(h)]
    return min(after, key=lambda h: h.start) if after else None


def nearest(heads: list[Head], pos: int, wanted: Callable[[Head], bool]) -> Head | None:
    """The wanted head closest to ``pos`` on either side."""
    fitting = [h for h in heads if wanted(h)]
    return min(fitting, key=lambda h: abs(h.start - pos)) if fitting else None


def base_date(history: Sequence[ProposedEvent], slug: str | None) -> PartialDate | None:
    """The date a follow-up time counts from: the last dated treatment before it (of ``slug``
    when the text names one), else the last dated diagnosis."""
    dated = [e for e in history if e.date is not None]
    for wanted in (
        lambda e: e.kind == "treatment" and (slug is None or e.treatment == slug),
        lambda e: e.kind == "treatment",
        lambda e: e.kind == "diagnosis",
    ):
        found = [e for e in dated if wanted(e)]
        if found:
            return found[-1].date
    return None


def give_dates(heads: list[Head], tokens: Sequence[tuple[int, PartialDate | None]]) -> None:
    """Each date goes to the nearest undated head before it, else the nearest after it."""
    for pos, when in tokens:
        if when is None:
            continue  # a follow-up time with nothing before it to count from
        head = nearest_before_or_after(heads, pos, lambda h: h.date is None)
        if head is not None:
            head.date = when
    diagnoses = [h for h in heads if h.kind == "diagnosis"]
    shared = next((h.date for h in diagnoses if h.date), None)
    for head in diagnoses:  # "bilateral VS (NF2) dx 2001": both diagnoses are from 2001
        head.date = head.date or shared


def give_sizes(heads: list[Head], sizes: Sequence[pat.Size]) -> None:
    """Each size goes to the nearest diagnosis, else measurement, else treatment without one;
    a size with nowhere to go becomes a measurement of its own."""
    for size in sizes:
        head = None
        for kind in ("diagnosis", "measurement", "treatment"):
            head = head or nearest(heads, size.start, lambda h, k=kind: h.kind == k and not h.size)
        if head is None:
            head = Head("measurement", size.start)
            heads.append(head)
        head.size = size.mm


def give_sides(text: str, heads: list[Head], mention_spans: Ranges) -> None:
    for side, start, _end in pat.find_sides(text, mention_spans):
        head = nearest(heads, start, lambda h: h.side is None)
        if head is not None:
            head.side = side


def give_places(text: str, heads: list[Head], blocked: Ranges, after: Sequence[int]) -> None:
    """Places ("at Mayo", "@ Pittsburgh", or straight after a treatment at each of ``after``)
    go to the nearest treatment, diagnosis or measurement before them, else after them."""
    places = pat.find_places(text, blocked)
    for pos in after:
        found = pat.place_after(text, pos, blocked)
        if found:
            places.append(found)
    for name, start, _end in sorted(places, key=lambda p: p[1]):
        head = nearest_before_or_after(
            heads, start, lambda h: h.kind != "symptom" and h.place is None
        )
        if head is not None:
            head.place = name


def imply_diagnoses(events: list[ProposedEvent]) -> list[ProposedEvent]:
    """A treatment "for small AN" implies an (undated) AN diagnosis just before it, unless the
    signature lists one; an unnamed "Diagnosed 2010" takes the condition instead."""
    diagnosed = {e.condition for e in events if e.kind == "diagnosis" and e.condition}
    result: list[ProposedEvent] = []
    for event in events:
        if event.kind == "treatment" and event.condition and event.condition not in diagnosed:
            diagnosed.add(event.condition)
            unnamed = next(
                (e for e in events if e.kind == "diagnosis" and e.condition is None), None
            )
            if unnamed is not None:
                unnamed.condition = event.condition
            else:
                result.append(
                    ProposedEvent(
                        "diagnosis", condition=event.condition, side=event.side, text=event.text
                    )
                )
        result.append(event)
    return result
