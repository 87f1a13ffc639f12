"""Tumour size over time as an accessible, server-rendered SVG line chart.

``size_chart_svg`` returns one self-contained ``<svg>`` element: no script, no event
handlers, no external references, no ``style`` attributes (so a strict CSP is fine).
Colours come from ``currentColor`` and the ``size-chart*`` classes, so the chart
follows the page's light/dark theme.  The accessible name is the ``<title>``; the
``<desc>`` summarises the data (first/last, smallest/largest) and every point carries
its own ``<title>``.  ``size_table_rows`` gives the same data for the table that the
template shows next to (or instead of) the chart.

Every piece of text is XML-escaped and stripped of characters XML cannot carry: the
labels are typed by members.  Points with a size that is not a finite, non-negative
number are left out of both the chart and the table.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

Point = tuple[date, float, str]

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
_ids = itertools.count(1)
_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Margins around the plot box: room for the mm labels (left) and dates (bottom); the
# data sit a little inside the box so no point is cut by its edge.
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 20, 16, 44
_INSET_X, _INSET_Y = 12, 8


@dataclass(frozen=True, slots=True)
class SizeRow:
    """One measurement, ready for the accessible table (plain text; escape in the template)."""

    date: date
    date_text: str  # "3 March 2019"
    size_mm: float
    size_text: str  # "12.5 mm"
    change_text: str  # "+1.5 mm" since the previous row; "" on the first row
    label: str


def size_table_rows(points: Sequence[Point]) -> list[SizeRow]:
    """The measurements in date order (same-day entries keep their given order)."""
    rows: list[SizeRow] = []
    for day, size, label in _clean(points):
        change = ""
        if rows:
            delta = size - rows[-1].size_mm
            sign = "+" if delta > 0 else "\N{MINUS SIGN}"
            change = "no change" if abs(delta) < 0.005 else f"{sign}{_number(abs(delta))} mm"
        rows.append(SizeRow(day, _long_date(day), size, f"{_number(size)} mm", change, label))
    return rows


def size_chart_svg(
    points: Sequence[Point],
    *,
    title: str,
    width: int = 640,
    height: int = 260,
    id_prefix: str | None = None,
) -> str:
    """An SVG line chart of largest size (mm) against date; ``""`` below two points.

    ``id_prefix`` makes the element ids (and so the output) deterministic; without it a
    process-wide counter keeps the ids of several charts on one page apart.
    """
    if width < 200 or height < 120:
        raise ValueError("the chart needs at least 200x120 pixels")
    if id_prefix is not None and not _ID_RE.fullmatch(id_prefix):
        raise ValueError(f"not a usable id prefix: {id_prefix!r}")
    data = _clean(points)
    if len(data) < 2:
        return ""
    uid = id_prefix or f"size-chart-{next(_ids)}"

    box_w, box_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    first_day, last_day = data[0][0], data[-1][0]
    if first_day == last_day:
        first_day, last_day = first_day - timedelta(days=1), last_day + timedelta(days=1)
    span = (last_day - first_day).days
    low, high, step = _size_axis(min(p[1] for p in data), max(p[1] for p in data))

    def x(day: date) -> float:
        return _LEFT + _INSET_X + (box_w - 2 * _INSET_X) * (day - first_day).days / span

    def y(size: float) -> float:
        return _TOP + _INSET_Y + (box_h - 2 * _INSET_Y) * (high - size) / (high - low)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="size-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{uid}-title {uid}-desc">',
        f'<title id="{uid}-title">{_text(title)}</title>',
        f'<desc id="{uid}-desc">{_text(_summary(data))}</desc>',
        f'<rect class="size-chart__plot" x="{_LEFT}" y="{_TOP}" width="{box_w}" '
        f'height="{box_h}" fill="none" stroke="currentColor" stroke-opacity="0.3"/>',
        '<g class="size-chart__axis size-chart__axis--y" fill="currentColor" '
        'font-size="12" text-anchor="end" aria-hidden="true">',
    ]
    for i in range(round((high - low) / step) + 1):
        value = low + i * step
        ty = _fmt(y(value))
        out.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + box_w}" y1="{ty}" y2="{ty}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{_LEFT - 8}" y="{ty}" dy="0.32em">{_number(value)} mm</text>'
        )
    out.append("</g>")
    out.append(
        '<g class="size-chart__axis size-chart__axis--x" fill="currentColor" '
        'font-size="12" text-anchor="middle" aria-hidden="true">'
    )
    base = _TOP + box_h
    for day, text in _date_ticks(first_day, last_day):
        tx = _fmt(x(day))
        out.append(
            f'<line x1="{tx}" x2="{tx}" y1="{base}" y2="{base + 5}" stroke="currentColor"/>'
            f'<text x="{tx}" y="{base + 20}">{_text(text)}</text>'
        )
    out.append("</g>")
    coords = [(_fmt(x(day)), _fmt(y(size))) for day, size, _ in data]
    out.append(
        '<polyline class="size-chart__line" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linejoin="round" points="'
        + " ".join(f"{cx},{cy}" for cx, cy in coords)
        + '"/>'
    )
    out.append('<g class="size-chart__points" fill="currentColor">')
    for (cx, cy), (day, size, label) in zip(coords, data, strict=True):
        tip = f"{_long_date(day)}: {_number(size)} mm" + (f" ({label})" if label else "")
        out.append(
            f'<circle class="size-chart__point" cx="{cx}" cy="{cy}" r="4">'
            f"<title>{_text(tip)}</title></circle>"
        )
    out.append("</g></svg>")
    return "".join(out)


def _clean(points: Sequence[Point]) -> list[Point]:
    """Valid points sorted by day; datetimes become dates, labels become clean text.

    Invalid points (no date, a size that is not a finite number >= 0) are dropped.
    """
    cleaned = []
    for day, size, label in points:
        if isinstance(day, datetime):
            day = day.date()
        try:
            size = float(size)
        except (TypeError, ValueError):
            continue
        if isinstance(day, date) and math.isfinite(size) and size >= 0:
            cleaned.append((day, size, " ".join(_NOT_XML.sub("", str(label or "")).split())))
    return sorted(cleaned, key=lambda p: p[0])


def _summary(data: list[Point]) -> str:
    sizes = [size for _, size, _ in data]
    smallest = data[sizes.index(min(sizes))]
    largest = data[sizes.index(max(sizes))]
    first, last = data[0], data[-1]
    return (
        f"{len(data)} measurements from {_long_date(first[0])} to {_long_date(last[0])}. "
        f"First {_number(first[1])} mm, last {_number(last[1])} mm. "
        f"Smallest {_number(smallest[1])} mm on {_long_date(smallest[0])}, "
        f"largest {_number(largest[1])} mm on {_long_date(largest[0])}."
    )


def _size_axis(smallest: float, largest: float) -> tuple[float, float, float]:
    """A "nice" (low, high, step) covering the sizes, with about five gridlines."""
    if largest - smallest < 0.1:  # one flat line: centre it
        pad = max(1.0, largest * 0.1)
        smallest, largest = max(0.0, smallest - pad), largest + pad
    raw = (largest - smallest) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    low = math.floor(smallest / step) * step
    high = math.ceil(largest / step) * step
    return max(0.0, low), high, step


def _date_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Calendar-aligned ticks (years, months or days), at most six, inside [first, last]."""
    span = (last - first).days
    if span >= 3 * 365:
        years = range(first.year + (first > date(first.year, 1, 1)), last.year + 1)
        every = math.ceil(len(years) / 6)
        ticks = [(date(year, 1, 1), str(year)) for year in years[::every]]
    elif span >= 60:
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            if date(year, month, 1) >= first:
                months.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        every = next(n for n in (1, 2, 3, 6, 12) if len(months) <= 6 * n)
        ticks = [(d, f"{_MONTHS[d.month - 1][:3]} {d.year}") for d in months[::every]]
    else:
        every = next(n for n in (1, 2, 7, 14, 30) if span <= 6 * n) if span else 1
        days = [first + timedelta(days=i) for i in range(0, span + 1, every)]
        ticks = [(d, f"{d.day} {_MONTHS[d.month - 1][:3]}") for d in days]
    return ticks or [(first, _short_date(first)), (last, _short_date(last))]


def _short_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1][:3]} {day.year}"


def _long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", str(value)), quote=True)
