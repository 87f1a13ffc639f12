"""The medical vocabularies: shipped data, lookups, free-text scanning, admin overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forum.vocabulary import (
    SHIPPED_VOCABULARY,
    Term,
    Vocabulary,
    VocabularyError,
    load_vocabulary,
)

REQUIRED = {
    "treatment": [
        "gamma-knife", "cyberknife", "fsr", "proton", "translabyrinthine", "retrosigmoid",
        "middle-fossa", "mvd", "watch-and-wait", "steroids", "botox", "baha", "cochlear-implant",
        "hearing-aid", "other",
    ],
    "condition": [
        "acoustic-neuroma", "nf2", "meningioma", "hemifacial-spasm", "facial-neuroma",
        "trigeminal-neuralgia",
    ],
    "symptom": [
        "hearing-loss", "tinnitus", "vertigo", "balance-problems", "facial-weakness",
        "hemifacial-spasm", "headache", "dry-eye", "taste-changes", "fatigue", "numbness",
        "hydrocephalus",
    ],
}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def found(vocab: Vocabulary, text: str, kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, slug, matched words) for each mention."""
    return [(t.kind, t.slug, text[s:e]) for t, s, e in vocab.find_in(text, kind)]


# -- the shipped data -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "slugs"), REQUIRED.items())
def test_required_slugs_are_shipped(vocab, kind, slugs):
    assert set(slugs) <= set(vocab.terms(kind))


def test_terms_know_their_kind_and_slug(vocab):
    for kind in ("condition", "treatment", "symptom"):
        for slug, term in vocab.terms(kind).items():
            assert isinstance(term, Term)
            assert (term.kind, term.slug) == (kind, slug)
            assert term.label.strip()
            assert isinstance(term.aliases, tuple)
    assert vocab.conditions is vocab.terms("condition")
    assert vocab.treatments is vocab.terms("treatment")
    assert vocab.symptoms is vocab.terms("symptom")


def test_aliases_are_lower_case_except_abbreviations(vocab):
    for kind in ("condition", "treatment", "symptom"):
        for term in vocab.terms(kind).values():
            for alias in term.aliases:
                assert alias == alias.strip()
                assert alias == alias.lower() or " " not in alias, (term.slug, alias)


def test_required_aliases(vocab):
    expectations = {
        ("treatment", "gamma-knife"): ["GK", "gamma knife", "gammaknife"],
        ("treatment", "translabyrinthine"): ["translab"],
        ("treatment", "retrosigmoid"): ["retrosig", "RS"],
        ("treatment", "middle-fossa"): ["MF"],
        ("treatment", "watch-and-wait"): ["W&W", "wait and scan"],
        ("treatment", "steroids"): ["steroid course", "dexamethasone", "decadron", "prednisone"],
        ("treatment", "cochlear-implant"): ["CI"],
        ("condition", "acoustic-neuroma"): ["AN", "VS", "vestibular schwannoma"],
        ("symptom", "hearing-loss"): ["SSD", "single-sided deafness"],
        ("symptom", "facial-weakness"): ["facial palsy"],
        ("symptom", "hemifacial-spasm"): ["HFS", "facial spasms", "facial twitching"],
    }
    for (kind, slug), aliases in expectations.items():
        for alias in aliases:
            assert vocab.lookup(kind, alias) == vocab.get(kind, slug), alias


def test_shipped_file_is_where_the_loader_looks():
    assert SHIPPED_VOCABULARY.name == "vocabulary.toml"
    assert SHIPPED_VOCABULARY.is_file()


# -- get / label / lookup -------------------------------------------------------------------


def test_get_and_label(vocab):
    assert vocab.get("treatment", "gamma-knife").label == "Gamma Knife"
    assert vocab.get("treatment", "nope") is None
    assert vocab.get("planet", "gamma-knife") is None
    assert vocab.label("treatment", "gamma-knife") == "Gamma Knife"
    assert vocab.label("treatment", "retired-slug") == "retired-slug"
    with pytest.raises(KeyError):
        vocab.terms("planet")


@pytest.mark.parametrize(
    ("kind", "text", "slug"),
    [
        ("treatment", "GK", "gamma-knife"),
        ("treatment", "gk", "gamma-knife"),
        ("treatment", "  Gamma   Knife ", "gamma-knife"),
        ("treatment", "gamma-knife", "gamma-knife"),
        ("treatment", "GAMMA KNIFE", "gamma-knife"),
        ("treatment", "Translabyrinthine surgery", "translabyrinthine"),  # the label
        ("treatment", "w&w", "watch-and-wait"),
        ("treatment", "W & W", "watch-and-wait"),
        ("treatment", "Decadron", "steroids"),
        ("condition", "an", "acoustic-neuroma"),  # a whole field: no article to confuse
        ("condition", "Vestibular Schwannomas", "acoustic-neuroma"),
        ("condition", "Menieres", "menieres-disease"),
        ("condition", "ménière\u2019s disease", "menieres-disease"),
        ("symptom", "Facial Spasms", "hemifacial-spasm"),
        ("symptom", "tinnitus", "tinnitus"),
    ],
)
def test_lookup_is_forgiving_about_case_and_spacing(vocab, kind, text, slug):
    assert vocab.lookup(kind, text).slug == slug


@pytest.mark.parametrize(
    ("kind", "text"),
    [("treatment", "AN"), ("treatment", ""), ("treatment", "gamma"), ("planet", "GK")],
)
def test_lookup_misses(vocab, kind, text):
    assert vocab.lookup(kind, text) is None


def test_lookup_tolerates_non_strings(vocab):
    assert vocab.lookup("treatment", None) is None  # type: ignore[arg-type]


# -- find_in --------------------------------------------------------------------------------


def test_find_in_reports_positions_in_order(vocab):
    text = "GK 4/03 at Mayo for a tiny AN, after balance and mild hearing issues"
    assert found(vocab, text) == [
        ("treatment", "gamma-knife", "GK"),
        ("condition", "acoustic-neuroma", "AN"),
        ("symptom", "balance-problems", "balance"),
        ("symptom", "hearing-loss", "hearing issues"),
    ]


def test_find_in_takes_the_longest_alias(vocab):
    assert found(vocab, "gamma knife radiosurgery") == [
        ("treatment", "gamma-knife", "gamma knife radiosurgery")
    ]
    assert found(vocab, "sudden hearing loss") == [
        ("symptom", "hearing-loss", "sudden hearing loss")
    ]
    assert found(vocab, "Retrosigmoid surgery 8/07") == [
        ("treatment", "retrosigmoid", "Retrosigmoid surgery")
    ]


def test_find_in_is_word_bounded(vocab):
    assert found(vocab, "GKX ANother translabbing CIA xGK GK2") == []
    assert found(vocab, "post-GK (AN)") == [
        ("treatment", "gamma-knife", "GK"),
        ("condition", "acoustic-neuroma", "AN"),
    ]


def test_find_in_allows_plural_and_possessive(vocab):
    assert [m[1] for m in found(vocab, "my GK's side effects, two ANs")] == [
        "gamma-knife",
        "acoustic-neuroma",
    ]


def test_find_in_is_flexible_about_spaces_hyphens_and_ampersands(vocab):
    for text in ("gamma-knife", "gamma  knife", "Gamma\u00a0Knife", "gammaknife"):
        assert found(vocab, text)[0][1] == "gamma-knife", text
    for text in ("W&W", "w & w", "Watch and Wait", "wait-and-scan"):
        assert found(vocab, text)[0][1] == "watch-and-wait", text


def test_everyday_word_abbreviations_need_capitals(vocab):
    assert found(vocab, "I had an MRI and an ENT visit") == []
    assert found(vocab, "GK vs surgery") == [
        ("treatment", "gamma-knife", "GK"),
        ("treatment", "surgery", "surgery"),
    ]
    assert found(vocab, "Right VS, small AN") == [
        ("condition", "acoustic-neuroma", "VS"),
        ("condition", "acoustic-neuroma", "AN"),
    ]
    # other abbreviations are not words, so any case will do
    assert found(vocab, "had gk and a ci")[0][1] == "gamma-knife"
    assert found(vocab, "had gk and a ci")[1][1] == "cochlear-implant"


def test_find_in_can_be_limited_to_one_kind(vocab):
    text = "HFS after GK; tinnitus"
    assert found(vocab, text, "treatment") == [("treatment", "gamma-knife", "GK")]
    assert found(vocab, text, "symptom") == [
        ("symptom", "hemifacial-spasm", "HFS"),
        ("symptom", "tinnitus", "tinnitus"),
    ]


def test_one_span_can_name_several_kinds(vocab):
    assert found(vocab, "HFS") == [
        ("condition", "hemifacial-spasm", "HFS"),
        ("symptom", "hemifacial-spasm", "HFS"),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\U0001f499\U0001f98b", "1234 5678", None])
def test_find_in_empty_or_odd_input(vocab, text):
    assert vocab.find_in(text) == []


def test_find_in_big_text_is_quick_enough(vocab):
    text = ("GK 2010 and then some filler words about nothing in particular. " * 200)[:10_000]
    assert len(vocab.find_in(text)) == 157


# -- synonyms -------------------------------------------------------------------------------


def test_synonym_groups(vocab):
    groups = vocab.synonym_groups()
    gk = next(g for g in groups if "gamma knife" in g)
    assert {"gk", "gammaknife", "gamma-knife"} <= set(gk)
    assert all(word == word.lower() for group in groups for word in group)
    assert ["decadron", "dexamethasone"] in groups
    assert ["botox", "botulinum toxin"] in groups
    assert any({"w&w", "watch and wait", "wait and scan"} <= set(g) for g in groups)
    assert all(len(group) == len(set(group)) >= 2 for group in groups)


# -- loading, caching, overrides ------------------------------------------------------------


def test_loading_is_cached_per_file_and_mtime(tmp_path):
    assert load_vocabulary() is load_vocabulary()
    override = write(
        tmp_path / "vocabulary.toml",
        '[treatments.laser]\nlabel = "Laser"\naliases = ["laser"]\n',
    )
    first = load_vocabulary(override)
    assert load_vocabulary(str(override)) is first
    write(override, '[treatments.laser]\nlabel = "Laser therapy"\naliases = ["laser"]\n')
    stat = override.stat()
    os.utime(override, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_vocabulary(override).label("treatment", "laser") == "Laser therapy"


def test_missing_override_means_shipped_only(tmp_path):
    vocab = load_vocabulary(tmp_path / "not-there.toml")
    assert vocab is load_vocabulary()


def test_override_adds_extends_and_relabels(tmp_path):
    override = write(
        tmp_path / "vocabulary.toml",
        """
[treatments.gamma-knife]
aliases = ["GK", "the knife", "Gamma  Knife"]   # GK and gamma knife already there

[treatments.cyberknife]
label = "CyberKnife radiosurgery"

[treatments.laser-ablation]
label = "Laser interstitial thermal therapy"
aliases = ["LITT", "laser ablation"]

[symptoms.ear-pain]
label = "Ear pain"
aliases = ["ear pain", "otalgia"]

[synonyms]
groups = [["neurotologist", "ear surgeon"]]
""",
    )
    vocab = load_vocabulary(override)
    gk = vocab.get("treatment", "gamma-knife")
    assert gk.aliases[-1] == "the knife"
    assert [a.lower() for a in gk.aliases].count("gk") == 1
    assert gk.label == "Gamma Knife"
    assert vocab.label("treatment", "cyberknife") == "CyberKnife radiosurgery"
    assert "CK" in vocab.get("treatment", "cyberknife").aliases
    assert vocab.lookup("treatment", "litt").slug == "laser-ablation"
    assert vocab.get("symptom", "ear-pain").kind == "symptom"
    assert found(vocab, "had the knife in 2010, then otalgia") == [
        ("treatment", "gamma-knife", "the knife"),
        ("symptom", "ear-pain", "otalgia"),
    ]
    assert ["neurotologist", "ear surgeon"] in vocab.synonym_groups()
    assert ["decadron", "dexamethasone"] in vocab.synonym_groups()
    # the shipped vocabulary is untouched
    shipped = load_vocabulary()
    assert shipped.get("treatment", "laser-ablation") is None
    assert "the knife" not in shipped.get("treatment", "gamma-knife").aliases


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[treatments.gk\nlabel = 1", "not valid TOML"),
        ("[treatment.laser]\nlabel = 'Laser'", "unknown section [treatment]"),
        ("treatments = 3", "[treatments] must hold"),
        ("[treatments]\nlaser = 'Laser'", "[treatments.laser] must be a table"),
        ("[treatments.laser]\naliases = ['laser']", "[treatments.laser] is a new entry and needs"),
        ("[treatments.laser]\nlabel = 5", "[treatments.laser]: 'label' must be a non-empty"),
        ("[treatments.laser]\nlabel = '  '", "'label' must be a non-empty string"),
        ("[treatments.laser]\nlabel = 'L'\naliases = 'laser'", "[treatments.laser] 'aliases'"),
        ("[treatments.laser]\nlabel = 'L'\naliases = ['']", "list of non-empty strings"),
        ("[treatments.laser]\nlabel = 'L'\naliases = [3]", "list of non-empty strings"),
        ("[treatments.laser]\nlabel = 'L'\ncolour = 'red'", "unknown key(s) colour"),
        ("[treatments.Laser_Beam]\nlabel = 'L'", "[treatments.Laser_Beam]: slugs are lower-case"),
        (
            "[treatments.laser]\nlabel = 'Laser'\naliases = ['gk']",
            "[treatments.laser]: 'gk' already names [treatments.gamma-knife]",
        ),
        ("[synonyms]\ngroups = [['solo']]", "[synonyms] group 1 needs two words"),
        ("[synonyms]\ngroups = 'x'", "'groups' must be a list of lists"),
        ("[synonyms]\nwords = []", "[synonyms] holds only"),
    ],
)
def test_malformed_override_explains_itself(tmp_path, content, expected):
    override = write(tmp_path / "vocabulary.toml", content)
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(override)
    message = str(caught.value)
    assert str(override) in message
    assert expected in message


def test_override_that_is_a_directory_is_an_error(tmp_path):
    with pytest.raises(VocabularyError, match="is not a file"):
        load_vocabulary(tmp_path)


def test_vocabulary_error_is_a_value_error():
    assert issubclass(VocabularyError, ValueError)


def test_a_vocabulary_can_be_built_directly():
    gk = Term("treatment", "gamma-knife", "Gamma Knife", ("GK",))
    vocab = Vocabulary({}, {"gamma-knife": gk}, {}, [["mri", "scan"]])
    assert vocab.lookup("treatment", "gk") is gk
    assert vocab.find_in("GK 2010") == [(gk, 0, 2)]
    assert vocab.find_in("anything", "condition") == []
    assert vocab.synonym_groups() == [["gk", "gamma knife"], ["mri", "scan"]]
