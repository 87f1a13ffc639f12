"""Cairn's search query language: ``forum.search.query.parse_query``."""

from __future__ import annotations

import dataclasses
import random
from datetime import date

import pytest

from forum.search.query import (
    MAX_CLAUSES,
    MAX_QUERY_CHARS,
    Clause,
    DateFilter,
    Filters,
    ParsedQuery,
    Phrase,
    Term,
    parse_query,
)


def clauses(text: str) -> list[list[str]]:
    """The clauses as lists of alternatives, phrases shown in quotes."""
    return [[str(a) for a in c.alternatives] for c in parse_query(text).clauses]


# ---------------------------------------------------------------------------------------------
# Words, phrases, OR, exclusions
# ---------------------------------------------------------------------------------------------


def test_words_are_separate_clauses_kept_as_typed():
    assert clauses("GK Spasms") == [["GK"], ["Spasms"]]
    q = parse_query("GK Spasms")
    assert q.clauses == (Clause((Term("GK"),)), Clause((Term("Spasms"),)))
    assert q.has_text and not q.is_empty and q.notices == ()


def test_edge_punctuation_is_trimmed_but_inner_symbols_survive():
    assert clauses("spasms, (headaches)! w&w nf2 2.5cm don't") == [
        ["spasms"],
        ["headaches"],
        ["w&w"],
        ["nf2"],
        ["2.5cm"],
        ["don't"],
    ]


def test_quoted_phrases():
    q = parse_query('"gamma knife" spasm')
    assert q.clauses[0].alternatives == (Phrase("gamma knife"),)
    assert q.clauses[0].alternatives[0].words == ("gamma", "knife")
    assert clauses("\u201cfacial  spasm\u201d") == [['"facial spasm"']]  # smart quotes, spaces


def test_unbalanced_quote_runs_to_the_end():
    assert clauses('tinnitus "ringing in the ears') == [["tinnitus"], ['"ringing in the ears"']]
    assert clauses('"') == []
    assert clauses('""') == []


def test_or_joins_neighbours():
    assert clauses("tinnitus OR ringing") == [["tinnitus", "ringing"]]
    assert clauses('gk OR "gamma knife" OR ck spasm') == [["gk", '"gamma knife"', "ck"], ["spasm"]]
    assert clauses("tinnitus | ringing") == [["tinnitus", "ringing"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OR tinnitus", [["tinnitus"]]),
        ("tinnitus OR", [["tinnitus"]]),
        ("tinnitus OR OR ringing", [["tinnitus", "ringing"]]),
        ("OR", []),
        ("OR OR OR", []),
    ],
)
def test_or_at_the_ends_or_doubled_is_harmless(text, expected):
    assert clauses(text) == expected


def test_lower_case_or_and_is_an_ordinary_word_and_and_is_a_no_op():
    assert clauses("surgery or radiation") == [["surgery"], ["or"], ["radiation"]]
    assert clauses("surgery AND radiation") == [["surgery"], ["radiation"]]


def test_exclusions():
    q = parse_query('pillow -feather -"no luck" NOT foam')
    assert clauses('pillow -feather -"no luck" NOT foam') == [["pillow"]]
    assert q.excluded == (Term("feather"), Phrase("no luck"), Term("foam"))


def test_lone_minus_is_ignored_and_inner_hyphens_are_text():
    assert clauses("- tinnitus -") == [["tinnitus"]]
    assert parse_query("- tinnitus -").excluded == ()
    assert clauses("side-effects") == [["side-effects"]]
    assert parse_query("--x").excluded == (Term("x"),)


def test_duplicates_are_dropped():
    assert clauses("gk gk GK") == [["gk"], ["GK"]]
    assert clauses("a OR a") == [["a"]]


def test_words_lists_terms_and_phrase_words():
    assert parse_query('gama "knife edge" OR ck -x').words() == ["gama", "knife", "edge", "ck"]


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


def test_board_author_status():
    f = parse_query("board:Tinnitus-Hearing @Jane author:rowan by:sky status:resolved").filters
    assert f.boards == ("tinnitus-hearing",)
    assert f.authors == ("Jane", "rowan", "sky")
    assert f.status == "resolved"
    assert parse_query("status:open").filters.status == "open"
    assert parse_query("status:SOLVED").filters.status == "resolved"
    assert parse_query("x status:open status:resolved").filters.status == "resolved"


def test_quoted_filter_values():
    f = parse_query('author:"Jane Doe" treatment:"gamma knife" symptom:"facial spasm"').filters
    assert f.authors == ("Jane Doe",)
    assert f.treatments == ("gamma knife",)
    assert f.symptoms == ("facial spasm",)


def test_vocabulary_filters_are_kept_as_entered():
    f = parse_query("treatment:GK symptoms:tinnitus condition:vs treatment:translab").filters
    assert f.treatments == ("GK", "translab")
    assert f.symptoms == ("tinnitus",)
    assert f.conditions == ("vs",)
    assert list(f.tags()) == [
        ("treatment", "GK"),
        ("treatment", "translab"),
        ("symptom", "tinnitus"),
        ("condition", "vs"),
    ]


def test_in_title():
    assert parse_query("in:title headache").filters.in_title is True
    assert parse_query("headache").filters.in_title is False


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        # before: strictly before the start of the period
        ("before:2009", date(2009, 1, 1)),
        ("before:2009-11", date(2009, 11, 1)),
        ("before:2009-11-05", date(2009, 11, 5)),
        ("before:2009-1-5", date(2009, 1, 5)),
    ],
)
def test_before_is_the_start_of_the_period(text, bound):
    before = parse_query(text).filters.before
    assert before is not None and before.bound == bound


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        # after: on or after the day following the end of the period
        ("after:2009", date(2010, 1, 1)),
        ("after:2009-11", date(2009, 12, 1)),
        ("after:2009-12", date(2010, 1, 1)),
        ("after:2009-11-05", date(2009, 11, 6)),
        ("after:2008-02-29", date(2008, 3, 1)),
        ("after:2009-12-31", date(2010, 1, 1)),
    ],
)
def test_after_is_the_day_after_the_period(text, bound):
    after = parse_query(text).filters.after
    assert after is not None and after.bound == bound


def test_repeated_dates_keep_the_narrowest_window():
    f = parse_query("before:2012 before:2010 after:2001 after:2005").filters
    assert f.before == DateFilter(date(2010, 1, 1), "2010")
    assert f.after == DateFilter(date(2006, 1, 1), "2005")


def test_an_empty_window_is_explained():
    q = parse_query("kettle after:2012 before:2011")
    assert q.filters.after and q.filters.before
    assert any("nothing can match" in n for n in q.notices)


# ---------------------------------------------------------------------------------------------
# Things that are dropped, with a notice
# ---------------------------------------------------------------------------------------------

DATE_HELP = "\u2018before:\u2019 takes a date like 2009, 2009-11 or 2009-11-05"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("before:2009-13", DATE_HELP),
        ("before:2009-02-30", DATE_HELP),
        ("before:20091", DATE_HELP),
        ("before:yesterday", DATE_HELP),
        ("before:", DATE_HELP),
        ("after:1066", "\u2018after:\u2019 takes a date"),
        ("status:maybe", "status:resolved or status:open"),
        ("author:", "needs a member's name"),
        ('author:""', "needs a member's name"),
        ("board:", "needs a board name"),
        ("treatment:", "needs a treatment"),
        ("symptom:!!", "needs a symptom"),
        ("in:body", "only understands in:title"),
        ("foo:bar", "doesn't know the filter \u2018foo:\u2019"),
        ('colour:"dark blue"', "doesn't know the filter \u2018colour:\u2019"),
        ("-board:radiation", "Excluding with \u2018-board:\u2019"),
    ],
)
def test_bad_filters_are_dropped_with_a_friendly_notice(text, fragment):
    q = parse_query(f"spasm {text}")
    assert any(fragment in notice for notice in q.notices), q.notices
    assert clauses(f"spasm {text}") == [["spasm"]]
    assert q.filters == Filters()


def test_the_exact_date_notice_text():
    assert parse_query("before:2009-13").notices == (DATE_HELP,)


def test_notices_are_not_repeated():
    assert len(parse_query("foo:1 foo:2 foo:3").notices) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://example.com/an/page", [["http://example.com/an/page"]]),
        ("https://nhs.uk/conditions", [["https://nhs.uk/conditions"]]),
        ("mailto:someone@example.org", [["mailto:someone@example.org"]]),
        ("Update: still waiting", [["Update"], ["still"], ["waiting"]]),
        ("to: my surgeon", [["to"], ["my"], ["surgeon"]]),
        ("at 10:30 today", [["at"], ["10:30"], ["today"]]),
        ("ratio 3:1", [["ratio"], ["3:1"]]),
    ],
)
def test_urls_times_and_trailing_colons_are_text(text, expected):
    q = parse_query(text)
    assert clauses(text) == expected
    assert q.notices == () and q.filters == Filters()


def test_email_addresses_are_not_author_filters():
    q = parse_query("jane@example.org")
    assert q.filters.authors == () and clauses("jane@example.org") == [["jane@example.org"]]


def test_lone_at_sign_is_ignored():
    assert parse_query("@").is_empty and parse_query("@").notices == ()


# ---------------------------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", "-", "--", '-""', "OR", "((((", "!!!", "&&", '"', "\x00", "\x00\x00 \x00", "@"],
)
def test_nothing_to_search_for_is_empty(text):
    q = parse_query(text)
    assert q.is_empty and not q.has_text


def test_nul_bytes_and_control_characters_separate_words():
    assert clauses("tin\x00nitus\x07 spasm\u200b") == [["tin"], ["nitus"], ["spasm"]]


def test_long_input_is_trimmed_with_a_notice():
    q = parse_query("spasm " * 2000)
    assert clauses("spasm " * 2000) == [["spasm"]]
    assert any(str(MAX_QUERY_CHARS) in n for n in q.notices)


def test_too_many_words_are_capped_with_a_notice():
    q = parse_query(" ".join(f"word{i}" for i in range(60)))
    assert len(q.clauses) == MAX_CLAUSES
    assert any(str(MAX_CLAUSES) in n for n in q.notices)


@pytest.mark.parametrize("seed", range(40))
def test_random_garbage_never_raises(seed):
    rnd = random.Random(seed)
    alphabet = "abcXYZ019 :-\"@'\\()|&!*~\x00\t\n\u00e9\u2019\u201c\ud800\U0001f600"
    text = "".join(rnd.choice(alphabet) for _ in range(5000))
    q = parse_query(text)
    assert isinstance(q, ParsedQuery)
    parse_query(q.to_text())  # and its canonical form parses too


def test_non_strings_do_not_raise():
    assert parse_query(None).is_empty  # type: ignore[arg-type]
    assert clauses(12345) == [["12345"]]  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The structure
# ---------------------------------------------------------------------------------------------


def test_everything_is_frozen_and_hashable():
    q = parse_query('gk OR "gamma knife" -surgery board:radiation before:2010')
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.clauses = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.filters.boards = ()  # type: ignore[misc]
    assert hash(q) == hash(parse_query('gk OR "gamma knife" -surgery board:radiation before:2010'))


def test_to_text_is_canonical_and_round_trips():
    text = (
        'GK OR "gamma knife" spasms -surgery -"facial palsy" board:Radiation @Jane '
        'author:"Jane Doe" status:solved treatment:gk symptom:"facial spasm" '
        "after:2009-1 before:2012 in:title"
    )
    q = parse_query(text)
    assert q.to_text() == (
        'GK OR "gamma knife" spasms -surgery -"facial palsy" board:radiation author:Jane '
        'author:"Jane Doe" status:resolved treatment:gk symptom:"facial spasm" '
        "after:2009-01 before:2012 in:title"
    )
    assert parse_query(q.to_text()) == q
    assert str(q) == q.to_text()


def test_describe_lists_active_filters():
    q = parse_query(
        "spasm -botox board:radiation @jane status:resolved treatment:GK after:2009 "
        "before:2012-06 in:title"
    )
    assert q.describe() == [
        "Board: radiation",
        "By: jane",
        "Status: resolved",
        "Treatment: GK",
        "After 2009",
        "Before 2012-06",
        "Titles only",
        "Without: botox",
    ]
    assert parse_query("spasm").describe() == []


def test_with_replacements_fixes_words_and_keeps_everything_else():
    q = parse_query('Gama knife "gama ray" board:radiation -botox')
    fixed = q.with_replacements({"gama": "gamma"})
    assert fixed.to_text() == 'gamma knife "gamma ray" -botox board:radiation'
    assert fixed.filters == q.filters
    assert q.with_replacements({}) is q


def test_filters_only_query_is_not_empty_but_has_no_text():
    q = parse_query("board:radiation")
    assert not q.is_empty and not q.has_text
    q = parse_query("-botox")
    assert not q.is_empty and not q.has_text


def test_hand_built_queries_are_supported():
    q = ParsedQuery(clauses=(Clause((Term("spasm"), Phrase("gamma knife"))),))
    assert q.to_text() == 'spasm OR "gamma knife"'
    assert not q.is_empty
