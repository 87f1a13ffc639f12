"""Cairn's medical vocabularies: conditions, treatments and symptoms, with their aliases.

The shipped list lives in ``forum/data/vocabulary.toml``; admins extend it without code through
an override file in the same format (the app passes ``instance/vocabulary.toml``). Merging
rules: a new ``[kind.slug]`` table adds an entry (it must have a ``label``); an existing slug
may override its label and its ``aliases`` are added to the shipped ones; ``[synonyms]``
groups are appended.

Matching is case-insensitive, with one exception in running text (:meth:`Vocabulary.find_in`):
an alias written with capitals whose lower-case spelling is an everyday word ("AN", "VS")
only matches in capitals, so "an MRI" and "GK vs surgery" mention no acoustic neuroma.

Everything here is plain data: no database, no Flask.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "SHIPPED_VOCABULARY",
    "Term",
    "Vocabulary",
    "VocabularyError",
    "load_vocabulary",
]

SHIPPED_VOCABULARY = Path(__file__).resolve().parent / "data" / "vocabulary.toml"

#: term kind -> the TOML section holding it
KINDS: dict[str, str] = {
    "condition": "conditions",
    "treatment": "treatments",
    "symptom": "symptoms",
}
_SECTIONS = {section: kind for kind, section in KINDS.items()}
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: lower-case spellings that are ordinary words: a capitalised alias spelled like one of these
#: ("AN", "VS") only matches running text written in capitals.
EVERYDAY_WORDS = frozenset(
    (
        *("a", "ah", "am", "an", "as", "at", "be", "by", "ct", "do", "go", "ha", "he", "hi"),
        *("if", "in", "is", "it", "me", "ms", "my", "no", "of", "oh", "ok", "on", "or", "pm"),
        *("re", "so", "st", "to", "up", "us", "vs", "we"),
    )
)


class VocabularyError(ValueError):
    """A vocabulary file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Term:
    """One vocabulary entry. ``kind`` is "condition", "treatment" or "symptom"."""

    kind: str
    slug: str
    label: str
    aliases: tuple[str, ...] = ()


def _normalise(text: str) -> str:
    """The comparison form: lower case, no apostrophes, hyphens and runs of space as one space."""
    text = text.lower().replace("\u2019", "").replace("'", "").replace("\u2018", "")
    text = re.sub(r"\s*&\s*", "&", text)
    return re.sub(r"[\s\-]+", " ", text).strip()


def _alias_pattern(alias: str) -> str:
    """A regex for one alias: flexible about spaces, hyphens, apostrophes and "&" spacing."""
    parts = []
    for piece in re.split(r"([\s\-]+|&|['\u2019])", alias.strip()):
        if not piece:
            continue
        if piece in ("'", "\u2019"):
            parts.append("['\u2019]?")
        elif piece == "&":
            parts.append(r"\s*&\s*")
        elif not piece.strip() or set(piece) <= {"-", " ", "\t"}:
            parts.append(r"[\s\-]+")
        else:
            parts.append(re.escape(piece))
    body = "".join(parts)
    if alias != alias.lower() and alias.lower() in EVERYDAY_WORDS:
        body = f"(?-i:{body})"
    return body


@dataclass
class _Matcher:
    pattern: re.Pattern[str]
    by_key: dict[str, list[Term]]


class Vocabulary:
    """The merged vocabularies. Treat instances as read-only: :func:`load_vocabulary` shares
    them between callers."""

    def __init__(
        self,
        conditions: dict[str, Term],
        treatments: dict[str, Term],
        symptoms: dict[str, Term],
        synonyms: list[list[str]] | None = None,
    ) -> None:
        self.conditions = conditions
        self.treatments = treatments
        self.symptoms = symptoms
        self._synonyms = [list(group) for group in synonyms or []]
        self._by_kind = {"condition": conditions, "treatment": treatments, "symptom": symptoms}
        self._lookup_keys = {kind: self._keys(terms) for kind, terms in self._by_kind.items()}
        self._matchers: dict[str | None, _Matcher] = {}

    @staticmethod
    def _keys(terms: dict[str, Term]) -> dict[str, Term]:
        keys: dict[str, Term] = {}
        for term in terms.values():
            for name in (term.slug, term.label, *term.aliases):
                keys.setdefault(_normalise(name), term)
        return keys

    def terms(self, kind: str) -> dict[str, Term]:
        """slug -> Term for one kind; raises ``KeyError`` for an unknown kind."""
        return self._by_kind[kind]

    def get(self, kind: str, slug: str) -> Term | None:
        return self._by_kind.get(kind, {}).get(slug)

    def label(self, kind: str, slug: str) -> str:
        """The label to show for a stored slug; the slug itself if it is no longer known."""
        term = self.get(kind, slug)
        return term.label if term else slug

    def lookup(self, kind: str, text: str) -> Term | None:
        """The term whose slug, label or alias is ``text`` (case, spacing and hyphens aside)."""
        if not isinstance(text, str):
            return None
        keys = self._lookup_keys.get(kind, {})
        key = _normalise(text)
        return keys.get(key) or (keys.get(key[:-1]) if key.endswith("s") else None)

    def find_in(self, text: str, kind: str | None = None) -> list[tuple[Term, int, int]]:
        """Mentions of terms in free text as ``(term, start, end)``, in order of position.

        The scan is left to right, takes the longest alias at each place, needs word
        boundaries on both sides and allows a plural or possessive "s". Mentions never
        overlap, but with ``kind=None`` one span may name terms of several kinds
        ("facial spasms" is a condition and a symptom): each is listed, conditions first.
        """
        if not isinstance(text, str) or not text:
            return []
        matcher = self._matcher(kind)
        found: list[tuple[Term, int, int]] = []
        for match in matcher.pattern.finditer(text):
            key = _normalise(match.group())
            terms = matcher.by_key.get(key)
            if terms is None and key.endswith("s"):
                terms = matcher.by_key.get(key[:-1])
            found.extend((term, match.start(), match.end()) for term in terms or ())
        return found

    def _matcher(self, kind: str | None) -> _Matcher:
        if kind not in self._matchers:
            kinds = [kind] if kind is not None else list(self._by_kind)
            by_key: dict[str, list[Term]] = {}
            patterns: dict[str, str] = {}
            for each in kinds:
                for term in self._by_kind[each].values():
                    for alias in (*term.aliases, term.label):
                        key = _normalise(alias)
                        if not key:
                            continue
                        bucket = by_key.setdefault(key, [])
                        if term not in bucket:
                            bucket.append(term)
                        patterns.setdefault(alias, _alias_pattern(alias))
            ordered = sorted(patterns, key=lambda a: (-len(a), a))
            body = "|".join(patterns[a] for a in ordered) or r"(?!)"
            pattern = re.compile(rf"(?<!\w)(?:{body})(?:['\u2019]?s)?(?!\w)", re.IGNORECASE)
            self._matchers[kind] = _Matcher(pattern, by_key)
        return self._matchers[kind]

    def synonym_groups(self) -> list[list[str]]:
        """Lower-cased groups of words that mean the same, for search query expansion: one
        group per term (its aliases and label) followed by the ``[synonyms]`` groups."""
        groups: list[list[str]] = []
        for terms in self._by_kind.values():
            for term in terms.values():
                group = list(dict.fromkeys(a.lower() for a in (*term.aliases, term.label)))
                if len(group) > 1:
                    groups.append(group)
        groups.extend([list(dict.fromkeys(w.lower() for w in g)) for g in self._synonyms])
        return groups


# --------------------------------------------------------------------------------------------
# Loading and merging


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def _string_list(path: Path, where: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(f"{path}: {where} must be a list of non-empty strings")
    return [v.strip() for v in value]


def _merge_entry(
    path: Path, section: str, slug: str, entry: object, into: dict[str, dict[str, Any]]
) -> None:
    where = f"[{section}.{slug}]"
    if not _SLUG_RE.fullmatch(slug):
        raise VocabularyError(
            f"{path}: {where}: slugs are lower-case letters and digits joined by hyphens"
        )
    if not isinstance(entry, dict):
        raise VocabularyError(f"{path}: {where} must be a table with 'label' and 'aliases'")
    unknown = set(entry) - {"label", "aliases"}
    if unknown:
        raise VocabularyError(f"{path}: {where}: unknown key(s) {', '.join(sorted(unknown))}")
    label = entry.get("label")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise VocabularyError(f"{path}: {where}: 'label' must be a non-empty string")
    aliases = _string_list(path, f"{where} 'aliases'", entry.get("aliases", []))
    current = into.get(slug)
    if current is None:
        if label is None:
            raise VocabularyError(f"{path}: {where} is a new entry and needs a 'label'")
        into[slug] = {"label": label.strip(), "aliases": aliases}
        return
    if label is not None:
        current["label"] = label.strip()
    known = {_normalise(a) for a in current["aliases"]}
    current["aliases"].extend(a for a in aliases if _normalise(a) not in known)


def _merge_file(path: Path, data: dict[str, Any], merged: dict[str, Any]) -> None:
    for section, body in data.items():
        if section == "synonyms":
            if not isinstance(body, dict) or set(body) - {"groups"}:
                raise VocabularyError(f"{path}: [synonyms] holds only 'groups = [[...], ...]'")
            groups = body.get("groups", [])
            if not isinstance(groups, list):
                raise VocabularyError(f"{path}: [synonyms] 'groups' must be a list of lists")
            for number, group in enumerate(groups, start=1):
                words = _string_list(path, f"[synonyms] group {number}", group)
                if len(words) < 2:
                    raise VocabularyError(f"{path}: [synonyms] group {number} needs two words")
                merged["synonyms"].append(words)
            continue
        if section not in _SECTIONS:
            expected = ", ".join([*KINDS.values(), "synonyms"])
            raise VocabularyError(f"{path}: unknown section [{section}] (expected {expected})")
        if not isinstance(body, dict):
            raise VocabularyError(f"{path}: [{section}] must hold [{section}.<slug>] tables")
        for slug, entry in body.items():
            _merge_entry(path, section, slug, entry, merged[section])


def _check_aliases(path: Path, merged: dict[str, Any]) -> None:
    """Within one kind, one spelling may name only one term."""
    for section in KINDS.values():
        owner: dict[str, str] = {}
        for slug, entry in merged[section].items():
            for name in {_normalise(slug), _normalise(entry["label"])} | {
                _normalise(a) for a in entry["aliases"]
            }:
                other = owner.setdefault(name, slug)
                if other != slug:
                    raise VocabularyError(
                        f"{path}: [{section}.{slug}]: '{name}' already names "
                        f"[{section}.{other}]"
                    )


def _build(paths: tuple[Path, ...]) -> Vocabulary:
    merged: dict[str, Any] = {section: {} for section in KINDS.values()}
    merged["synonyms"] = []
    for path in paths:
        _merge_file(path, _read_toml(path), merged)
        _check_aliases(path, merged)
    terms = {
        section: {
            slug: Term(_SECTIONS[section], slug, entry["label"], tuple(entry["aliases"]))
            for slug, entry in merged[section].items()
        }
        for section in KINDS.values()
    }
    return Vocabulary(
        terms["conditions"], terms["treatments"], terms["symptoms"], merged["synonyms"]
    )


@functools.lru_cache(maxsize=16)
def _cached(files: tuple[tuple[str, int], ...]) -> Vocabulary:
    return _build(tuple(Path(name) for name, _mtime in files))


def _stamp(path: Path) -> tuple[str, int]:
    try:
        return (str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def load_vocabulary(override_path: str | os.PathLike[str] | None = None) -> Vocabulary:
    """The shipped vocabulary merged with the override file, if one is given and exists.

    Results are cached per file and modification time, so an edited override is picked up
    on the next call. Raises :class:`VocabularyError` for a malformed file.
    """
    files = [_stamp(SHIPPED_VOCABULARY)]
    if override_path is not None:
        override = Path(override_path)
        if override.exists():
            if not override.is_file():
                raise VocabularyError(f"{override}: is not a file")
            files.append(_stamp(override))
    return _cached(tuple(files))
