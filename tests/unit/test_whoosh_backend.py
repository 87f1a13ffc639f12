"""The Whoosh search backend, against small fictional patient posts in ``tmp_path`` indexes."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forum.search import whoosh_backend as wb
from forum.search.backend import IndexBusy, SearchBackend
from forum.search.documents import SearchDoc, SearchResults
from forum.search.query import Clause, ParsedQuery, Phrase, Term, parse_query
from forum.search.whoosh_backend import WhooshBackend, analyse, make_snippet

SYNONYMS = [
    ["gk", "gamma knife", "gammaknife"],
    ["an", "vs", "acoustic neuroma", "vestibular schwannoma"],
    ["hfs", "hemifacial spasm", "facial spasm"],
    ["decadron", "dexamethasone"],
    ["translab", "translabyrinthine"],
    ["mvd", "microvascular decompression"],
    ["w&w", "watch and wait"],
    ["botox", "botulinum toxin"],
]
VOCABULARY = {
    ("treatment", "gk"): "gamma-knife",
    ("treatment", "gamma knife"): "gamma-knife",
    ("treatment", "ck"): "cyberknife",
    ("symptom", "ringing"): "tinnitus",
    ("condition", "vs"): "acoustic-neuroma",
}
T0 = datetime(2015, 3, 1, 9, 30)


def lookup(kind: str, text: str) -> str | None:
    return VOCABULARY.get((kind, text.lower()))


def doc(post_id: int, title: str = "Untitled", body: str = "", **fields) -> SearchDoc:
    """A fictional post; by default the first post of its own thread, a day after the last."""
    fields.setdefault("thread_id", post_id)
    fields.setdefault("created_at", T0 + timedelta(days=post_id))
    fields.setdefault("is_first_post", fields["thread_id"] == post_id)
    return SearchDoc(
        post_id=post_id,
        thread_title=title,
        thread_slug=f"thread-{fields['thread_id']}",
        body_text=body,
        author=fields.pop("author", "heather"),
        board_slug=fields.pop("board_slug", "newly-diagnosed"),
        board_name=fields.pop("board_name", "Newly diagnosed"),
        **fields,
    )


@pytest.fixture
def backend(tmp_path) -> WhooshBackend:
    return WhooshBackend(
        tmp_path / "index", synonyms=SYNONYMS, vocabulary_lookup=lookup, rebuild_procs=1
    )


def search(backend: WhooshBackend, q: str | ParsedQuery, members: bool = False, **kw):
    query = parse_query(q) if isinstance(q, str) else q
    return backend.search(query, include_members_only=members, **kw)


def titles(backend: WhooshBackend, q: str, **kw) -> set[str]:
    return {hit.thread_title for hit in search(backend, q, **kw).hits}


def post_ids(backend: WhooshBackend, q: str, **kw) -> list[int]:
    return [hit.post_id for hit in search(backend, q, **kw).hits]


# ---------------------------------------------------------------------------------------------
# The index directory
# ---------------------------------------------------------------------------------------------


def test_is_a_search_backend(backend):
    assert isinstance(backend, SearchBackend)


def test_missing_directory_is_created_and_empty_index_searches(tmp_path):
    target = tmp_path / "does" / "not" / "exist"
    b = WhooshBackend(target, synonyms=SYNONYMS)
    assert target.is_dir() and (target / "CURRENT").is_file()
    assert b.doc_count() == 0
    results = search(b, "tinnitus")
    assert results.hits == [] and results.total_threads == 0 and results.pages == 1


def test_an_existing_empty_directory_is_fine(tmp_path):
    (tmp_path / "index").mkdir()
    assert WhooshBackend(str(tmp_path / "index"), synonyms=[]).doc_count() == 0


def test_a_pointer_to_a_missing_generation_starts_afresh(tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("ix-gone")
    b = WhooshBackend(tmp_path / "index", synonyms=[])
    b.add([doc(1, "Fresh", "A fresh start.")])
    assert titles(b, "fresh") == {"Fresh"}


def test_two_backends_share_one_index(tmp_path, backend):
    other = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS)
    backend.add([doc(1, "Shared", "Written by one worker.")])
    assert titles(other, "worker") == {"Shared"}
    other.add([doc(2, "Second", "Written by another worker.")])
    assert titles(backend, "worker") == {"Shared", "Second"}


def test_importing_the_backend_emits_no_warnings(tmp_path):
    # A fresh bytecode cache so Whoosh's modules are compiled (SyntaxWarnings show up then).
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import forum.search.whoosh_backend"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------


def test_analysis_keeps_short_words_and_symbols():
    assert analyse("AN GK CK VS NF2 w&w an the a") == [
        "an",
        "gk",
        "ck",
        "vs",
        "nf2",
        "w&w",
        "an",
        "the",
        "a",
    ]
    assert analyse("Café naïve Ménière's") == ["cafe", "naiv", "menier"]
    assert analyse("NF-2 covid-19 side-effects 2-3") == [
        "nf2",
        "covid19",
        "side",
        "effect",
        "2",
        "3",
    ]
    assert analyse("spasms headaches treated treating") == ["spasm", "headach", "treat", "treat"]
    assert analyse("Spasms", stem=False) == ["spasms"]


@pytest.fixture
def diary(backend) -> WhooshBackend:
    backend.add(
        [
            doc(1, "Evening spasms", "My left eyelid spasms every evening since radiation."),
            doc(2, "Morning headache", "Woke with a headache again, third day running."),
            doc(3, "Treated in June", "I was treated with proton therapy in June."),
            doc(4, "Cafe meetup", "We met at the Café Rouge near the hospital."),
            doc(5, "NF2 clinic", "NF2 clinic today, they mentioned CK for the small one."),
            doc(6, "An update", "An MRI is booked for an afternoon in May."),
            doc(7, "Diagnosed with AN", "They found an AN on the left, 8mm. We chose w&w."),
            doc(8, "Stop words", "To be or not to be, the MRI is the thing."),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("spasm", {"Evening spasms"}),
        ("SPASMS", {"Evening spasms"}),
        ("headaches", {"Morning headache"}),
        ("treating", {"Treated in June"}),
        ("treat", {"Treated in June"}),
        ("cafe", {"Cafe meetup"}),
        ("café", {"Cafe meetup"}),
        ("CAFÉ", {"Cafe meetup"}),
        ("nf2", {"NF2 clinic"}),
        ("NF-2", {"NF2 clinic"}),
        ("ck", {"NF2 clinic"}),
        ("CK", {"NF2 clinic"}),
        ("w&w", {"Diagnosed with AN"}),
        ("watch and wait", {"Diagnosed with AN"}),
        # no stop words: ordinary little words are searchable ...
        ('"to be or not to be"', {"Stop words"}),
        ("the thing", {"Stop words"}),
        # ... and "an" in quotes is the word; unquoted it is the tumour, written in capitals
        ('"an mri"', {"An update"}),
        ("AN", {"Diagnosed with AN"}),
        ("an", {"Diagnosed with AN"}),
    ],
)
def test_what_patients_type_finds_what_they_mean(diary, q, expected):
    assert titles(diary, q) == expected


def test_treatment_and_treated_are_different_words(diary):
    # Snowball keeps derivational nouns apart from the verb: "treatment" isn't "treated".
    assert titles(diary, "treatment") == set()


# ---------------------------------------------------------------------------------------------
# Synonyms
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def synonyms(backend) -> WhooshBackend:
    backend.add(
        [
            doc(1, "Frame day", "Had gamma knife on Tuesday. The facial spasm began a week on."),
            doc(2, "GK in 2019", "GK went fine, no spasms at all."),
            doc(3, "Small VS", "My VS is 6mm, the consultant is relaxed."),
            doc(4, "Vestibular schwannoma results", "It has grown 1mm."),
            doc(5, "Versus", "Surgery vs radiation, an impossible choice."),
            doc(6, "Steroids", "The dexamethasone made me ravenous."),
            doc(7, "HFS and botox", "Botulinum toxin every three months for my HFS."),
            doc(8, "After translabyrinthine surgery", "Balance is coming back slowly."),
            doc(9, "Gamma rays and a knife", "The knife was sharp; the gamma camera was not."),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("GK spasms", {"Frame day", "GK in 2019"}),
        ("gamma knife spasms", {"Frame day", "GK in 2019"}),
        ("gammaknife", {"Frame day", "GK in 2019"}),
        ("acoustic neuroma", {"Small VS", "Vestibular schwannoma results"}),
        ("acoustic neuromas", {"Small VS", "Vestibular schwannoma results"}),
        ("VS", {"Small VS", "Vestibular schwannoma results"}),  # not "Surgery vs radiation"
        ("decadron", {"Steroids"}),
        ("hemifacial spasm", {"Frame day", "HFS and botox"}),
        ("botox", {"HFS and botox"}),
        ("translab", {"After translabyrinthine surgery"}),
        ("translab balance", {"After translabyrinthine surgery"}),
    ],
)
def test_synonyms_expand_at_query_time(synonyms, q, expected):
    assert titles(synonyms, q) == expected


def test_quoted_phrases_are_not_expanded_and_keep_word_order(synonyms):
    assert titles(synonyms, '"gamma knife"') == {"Frame day"}
    assert titles(synonyms, '"GK"') == {"GK in 2019"}
    assert titles(synonyms, '"knife gamma"') == set()
    assert titles(synonyms, "gamma knife") >= {"Frame day", "GK in 2019"}
    assert "Gamma rays and a knife" in titles(synonyms, "gamma knife")  # plain words still AND
    assert titles(synonyms, '"vs"') == {"Small VS", "Versus"}


def test_synonyms_reached_by_the_abbreviation_are_marked(synonyms):
    snippets = {h.post_id: h.snippet_html for h in search(synonyms, "GK").hits}
    assert "<mark>gamma</mark> <mark>knife</mark>" in snippets[1]
    assert "<mark>GK</mark>" in snippets[2]
    snippets = {h.post_id: h.snippet_html for h in search(synonyms, "acoustic neuroma").hits}
    assert "<mark>VS</mark>" in snippets[3]
    # abbreviations that are also English words are only marked in capitals
    caps = frozenset({"vs"})
    assert make_snippet("Surgery vs radiation.", "t", frozenset(), caps) == "Surgery vs radiation."
    assert make_snippet("My VS is 6mm.", "t", frozenset(), caps) == "My <mark>VS</mark> is 6mm."


def test_new_synonyms_work_on_an_index_built_with_the_old_ones(tmp_path):
    old = WhooshBackend(tmp_path / "index", synonyms=[["gk", "gamma knife"]])
    old.add([doc(1, "Frame", "Microvascular decompression next month."), doc(2, "Other", "MVD")])
    new = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS)
    # "microvascular decompression" was not indexed as a phrase term: matched by position.
    assert titles(new, "mvd") == {"Frame", "Other"}


# ---------------------------------------------------------------------------------------------
# Did you mean
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def spelling(backend) -> WhooshBackend:
    backend.add(
        [
            doc(1, "Gamma knife day", "The gamma knife frame was fine."),
            doc(2, "Hemifacial spasm", "Hemifacial spasm since the operation."),
            doc(3, "Tinnitus", "The tinnitus is loud tonight.", board_slug="tinnitus"),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("q", "suggestion"),
    [
        ("gama knife", "gamma knife"),
        ("hemifacal", "hemifacial"),
        ("hemifacal spasm", "hemifacial spasm"),
        ("tinitus board:tinnitus", "tinnitus board:tinnitus"),
        ("gamma knife", None),
        ("zzyzzx", None),  # nothing close
        ("board:tinnitus", None),
        ('"gama knife"', '"gamma knife"'),
    ],
)
def test_did_you_mean(spelling, q, suggestion):
    assert search(spelling, q).suggestion == suggestion


def test_suggestions_only_when_the_correction_finds_something(spelling):
    # "tinitus" corrects to "tinnitus", but not on a board where that finds nothing either.
    assert search(spelling, "tinitus board:nowhere").suggestion is None


# ---------------------------------------------------------------------------------------------
# Filters and visibility
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def kettles(backend) -> WhooshBackend:
    backend.add(
        [
            doc(
                1,
                "Kettle one",
                "The kettle is loud.",
                board_slug="radiation",
                author="Rowan",
                created_at=datetime(2009, 11, 30, 23, 59),
                treatments=("gamma-knife",),
            ),
            doc(
                2,
                "Kettle two",
                "My kettle hums.",
                board_slug="surgery",
                author="Blake Jones",
                created_at=datetime(2009, 12, 1, 0, 0),
                status="resolved",
                outcome="improved",
                outcome_summary="The hum faded.",
                symptoms=("tinnitus",),
                conditions=("acoustic-neuroma",),
            ),
            doc(
                3,
                "Kettle three",
                "A kettle whistles.",
                board_slug="radiation",
                author="Sky",
                created_at=datetime(2012, 1, 1),
                treatments=("cyberknife", "gamma-knife"),
            ),
            doc(4, "Teapot", "Kettle, kettle, kettle.", created_at=datetime(2013, 1, 1)),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("kettle board:radiation", {"Kettle one", "Kettle three"}),
        ("kettle board:RADIATION board:surgery", {"Kettle one", "Kettle two", "Kettle three"}),
        ("kettle @rowan", {"Kettle one"}),
        ('kettle author:"blake jones"', {"Kettle two"}),
        ("kettle @nobody", set()),
        ("kettle status:resolved", {"Kettle two"}),
        ("kettle status:open", {"Kettle one", "Kettle three", "Teapot"}),
        ("kettle treatment:GK", {"Kettle one", "Kettle three"}),  # through the vocabulary
        ('kettle treatment:"Gamma Knife"', {"Kettle one", "Kettle three"}),
        ("kettle treatment:gamma-knife treatment:ck", {"Kettle three"}),
        ("kettle treatment:cyberknife", {"Kettle three"}),  # no vocabulary entry: slugified
        ("kettle symptom:ringing", {"Kettle two"}),
        ("kettle condition:vs", {"Kettle two"}),
        ("kettle treatment:unheard-of", set()),
        ("kettle before:2009-12", {"Kettle one"}),
        ("kettle after:2009-11", {"Kettle two", "Kettle three", "Teapot"}),
        ("kettle after:2009-11-30", {"Kettle two", "Kettle three", "Teapot"}),
        ("kettle before:2009-12-01", {"Kettle one"}),
        ("kettle after:2009-10 before:2012", {"Kettle one", "Kettle two"}),
        ("kettle after:2012 before:2011", set()),
        ("kettle in:title", {"Kettle one", "Kettle two", "Kettle three"}),
        ("hum faded", {"Kettle two"}),  # the outcome summary is searchable
        ("board:radiation", {"Kettle one", "Kettle three"}),  # filters alone
        ("@sky", {"Kettle three"}),
        ("-kettle", set()),
        ("board:radiation -whistles", {"Kettle one"}),
    ],
)
def test_filters(kettles, q, expected):
    assert titles(kettles, q) == expected


def test_filters_alone_list_the_newest_threads_first(kettles):
    assert [h.thread_title for h in search(kettles, "board:radiation").hits] == [
        "Kettle three",
        "Kettle one",
    ]


def test_members_only_posts_are_never_shown_to_guests(backend):
    backend.add(
        [
            doc(1, "Lounge chat", "Quietly anxious about scans.", members_only=True),
            doc(2, "Open chat", "Anxious about the drive."),
            doc(3, "Open chat", "Very anxious, anxious, anxious.", thread_id=2, members_only=True),
            doc(4, "Lounge only", "Nothing public here.", members_only=True),
        ]
    )
    guest = search(backend, "anxious")
    assert [(h.thread_title, h.post_id) for h in guest.hits] == [("Open chat", 2)]
    assert guest.total_threads == 1
    assert titles(backend, "lounge") == set()
    assert titles(backend, "board:newly-diagnosed") == {"Open chat"}
    member = search(backend, "anxious", members=True)
    assert {h.post_id for h in member.hits} == {1, 3}
    assert member.total_threads == 2
    assert titles(backend, "lounge", members=True) == {"Lounge chat", "Lounge only"}


def test_deleted_posts_disappear(backend):
    backend.add([doc(1, "Heron", "A heron."), doc(2, "Heron", "Another heron.", thread_id=1)])
    backend.delete([2])
    assert post_ids(backend, "heron") == [1]
    backend.delete([1, 12345])
    assert search(backend, "heron").total_threads == 0


# ---------------------------------------------------------------------------------------------
# Results: grouping, paging, order, snippets
# ---------------------------------------------------------------------------------------------


def test_one_hit_per_thread_the_best_post(backend):
    backend.add(
        [
            doc(1, "Balance", "Balance is a little better.", thread_id=1),
            doc(2, "Balance", "Balance, balance, balance: vestibular rehab.", thread_id=1),
            doc(3, "Balance", "Thanks all.", thread_id=1),
            doc(4, "Dizzy", "My balance went after surgery, and my hearing too.", thread_id=2),
        ]
    )
    results = search(backend, "balance")
    assert results.total_threads == 2
    assert [(h.thread_id, h.post_id) for h in results.hits] == [(1, 2), (2, 4)]
    assert results.hits[0].score > results.hits[1].score > 0


def test_pages_cover_every_thread_once(backend):
    backend.add(
        doc(i, f"Scan {i}", f"MRI scan number {i}, all stable.", thread_id=1000 + i % 23)
        for i in range(1, 70)
    )
    seen: list[int] = []
    for page in (1, 2, 3):
        results = search(backend, "scan", page=page, per_page=10)
        assert (results.total_threads, results.pages, results.page) == (23, 3, page)
        seen += [h.thread_id for h in results.hits]
    assert sorted(seen) == list(range(1000, 1023))
    assert search(backend, "scan", page=4, per_page=10).hits == []
    # the same pages again, now from the result cache
    pages = [search(backend, "scan", page=p, per_page=10) for p in (1, 2, 3)]
    again = [h.thread_id for results in pages for h in results.hits]
    assert again == seen


@pytest.mark.parametrize(
    ("kw", "page", "per_page"),
    [
        ({"page": 0}, 1, 20),
        ({"page": -2}, 1, 20),
        ({"page": "x"}, 1, 20),
        ({"per_page": 0}, 1, 1),
        ({"per_page": 10**6}, 1, 100),
        ({"per_page": None}, 1, 20),
        ({"sort": "sideways"}, 1, 20),
    ],
)
def test_odd_paging_is_clamped(backend, kw, page, per_page):
    backend.add([doc(1, "Scan", "A scan.")])
    results = search(backend, "scan", **kw)
    assert (results.page, results.per_page, results.total_threads) == (page, per_page, 1)


def test_newest_first_uses_each_threads_newest_matching_post(backend):
    backend.add(
        [
            doc(1, "Old thread", "Robin song.", created_at=datetime(2015, 1, 1)),
            doc(2, "Old thread", "Robin again.", thread_id=1, created_at=datetime(2021, 1, 1)),
            doc(3, "Old thread", "No birds.", thread_id=1, created_at=datetime(2022, 1, 1)),
            doc(4, "Middle thread", "Robin, robin, robin.", created_at=datetime(2018, 1, 1)),
            doc(5, "New thread", "A robin.", created_at=datetime(2020, 1, 1)),
        ]
    )
    results = search(backend, "robin", sort="newest")
    assert [(h.thread_title, h.post_id) for h in results.hits] == [
        ("Old thread", 2),
        ("New thread", 5),
        ("Middle thread", 4),
    ]
    assert results.hits[0].created_at == datetime(2021, 1, 1)
    assert search(backend, "robin").hits[0].thread_title == "Middle thread"


def test_hits_carry_what_the_results_page_shows(backend):
    aware = datetime(2019, 5, 6, 7, 8, tzinfo=UTC)
    backend.add(
        [
            doc(
                7,
                "Resolved: vertigo",
                "The vertigo stopped after rehab.",
                thread_id=3,
                author="Ash",
                board_slug="after-surgery",
                board_name="After surgery",
                status="resolved",
                outcome="improved",
                created_at=aware,
            )
        ]
    )
    (hit,) = search(backend, "vertigo").hits
    assert (hit.post_id, hit.thread_id, hit.thread_slug) == (7, 3, "thread-3")
    assert (hit.author, hit.board_slug, hit.board_name) == ("Ash", "after-surgery", "After surgery")
    assert (hit.status, hit.outcome, hit.created_at) == ("resolved", "improved", aware)
    assert search(backend, "after:2019-05-05 before:2019-05-07 vertigo").total_threads == 1


def test_snippets_are_escaped_marked_and_short(backend):
    filler = " ".join(f"word{i}" for i in range(120))
    backend.add(
        [
            doc(1, "Tags", '<b>Tinnitus</b> & <script>alert(1)</script> "quoted" text'),
            doc(2, "Long", f"{filler} then the tinnitus got louder {filler}"),
            doc(3, "Tinnitus in the title", "Nothing in the body matches."),
            doc(4, "Tinnitus empty body", ""),
        ]
    )
    snippets = {h.thread_title: h.snippet_html for h in search(backend, "tinnitus").hits}
    tags = snippets["Tags"]
    assert tags.startswith("&lt;b&gt;<mark>Tinnitus</mark>&lt;/b&gt; &amp; &lt;script&gt;")
    long = snippets["Long"]
    assert "<mark>tinnitus</mark>" in long and long.startswith("…") and long.endswith("…")
    visible = long.replace("<mark>", "").replace("</mark>", "")
    assert 150 <= len(visible) <= 210
    assert snippets["Tinnitus in the title"] == "Nothing in the body matches."
    assert snippets["Tinnitus empty body"] == "<mark>Tinnitus</mark> empty body"


def test_snippet_prefers_the_densest_passage():
    body = "Spasm once. " + "Nothing to see here at all. " * 12 + "Spasm, spasm and spasm again."
    snippet = make_snippet(body, "t", frozenset(analyse("spasm")))
    assert snippet.count("<mark>") == 3 and snippet.startswith("…")


def test_in_title_searches_titles_only(backend):
    backend.add(
        [
            doc(1, "Headaches after translab", "Mostly in the mornings."),
            doc(2, "Mornings", "Headaches every morning.", thread_id=2),
            doc(3, "Mornings", "Me too.", thread_id=2),
        ]
    )
    assert titles(backend, "headache in:title") == {"Headaches after translab"}
    assert titles(backend, "morning in:title") == {"Mornings"}
    assert titles(backend, "headache") == {"Headaches after translab", "Mornings"}


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _segments(backend) -> dict[str, int]:
    ix = backend._index(backend._read_pointer())
    return {seg.segment_id(): seg.doc_count() for seg in ix._segments()}


def test_a_commit_never_rewrites_the_large_segments(backend, monkeypatch):
    """Whoosh's own MERGE_SMALL merged every segment in this state (ten of 30 documents and a
    new one of 1: its threshold, fib(15) = 610, is over the whole index's 301), so on a real
    index one post's commit could rewrite all of it. Segments at or over the cap stay."""
    monkeypatch.setattr(wb, "_MERGE_CAP_DOCS", 20)
    for chunk in range(10):
        backend.add([doc(chunk * 30 + i, f"T{chunk}", "Pebble words.") for i in range(1, 31)])
    large = _segments(backend)
    assert len(large) == 10 and set(large.values()) == {30}
    for post_id in range(1001, 1031):  # thirty posts, one commit each
        backend.add([doc(post_id, "Later", "Pebble, later.")])
    after = _segments(backend)
    assert {sid: n for sid, n in after.items() if sid in large} == large
    small = [n for sid, n in after.items() if sid not in large]
    assert sum(small) == 30 and len(small) < 10  # the small ones were merged among themselves
    assert backend.doc_count() == 330
    assert search(backend, "pebble").total_threads == 330  # (each post its own thread here)


def test_add_replaces_by_post_id(backend):
    backend.add([doc(1, "Draft", "Marigolds in pots."), doc(2, "Other", "Daisies.")])
    backend.add([doc(1, "Edited", "Sunflowers now.")])
    assert backend.doc_count() == 2
    assert titles(backend, "marigolds") == set()
    assert titles(backend, "sunflowers") == {"Edited"}
    backend.add([doc(3, "Twice", "First go."), doc(3, "Twice", "Second go.")])
    assert backend.doc_count() == 3 and titles(backend, "second") == {"Twice"}
    assert titles(backend, "first") == set()
    backend.add([])
    backend.delete([])
    assert backend.doc_count() == 3


def test_awkward_documents_are_indexed(backend):
    backend.add(
        [
            doc(1, "Nul", "before\x00after"),
            doc(2, "Surrogate \ud800", "odd \udfff words"),
            doc(3, "Huge", "avocet " * 20_000),
            doc(4, "", "Untitled owl."),
            doc(5, "Comma, author", "Kestrel.", author="Smith, J", board_slug=""),
        ]
    )
    assert backend.doc_count() == 5
    assert titles(backend, "avocet") == {"Huge"}
    assert titles(backend, "owl") == {""}
    assert titles(backend, "odd words") == {"Surrogate ?"}
    assert titles(backend, 'kestrel author:"smith, j"') == {"Comma, author"}


def test_rebuild_swaps_in_a_fresh_index_and_reports_progress(backend, tmp_path):
    backend.add([doc(1, "Before", "Old words only.")])
    calls: list[int] = []
    fresh = (doc(i, f"After {i}", "Brand new words.") for i in range(10, 2510))
    assert backend.rebuild(fresh, total=2500, progress=calls.append) == 2500
    assert calls == [1000, 2000, 2500]
    assert backend.doc_count() == 2500
    assert titles(backend, "old") == set()
    assert search(backend, "brand new").total_threads == 2500
    generations = [p for p in (tmp_path / "index").iterdir() if p.name.startswith("ix-")]
    assert len(generations) == 2  # the live one, and the previous one for slow readers
    backend.rebuild([doc(1, "Third", "Third generation.")])
    generations = [p for p in (tmp_path / "index").iterdir() if p.name.startswith("ix-")]
    assert len(generations) == 2


def test_rebuild_in_several_segments_and_worker_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(wb, "_REBUILD_CHUNK", 40)
    b = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS, rebuild_procs=2)
    docs = [
        doc(i, f"Thread {i // 5}", f"Post {i} about gamma knife and tinnitus.", thread_id=i // 5)
        for i in range(1, 301)
    ]
    assert b.rebuild(docs) == 300
    assert b.doc_count() == 300
    _name, s = b._searcher()
    assert len(s.leaf_searchers()) >= 7
    results = search(b, "GK tinnitus", per_page=100)
    assert results.total_threads == len({d.thread_id for d in docs})
    assert len({h.thread_id for h in results.hits}) == len(results.hits) == 61
    b.add([doc(1, "Thread 0", "Edited: nothing about that now.", thread_id=0)])
    b.delete([2])
    assert b.doc_count() == 299
    assert post_ids(b, "edited") == [1]
    hits = search(b, "tinnitus", per_page=100, sort="newest").hits
    assert not {1, 2} & {h.post_id for h in hits}
    assert hits[0].post_id == 300


def test_failed_rebuild_keeps_the_live_index(backend, tmp_path):
    backend.add([doc(1, "Survivor", "Still here.")])

    def broken():
        yield doc(2, "Half", "Half way.")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(broken())
    assert titles(backend, "still") == {"Survivor"}
    assert len([p for p in (tmp_path / "index").iterdir() if p.name.startswith("ix-")]) == 1


def test_searching_works_during_a_rebuild_and_writers_are_told_to_wait(backend, tmp_path):
    backend.add([doc(1, "Live", "The live index.")])
    reader = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS)
    writer = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS, write_timeout=0.2)
    seen: list[set[str]] = []

    def docs():
        yield doc(5, "Rebuilt", "The rebuilt index.")
        seen.append(titles(reader, "index"))  # mid-rebuild: the old generation answers
        with pytest.raises(IndexBusy):
            writer.add([doc(6, "Late", "Queued by the caller, retried later.")])
        with pytest.raises(IndexBusy):
            writer.delete([1])

    backend.rebuild(docs())
    assert seen == [{"Live"}]
    assert titles(reader, "index") == {"Rebuilt"}
    writer.add([doc(6, "Late", "Queued by the caller, retried later.")])  # the retry
    assert titles(reader, "retried") == {"Late"}


def test_clear_empties_the_index_which_stays_usable(backend):
    backend.add([doc(1, "Swift", "Swifts screaming.")])
    backend.clear()
    assert backend.doc_count() == 0
    assert search(backend, "swifts").total_threads == 0
    backend.add([doc(2, "Swallow", "Swallows back.")])
    assert titles(backend, "swallows") == {"Swallow"}


def test_results_follow_writes_even_with_caches(backend, monkeypatch):
    monkeypatch.setattr(wb, "_LEAF_CACHE_MIN_DOCS", 1)
    backend.add([doc(i, f"Owl {i}", "Tawny owl calling.") for i in range(1, 6)])
    assert search(backend, "owl").total_threads == 5
    assert search(backend, "owl").total_threads == 5  # cached
    backend.delete([3])
    assert search(backend, "owl").total_threads == 4
    backend.add([doc(9, "Owl 9", "Barn owl.")])
    assert search(backend, "owl").total_threads == 5
    assert 3 not in post_ids(backend, "owl")


# ---------------------------------------------------------------------------------------------
# Locks and processes
# ---------------------------------------------------------------------------------------------


def _hold_write_lock(index_dir: Path):
    name = (index_dir / "CURRENT").read_text()
    lock = wb.FileStorage(str(index_dir / name)).lock("MAIN_WRITELOCK")
    assert lock.acquire()
    return lock


def test_a_held_writer_lock_becomes_index_busy_after_a_short_wait(tmp_path):
    b = WhooshBackend(tmp_path / "index", synonyms=SYNONYMS, write_timeout=0.3)
    b.add([doc(1, "Before", "Indexed before the lock.")])
    lock = _hold_write_lock(tmp_path / "index")  # as another process's writer would
    try:
        started = time.monotonic()
        with pytest.raises(IndexBusy):
            b.add([doc(2, "Blocked", "Waiting.")])
        assert time.monotonic() - started < 2
        with pytest.raises(IndexBusy):
            b.delete([1])
        assert titles(b, "indexed") == {"Before"}  # searching while the writer is busy
    finally:
        lock.release()
    b.add([doc(2, "Blocked", "Waiting no more.")])
    assert titles(b, "waiting") == {"Blocked"}


def _add_in_another_process(index_dir: str, worker: int, count: int) -> int:
    """Adds ``count`` posts one at a time, retrying when the index is busy (as the indexing
    queue does).  Returns how many IndexBusy retries it needed."""
    b = WhooshBackend(index_dir, synonyms=SYNONYMS, write_timeout=0.5)
    retries = 0
    for i in range(count):
        post_id = worker * 1000 + i
        post = doc(post_id, f"Worker {worker}", f"Concurrent post w{worker}n{i} about spasms.")
        while True:
            try:
                b.add([post])
                break
            except IndexBusy:
                retries += 1
                time.sleep(0.05)
    return retries


@pytest.mark.slow
def test_several_processes_write_at_once_and_every_post_is_searchable(tmp_path):
    index_dir = str(tmp_path / "index")
    WhooshBackend(index_dir, synonyms=SYNONYMS)
    workers, per_worker = 4, 10
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.starmap(_add_in_another_process, [(index_dir, w, per_worker) for w in range(workers)])
    b = WhooshBackend(index_dir, synonyms=SYNONYMS)
    assert b.doc_count() == workers * per_worker
    results = search(b, "concurrent spasms", per_page=100)
    assert results.total_threads == workers * per_worker
    for w in range(workers):
        for i in range(per_worker):
            assert post_ids(b, f"w{w}n{i}") == [w * 1000 + i]


# ---------------------------------------------------------------------------------------------
# Odd input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "",
        "-",
        "OR",
        '"unbalanced',
        "a" * 5000,
        "nul\x00byte",
        "<script>alert(1)</script>",
        "foo:bar spasm",
        "\ud800 lone surrogate",
        "😀 emoji",
        "日本語",
        " ".join(["gk"] * 40),
        " OR ".join(["spasm"] * 30),
        'author:"\ud800"',
    ],
)
def test_odd_queries_never_raise(backend, q):
    backend.add([doc(1, "Spasm diary", "Spasms, GK, and <b>bold</b> claims.")])
    results = search(backend, q)
    assert isinstance(results, SearchResults)
    assert all("<b>" not in hit.snippet_html for hit in results.hits)


@pytest.mark.parametrize(
    "query",
    [
        ParsedQuery(clauses=(Clause((Term("'"),)),)),
        ParsedQuery(clauses=(Clause((Phrase(""),)),)),
        ParsedQuery(clauses=(Clause((Term("\x00"), Phrase("!!"))),)),
        ParsedQuery(clauses=(Clause((Term("spasm"),)),), excluded=(Term("'"), Phrase("!"))),
    ],
)
def test_hand_built_queries_never_raise(backend, query):
    backend.add([doc(1, "Spasm diary", "Spasms again.")])
    assert isinstance(search(backend, query), SearchResults)


def test_notices_are_passed_through(backend):
    backend.add([doc(1, "Dunlin", "Dunlin flocks.")])
    results = search(backend, "dunlin foo:bar before:2009-13")
    assert [h.thread_title for h in results.hits] == ["Dunlin"]
    assert len(results.notices) == 2


def test_close_releases_files_and_the_backend_reopens_them(backend):
    backend.add([doc(1, "Curlew", "A curlew calling.")])
    assert titles(backend, "curlew") == {"Curlew"}
    backend.close()
    backend.close()
    assert titles(backend, "curlew") == {"Curlew"}


def test_threads_search_while_another_writes(backend):
    import threading

    backend.add([doc(i, f"Wren {i}", "A wren in the hedge.") for i in range(1, 11)])
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(15):
                assert search(backend, "wren").total_threads >= 10
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(11, 16):
        backend.add([doc(i, f"Wren {i}", "Another wren.")])
    for t in threads:
        t.join()
    assert errors == []
    assert search(backend, "wren").total_threads == 15


# ---------------------------------------------------------------------------------------------
# The bulk writer and the array ranking
# ---------------------------------------------------------------------------------------------


def test_a_rebuilt_index_answers_exactly_like_one_written_post_by_post(tmp_path):
    """``rebuild``'s bulk writer (flat token arrays, NumPy grouping, its own block writer)
    must write the same postings -- frequencies, positions, phrase terms -- as Whoosh's."""
    bodies = [
        "Gamma knife in 2015; the GK team said AN growth stopped. Tinnitus tinnitus tinnitus.",
        "Watch and wait for my VS, hearing loss on the left. Hearing aids help, loss stays.",
        "Translab for the acoustic neuroma: facial spasm after, then botulinum toxin.",
        "Café au lait spots? NF2 clinic says no. Don't worry, w&w is fine — 2.5cm tumour.",
        "The the the the the and an an AN AN vs VS hemifacial spasm hemifacial spasm.",
        "",
    ]
    docs = [
        doc(
            i,
            f"Thread {i % 7}: {bodies[(i * 3) % len(bodies)][:30]}",
            " ".join(bodies[(i + k) % len(bodies)] for k in range(1 + i % 4)),
            thread_id=i % 7,
            members_only=i % 9 == 0,
            treatments=("gamma-knife",) if i % 2 else (),
            outcome_summary="Resolved with GK." if i % 5 == 0 else "",
        )
        for i in range(1, 121)
    ]
    bulk = WhooshBackend(tmp_path / "bulk", synonyms=SYNONYMS, rebuild_procs=1)
    bulk.rebuild(docs)
    one_by_one = WhooshBackend(tmp_path / "add", synonyms=SYNONYMS)
    one_by_one.add(docs)
    queries = [
        "the",
        "tinnitus",
        "AN",
        "GK spasms",
        '"hearing loss"',
        '"the the"',
        "hearing -loss",
        "gamma knife",
        "hemifacial spasm",
        "in:title thread",
        "w&w",
        "nf2",
        "cafe",
        "treatment:gamma-knife resolved",
        '"facial spasm" botulinum',
        "2.5cm",
    ]
    for q in queries:
        for members in (False, True):
            for sort in ("relevance", "newest"):
                a = search(bulk, q, members=members, sort=sort, per_page=100)
                b = search(one_by_one, q, members=members, sort=sort, per_page=100)
                assert a.total_threads == b.total_threads, q
                assert [(h.post_id, h.score, h.snippet_html) for h in a.hits] == [
                    (h.post_id, h.score, h.snippet_html) for h in b.hits
                ], q


def _reference_top(mask, scores, threads, created, need):
    """Each thread's best post (highest key, then lowest docnum), best first: plain Python."""
    docs = [d for d in range(len(mask)) if mask[d]]
    key = (lambda d: scores[d]) if scores is not None else (lambda d: float(created[d]))
    out, seen = [], set()
    for d in sorted(docs, key=lambda d: (-key(d), d)):
        if threads[d] not in seen:
            seen.add(threads[d])
            out.append((d, int(threads[d])))
    return out[:need], len(seen)


@pytest.mark.parametrize("seed", range(12))
def test_array_ranking_matches_a_plain_python_reference(seed):
    import numpy as np

    from forum.search import ranking

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    mask = rng.random(n) < rng.random()
    # few distinct scores and dates, so ties are common
    scores = rng.integers(0, 6, n).astype(np.float64) / 3 if seed % 2 else None
    created = rng.integers(0, 40, n).astype(np.int64) * 1_000_000
    threads = rng.integers(0, max(1, n // int(rng.integers(1, 30))), n).astype(np.int64)
    need = int(rng.integers(1, 60))
    part = ranking.leaf_result(mask, scores, threads, created, need)
    expected, total = _reference_top(mask, scores, threads, created, need)
    assert [(d, t) for _key, d, t, _score in part.cands] == expected
    assert len(part.threads) == total
    assert part.complete == (len(expected) >= total)
