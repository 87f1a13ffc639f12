"""One search contract, every backend: the same fictional posts, the same answers.

Each test runs against the Whoosh backend (an index in ``tmp_path``) and the PostgreSQL one
(only when ``TEST_DATABASE_URL`` points at a throwaway PostgreSQL database; the search tables
come from the migrations).  Documents are fed to the backends directly, so these tests say
nothing about how posts become documents (``test_search.py`` covers that through the web).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from forum.search.backend import SearchBackend
from forum.search.documents import SearchDoc, SearchResults
from forum.search.query import Clause, ParsedQuery, Phrase, Term, parse_query
from forum.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()
SYNONYMS = VOCABULARY.synonym_groups()
NO_POSTGRES = (
    "TEST_DATABASE_URL is not set: the postgres backend is tested only against a throwaway "
    "PostgreSQL database"
)


def lookup(kind: str, value: str) -> str | None:
    term = VOCABULARY.lookup(kind, value)
    return term.slug if term else None


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


def _migrate(url: str, instance) -> None:
    """Bring the database to the latest revision, as the app's own test fixtures do."""
    from flask_migrate import upgrade

    from config import TestingConfig
    from forum import create_app
    from forum.extensions import db

    config = type(
        "SearchContractConfig",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(instance / "index")},
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(NO_POSTGRES)
    engine = create_engine(url)
    if engine.dialect.name != "postgresql":
        pytest.skip("TEST_DATABASE_URL is not a PostgreSQL database")
    yield engine
    engine.dispose()


@pytest.fixture(params=["whoosh", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path) -> Iterator[SearchBackend]:
    if request.param == "whoosh":
        from forum.search.whoosh_backend import WhooshBackend

        yield WhooshBackend(
            tmp_path / "index", synonyms=SYNONYMS, vocabulary_lookup=lookup, rebuild_procs=1
        )
        return
    yield from _postgres_backend(request, tmp_path)


def _postgres_backend(request, tmp_path) -> Iterator[SearchBackend]:
    from forum.search.postgres_backend import PostgresBackend

    engine = request.getfixturevalue("postgres_engine")
    with engine.connect() as conn:
        migrated = conn.execute(text("SELECT to_regclass('search_documents')")).scalar()
    if migrated is None:  # a fresh database, or one another fixture wiped meanwhile
        _migrate(engine.url.render_as_string(hide_password=False), tmp_path)
    pg = PostgresBackend(engine, synonyms=SYNONYMS, vocabulary_lookup=lookup)
    pg.clear()
    yield pg
    pg.clear()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

T0 = datetime(2020, 1, 1, 12, 0)


def doc(post_id: int, title: str = "Untitled", body: str = "", **fields) -> SearchDoc:
    """A fictional post; by default alone in its thread, ``post_id`` days after ``T0``."""
    fields.setdefault("thread_id", post_id)
    fields.setdefault("created_at", T0 + timedelta(days=post_id))
    return SearchDoc(
        post_id=post_id,
        thread_title=title,
        thread_slug=f"thread-{fields['thread_id']}",
        body_text=body,
        author=fields.pop("author", "wren"),
        board_slug=fields.pop("board_slug", "general"),
        board_name=fields.pop("board_name", "General"),
        **fields,
    )


def search(backend: SearchBackend, q: str | ParsedQuery, members: bool = False, **kw):
    query = parse_query(q) if isinstance(q, str) else q
    return backend.search(query, include_members_only=members, **kw)


def titles(backend: SearchBackend, q: str, **kw) -> set[str]:
    return {hit.thread_title for hit in search(backend, q, **kw).hits}


def ordered(results: SearchResults) -> list[str]:
    return [hit.thread_title for hit in results.hits]


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------


def test_abbreviations_and_synonyms_find_each_other(backend):
    backend.add(
        [
            doc(1, "Gamma knife in March", "The frame went on at seven."),
            doc(2, "GK or surgery?", "Weighing up the options."),
            doc(3, "Newly diagnosed with an AN", "It is 9mm on the left."),
            doc(4, "Vestibular schwannoma found", "Left side, small."),
            doc(5, "Acoustic neuroma and work", "Back at my desk."),
            doc(6, "An MRI question", "Is an MRI with contrast safe?"),
            doc(7, "HFS is driving me mad", "My left eye twitches."),
            doc(8, "Hemifacial spasm update", "Better since spring."),
            doc(9, "Decadron and sleep", "Could not sleep at all."),
            doc(10, "Dexamethasone taper", "Down to a small dose."),
        ]
    )
    gk = {"Gamma knife in March", "GK or surgery?"}
    assert titles(backend, "GK") == gk
    assert titles(backend, "gamma knife") == gk
    assert titles(backend, "gammaknife") == gk
    an = {"Newly diagnosed with an AN", "Vestibular schwannoma found", "Acoustic neuroma and work"}
    # "AN" counts only in capitals when reached through a synonym: "an MRI" is no tumour.
    assert titles(backend, "acoustic neuroma") == an
    assert titles(backend, "vestibular schwannoma") == an
    assert titles(backend, "acoustic neuromas") == an
    hfs = {"HFS is driving me mad", "Hemifacial spasm update"}
    assert titles(backend, "HFS") == hfs
    assert titles(backend, "hemifacial spasm") == hfs
    assert titles(backend, "decadron") == {"Decadron and sleep", "Dexamethasone taper"}
    assert titles(backend, "dexamethasone") == {"Decadron and sleep", "Dexamethasone taper"}
    # A synonym typed among other words still expands, and the other words still count.
    assert titles(backend, "gamma knife frame") == {"Gamma knife in March"}
    assert titles(backend, "GK options") == {"GK or surgery?"}


def test_plurals_and_other_word_forms(backend):
    backend.add(
        [
            doc(1, "Walking again", "I walked to the hospitals twice."),
            doc(2, "Exercises", "The exercise sheet from physio."),
        ]
    )
    assert titles(backend, "walks") == {"Walking again"}
    assert titles(backend, "walking") == {"Walking again"}
    assert titles(backend, "hospital") == {"Walking again"}
    assert titles(backend, "exercising") == {"Exercises"}


def test_two_letter_words_and_abbreviations_with_digits(backend):
    backend.add(
        [
            doc(1, "CT before the MRI", "The CT was quick."),
            doc(2, "NF2 and me", "Diagnosed at nineteen."),
            doc(3, "Ups and downs", "Some days are up, some are down."),
        ]
    )
    assert titles(backend, "ct") == {"CT before the MRI"}
    assert titles(backend, "nf2") == {"NF2 and me"}
    assert titles(backend, "nf-2") == {"NF2 and me"}
    assert titles(backend, "up") == {"Ups and downs"}
    assert titles(backend, "gk") == set()


def test_accents_are_folded_both_ways(backend):
    backend.add(
        [
            doc(1, "Ménière's, maybe", "Spinning for hours at a time."),
            doc(2, "Meetup", "We met at the café on Friday."),
        ]
    )
    assert titles(backend, "meniere") == {"Ménière's, maybe"}
    assert titles(backend, "Ménière") == {"Ménière's, maybe"}
    assert titles(backend, "cafe") == {"Meetup"}
    assert titles(backend, "café") == {"Meetup"}
    assert titles(backend, "CAFÉ") == {"Meetup"}


def test_phrases_keep_word_order_and_are_not_expanded(backend):
    backend.add(
        [
            doc(1, "Knife edge", "The gamma knife frame was fine."),
            doc(2, "Camera day", "The knife and the gamma camera."),
            doc(3, "Short one", "GK went fine."),
        ]
    )
    assert titles(backend, '"gamma knife"') == {"Knife edge"}
    assert titles(backend, '"knife frame"') == {"Knife edge"}
    assert titles(backend, "gamma knife") == {"Knife edge", "Camera day", "Short one"}
    assert titles(backend, '"GK"') == {"Short one"}
    assert titles(backend, '"frame gamma"') == set()


def test_or_and_exclusions(backend):
    backend.add(
        [
            doc(1, "Loud nights", "Tinnitus is worst at night."),
            doc(2, "Room spins", "Vertigo again today."),
            doc(3, "Foam pillow", "A foam pillow helped with the noise."),
            doc(4, "Feather pillow", "Feather pillow, no luck at all."),
        ]
    )
    assert titles(backend, "tinnitus OR vertigo") == {"Loud nights", "Room spins"}
    assert titles(backend, "pillow") == {"Foam pillow", "Feather pillow"}
    assert titles(backend, "pillow -feather") == {"Foam pillow"}
    assert titles(backend, 'pillow -"no luck"') == {"Foam pillow"}
    assert titles(backend, "pillow NOT foam") == {"Feather pillow"}
    assert titles(backend, "pillow -foam -feather") == set()


def test_synonyms_reach_titles_and_exclusions_too(backend):
    backend.add(
        [
            doc(1, "Gamma knife diary", "Week one, feeling fine."),
            doc(2, "Week one", "Feeling fine after my GK."),
            doc(3, "Surgery diary", "Week one after the translab, feeling fine."),
        ]
    )
    assert titles(backend, "GK in:title") == {"Gamma knife diary"}
    assert titles(backend, '"gamma knife" in:title') == {"Gamma knife diary"}
    assert titles(backend, "feeling fine -GK") == {"Surgery diary"}
    assert titles(backend, "feeling fine -translabyrinthine") == {"Gamma knife diary", "Week one"}


# ---------------------------------------------------------------------------------------------
# Filters and visibility
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def kettles(backend) -> SearchBackend:
    backend.add(
        [
            doc(
                1,
                "Kettle one",
                "The kettle is loud.",
                board_slug="radiation",
                board_name="Radiation",
                author="Rowan",
                created_at=datetime(2008, 6, 1),
                treatments=("gamma-knife",),
            ),
            doc(
                2,
                "Kettle two",
                "My kettle hums.",
                board_slug="surgery",
                board_name="Surgery",
                author="Blake",
                created_at=datetime(2010, 3, 1),
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
                board_name="Radiation",
                author="Sky",
                created_at=datetime(2012, 1, 1),
                treatments=("cyberknife",),
            ),
            doc(4, "Teapot", "Kettle, kettle, kettle.", created_at=datetime(2013, 1, 1)),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("kettle board:radiation", {"Kettle one", "Kettle three"}),
        ("kettle board:Radiation board:surgery", {"Kettle one", "Kettle two", "Kettle three"}),
        ("kettle @Blake", {"Kettle two"}),
        ("kettle author:rowan", {"Kettle one"}),
        ("kettle status:resolved", {"Kettle two"}),
        ("kettle status:open", {"Kettle one", "Kettle three", "Teapot"}),
        ("kettle treatment:gk", {"Kettle one"}),
        ('kettle treatment:"gamma knife"', {"Kettle one"}),
        ("kettle treatment:ck", {"Kettle three"}),
        ("kettle symptom:ringing", {"Kettle two"}),
        ('kettle condition:"vestibular schwannoma" symptom:tinnitus', {"Kettle two"}),
        ("kettle treatment:gk symptom:tinnitus", set()),
        ("kettle treatment:unheard-of", set()),
        ("kettle before:2010", {"Kettle one"}),
        ("kettle after:2009", {"Kettle two", "Kettle three", "Teapot"}),
        ("kettle after:2010-03", {"Kettle three", "Teapot"}),
        ("kettle after:2010-02 before:2012", {"Kettle two"}),
        ("kettle after:2012 before:2011", set()),
        ("kettle in:title", {"Kettle one", "Kettle two", "Kettle three"}),
        ("hum faded", {"Kettle two"}),  # the outcome summary is searchable
        ("board:surgery", {"Kettle two"}),  # filters alone
        ("@sky", {"Kettle three"}),
    ],
)
def test_filters(kettles, q, expected):
    assert titles(kettles, q) == expected


def test_members_only_posts_are_hidden_unless_asked_for(backend):
    backend.add(
        [
            doc(1, "Lounge chat", "Quietly anxious about scans.", members_only=True),
            doc(2, "Open chat", "Anxious about the drive."),
            doc(3, "Open chat", "Anxious too, in the lounge.", thread_id=1, members_only=True),
        ]
    )
    assert titles(backend, "anxious") == {"Open chat"}
    assert titles(backend, "anxious", members=True) == {"Lounge chat", "Open chat"}
    assert titles(backend, "lounge") == set()
    assert search(backend, "anxious").total_threads == 1


# ---------------------------------------------------------------------------------------------
# Results: grouping, order, pages, snippets
# ---------------------------------------------------------------------------------------------


def test_one_result_per_thread_showing_its_best_post(backend):
    backend.add(
        [
            doc(1, "Birds", "A lapwing flew over the car park.", thread_id=1),
            doc(2, "Birds", "Lapwing, lapwing, lapwing: they are everywhere.", thread_id=1),
            doc(3, "Birds", "Nothing to do with it.", thread_id=1),
            doc(4, "Other birds", "One lapwing among gulls, terns, crows.", thread_id=2),
        ]
    )
    results = search(backend, "lapwing")
    assert results.total_threads == 2
    assert [hit.post_id for hit in results.hits] == [2, 4]
    assert [hit.thread_id for hit in results.hits] == [1, 2]


def test_pages_cover_every_thread_once(backend):
    backend.add(
        doc(i, f"Heron {i}", f"A grey heron, sighting {i}.", thread_id=100 + i % 25)
        for i in range(1, 51)
    )
    seen: list[int] = []
    for page in (1, 2, 3):
        results = search(backend, "heron", page=page, per_page=10)
        assert results.total_threads == 25
        assert results.pages == 3
        seen += [hit.thread_id for hit in results.hits]
    assert sorted(seen) == list(range(100, 125))
    beyond = search(backend, "heron", page=4, per_page=10)
    assert beyond.hits == [] and beyond.total_threads == 25


def test_newest_first_uses_each_threads_newest_matching_post(backend):
    backend.add(
        [
            doc(1, "Old thread", "Robin song.", created_at=datetime(2015, 1, 1)),
            doc(2, "Old thread", "Robin again.", thread_id=1, created_at=datetime(2021, 1, 1)),
            doc(3, "Middle thread", "Robin, robin, robin.", created_at=datetime(2018, 1, 1)),
            doc(4, "New thread", "A robin.", created_at=datetime(2020, 1, 1)),
        ]
    )
    results = search(backend, "robin", sort="newest")
    assert ordered(results) == ["Old thread", "New thread", "Middle thread"]
    assert results.hits[0].post_id == 2
    assert results.hits[0].created_at == datetime(2021, 1, 1)
    # Filters alone list the newest first as well.
    assert ordered(search(backend, "@wren")) == ["Old thread", "New thread", "Middle thread"]


def test_results_carry_what_the_page_shows(backend):
    backend.add(
        [
            doc(
                7,
                "Resolved: kestrel",
                "Kestrel seen.",
                thread_id=3,
                author="Ash",
                board_slug="birds",
                board_name="Birds",
                status="resolved",
                outcome="improved",
                created_at=datetime(2019, 5, 6, 7, 8),
            )
        ]
    )
    (hit,) = search(backend, "kestrel").hits
    assert (hit.post_id, hit.thread_id, hit.thread_slug) == (7, 3, "thread-3")
    assert (hit.author, hit.board_slug, hit.board_name) == ("Ash", "birds", "Birds")
    assert (hit.status, hit.outcome) == ("resolved", "improved")
    assert hit.created_at == datetime(2019, 5, 6, 7, 8)
    assert hit.score > 0


def _visible_text(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


def test_snippets_mark_matches_and_escape_everything_else(backend):
    filler = " ".join(f"word{i}" for i in range(150))
    backend.add(
        [
            doc(1, "Tags", '<b>Plover</b> & <script>alert(1)</script> "quoted" text'),
            doc(2, "Long", f"{filler} then a plover appeared {filler}"),
            doc(3, "Plover in the title", "Nothing about birds here."),
            doc(4, "Empty body", ""),
        ]
    )
    snippets = {h.thread_title: h.snippet_html for h in search(backend, "plover").hits}
    tags = snippets["Tags"]
    assert "<mark>Plover</mark>" in tags
    assert "&lt;b&gt;" in tags and "&amp;" in tags and "&lt;script&gt;" in tags
    assert "<" not in _visible_text(tags)
    long = snippets["Long"]
    assert "<mark>plover</mark>" in long
    assert long.startswith("…") and long.endswith("…")
    assert len(_visible_text(long)) < 400
    # Nothing matched in the body: its beginning, unmarked.
    assert snippets["Plover in the title"] == "Nothing about birds here."
    assert titles(backend, "empty body") == {"Empty body"}
    (empty,) = search(backend, "empty body").hits
    assert "Empty" in _visible_text(empty.snippet_html)


def test_synonyms_are_marked_in_snippets(backend):
    backend.add([doc(1, "Day one", "My gamma knife treatment was on Tuesday.")])
    (hit,) = search(backend, "GK").hits
    assert "<mark>gamma</mark>" in hit.snippet_html and "<mark>knife</mark>" in hit.snippet_html


def test_did_you_mean_offers_a_spelling_that_finds_more(backend):
    backend.add(
        [
            doc(1, "Gamma knife day", "The gamma knife frame was fine."),
            doc(2, "Tinnitus at night", "Tinnitus is loud tonight."),
        ]
    )
    misspelt = search(backend, "gama knife")
    assert misspelt.suggestion == "gamma knife"
    assert search(backend, "gamma knife").suggestion is None
    assert search(backend, "tinitus").suggestion == "tinnitus"
    assert search(backend, "zzyzzx").suggestion is None
    assert search(backend, "board:general").suggestion is None


def test_notices_are_passed_through(backend):
    backend.add([doc(1, "Dunlin", "Dunlin flocks.")])
    results = search(backend, "dunlin foo:bar")
    assert ordered(results) == ["Dunlin"]
    assert any("foo:" in notice for notice in results.notices)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def test_add_replaces_delete_removes_and_doc_count_counts(backend):
    backend.add([doc(1, "Marigold", "Marigolds in pots."), doc(2, "Daisy", "Daisies.")])
    backend.add([doc(3, "Tulip", "Tulips, edited.")])
    assert backend.doc_count() == 3
    backend.add([doc(1, "Sunflower", "Sunflowers now.")])
    assert backend.doc_count() == 3
    assert titles(backend, "marigolds") == set()
    assert titles(backend, "sunflowers") == {"Sunflower"}
    backend.delete([2, 999])
    backend.delete([])
    backend.add([])
    assert backend.doc_count() == 2
    assert titles(backend, "daisies") == set()


def test_a_batch_holding_two_versions_of_a_post_keeps_the_last(backend):
    backend.add([doc(3, "Tulip", "Tulips."), doc(3, "Tulip", "Tulips, edited twice.")])
    assert backend.doc_count() == 1
    assert [hit.post_id for hit in search(backend, "tulips").hits] == [3]
    assert titles(backend, "edited") == {"Tulip"}


def test_one_batch_replaces_many_posts_and_deletes_others(backend):
    backend.add([doc(i, f"Old {i}", f"Heather version one {i}.") for i in range(1, 31)])
    with backend.writing() as batch:
        batch.add([doc(i, f"New {i}", f"Bracken version two {i}.") for i in range(1, 21)])
        batch.delete([21, 22, 23])
        batch.add([doc(40, "Brand new", "Bracken, a new post.")])
    assert backend.doc_count() == 28  # 30 - 3 + 1
    assert len(search(backend, "heather", per_page=50).hits) == 7  # 24..30 untouched
    assert len(search(backend, "bracken", per_page=50).hits) == 21


def test_rebuild_replaces_everything_and_reports_progress(backend):
    backend.add([doc(1, "Before", "Old words only.")])
    calls: list[int] = []
    fresh = (doc(i, f"After {i}", "Brand new words.") for i in range(10, 2510))
    assert backend.rebuild(fresh, total=2500, progress=calls.append) == 2500
    assert backend.doc_count() == 2500
    assert titles(backend, "old") == set()
    assert search(backend, "brand new").total_threads == 2500
    assert calls[-1] == 2500 and calls[0] == 1000 and calls == sorted(calls)
    assert backend.rebuild([]) == 0
    assert backend.doc_count() == 0


def test_clear_empties_the_index_which_stays_usable(backend):
    backend.add([doc(1, "Swift", "Swifts screaming.")])
    backend.clear()
    assert backend.doc_count() == 0
    assert search(backend, "swifts").total_threads == 0
    backend.add([doc(2, "Swallow", "Swallows back.")])
    assert titles(backend, "swallows") == {"Swallow"}


def test_awkward_documents_are_indexed(backend):
    backend.add(
        [
            doc(1, "Nul", "before\x00after"),
            doc(2, "Surrogate \ud800", "odd \udfff text"),
            doc(3, "Huge", "avocet " * 20_000),
            doc(4, "Aware", "Timezone aware.", created_at=datetime(2020, 1, 1).astimezone()),
            doc(5, "", "Untitled owl."),
        ]
    )
    assert backend.doc_count() == 5
    assert titles(backend, "avocet") == {"Huge"}
    assert titles(backend, "owl") == {""}
    assert titles(backend, "timezone") == {"Aware"}


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

ODD_QUERIES = [
    "",
    "   ",
    "-",
    "OR",
    "%",
    "((((",
    '"unbalanced',
    "a" * 5000,
    "nul\x00byte",
    "<script>alert(1)</script>",
    "foo:bar spasm",
    "before:2009-13",
    "status:maybe",
    "author:",
    "' OR 1=1 --",
    "'; DROP TABLE search_documents; --",
    "a:* & b | !c <-> d",
    "\\ \\\\ \\'",
    "\ud800 lone surrogate",
    "\ue000 private \ue001 use",
    "😀 emoji",
    "日本語 テキスト",
    "x" * 2100,
    " ".join(["gk"] * 40),
    " OR ".join(["spasm"] * 30),
]


@pytest.mark.parametrize("q", ODD_QUERIES)
def test_odd_queries_never_raise(backend, q):
    backend.add([doc(1, "Spasm diary", "Spasms, GK, and a 'quoted' bit: a:* & b.")])
    results = search(backend, q)
    assert isinstance(results, SearchResults)
    for hit in results.hits:
        assert "<script" not in hit.snippet_html


@pytest.mark.parametrize(
    "query",
    [
        ParsedQuery(clauses=(Clause((Term("'"),)),)),
        ParsedQuery(clauses=(Clause((Term("\\"), Phrase("' \\ :*"))),)),
        ParsedQuery(clauses=(Clause((Term("!&|<->():*"),)),)),
        ParsedQuery(clauses=(Clause((Term("\x00"),)),)),
        ParsedQuery(clauses=(Clause((Term("spasm"),)),), excluded=(Term("'"), Phrase("!"))),
        ParsedQuery(clauses=(Clause((Phrase(""),)),)),
    ],
)
def test_hand_built_queries_never_raise(backend, query):
    backend.add([doc(1, "Spasm diary", "Spasms again.")])
    assert isinstance(search(backend, query), SearchResults)


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page": -3},
        {"page": "x"},
        {"page": 10**9},
        {"per_page": 0},
        {"per_page": 10**6},
        {"per_page": None},
        {"sort": "weird"},
    ],
)
def test_odd_paging_and_sorting_are_clamped(backend, params):
    backend.add([doc(1, "Spasm diary", "Spasms again.")])
    results = search(backend, "spasm", **params)
    assert results.page >= 1 and 1 <= results.per_page <= 100
    assert results.total_threads == 1


def test_snippet_html_contains_only_marks(backend):
    backend.add([doc(1, "Stint", 'Stint <img src=x onerror="alert(1)"> &amp; <i>stint</i>')])
    (hit,) = search(backend, "stint").hits
    assert set(re.findall(r"</?\s*([a-zA-Z]+)", hit.snippet_html)) == {"mark"}


# ---------------------------------------------------------------------------------------------
# PostgreSQL only
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def pg(request, tmp_path) -> Iterator[Any]:
    yield from _postgres_backend(request, tmp_path)


@pytest.mark.postgres
def test_without_pg_trgm_there_is_simply_no_suggestion(pg):
    pg.add([doc(1, "Gamma knife day", "The gamma knife frame was fine.")])
    pg._trigram = False  # as if the extension could not be installed
    results = search(pg, "gama knife")
    assert results.suggestion is None and results.total_threads == 0


@pytest.mark.postgres
def test_writers_wait_for_a_rebuild_then_give_up_with_index_busy(pg):
    from forum.search.backend import IndexBusy

    pg.add([doc(1, "Dipper", "Dippers on the weir.")])
    pg.write_timeout = 0.2
    with pg.engine.connect() as rebuilding:
        rebuilding.execute(text("DELETE FROM search_documents"))  # a rebuild holds every row
        with pytest.raises(IndexBusy):
            pg.add([doc(1, "Dipper", "Dippers again.")])
        with pytest.raises(IndexBusy):
            pg.delete([1])
        assert titles(pg, "dippers") == {"Dipper"}  # readers still see the old rows
        rebuilding.rollback()
    pg.add([doc(1, "Dipper", "Dippers again.")])
    assert titles(pg, "again") == {"Dipper"}
