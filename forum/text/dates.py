"""Dates that keep the precision the member wrote them with.

Members write "5/06", "Nov '08", "10/1/09" or just "2015". A :class:`PartialDate` keeps what
was said (year, optionally month, optionally day) plus the words themselves, so Cairn never
claims "1 May 2006" when the member only said "May 2006".

Two-digit years: ``00`` up to (this year's last two digits + 1) mean 20xx, anything higher
means 19xx ("'98" is 1998, "'08" is 2008). Ambiguous numeric dates ("10/1/09") are read
month-first unless ``day_first=True``; a number above 12 settles the order by itself
("15/3/12" and "3/15/12" are both 15 March 2012).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "PartialDate",
    "describe_interval",
    "find_partial_dates",
    "parse_partial_date",
]

_MONTH_NAMES = tuple(calendar.month_name[m] for m in range(1, 13))
_ISO_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@functools.total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A calendar date known to year, month or day precision.

    ``text`` is how the member wrote it; it is shown back verbatim but ignored by ``==``,
    hashing and ordering. A year-only date sorts before any month of that year, a month-only
    date before any day of that month.
    """

    year: int
    month: int | None = None
    day: int | None = None
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if self.month is None:
            if self.day is not None:
                raise ValueError("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"day out of range for {self.year}-{self.month:02d}: {self.day}")

    @property
    def precision(self) -> str:
        """``"year"``, ``"month"`` or ``"day"``."""
        if self.month is None:
            return "year"
        return "month" if self.day is None else "day"

    def iso(self) -> str:
        """``"2006"``, ``"2006-05"`` or ``"2006-05-14"``."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @classmethod
    def from_iso(cls, value: str) -> PartialDate:
        """Inverse of :meth:`iso`; raises ``ValueError`` for anything else."""
        match = _ISO_RE.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"not an ISO partial date: {value!r}")
        year, month, day = (int(g) if g else None for g in match.groups())
        return cls(year, month, day)  # type: ignore[arg-type]

    def earliest(self) -> date:
        """The first day of the period (1 January for a year, the 1st for a month)."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """The last day of the period."""
        if self.month is None:
            return date(self.year, 12, 31)
        if self.day is None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, self.month, self.day)

    def sort_key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def display(self) -> str:
        """The member's own words when known, else "2006", "May 2006" or "14 May 2006"."""
        if self.text:
            return self.text
        if self.month is None:
            return str(self.year)
        month = _MONTH_NAMES[self.month - 1]
        if self.day is None:
            return f"{month} {self.year}"
        return f"{self.day} {month} {self.year}"

    def plus(self, *, months: int = 0, days: int = 0) -> PartialDate:
        """This date moved forward (or back) keeping its precision; ``text`` is dropped.

        Used for "One yr" after a treatment: 2008-11 plus 12 months is 2009-11. A year-only
        date moves by whole years of the shifted first day (2010 plus 6 months is still 2010).
        Day-of-month is clamped (31 Jan plus 1 month is 28/29 Feb).
        """
        start = self.earliest() + timedelta(days=days)
        total = start.year * 12 + (start.month - 1) + months
        year, month0 = divmod(total, 12)
        if self.month is None:
            return PartialDate(year)
        if self.day is None:
            return PartialDate(year, month0 + 1)
        day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
        return PartialDate(year, month0 + 1, day)


# --------------------------------------------------------------------------------------------
# Parsing

_MONTH_RE = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_ABBREVS = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
)
_APOS = "['\u2019\u2018`]"
_BEFORE = r"(?<![\w./\-'\u2019])"  # a number must not continue something before it
_AFTER = r"(?![\w/]|[.\-]\d)"  # ... nor run on into more digits after it
_YEAR_ANY = rf"(?:{_APOS}?\d{{2}}|\d{{4}})"  # 08, '08, 2008
_DAY_SUFFIX = r"(?:st|nd|rd|th)?"
_QUALIFIER = (
    r"(?:early|mid|late|end\s+of|beginning\s+of|start\s+of|spring|summer|fall|autumn|winter)"
)

Builder = Callable[[re.Match[str], bool, date], "PartialDate | None"]


def _year(text: str, today: date) -> int | None:
    """A written year as a full year, or None when implausible (before 1900, far future)."""
    digits = text.lstrip("'\u2019\u2018`")
    value = int(digits)
    if len(digits) == 2:
        pivot = today.year % 100 + 1
        century = today.year // 100 * 100
        value = century + value if value <= pivot else century - 100 + value
    if not 1900 <= value <= today.year + 5:
        return None
    return value


def _month_number(name: str) -> int:
    return _MONTH_ABBREVS.index(name[:3].lower()) + 1


def _make(year: int | None, month: int | None = None, day: int | None = None):
    if year is None:
        return None
    try:
        return PartialDate(year, month, day)
    except ValueError:
        return None


def _iso_day(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    return _make(_year(m["y"], today), int(m["m"]), int(m["d"]))


def _iso_month(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    return _make(_year(m["y"], today), int(m["m"]))


def _numeric_dmy(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    first, second = int(m["a"]), int(m["b"])
    if first > 12 >= second or (day_first and second <= 12):
        first, second = second, first
    return _make(_year(m["y"], today), first, second)


def _numeric_my(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    return _make(_year(m["y"], today), int(m["m"]))


def _named_mdy(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    return _make(_year(m["y"], today), _month_number(m["mon"]), int(m["d"]))


def _named_my(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    year = _year(m["y"], today)
    last_century = year is not None and year < today.year // 100 * 100
    if last_century and len(m["y"]) == 2 and int(m["y"]) <= 31:
        return None  # "June 30" names a day, not June 1930
    return _make(year, _month_number(m["mon"]))


def _year_only(m: re.Match[str], day_first: bool, today: date) -> PartialDate | None:
    return _make(_year(m["y"], today))


# Each row: what it reads, its pattern, how to build the date. Earlier rows win ties, and a
# longer match always beats a shorter one starting at the same place.
_PATTERNS: tuple[tuple[str, re.Pattern[str], Builder], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), builder)
    for name, pattern, builder in (
        ("iso day", rf"{_BEFORE}(?P<y>\d{{4}})([-/.])(?P<m>\d{{1,2}})\2(?P<d>\d{{1,2}}){_AFTER}",
         _iso_day),
        ("numeric d/m/y",
         rf"{_BEFORE}(?P<a>\d{{1,2}})([/.\-])(?P<b>\d{{1,2}})\2(?P<y>\d{{4}}|\d{{2}}){_AFTER}",
         _numeric_dmy),
        ("month day, year",
         rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}}){_DAY_SUFFIX},?\s+(?P<y>{_YEAR_ANY})"
         rf"{_AFTER}", _named_mdy),
        ("day month year",
         rf"{_BEFORE}(?P<d>\d{{1,2}}){_DAY_SUFFIX}\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\.?,?\s+"
         rf"(?P<y>{_YEAR_ANY}){_AFTER}", _named_mdy),
        ("month year",
         rf"\b(?P<mon>{_MONTH_RE})\.?(?:,?\s*|\s*-\s*|\s+of\s+)(?P<y>{_YEAR_ANY}){_AFTER}",
         _named_my),
        ("iso month", rf"{_BEFORE}(?P<y>\d{{4}})-(?P<m>\d{{1,2}}){_AFTER}", _iso_month),
        ("numeric m/y", rf"{_BEFORE}(?P<m>\d{{1,2}})/(?P<y>\d{{4}}|\d{{2}}){_AFTER}", _numeric_my),
        ("numeric m-yyyy", rf"{_BEFORE}(?P<m>\d{{1,2}})-(?P<y>\d{{4}}){_AFTER}", _numeric_my),
        ("season year", rf"\b{_QUALIFIER}(?:\s+of|\s*-)?\s*(?P<y>{_YEAR_ANY}){_AFTER}", _year_only),
        ("'yy", rf"(?<![\w])(?P<y>{_APOS}\d{{2}}){_AFTER}", _year_only),
        # a bare year may sit in a range: "2015-2017"
        ("year", r"(?<![\w./'\u2019])(?P<y>(?:19|20)\d{2})(?![\w/]|\.\d)", _year_only),
    )
)


def find_partial_dates(
    text: str, *, day_first: bool = False, today: date | None = None
) -> list[tuple[PartialDate, int, int]]:
    """Every date in free text as ``(PartialDate, start, end)``, in order, never overlapping.

    Each date's ``text`` is the matched words. Impossible dates ("13/2009", "2/30/10") and
    implausible years are skipped rather than guessed at.
    """
    if not isinstance(text, str) or not text:
        return []
    today = today or date.today()
    candidates: list[tuple[int, int, int, PartialDate]] = []
    for rank, (_name, pattern, builder) in enumerate(_PATTERNS):
        for match in pattern.finditer(text):
            found = builder(match, day_first, today)
            if found is not None:
                candidates.append((match.start(), -(match.end() - match.start()), rank, found))
    candidates.sort(key=lambda c: c[:3])
    chosen: list[tuple[PartialDate, int, int]] = []
    taken_until = -1
    for start, neg_length, _rank, found in candidates:
        if start < taken_until:
            continue
        end = start - neg_length
        written = text[start:end]
        chosen.append((PartialDate(found.year, found.month, found.day, written), start, end))
        taken_until = end
    return chosen


_TRIM = " \t\r\n.,;:!?()[]"


def parse_partial_date(
    value: str, *, day_first: bool = False, today: date | None = None
) -> PartialDate | None:
    """Read one date written on its own ("5/06", "Nov '08", "2012-03-15"), else ``None``.

    Surrounding spaces, brackets and sentence punctuation are ignored; anything else around
    the date makes it not a date. ``today`` (default: the real today) sets the two-digit-year
    pivot.
    """
    if not isinstance(value, str):
        return None
    stripped = value.strip(_TRIM)
    if not stripped or len(stripped) > 64:
        return None
    found = find_partial_dates(stripped, day_first=day_first, today=today)
    if len(found) == 1 and found[0][1] == 0 and found[0][2] == len(stripped):
        return found[0][0]
    return None


# --------------------------------------------------------------------------------------------
# Intervals


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _months_phrase(months: int) -> str:
    if months < 1:
        return "less than a month"
    if months < 24 and months % 12:
        return _plural(months, "month")
    return _plural(months // 12, "year")


def describe_interval(start: PartialDate, end: date) -> str | None:
    """How long after ``start`` the day ``end`` falls, as people say it; ``None`` if before.

    Day precision: "3 days", "3 weeks" (under 8 weeks), then months. Month precision: whole
    months under two years ("6 months", "18 months", but "1 year" for exactly twelve), whole
    years from two years. Year precision: years only ("less than a year", "1 year", "2 years").
    """
    if end < start.earliest():
        return None
    if start.month is None:
        years = end.year - start.year
        return "less than a year" if years < 1 else _plural(years, "year")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if start.day is not None:
        days = (end - start.earliest()).days
        if days < 1:
            return "less than a day"
        if days < 14:
            return _plural(days, "day")
        if days < 56:
            return _plural(days // 7, "week")
        if end.day < start.day:
            months -= 1
    return _months_phrase(months)
