"""Reading a treatment history: dates, the story as it stood on a day, and how to say it.

Pure functions over ``HistoryEvent`` rows and the vocabulary; no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from forum.models import HistoryEvent
from forum.text.dates import PartialDate, describe_interval
from forum.vocabulary import Vocabulary

SIDE_SHORT = {"left": "L", "right": "R", "bilateral": "bilateral"}


def event_date(event: HistoryEvent) -> PartialDate | None:
    if event.year is None:
        return None
    try:
        return PartialDate(event.year, event.month, event.day, event.date_text or "")
    except ValueError:
        return None


def end_date(event: HistoryEvent) -> PartialDate | None:
    if event.end_year is None:
        return None
    try:
        return PartialDate(
            event.end_year, event.end_month, event.end_day, event.end_date_text or ""
        )
    except ValueError:
        return None


def sort_events(events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
    """Dated events in date order, then undated ones in the order they were added."""

    def key(event: HistoryEvent):
        when = event_date(event)
        return (when is None, when.sort_key() if when else (0, 0, 0), event.id or 0)

    return sorted(events, key=key)


def events_as_of(events: Sequence[HistoryEvent], day: date) -> list[HistoryEvent]:
    """The story as it stood on ``day``: events whose date had begun by then.

    Undated events belong to the story from the day they were added.
    """
    kept = []
    for event in events:
        when = event_date(event)
        if when is not None:
            if when.earliest() <= day:
                kept.append(event)
        elif event.created_at and event.created_at.date() <= day:
            kept.append(event)
    return kept


def has_grown_since(events: Sequence[HistoryEvent], day: date) -> bool:
    return len(events_as_of(events, day)) < len(events)


def event_label(event: HistoryEvent, vocabulary: Vocabulary) -> str:
    """What happened, in a few words: "Gamma Knife", "Acoustic neuroma", "Tinnitus"."""
    if event.kind == "treatment" and event.treatment:
        label = _short(vocabulary, "treatment", event.treatment)
    elif event.kind == "diagnosis" and event.condition:
        label = _short(vocabulary, "condition", event.condition)
    elif event.kind == "symptom" and event.symptom:
        label = _short(vocabulary, "symptom", event.symptom)
    elif event.kind == "measurement":
        label = "Scan"
    else:
        label = ""
    return event.label_text or label or event.kind.capitalize()


def _short(vocabulary: Vocabulary, kind: str, slug: str) -> str:
    term = vocabulary.get(kind, slug)
    if term is None:
        return slug.replace("-", " ").capitalize()
    return term.label.split(" (")[0]


def format_sizes(sizes: Sequence[float]) -> str:
    if not sizes:
        return ""
    return " × ".join(f"{s:g}" for s in sizes) + " mm"


def event_summary(event: HistoryEvent, vocabulary: Vocabulary) -> str:
    """One event in signature style: "GK May 2006 at Northfield", "AN (L, 19 × 12 mm) 8/18"."""
    parts = [event_label(event, vocabulary)]
    details = []
    if event.side:
        details.append(SIDE_SHORT.get(event.side, event.side))
    if event.sizes_mm:
        details.append(format_sizes(event.sizes_mm))
    if details:
        parts.append(f"({', '.join(details)})")
    when = event_date(event)
    if when:
        parts.append(when.display())
    if event.place:
        parts.append(f"at {event.place}")
    ended = end_date(event)
    if ended:
        parts.append(f"until {ended.display()}")
    if event.kind == "note" and event.note:
        return event.note
    return " ".join(parts)


def compact_signature(events: Sequence[HistoryEvent], vocabulary: Vocabulary) -> str:
    return " · ".join(event_summary(e, vocabulary) for e in events)


def context_line(
    events: Sequence[HistoryEvent], day: date, vocabulary: Vocabulary
) -> str | None:
    """"posted 6 months after Gamma Knife": the nearest treatment before ``day``, else diagnosis."""
    for kind in ("treatment", "diagnosis"):
        best: tuple[PartialDate, HistoryEvent] | None = None
        for event in events:
            when = event_date(event)
            if event.kind != kind or when is None or when.earliest() > day:
                continue
            if kind == "treatment" and event.treatment == "watch-and-wait":
                continue
            if best is None or best[0].sort_key() <= when.sort_key():
                best = (when, event)
        if best is not None:
            interval = describe_interval(best[0], day)
            if interval is None:
                continue
            what = event_label(best[1], vocabulary) if kind == "treatment" else "diagnosis"
            return f"posted {interval} after {what}"
    return None


@dataclass(frozen=True)
class SizePoint:
    when: date
    size_mm: float
    label: str


def size_points(events: Sequence[HistoryEvent]) -> list[SizePoint]:
    """Dated sizes (largest axis) from diagnoses and scans, for the chart."""
    points = []
    for event in events:
        when = event_date(event)
        if when is None or not event.sizes_mm or event.kind not in ("diagnosis", "measurement"):
            continue
        points.append(SizePoint(when.earliest(), max(event.sizes_mm), when.display()))
    return sorted(points, key=lambda p: p.when)
