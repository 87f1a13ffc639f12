"""Partial dates: parsing the ways members write dates, keeping precision, intervals."""

from __future__ import annotations

import random
from datetime import date

import pytest

from forum.text.dates import (
    PartialDate,
    describe_interval,
    find_partial_dates,
    parse_partial_date,
)

TODAY = date(2026, 11, 21)


def iso(text: str, **kwargs) -> str | None:
    found = parse_partial_date(text, today=TODAY, **kwargs)
    return found.iso() if found else None


# -- the value type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "precision", "iso_text", "earliest", "latest", "shown"),
    [
        (PartialDate(2006), "year", "2006", date(2006, 1, 1), date(2006, 12, 31), "2006"),
        (PartialDate(2006, 5), "month", "2006-05", date(2006, 5, 1), date(2006, 5, 31), "May 2006"),
        (
            PartialDate(2006, 5, 14),
            "day",
            "2006-05-14",
            date(2006, 5, 14),
            date(2006, 5, 14),
            "14 May 2006",
        ),
        (
            PartialDate(2008, 2),
            "month",
            "2008-02",
            date(2008, 2, 1),
            date(2008, 2, 29),  # a leap year
            "February 2008",
        ),
    ],
)
def test_precision_iso_bounds_and_display(value, precision, iso_text, earliest, latest, shown):
    assert value.precision == precision
    assert value.iso() == iso_text
    assert value.earliest() == earliest
    assert value.latest() == latest
    assert value.display() == shown
    assert PartialDate.from_iso(iso_text) == value


def test_display_prefers_the_members_own_words():
    assert PartialDate(2008, 11, text="Nov '08").display() == "Nov '08"


def test_text_is_ignored_by_equality_and_hashing():
    assert PartialDate(2008, 11, text="Nov '08") == PartialDate(2008, 11)
    assert len({PartialDate(2008, 11, text="11/08"), PartialDate(2008, 11)}) == 1


def test_ordering_puts_coarser_dates_first_within_their_period():
    dates = [
        PartialDate(2009, 3, 2),
        PartialDate(2009),
        PartialDate(2008, 12),
        PartialDate(2009, 3),
        PartialDate(2010),
    ]
    assert [d.iso() for d in sorted(dates)] == ["2008-12", "2009", "2009-03", "2009-03-02", "2010"]
    assert PartialDate(2009) < PartialDate(2009, 1) <= PartialDate(2009, 1, 1)
    assert PartialDate(2010) > PartialDate(2009, 12, 31)
    assert sorted(dates, key=PartialDate.sort_key) == sorted(dates)


def test_comparison_with_other_types_is_not_supported():
    with pytest.raises(TypeError):
        _ = PartialDate(2009) < "2010"
    assert PartialDate(2009) != "2009"


@pytest.mark.parametrize(
    "args",
    [(2009, 13), (2009, 0), (2009, 2, 30), (2010, 2, 29), (2009, None, 5), (0,), (10000,)],
)
def test_impossible_values_are_rejected(args):
    with pytest.raises(ValueError):
        PartialDate(*args)


def test_leap_day_is_fine():
    assert PartialDate(2012, 2, 29).iso() == "2012-02-29"


@pytest.mark.parametrize(
    "bad", ["", "06", "2006-5", "2006-13", "2006-02-30", "May 2006", "2006-05-1x"]
)
def test_from_iso_rejects_anything_else(bad):
    with pytest.raises(ValueError):
        PartialDate.from_iso(bad)


def test_plus_keeps_precision_and_clamps_days():
    assert PartialDate(2008, 11).plus(months=12) == PartialDate(2009, 11)
    assert PartialDate(2008, 11).plus(months=6) == PartialDate(2009, 5)
    assert PartialDate(2012, 3, 15).plus(months=12) == PartialDate(2013, 3, 15)
    assert PartialDate(2012, 1, 31).plus(months=1) == PartialDate(2012, 2, 29)
    assert PartialDate(2012, 2, 29).plus(months=12) == PartialDate(2013, 2, 28)
    assert PartialDate(2010).plus(months=6) == PartialDate(2010)
    assert PartialDate(2010).plus(months=18) == PartialDate(2011)
    assert PartialDate(2010, 5, 30).plus(days=7) == PartialDate(2010, 6, 6)
    assert PartialDate(2010, 5, text="5/10").plus(months=1).text == ""


# -- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2006", "2006"),
        ("5/06", "2006-05"),
        ("05/2006", "2006-05"),
        ("5-2006", "2006-05"),
        ("Nov '08", "2008-11"),
        ("Nov \u201908", "2008-11"),
        ("Nov 2008", "2008-11"),
        ("Nov, 2008", "2008-11"),
        ("Nov-08", "2008-11"),
        ("November 08", "2008-11"),
        ("november of 2008", "2008-11"),
        ("Jan. 2010", "2010-01"),
        ("Sept 2010", "2010-09"),
        ("10/1/09", "2009-10-01"),
        ("03/15/2012", "2012-03-15"),
        ("15/03/2012", "2012-03-15"),
        ("10.1.2009", "2009-10-01"),
        ("2012-03-15", "2012-03-15"),
        ("2012/03/15", "2012-03-15"),
        ("2009-11", "2009-11"),
        ("'08", "2008"),
        ("\u201908", "2008"),
        ("Nov 14, 2008", "2008-11-14"),
        ("November 14th 2008", "2008-11-14"),
        ("14 Nov 2008", "2008-11-14"),
        ("1st of May, 2010", "2010-05-01"),
        ("early 2010", "2010"),
        ("mid-2010", "2010"),
        ("summer of '09", "2009"),
        ("  (5/06).  ", "2006-05"),
    ],
)
def test_parse_styles(text, expected):
    assert iso(text) == expected


def test_parse_keeps_the_written_text():
    found = parse_partial_date("  Nov '08. ", today=TODAY)
    assert found is not None
    assert found.text == "Nov '08"
    assert found.display() == "Nov '08"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "13/2009",  # no month 13
        "2/30/10",  # no 30 February
        "00/2010",
        "Feb 30 2010",
        "June 30",  # a day without a year
        "GK 5/06",  # not just a date
        "5/06 at Mayo",
        "1850",
        "3000",
        "1/2",
        "20/40",
        "4-5",
        "10-15",
        "2.0",
        "1.4 x .7",
        "hello",
        "\U0001f499",
        "x" * 500,
    ],
)
def test_parse_rejects_non_dates(text):
    assert parse_partial_date(text, today=TODAY) is None


def test_parse_accepts_non_strings_gracefully():
    assert parse_partial_date(None) is None  # type: ignore[arg-type]
    assert parse_partial_date(2006) is None  # type: ignore[arg-type]


def test_ambiguous_numeric_dates_are_month_first_unless_day_first():
    assert iso("10/1/09") == "2009-10-01"
    assert iso("10/1/09", day_first=True) == "2009-01-10"
    # a number above 12 settles it either way
    assert iso("3/15/12", day_first=True) == "2012-03-15"
    assert iso("15/3/12") == "2012-03-15"
    # month/year has no day to confuse
    assert iso("5/06", day_first=True) == "2006-05"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("'00", "2000"), ("'26", "2026"), ("'27", "2027"), ("'28", "1928"), ("'98", "1998"),
     ("5/27", "2027-05"), ("5/28", "1928-05"), ("May 98", "1998-05")],
)
def test_two_digit_year_pivot_is_this_year_plus_one(text, expected):
    assert iso(text) == expected


def test_two_digit_pivot_follows_today():
    assert parse_partial_date("'31", today=date(2030, 1, 1)).iso() == "2031"
    assert parse_partial_date("'31", today=date(2026, 1, 1)).iso() == "1931"


def test_find_in_free_text():
    text = "GK 5/06 at UCLA; R VS dx 7/04 1.7 x 1.2 cm, CK Nov '08. W&W 2015-2017"
    found = find_partial_dates(text, today=TODAY)
    assert [(d.iso(), text[s:e], d.text) for d, s, e in found] == [
        ("2006-05", "5/06", "5/06"),
        ("2004-07", "7/04", "7/04"),
        ("2008-11", "Nov '08", "Nov '08"),
        ("2015", "2015", "2015"),
        ("2017", "2017", "2017"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "10-day course of steroids",
        "about 4-5 a day",
        "20/40 vision",
        "2.1 x 1.4 x 1.6",
        "Posts: 7241",
        "1/2 of my face",
        "back in March for vertigo",
        "may be",
        "decadron and novocaine",
    ],
)
def test_find_ignores_numbers_that_are_not_dates(text):
    assert find_partial_dates(text, today=TODAY) == []


def test_find_never_raises_on_junk():
    rng = random.Random(7)
    alphabet = "0123456789/-.' NovMay\u2019x,;:\n\U0001f499"
    for _ in range(2000):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for found, start, end in find_partial_dates(junk, today=TODAY):
            assert found.text == junk[start:end]
        parse_partial_date(junk, today=TODAY, day_first=True)


# -- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (PartialDate(2009, 1, 10), date(2009, 1, 10), "less than a day"),
        (PartialDate(2009, 1, 10), date(2009, 1, 11), "1 day"),
        (PartialDate(2009, 1, 10), date(2009, 1, 20), "10 days"),
        (PartialDate(2009, 1, 10), date(2009, 1, 31), "3 weeks"),
        (PartialDate(2009, 1, 10), date(2009, 3, 20), "2 months"),
        (PartialDate(2009, 1, 10), date(2009, 3, 5), "7 weeks"),
        (PartialDate(2009, 1, 10), date(2009, 3, 8), "1 month"),  # 8 weeks, not 2 whole months
        (PartialDate(2009, 1), date(2009, 1, 20), "less than a month"),
        (PartialDate(2009, 1), date(2009, 7, 5), "6 months"),
        (PartialDate(2009, 1), date(2010, 1, 5), "1 year"),
        (PartialDate(2009, 1), date(2010, 7, 5), "18 months"),
        (PartialDate(2009, 1), date(2010, 12, 31), "23 months"),
        (PartialDate(2009, 1), date(2011, 1, 1), "2 years"),
        (PartialDate(2009, 1), date(2011, 12, 1), "2 years"),
        (PartialDate(2009, 1), date(2016, 3, 1), "7 years"),
        (PartialDate(2009), date(2009, 12, 31), "less than a year"),
        (PartialDate(2009), date(2010, 6, 1), "1 year"),
        (PartialDate(2009), date(2011, 1, 1), "2 years"),
    ],
)
def test_describe_interval(start, end, expected):
    assert describe_interval(start, end) == expected


def test_describe_interval_before_the_start_is_none():
    assert describe_interval(PartialDate(2009, 5), date(2009, 4, 30)) is None
    assert describe_interval(PartialDate(2009), date(2008, 12, 31)) is None
    assert describe_interval(PartialDate(2009, 5, 2), date(2009, 5, 1)) is None
