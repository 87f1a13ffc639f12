"""Whoosh implementation of :class:`forum.search.backend.SearchBackend`.

This is the only module in Cairn that imports ``whoosh``.

**Storage.**  Whoosh stores the index: analysed text with positions, per-document columns,
stored hit data, segment files, the write lock.  On disk (``index_dir``)::

    CURRENT               name of the live generation directory (replaced atomically)
    .cairn-index.lock     fcntl lock serialising creation / rebuild / clear
    ix-<time>-<pid>-<r>/  one complete Whoosh index ("generation")

``rebuild`` writes a new generation beside the live one and swaps ``CURRENT``; searchers keep
using the generation they opened until their next search.  While a rebuild runs it holds the
live generation's Whoosh write lock, so ``add``/``delete`` from other processes raise
:class:`IndexBusy` and their work stays queued -- to be applied to the new generation once the
swap is done, instead of being written into a generation that is about to be thrown away.

**Searching.**  Whoosh's own matchers/collectors score every matching posting through several
layers of Python method calls (about 10 µs per document), far too slow for common words at
100,000 posts.  So ranking is done here, on whole arrays (``forum.search.ranking``, NumPy):
posting blocks are read straight into arrays (ids and term frequencies, cached per segment),
each clause becomes a boolean mask over the segment's documents plus dense BM25 scores
(against cached per-segment length normalisations), OR adds, AND intersects, filters are
masks, and each thread's best post, the thread count and the top of the page come from a
partial sort and a bitmap of thread ids -- a word in every post costs a few vector operations,
never a Python loop over its hits.  Quoted phrases are matched from the stored positions (only
for the documents that contain every word); multi-word synonyms are indexed as single terms.
Each large segment's part of a result is cached until a post in it is deleted, so a popular
query stays cheap while new posts land in small new segments.  Whoosh's ``terms_within``
supplies the spelling candidates for "did you mean".

**Rebuilding** writes 10,000-post segments in forked worker processes with a leaner writer
(``_BulkWriter``: tokens gathered in flat arrays and grouped into postings with NumPy, blocks
written without Whoosh's per-posting loops) and commits them together; see
:meth:`WhooshBackend.rebuild`.

Abbreviations that are everyday words ("AN", "VS"): as synonyms they match only where written
in capitals, so "acoustic neuroma" or a search for ``an`` does not find every post containing
the article "an"; quote it (``"an"``) to search for the word itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import html
import itertools
import math
import multiprocessing
import operator
import os
import pickle
import re
import secrets
import shutil
import struct
import sys
import threading
import time
import unicodedata
import warnings
import weakref
import zlib
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from forum.search import ranking
from forum.search.backend import IndexBusy, SortOrder, clamp_paging
from forum.search.documents import SearchDoc, SearchHit, SearchResults
from forum.search.query import Clause, ParsedQuery, Phrase, Term

# Whoosh predates several Python deprecations; keep its import-time warnings out of Cairn
# (pytest runs with -W error) without loosening the global filter.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from whoosh import columns as whcolumns
    from whoosh import index as whindex
    from whoosh.analysis.acore import Token
    from whoosh.analysis.analyzers import Analyzer
    from whoosh.codec.whoosh3 import (
        LENGTHS_COLUMN,
        WHOOSH3_HEADER_MAGIC,
        W3Codec,
        W3LeafMatcher,
        _lenfield,
    )
    from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
    from whoosh.filedb.filestore import FileStorage
    from whoosh.formats import Positions
    from whoosh.lang import stemmer_for_language
    from whoosh.matching import ListMatcher
    from whoosh.matching.wrappers import FilterMatcher
    from whoosh.support.charset import accent_map
    from whoosh.util.numeric import byte_to_length, length_to_byte
    from whoosh.writing import MERGE_SMALL, SegmentWriter

__all__ = ["WhooshBackend", "analyse", "make_snippet"]

CONTENT = "content"  # thread title + body + outcome summary: what every search runs against
TITLE = "title"  # the thread title alone, for in:title
CAPS = "caps"  # short words written in capitals ("AN", "VS"), lower-cased
FACETS = "facets"  # "board=..", "author=..", "status=..", "outcome=..", "treatment=..",
# "symptom=..", "condition=..", "first=1" (first post), "mo=1" (members only)

# Two-letter abbreviations that are also everyday English words.  When such a word is a member
# of a synonym group ("AN" in acoustic neuroma's), reaching it through the group -- or typing
# it unquoted -- only counts places where the author wrote it in capitals; otherwise every post
# containing the article "an" or "vs" (versus) would match.  Quoted, it is the plain word.
_AMBIGUOUS = "am an as at be by do go he hi if in is it me my no of oh ok on or so to up us vs we"
AMBIGUOUS_SHORT_WORDS = frozenset(_AMBIGUOUS.split())

_WRITE_TIMEOUT = 2.0  # seconds add/delete wait for the writer lock before IndexBusy
_REBUILD_LOCK_TIMEOUT = 120.0
_SNIPPET_CHARS = 200
_SNIPPET_SCAN_CHARS = 20_000  # matches further into a very long post are not looked for
_RESULT_CACHE_SIZE = 128
_REBUILD_CHUNK = 10_000  # documents per segment written by rebuild
# Incremental commits merge only segments smaller than this (see _merge_small_segments), and
# their writers buffer at most _WRITER_LIMIT_MB of postings before spilling to disk.
_MERGE_CAP_DOCS = 2_000
_WRITER_LIMIT_MB = 32
_POSTINGS_CACHE_POSTINGS = 3_000_000  # ~24 MB of cached (id, tf) pairs per process
_FACET_CACHE_SIZE = 256
_LEAF_CACHE_MIN_DOCS = 2_000  # cache per-segment results only for segments this big
_LEAF_CACHE_WEIGHT = 400_000  # ~ threads + candidates held by the per-segment result cache


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------

# Words, keeping "w&w", "2.5cm", "nf2", "don't" and "NF-2" together (apostrophes and the
# hyphen of letters-hyphen-digits are then removed: "dont", "nf2", "covid19").
WORD_PATTERN = r"\w+(?:(?:[&.'\u2019]|(?<=[^\W\d_])-(?=\d))\w+)*"
_WORD_RE = re.compile(WORD_PATTERN)
_CAPS_RE = re.compile(r"(?<![\w&])[A-Z][A-Z0-9]{1,3}(?![\w&])")
_english_stem = stemmer_for_language("en")


@functools.lru_cache(maxsize=50_000)
def _fold(word: str) -> str:
    """Lower-case, drop apostrophes (don't -> dont), fold accents (café -> cafe)."""
    text = word.lower()
    if "'" in text or "\u2019" in text or "-" in text:
        text = text.replace("'", "").replace("\u2019", "").replace("-", "")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(accent_map)
    return text


@functools.lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _english_stem(word)


class _Forms(dict):  # type: ignore[type-arg]
    """word as written -> index term (folded, stemmed), remembered: ``map(_FORMS.__getitem__,
    words)`` costs a C-level lookup per word (an lru_cache'd function was a third of indexing
    time).  Bounded: past ``limit`` words, new ones are computed but not kept."""

    limit = 200_000

    def __missing__(self, word: str) -> str:
        form = _stem(_fold(word))
        if len(self) < self.limit:
            self[word] = form
        return form


_FORMS = _Forms()
_index_form = _FORMS.__getitem__


class CairnAnalyzer(Analyzer):
    """Tokenise, fold and stem (Snowball English) in one pass.  No stop words, no minimum
    length: "an", "gk", "vs", "nf2" and "w&w" are all terms.  ``no_morph=True`` skips stemming.

    ``phrases`` (stemmed word tuples, e.g. the multi-word synonyms ``("gamma", "knife")``) are
    also indexed as single terms (``"gamma knife"``) by :meth:`positions`, so looking them up
    costs one posting list instead of a positional phrase match.
    """

    def __init__(self, phrases: Iterable[tuple[str, ...]] = ()) -> None:
        self.phrases = frozenset(tuple(p) for p in phrases if len(p) > 1)

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and other.indexed_phrases == self.indexed_phrases

    def __hash__(self) -> int:
        return hash((self.__class__, self.indexed_phrases))

    @property
    def indexed_phrases(self) -> frozenset[tuple[str, ...]]:
        return getattr(self, "phrases", frozenset())

    def tokens(self, value: str) -> list[str]:
        """The index terms of ``value`` in order (position = list index)."""
        return list(map(_index_form, _WORD_RE.findall(value)))

    def phrase_hits(self, toks: list[str]) -> list[tuple[str, int]]:
        """(phrase term, position) of every indexed phrase in ``toks``, in position order."""
        phrases = self.indexed_phrases
        if not phrases:
            return []
        firsts, lengths = _phrase_index(phrases)
        if firsts.isdisjoint(toks):
            return []
        hits = []
        for pos in [i for i, w in enumerate(toks) if w in firsts]:
            for n in lengths:
                cand = tuple(toks[pos : pos + n])
                if cand in phrases:
                    hits.append((" ".join(cand), pos))
        return hits

    def positions(self, value: str) -> dict[str, list[int]]:
        """{index term: positions} for ``value``, phrase terms included."""
        toks = self.tokens(value)
        poses: defaultdict[str, list[int]] = defaultdict(list)
        for pos, word in enumerate(toks):
            poses[word].append(pos)
        for term, pos in self.phrase_hits(toks):
            poses[term].append(pos)
        return poses

    def has_morph(self) -> bool:
        return True

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs: Any,
    ) -> Iterator[Any]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        norm = _fold if no_morph else _index_form
        for pos, m in enumerate(_WORD_RE.finditer(value)):
            raw = m.group(0)
            t.text = norm(raw)
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = raw
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + m.start()
                t.endchar = start_char + m.end()
            yield t


_ANALYZER = CairnAnalyzer()


@functools.lru_cache(maxsize=16)
def _phrase_index(phrases: frozenset[tuple[str, ...]]) -> tuple[frozenset[str], tuple[int, ...]]:
    return frozenset(p[0] for p in phrases), tuple(sorted({len(p) for p in phrases}))


def analyse(text: str, *, stem: bool = True) -> list[str]:
    """The index terms for ``text`` (stemmed unless ``stem=False``)."""
    norm = _index_form if stem else _fold
    return [norm(m.group(0)) for m in _WORD_RE.finditer(text)]


class CairnPositions(Positions):
    """Whoosh's Positions format, encoded as a packed array instead of a pickle and built
    without Token objects when the field uses :class:`CairnAnalyzer` (indexing is ~2x faster).
    Value layout: 4-byte big-endian count, then the positions as native unsigned ints."""

    def word_values(self, value: str, analyzer: Any, **kwargs: Any) -> Iterator[Any]:
        if isinstance(analyzer, CairnAnalyzer):
            poses = analyzer.positions(value)
        else:  # pragma: no cover - not used by Cairn's schema
            poses = defaultdict(list)
            for t in analyzer(value, positions=True, mode="index"):
                poses[t.text].append(t.pos)
        fb = self.field_boost
        for word, poslist in poses.items():
            n = len(poslist)
            yield word, n, n * fb, _pack_count(n) + array("I", poslist).tobytes()

    def encode(self, poslist: list[int]) -> bytes:
        return _pack_count(len(poslist)) + array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return array("I", valuestring[4:]).tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return int(_unpack_count(valuestring[:4])[0])


_pack_count = struct.Struct("!I").pack
_unpack_count = struct.Struct("!I").unpack


class CairnCodec(W3Codec):
    """Whoosh 3 codec without per-block length statistics (they only feed Whoosh's own
    block-quality skipping, which Cairn's scorer doesn't use; computing them costs a column
    lookup per posting at commit), with bigger uncompressed blocks for fast reading."""

    length_stats = False

    def __init__(self) -> None:
        super().__init__(blocklimit=256, compression=0)


class _FlatPostings:
    """One analysed field's tokens for a segment being built: term, document number and
    position of every token in three flat sequences, extended a document at a time by C-level
    calls -- no Python work per token.  ``grouped`` turns them into postings (documents per
    term, positions encoded as ``CairnPositions`` values) with a few NumPy operations."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.docs = array("I")
        self.pos = array("I")

    def add(self, docnum: int, analyzer: CairnAnalyzer, value: str) -> int:
        """Add one document's text; returns its field length (tokens, plus phrase terms)."""
        toks = analyzer.tokens(value)
        n = len(toks)
        self.terms.extend(toks)
        self.docs.extend(itertools.repeat(docnum, n))
        self.pos.extend(range(n))
        hits = analyzer.phrase_hits(toks)
        for term, pos in hits:
            self.terms.append(term)
            self.docs.append(docnum)
            self.pos.append(pos)
        return n + len(hits)

    def grouped(self) -> Iterator[tuple[bytes, tuple[array, array, list[bytes]]]]:
        """(term bytes, (ids, weights, values)) in term order, ids ascending."""
        n = len(self.terms)
        if not n:
            return
        # UTF-8 keeps code point order, so the sorted text terms encode to sorted bytes.
        unique = sorted(set(self.terms))
        rank = {t: i for i, t in enumerate(unique)}
        tids = np.fromiter(map(rank.__getitem__, self.terms), dtype=np.int32, count=n)
        self.terms = []
        # Stable: per term, tokens stay in arrival order (document, then position).
        order = np.argsort(tids, kind="stable")
        t = tids[order]
        d = np.frombuffer(self.docs, dtype=np.uint32)[order]
        p = np.frombuffer(self.pos, dtype=np.uint32)[order]
        self.docs, self.pos = array("I"), array("I")
        del tids, order
        # One posting per (term, document) run.
        breaks = np.flatnonzero((t[1:] != t[:-1]) | (d[1:] != d[:-1])) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [n]))
        freqs = ends - starts
        postings = len(starts)
        # All values in one buffer: per posting a big-endian count, then its positions.
        k = np.arange(postings)
        heads = starts + k
        out = np.empty(n + postings, dtype=np.uint32)
        out[heads] = freqs.astype(">u4").view(np.uint32)
        body = np.ones(n + postings, dtype=bool)
        body[heads] = False
        out[body] = p
        buf = out.tobytes()
        del out, body, p
        vstarts = heads * 4
        vends = (ends + k + 1) * 4
        ids = d[starts]
        weights = freqs.astype(np.float32)
        per_term = np.bincount(t[starts], minlength=len(unique))
        bounds = np.concatenate(([0], np.cumsum(per_term))).tolist()
        del t, d, starts, ends, freqs, heads, k
        for i, term in enumerate(unique):
            a, b = bounds[i], bounds[i + 1]
            # The values (bytes objects) are cut from the buffer one term at a time.
            values = [
                buf[x:y] for x, y in zip(vstarts[a:b].tolist(), vends[a:b].tolist(), strict=True)
            ]
            yield (
                term.encode("utf-8"),
                (array("I", ids[a:b].tobytes()), array("f", weights[a:b].tobytes()), values),
            )


class _GroupingPool:
    """Replacement for Whoosh's PostingPool used by rebuild: analysed text goes to
    :class:`_FlatPostings` (about 60 bytes a posting instead of a 150-byte tuple, and sorted by
    term once, instead of the millions of postings Whoosh sorts), the few other postings
    (ids, capitals, facets) are grouped per term as they arrive.  Nothing spills to disk."""

    def __init__(self) -> None:
        self.flat: dict[str, _FlatPostings] = {}
        # fieldname -> term bytes -> (ids, weights, values)
        self.fields: dict[str, dict[bytes, tuple[array, array, list[bytes | None]]]] = {}
        self.fieldnames: set[str] = set()

    def terms(self, fieldname: str) -> dict[bytes, tuple[array, array, list[bytes | None]]]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        return terms

    def flat_postings(self, fieldname: str) -> _FlatPostings:
        flat = self.flat.get(fieldname)
        if flat is None:
            flat = self.flat[fieldname] = _FlatPostings()
        return flat

    def grouped(self, fieldname: str) -> Iterator[tuple[bytes, tuple[array, array, list[Any]]]]:
        flat = self.flat.get(fieldname)
        if flat is not None:
            yield from flat.grouped()
        else:
            yield from sorted(self.fields.get(fieldname, {}).items())

    def cleanup(self) -> None:
        self.flat = {}
        self.fields = {}


class _BulkWriter(SegmentWriter):  # type: ignore[misc]
    """SegmentWriter for building a fresh generation: same segment format, fewer Python calls
    per posting (Cairn's schema has no vectors, spelling fields or boosts)."""

    def __init__(self, ix: Any, *, lock: bool = True) -> None:
        super().__init__(ix, codec=_codec(), _lk=lock)
        self.pool = _GroupingPool()
        self._fields = {
            name: (
                ftype,
                ftype.indexed,
                ftype.scorable,
                ftype.stored,
                ftype.column_type,
                isinstance(ftype.format, CairnPositions)
                and isinstance(ftype.analyzer, CairnAnalyzer),
            )
            for name, ftype in self.schema.items()
        }

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        docnum = self.docnum
        pdw = self.perdocwriter
        pool = self.pool
        pdw.start_doc(docnum)
        try:
            for fieldname in sorted(fields):
                value = fields[fieldname]
                if value is None:
                    continue
                ftype, indexed, scorable, stored, column, fast = self._fields[fieldname]
                length = 0
                if indexed and fast:  # analysed text: tokens straight from the analyser
                    length = pool.flat_postings(fieldname).add(docnum, ftype.analyzer, value)
                elif indexed:
                    terms = pool.terms(fieldname)
                    for tbytes, freq, weight, vbytes in ftype.index(value):
                        if scorable:
                            length += freq
                        entry = terms.get(tbytes)
                        if entry is None:
                            entry = terms[tbytes] = (array("I"), array("f"), [])
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        entry[2].append(vbytes)
                pdw.add_field(fieldname, ftype, value if stored else None, length)
                if column:
                    pdw.add_column_value(fieldname, column, ftype.to_column_value(value))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        pool.fieldnames.update(fields)
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        """Write the grouped postings a whole block at a time (Whoosh's generic path makes
        several Python calls per posting).  Same blocks, stats and files as Whoosh writes with
        ``CairnCodec``."""
        self.perdocwriter.close()
        fw = self.fieldwriter
        schema = self.schema
        pool = self.pool
        for fieldname in sorted(set(pool.flat) | set(pool.fields)):
            fw.start_field(fieldname, schema[fieldname])
            for tbytes, (ids, weights, values) in pool.grouped(fieldname):
                fw.start_term(tbytes)
                pw = fw._postwriter
                if pw.__dict__.get("_write_block") is None:
                    pw._write_block = functools.partial(_write_block, pw)
                limit = pw._blocklimit
                total = len(ids)
                for i in range(0, total, limit):
                    block_weights = weights[i : i + limit]
                    pw._ids = ids[i : i + limit]
                    pw._weights = block_weights
                    pw._values = [v for v in values[i : i + limit] if v]
                    pw._maxweight = max(block_weights)
                    pw._minlength = None
                    pw._maxlength = 0
                    if i + limit < total:
                        pw._write_block()
                fw.finish_term()  # writes the last block (or inlines a short list)
            fw.finish_field()
        fw.close()


def _write_block(pw: Any, last: bool = False) -> None:
    """``W3PostingsWriter._write_block`` with its per-posting Python loops (delta-encoding the
    ids, checking the weights) done by C-level calls; writes the same bytes."""
    if not pw._blockcount:
        pw._postfile.write(WHOOSH3_HEADER_MAGIC)
    pw._terminfo.add_block(pw)
    ids = pw._ids
    deltas = (ids[0], *map(operator.sub, ids[1:], ids[:-1])) if len(ids) else ()
    weights = pw._weights
    if not len(weights):
        mini_weights: Any = None
    elif weights.count(weights[0]) == len(weights):
        mini_weights = None if weights[0] == 1.0 else weights[0]
    else:
        mini_weights = tuple(weights)
    databytes = pickle.dumps((deltas, mini_weights, pw._mini_values()), 2)
    comp = pw._compression
    if comp:
        databytes = zlib.compress(databytes, comp)
    infobytes = pickle.dumps(
        (
            len(ids),
            ids[-1],
            pw._maxweight,
            comp,
            length_to_byte(pw._minlength),
            length_to_byte(pw._maxlength),
        ),
        2,
    )
    blocklength = len(infobytes) + len(databytes)
    postfile = pw._postfile
    postfile.write_int(-blocklength if last else blocklength)
    postfile.write(infobytes)
    postfile.write(databytes)
    pw._blockcount += 1
    pw._new_block()


def _caps_words(text: str) -> str:
    return " ".join(sorted({w.lower() for w in _CAPS_RE.findall(text)}))


def _facet(kind: str, value: str) -> str:
    return kind + "=" + " ".join(value.lower().replace(",", " ").split())


def _schema(phrases: Iterable[tuple[str, ...]] = ()) -> Schema:
    # Every indexed field is "scorable" (has a length column): for fields without one,
    # Whoosh 2.7 stats the filesystem once per posting while committing.
    post_id = ID(unique=True)
    post_id.scorable = True
    phrases = frozenset(phrases)
    content = TEXT(analyzer=CairnAnalyzer(phrases), phrase=True)
    content.format = CairnPositions()
    title = TEXT(analyzer=CairnAnalyzer(phrases), phrase=True)
    title.format = CairnPositions()
    return Schema(
        post_id=post_id,
        content=content,
        title=title,
        caps=KEYWORD(scorable=True),
        facets=KEYWORD(commas=True, scorable=True),
        thread=COLUMN(whcolumns.NumericColumn("q")),
        created=COLUMN(whcolumns.NumericColumn("q")),
        hit=STORED(),
    )


def _codec() -> Any:
    return CairnCodec()


_EPOCH = datetime(1970, 1, 1)


def _micros(dt: datetime) -> int:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _day_micros(d: date) -> int:
    return _micros(datetime(d.year, d.month, d.day))


def _clean(text: str | None) -> str:
    """``text`` as valid UTF-8 (lone surrogates would make Whoosh fail to encode terms)."""
    if not text:
        return ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _doc_fields(doc: SearchDoc) -> dict[str, Any]:
    title = _clean(doc.thread_title)
    body = _clean(doc.body_text)
    content = "\n".join(part for part in (title, body, _clean(doc.outcome_summary)) if part)
    author = _clean(doc.author)
    facets = [
        _facet("board", _clean(doc.board_slug)),
        _facet("author", author),
        _facet("status", doc.status or "open"),
    ]
    facets += [_facet("treatment", _clean(s)) for s in doc.treatments]
    facets += [_facet("symptom", _clean(s)) for s in doc.symptoms]
    facets += [_facet("condition", _clean(s)) for s in doc.conditions]
    if doc.outcome:
        facets.append(_facet("outcome", doc.outcome))
    if doc.is_first_post:
        facets.append("first=1")
    if doc.members_only:
        facets.append("mo=1")
    fields: dict[str, Any] = {
        "post_id": str(int(doc.post_id)),
        "content": content,
        "title": title,
        "caps": _caps_words(content),
        "facets": ",".join(facets),
        "thread": int(doc.thread_id),
        "created": _micros(doc.created_at),
        "hit": {
            "post_id": int(doc.post_id),
            "thread_id": int(doc.thread_id),
            "title": title,
            "slug": _clean(doc.thread_slug),
            "author": author,
            "board": _clean(doc.board_slug),
            "board_name": _clean(doc.board_name),
            "created_at": doc.created_at,
            "status": doc.status,
            "outcome": doc.outcome,
            "is_first_post": bool(doc.is_first_post),
            "members_only": bool(doc.members_only),
            "body": body,
        },
    }
    return {k: v for k, v in fields.items() if v != ""}


def _slugify(value: str) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


# ---------------------------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------------------------


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Nudge ``start``/``end`` inwards to word boundaries so no word is cut in half."""
    if start > 0:
        space = text.find(" ", start, min(len(text), start + 30))
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", max(start, end - 30), end)
        end = space if space > start else end
        if not any(ch.isalnum() for ch in text[end:]):
            end = len(text)
    return start, end


def make_snippet(
    body: str, title: str, terms: frozenset[str], caps: frozenset[str] = frozenset()
) -> str:
    """About 200 characters of ``body`` (the title when the body is empty) around the densest
    run of matched words: HTML-escaped, matches wrapped in ``<mark>``, ``…`` where cut.

    When nothing matches (a title-only or synonym-only match) it is the start of the body."""
    source = body if body.strip() else title
    text = " ".join(source[:_SNIPPET_SCAN_CHARS].split())
    cut_short = len(source) > _SNIPPET_SCAN_CHARS
    spans = []
    if terms or caps:
        for m in _WORD_RE.finditer(text):
            word = m.group(0)
            if _index_form(word) in terms or (word.isupper() and word.lower() in caps):
                spans.append(m.span())
    if len(text) <= _SNIPPET_CHARS:
        start, end = 0, len(text)
        cut_short = False
    elif not spans:
        start, end = _cut(text, 0, _SNIPPET_CHARS)
    else:
        # the window (starting at a match) holding the most matches: two pointers, O(n)
        best, best_count, j = spans[0][0], 0, 0
        for i, (s0, _e0) in enumerate(spans):
            j = max(j, i)
            while j < len(spans) and spans[j][1] <= s0 + _SNIPPET_CHARS - 40:
                j += 1
            if j - i > best_count:
                best, best_count = s0, j - i
        start = max(0, best - 40)
        end = min(len(text), start + _SNIPPET_CHARS)
        start = max(0, min(start, end - _SNIPPET_CHARS))
        start, end = _cut(text, start, end)
    out = ["…"] if start > 0 else []
    pos = start
    for s0, e0 in spans:
        if s0 < pos or e0 > end:
            continue
        out.append(html.escape(text[pos:s0], quote=False))
        out.append("<mark>" + html.escape(text[s0:e0], quote=False) + "</mark>")
        pos = e0
    out.append(html.escape(text[pos:end], quote=False))
    if end < len(text) or cut_short:
        out.append("…")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Query plans
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _T:
    field: str
    text: str


@dataclass(frozen=True)
class _P:
    field: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Or:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _And:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _Plan:
    clauses: tuple[Any, ...] = ()  # every clause must match; they carry the score
    excluded: tuple[Any, ...] = ()  # documents matching any of these are dropped
    facets: tuple[tuple[str, ...], ...] = ()  # every group must match one of its facet tokens
    start: int | None = None  # created >= start (µs since epoch, UTC)
    end: int | None = None  # created < end
    hide_members_only: bool = True
    highlight: frozenset[str] = frozenset()  # analysed words to <mark>
    highlight_caps: frozenset[str] = frozenset()  # words to <mark> only when in capitals
    impossible: bool = False


@dataclass
class _Ctx:
    """Per-plan state: what to highlight, and which phrases the index holds as terms."""

    indexed: frozenset[tuple[str, ...]] = frozenset()
    words: set[str] = field(default_factory=set)
    caps: set[str] = field(default_factory=set)

    def tokens_node(self, fieldname: str, toks: tuple[str, ...], as_words: bool) -> Any:
        if len(toks) == 1:
            return _T(fieldname, toks[0])
        if as_words:
            return _And(tuple(_T(fieldname, t) for t in toks))
        if toks in self.indexed:
            return _T(fieldname, " ".join(toks))
        return _P(fieldname, toks)


@dataclass
class _Synonyms:
    groups: list[list[tuple[str, ...]]] = field(default_factory=list)
    index: dict[tuple[str, ...], int] = field(default_factory=dict)
    max_len: int = 1
    words: frozenset[str] = frozenset()  # folded, unstemmed words of every member

    def phrases(self) -> frozenset[tuple[str, ...]]:
        """Multi-word members, indexed as single terms."""
        return frozenset(m for group in self.groups for m in group if len(m) > 1)

    @classmethod
    def build(cls, groups: Iterable[Iterable[str]]) -> _Synonyms:
        syn = cls()
        words: set[str] = set()
        for group in groups:
            members: list[tuple[str, ...]] = []
            for phrase in group:
                toks = tuple(analyse(phrase))
                if toks and toks not in members:
                    members.append(toks)
                    words.update(analyse(phrase, stem=False))
            if len(members) < 2:
                continue
            gid = len(syn.groups)
            syn.groups.append(members)
            for toks in members:
                syn.index.setdefault(toks, gid)
                syn.max_len = max(syn.max_len, len(toks))
        syn.words = frozenset(words)
        return syn


class _Translator:
    """ParsedQuery -> _Plan: analysis, synonym expansion, filter resolution."""

    def __init__(self, synonyms: _Synonyms, lookup: Callable[[str, str], str | None] | None):
        self.syn = synonyms
        self.lookup = lookup

    def _group(
        self,
        gid: int,
        typed: tuple[str, ...],
        fieldname: str,
        as_words: bool,
        ctx: _Ctx,
    ) -> Any:
        alts = []
        for member in self.syn.groups[gid]:
            if len(member) == 1 and member[0] in AMBIGUOUS_SHORT_WORDS:
                # "AN"/"an" typed or implied means the abbreviation: written in capitals.
                if fieldname == CONTENT:
                    alts.append(_T(CAPS, member[0]))
                    ctx.caps.add(member[0])
                elif member == typed:
                    alts.append(_T(fieldname, member[0]))
                    ctx.words.update(member)
            elif member == typed:
                alts.append(ctx.tokens_node(fieldname, member, as_words))
                ctx.words.update(member)
            else:
                alts.append(ctx.tokens_node(fieldname, member, False))
                ctx.words.update(member)
        return alts[0] if len(alts) == 1 else _Or(tuple(alts))

    def _alternative(self, alt: Term | Phrase, fieldname: str, ctx: _Ctx) -> Any:
        toks = tuple(analyse(alt.text))
        if not toks:
            return None
        if isinstance(alt, Term):
            gid = self.syn.index.get(toks)
            if gid is not None:
                return self._group(gid, toks, fieldname, False, ctx)
        ctx.words.update(toks)
        return ctx.tokens_node(fieldname, toks, False)

    def _clauses(self, clauses: tuple[Clause, ...], fieldname: str, ctx: _Ctx) -> list[Any]:
        out: list[Any] = []
        simple = [len(c.alternatives) == 1 and isinstance(c.alternatives[0], Term) for c in clauses]
        toks_of = [
            tuple(analyse(c.alternatives[0].text)) if simple[i] else ()
            for i, c in enumerate(clauses)
        ]
        i, n = 0, len(clauses)
        while i < n:
            # A multi-word synonym typed as separate words ("gamma knife spasms").
            if simple[i] and self.syn.max_len > 1:
                best = None
                seq: tuple[str, ...] = toks_of[i]
                j = i + 1
                while j < n and simple[j] and len(seq) < self.syn.max_len:
                    seq = seq + toks_of[j]
                    if seq in self.syn.index:
                        best = (j, seq)
                    j += 1
                if best is not None:
                    j, seq = best
                    out.append(self._group(self.syn.index[seq], seq, fieldname, True, ctx))
                    i = j + 1
                    continue
            alts = [self._alternative(a, fieldname, ctx) for a in clauses[i].alternatives]
            alts = [a for a in alts if a is not None]
            if alts:
                out.append(alts[0] if len(alts) == 1 else _Or(tuple(dict.fromkeys(alts))))
            i += 1
        return out

    def plan(
        self,
        query: ParsedQuery,
        include_members_only: bool,
        indexed: frozenset[tuple[str, ...]] = frozenset(),
    ) -> _Plan:
        f = query.filters
        fieldname = TITLE if f.in_title else CONTENT
        ctx = _Ctx(indexed)
        clauses = self._clauses(query.clauses, fieldname, ctx)
        if query.clauses and not clauses:
            return _Plan(impossible=True)  # only punctuation was typed
        excluded = [self._alternative(a, CONTENT, _Ctx(indexed)) for a in query.excluded]

        facets: list[tuple[str, ...]] = []
        if f.boards:
            facets.append(tuple(_facet("board", b) for b in f.boards))
        if f.authors:
            facets.append(tuple(_facet("author", a) for a in f.authors))
        if f.status:
            facets.append((_facet("status", f.status),))
        for kind, value in f.tags():
            slug = None
            if self.lookup is not None:
                with contextlib.suppress(Exception):
                    slug = self.lookup(kind, value)
            slug = slug or _slugify(value)
            if not slug:
                return _Plan(impossible=True)
            facets.append((_facet(kind, slug),))

        start = _day_micros(f.after.bound) if f.after else None
        end = _day_micros(f.before.bound) if f.before else None
        return _Plan(
            clauses=tuple(clauses),
            excluded=tuple(e for e in excluded if e is not None),
            facets=tuple(facets),
            start=start,
            end=end,
            hide_members_only=not include_members_only,
            highlight=frozenset(ctx.words),
            highlight_caps=frozenset(ctx.caps),
            impossible=bool(start is not None and end is not None and start >= end),
        )


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _read_postings(m: Any) -> tuple[array, array]:
    """(ids, term frequencies) of a fresh posting matcher, read block by block."""
    ids = array("i")
    tfs = array("f")
    if isinstance(m, FilterMatcher):  # deleted documents are removed by the caller
        m = m.child
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._ids is None:
                m._read_ids()
            if m._weights is None:
                m._read_weights()
            ids.extend(m._ids)
            tfs.extend(m._weights)
            m._next_block()
    elif isinstance(m, ListMatcher):
        ids.extend(m._ids)
        tfs.extend(m._weights if m._weights is not None else [1.0] * len(m._ids))
    else:  # pragma: no cover - other codecs
        while m.is_active():
            ids.append(m.id())
            tfs.append(m.weight())
            m.next()
    return ids, tfs


def _bulk_numeric(creader: Any, typecode: str, n: int, default: int = 0) -> array:
    """All values of a Whoosh NumericColumn reader as an array (one read, no per-doc calls)."""
    try:
        size = creader._fixedlen
        count = min(creader._count, n)
        raw = bytes(creader._dbfile.get(creader._basepos, size * count)) if count else b""
        arr = array(typecode, raw)
        if size > 1 and sys.byteorder == "little":
            arr.byteswap()
        if count < n:
            arr.extend([default] * (n - count))
        return arr
    except AttributeError:  # pragma: no cover - a different column implementation
        return array(typecode, (creader[i] for i in range(n)))


_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class _LRU:
    """Thread-safe LRU bounded by the total ``weight`` of its entries."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0
        self.data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            item = self.data.get(key)
            if item is None:
                return None
            self.data.move_to_end(key)
            return item[0]

    def put(self, key: Any, value: Any, weight: int = 1) -> None:
        if weight > self.capacity:
            return
        with self.lock:
            old = self.data.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self.data[key] = (value, weight)
            self.used += weight
            while self.used > self.capacity and self.data:
                _key, (_value, w) = self.data.popitem(last=False)
                self.used -= w

    def discard_prefix(self, keep: Callable[[Any], bool]) -> None:
        with self.lock:
            for key in [k for k in self.data if not keep(k)]:
                self.used -= self.data.pop(key)[1]


@dataclass
class _SegmentData:
    """Per-segment arrays (segments are immutable; deletions are tracked separately)."""

    threads: np.ndarray  # int64 thread id per docnum
    created: np.ndarray  # int64 µs since epoch per docnum
    norms: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)


_Match = tuple[np.ndarray, np.ndarray | None]  # (mask, dense scores or None)


class _Leaf:
    """One segment of the searcher being evaluated.  Matches are dense arrays over the
    segment's docnums (see ``forum.search.ranking``)."""

    def __init__(self, ev: _Evaluation, sub: Any, offset: int, seg: _SegmentData, segid: str):
        self.ev = ev
        self.sub = sub
        self.reader = sub.reader()
        self.offset = offset
        self.seg = seg
        self.segid = segid
        self.deleted: frozenset[int] = (
            self.reader.deleted_docs_set if self.reader.has_deletions() else frozenset()
        )
        self.maxdoc = self.reader.doc_count_all()
        self.deleted_mask = ranking.mask_of(
            np.fromiter(self.deleted, dtype=np.int64, count=len(self.deleted)), self.maxdoc
        )
        self.blocked = self.deleted_mask  # set per plan by leaf_matches

    # -- raw material --------------------------------------------------------------------------

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (self.segid, fieldname, text)
        cache = self.ev.backend._postings_cache
        hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        r = self.reader
        try:
            present = (fieldname, text) in r
        except Exception:
            present = False
        if not present:
            result = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        else:
            ids, tfs = _read_postings(r.postings(fieldname, text))
            result = (np.frombuffer(ids, dtype=np.int32), np.frombuffer(tfs, dtype=np.float32))
        cache.put(key, result, max(1, len(result[0])))
        return result

    def facet_mask(self, token: str) -> np.ndarray:
        key = (self.segid, FACETS, token)
        cache = self.ev.backend._facet_cache
        hit = cache.get(key)
        if hit is None:
            hit = ranking.mask_of(self.postings(FACETS, token)[0], self.maxdoc)
            hit.flags.writeable = False
            cache.put(key, hit)
        return hit  # type: ignore[no-any-return]

    def norm(self, fieldname: str) -> np.ndarray:
        avg = self.ev.avg_length(fieldname)
        key = (fieldname, round(avg, 1))
        arr = self.seg.norms.get(key)
        if arr is None:
            arr = ranking.norms(self._lengths(fieldname), avg)
            for stale in [k for k in self.seg.norms if k[0] == fieldname]:
                del self.seg.norms[stale]  # the average length drifted
            self.seg.norms[key] = arr
        return arr

    def _lengths(self, fieldname: str) -> np.ndarray:
        n = self.maxdoc
        try:
            creader = self.reader._perdoc.column_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            raw = np.frombuffer(_bulk_numeric(creader, "B", n), dtype=np.uint8)
            return _LENGTH_TABLE[raw]  # type: ignore[no-any-return]
        except Exception:  # pragma: no cover - fall back to the public, slower API
            return np.array(
                [self.reader.doc_field_length(d, fieldname, 0) for d in range(n)], dtype=np.float64
            )

    # -- nodes ---------------------------------------------------------------------------------

    def size(self, node: Any) -> int:
        """Upper bound of the number of documents ``node`` matches here (cheap)."""
        if isinstance(node, _T):
            return len(self.postings(node.field, node.text)[0])
        if isinstance(node, _P):
            return min(len(self.postings(node.field, w)[0]) for w in node.words)
        sizes = [self.size(x) for x in node.items]
        return sum(sizes) if isinstance(node, _Or) else min(sizes)

    def _restrict(self, mask: np.ndarray, within: np.ndarray | None) -> np.ndarray:
        mask &= ~self.blocked
        if within is not None:
            mask &= within
        return mask

    def term(self, node: _T, scored: bool, within: np.ndarray | None = None) -> _Match:
        ids, tfs = self.postings(node.field, node.text)
        mask = self._restrict(ranking.mask_of(ids, self.maxdoc), within)
        if not scored:
            return mask, None
        idf = self.ev.idf(node.field, node.text)
        return mask, ranking.bm25(ids, tfs, self.norm(node.field), idf, self.maxdoc)

    def values(self, fieldname: str, text: str, docs: set[int]) -> dict[int, bytes]:
        """Encoded posting values (positions) of ``text`` for the documents in ``docs``."""
        out: dict[int, bytes] = {}
        m = self.reader.postings(fieldname, text)
        if isinstance(m, FilterMatcher):
            m = m.child
        if isinstance(m, W3LeafMatcher):
            while m.is_active():
                if m._ids is None:
                    m._read_ids()
                ids = m._ids
                if not docs.isdisjoint(ids):
                    if m._values is None:
                        m._read_values()
                    values = m._values
                    for i, d in enumerate(ids):
                        if d in docs:
                            out[d] = values[i]
                m._next_block()
        else:  # pragma: no cover - other matchers
            while m.is_active():
                if m.id() in docs:
                    out[m.id()] = m.value()
                m.next()
        return out

    def _phrase_count(self, node: _P, within: np.ndarray | None) -> dict[int, int]:
        words = node.words
        unique = list(dict.fromkeys(words))
        idlists = [self.postings(node.field, w)[0] for w in unique]
        if not all(len(ids) for ids in idlists):
            return {}
        cand = within.copy() if within is not None else np.ones(self.maxdoc, dtype=bool)
        for ids in sorted(idlists, key=len):
            cand &= ranking.mask_of(ids, self.maxdoc)
        docs = set(np.flatnonzero(cand).tolist())
        if not docs:
            return {}
        vals = {w: self.values(node.field, w, docs) for w in unique}
        first, rest = vals[words[0]], [(i, vals[w]) for i, w in enumerate(words[1:], 1)]
        out: dict[int, int] = {}
        for d in docs:
            starts = set(array("I", first[d][4:]))
            for i, v in rest:
                starts.intersection_update([p - i for p in array("I", v[d][4:])])
                if not starts:
                    break
            if starts:
                out[d] = len(starts)
        return out

    def phrase_tfs(self, node: _P, within: np.ndarray | None = None) -> dict[int, int]:
        """{docnum: occurrences} of the phrase in this segment (deleted documents included).

        Candidates are the intersection of the words' posting lists; positions are decoded only
        for those.  Whole-segment results are cached like postings; a small ``within`` set is
        evaluated directly instead."""
        key = (self.segid, "\x00phrase", node)
        cache = self.ev.backend._postings_cache
        hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        if within is not None and int(np.count_nonzero(within)) * 8 < self.size(node):
            return self._phrase_count(node, within)
        out = self._phrase_count(node, None)
        cache.put(key, out, max(1, len(out)))
        return out

    def phrase(self, node: _P, scored: bool, within: np.ndarray | None = None) -> _Match:
        tfs = self.phrase_tfs(node, within)
        ids = np.fromiter(tfs.keys(), dtype=np.int64, count=len(tfs))
        mask = self._restrict(ranking.mask_of(ids, self.maxdoc), within)
        if not scored:
            return mask, None
        counts = np.fromiter(tfs.values(), dtype=np.float64, count=len(tfs))
        idf = self.ev.phrase_idf(node)
        return mask, ranking.bm25(ids, counts, self.norm(node.field), idf, self.maxdoc)

    def eval(self, node: Any, scored: bool, within: np.ndarray | None = None) -> _Match:
        """Documents matching ``node`` (restricted to ``within`` when given): a mask, and
        dense scores when ``scored``."""
        if isinstance(node, _T):
            return self.term(node, scored, within)
        if isinstance(node, _P):
            return self.phrase(node, scored, within)
        if isinstance(node, _Or):
            mask, scores = self.eval(node.items[0], scored, within)
            for item in node.items[1:]:
                m, s = self.eval(item, scored, within)
                mask |= m
                if scores is not None:
                    scores += s
            return mask, scores
        return self.eval_all(node.items, scored, within)  # _And

    def eval_all(self, nodes: Iterable[Any], scored: bool, within: np.ndarray | None = None):
        """Documents matching every node: the rarest first, each later one only among the
        documents that are still candidates (phrases decode positions only for those)."""
        mask: np.ndarray | None = None
        scores: np.ndarray | None = None
        nodes = sorted(nodes, key=self.size)
        if nodes and self.size(nodes[0]) == 0:  # a word this segment lacks: nothing to do
            nodes = []
        for node in nodes:
            m, s = self.eval(node, scored, within if mask is None else mask)
            mask = m if mask is None else mask & m
            if s is not None:
                scores = s if scores is None else scores + s
            if not mask.any():
                break
        if mask is None:
            mask = np.zeros(self.maxdoc, dtype=bool)
        if scored and scores is None:
            scores = np.zeros(self.maxdoc)
        return mask, (scores if scored else None)


class _Evaluation:
    """One query against one searcher: BM25 statistics shared by the segments."""

    def __init__(self, backend: WhooshBackend, name: str, searcher: Any):
        self.backend = backend
        self.name = name
        self.s = searcher
        self.reader = searcher.reader()
        self.n_docs = max(1, searcher.doc_count_all())
        self._idf: dict[tuple[str, str], float] = {}
        self._avg: dict[str, float] = {}
        self._phrase_idf: dict[_P, float] = {}
        self.leaves = [
            _Leaf(self, sub, off, *backend._segment_data(name, sub))
            for sub, off in searcher.leaf_searchers()
            if sub.reader().segment() is not None  # an empty index has an EmptyReader
        ]

    def avg_length(self, fieldname: str) -> float:
        avg = self._avg.get(fieldname)
        if avg is None:
            avg = self.reader.field_length(fieldname) / self.n_docs
            self._avg[fieldname] = avg
        return avg

    @staticmethod
    def _bm25_idf(df: int, n: int) -> float:
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def idf(self, fieldname: str, text: str) -> float:
        key = (fieldname, text)
        v = self._idf.get(key)
        if v is None:
            v = self._bm25_idf(self.reader.doc_frequency(fieldname, text), self.n_docs)
            self._idf[key] = v
        return v

    def phrase_idf(self, node: _P) -> float:
        v = self._phrase_idf.get(node)
        if v is None:
            df = 0
            for leaf in self.leaves:
                tfs = leaf.phrase_tfs(node)
                df += len(tfs.keys() - leaf.deleted) if leaf.deleted else len(tfs)
            v = self._bm25_idf(df, self.n_docs)
            self._phrase_idf[node] = v
        return v

    def matches(self, plan: _Plan, scored: bool) -> list[_Match]:
        """Per segment: (mask, scores or None)."""
        return [self.leaf_matches(leaf, plan, scored) for leaf in self.leaves]

    def leaf_matches(self, leaf: _Leaf, plan: _Plan, scored: bool) -> _Match:
        # Deleted and (for guests) members-only posts are skipped while scoring.
        leaf.blocked = leaf.deleted_mask
        if plan.hide_members_only:
            leaf.blocked = leaf.deleted_mask | leaf.facet_mask("mo=1")
        restrict: np.ndarray | None = None
        for group in plan.facets:
            ids = np.zeros(leaf.maxdoc, dtype=bool)
            for token in group:
                ids |= leaf.facet_mask(token)
            restrict = ids if restrict is None else restrict & ids
        if plan.start is not None or plan.end is not None:
            created = leaf.seg.created
            dated = np.ones(leaf.maxdoc, dtype=bool)
            if plan.start is not None:
                dated &= created >= plan.start
            if plan.end is not None:
                dated &= created < plan.end
            restrict = dated if restrict is None else restrict & dated
        if plan.clauses:
            mask, scores = leaf.eval_all(plan.clauses, scored, restrict)
        else:
            mask = ~leaf.blocked if restrict is None else restrict & ~leaf.blocked
            scores = np.zeros(leaf.maxdoc) if scored else None
        if plan.excluded and mask.any():
            for node in plan.excluded:
                dropped, _ = leaf.eval(node, False)
                mask &= ~dropped
        return mask, scores


def _close_searchers(searchers: set[Any], lock: threading.Lock) -> None:
    with lock:
        for s in list(searchers):
            with contextlib.suppress(Exception):
                s.close()
        searchers.clear()


def _storage(path: str | Path) -> Any:
    """Whoosh file storage *without* mmap: Whoosh 2.7 copies every memory-mapped segment file
    into a BytesIO when a reader opens it (about 9 MB per 1,000 posts, per searcher, again
    after every write); plain file reads leave that to the OS page cache."""
    return FileStorage(str(path), supports_mmap=False)


def _retry_vanished(open_: Callable[[], Any], attempts: int = 50, pause: float = 0.01) -> Any:
    """Open an index or searcher, again if its files vanished meanwhile.

    Whoosh lists the newest table of contents and then opens it; another process's commit can
    delete that file in between (FileNotFoundError). Opening again finds the newer one.
    """
    for attempt in range(attempts):
        try:
            return open_()
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


_doc_values = operator.attrgetter(*(f.name for f in dataclasses.fields(SearchDoc)))


def _index_chunk(path: str, payload: bytes) -> Any:
    """Write the documents in ``payload`` (a compressed, pickled list of ``SearchDoc`` field
    tuples) as one new, uncommitted segment of the index at ``path`` and return the segment.
    Runs in rebuild worker processes."""
    ix = _storage(path).open_index()
    writer = _BulkWriter(ix, lock=False)  # the parent holds the new generation
    try:
        docs = pickle.loads(zlib.decompress(payload))  # noqa: S301 - from our parent
        for values in docs:
            writer.add_document(**_doc_fields(SearchDoc(*values)))
        segment = writer._finalize_segment()
    except BaseException:
        writer.cancel()
        raise
    # The temp directory ("MAIN.tmp") is shared by the workers; the parent's final commit
    # removes it.
    writer.is_closed = True
    return segment


# ---------------------------------------------------------------------------------------------
# Locks
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _flock(path: Path, timeout: float) -> Iterator[None]:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"{path} is locked by another process") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass
class _Grouped:
    """Threads in result order: (global docnum, score) of each thread's representative."""

    reps: list[tuple[int, float]]
    total_threads: int


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


def _merge_small_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh's MERGE_SMALL among the segments under ``_MERGE_CAP_DOCS`` only.

    MERGE_SMALL on its own, once about twenty segments have gathered, merges *every* segment
    (its Fibonacci threshold outgrows the whole index): on 100,000 posts one post's commit
    then rewrote the whole index, for a minute of CPU and ~100 MB. Large segments (from
    ``rebuild``, or small ones merged past the cap) are left as they are; ``forum reindex``
    compacts them.
    """
    small = [seg for seg in segments if seg.doc_count_all() < _MERGE_CAP_DOCS]
    large = [seg for seg in segments if seg.doc_count_all() >= _MERGE_CAP_DOCS]
    return large + MERGE_SMALL(writer, small)


class _Batch:
    """``add``/``delete`` into one held Whoosh writer (see ``WhooshBackend.writing``)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def add(self, docs: Iterable[SearchDoc]) -> None:
        # One version per post: the last one wins (update_document would keep both when the
        # same post appears twice in one writer).
        latest = {int(d.post_id): d for d in docs}
        for fields in (_doc_fields(d) for d in latest.values()):
            self._writer.update_document(**fields)

    def delete(self, post_ids: Iterable[int]) -> None:
        for pid in sorted({int(p) for p in post_ids}):
            self._writer.delete_by_term("post_id", str(pid))


class WhooshBackend:
    """Search backend keeping a Whoosh index in ``index_dir``; safe across processes.

    ``synonyms``: groups of lower-case words/phrases that mean the same thing.
    ``vocabulary_lookup(kind, text)``: resolves ``treatment:``/``symptom:``/``condition:``
    values to vocabulary slugs (``None``: slugify the value).
    ``write_timeout``: how long ``add``/``delete`` wait for another writer before
    :class:`IndexBusy`.  ``result_cache``: keep recent results (whole and per segment).
    ``rebuild_procs``: worker processes for ``rebuild`` (default: up to 2; 1 = in process).

    Thread-safe; every gunicorn worker process builds its own instance on the same directory.
    """

    def __init__(
        self,
        index_dir: str | Path,
        *,
        synonyms: list[list[str]],
        vocabulary_lookup: Callable[[str, str], str | None] | None = None,
        write_timeout: float = _WRITE_TIMEOUT,
        result_cache: bool = True,
        rebuild_procs: int | None = None,
    ) -> None:
        self.root = Path(index_dir)
        self.write_timeout = write_timeout
        if rebuild_procs is None:
            rebuild_procs = min(2, os.cpu_count() or 1)
        self.rebuild_procs = max(1, int(rebuild_procs))
        self._synonyms = _Synonyms.build(synonyms)
        self._translator = _Translator(self._synonyms, vocabulary_lookup)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._indexes: dict[str, Any] = {}
        self._segments: dict[tuple[str, str], _SegmentData] = {}
        self._postings_cache = _LRU(_POSTINGS_CACHE_POSTINGS)
        self._facet_cache = _LRU(_FACET_CACHE_SIZE)
        self._results = _LRU(_RESULT_CACHE_SIZE) if result_cache else None
        self._spelling = _LRU(2048)
        self._leaf_results = _LRU(_LEAF_CACHE_WEIGHT if result_cache else 0)
        # Every open searcher (one per thread) holds file handles: close them with the backend.
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_searchers, self._open, self._open_lock)
        self._ensure_index()

    def close(self) -> None:
        """Close the open index files (also done when the backend is garbage-collected); the
        backend reopens them if it is used again."""
        _close_searchers(self._open, self._open_lock)

    # -- generations ---------------------------------------------------------------------------

    @property
    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    @property
    def _lockfile(self) -> Path:
        return self.root / ".cairn-index.lock"

    def _read_pointer(self) -> str | None:
        try:
            name = self._pointer.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not name or "/" in name or not (self.root / name).is_dir():
            return None
        return name

    def _write_pointer(self, name: str) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._pointer)
        with contextlib.suppress(OSError):
            dirfd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)

    def _new_generation(self) -> tuple[str, Any]:
        name = f"ix-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        path = self.root / name
        path.mkdir(parents=True)
        return name, _storage(path).create_index(_schema(self._synonyms.phrases()))

    def _ensure_index(self) -> str:
        name = self._read_pointer()
        if name is not None:
            return name
        self.root.mkdir(parents=True, exist_ok=True)
        with _flock(self._lockfile, _REBUILD_LOCK_TIMEOUT):
            name = self._read_pointer()
            if name is None:
                name, ix = self._new_generation()
                self._indexes[name] = ix
                self._write_pointer(name)
        return name

    def _index(self, name: str) -> Any:
        ix = self._indexes.get(name)
        if ix is None:
            ix = _retry_vanished(_storage(self.root / name).open_index)
            self._indexes = {name: ix}  # keep only the live generation
            self._segments = {k: v for k, v in self._segments.items() if k[0] == name}
            self._postings_cache.discard_prefix(lambda k: k[0].startswith(name))
            self._facet_cache.discard_prefix(lambda k: k[0].startswith(name))
        return ix

    def _remove_old_generations(self, keep: set[str]) -> None:
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("ix-") and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self) -> Iterator[Any]:
        deadline = time.monotonic() + self.write_timeout
        if not self._write_lock.acquire(timeout=self.write_timeout):
            raise IndexBusy("another thread is writing to the search index")
        try:
            while True:
                name = self._ensure_index()
                ix = self._index(name)
                remaining = max(0.0, deadline - time.monotonic())
                try:
                    writer = ix.writer(
                        timeout=remaining, delay=0.02, codec=_codec(), limitmb=_WRITER_LIMIT_MB
                    )
                except whindex.LockError:
                    raise IndexBusy("the search index is locked by another process") from None
                if self._read_pointer() != name:  # a rebuild swapped generations meanwhile
                    writer.cancel()
                    continue
                try:
                    yield writer
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(mergetype=_merge_small_segments)
                return
        finally:
            self._write_lock.release()

    def add(self, docs: Iterable[SearchDoc]) -> None:
        """Index ``docs`` (replacing earlier versions).  Raises IndexBusy when locked."""
        docs = list(docs)
        if docs:
            with self.writing() as batch:
                batch.add(docs)

    def delete(self, post_ids: Iterable[int]) -> None:
        """Remove posts from the index.  Raises IndexBusy when locked."""
        post_ids = list(post_ids)
        if post_ids:
            with self.writing() as batch:
                batch.delete(post_ids)

    @contextlib.contextmanager
    def writing(self) -> Iterator[_Batch]:
        """Hold the writer (this process's lock and Whoosh's file lock) for several
        ``add``/``delete`` calls, committed together at the end.  Raises IndexBusy on entry."""
        with self._writer() as writer:
            yield _Batch(writer)

    def rebuild(
        self,
        docs: Iterable[SearchDoc],
        *,
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Build a new generation from ``docs`` and swap it in; returns the number indexed.

        ``progress(n)`` is called every 1,000 documents and once at the end; ``total`` is only
        a hint for the caller's own display.  Searches keep working throughout; ``add`` and
        ``delete`` raise IndexBusy until the swap (their callers retry later).
        """
        del total
        self.root.mkdir(parents=True, exist_ok=True)
        with _flock(self._lockfile, _REBUILD_LOCK_TIMEOUT):
            old = self._read_pointer()
            live_lock = None
            if old is not None:
                # the lock FileIndex.writer() takes (named "<indexname>_WRITELOCK")
                live_lock = _storage(self.root / old).lock("MAIN_WRITELOCK")
                deadline = time.monotonic() + _REBUILD_LOCK_TIMEOUT
                while not live_lock.acquire():
                    if time.monotonic() >= deadline:
                        raise IndexBusy("the search index is locked by another process")
                    time.sleep(0.05)
            try:
                name, ix = self._new_generation()
                try:
                    count = self._fill(ix, docs, progress)
                except BaseException:
                    shutil.rmtree(self.root / name, ignore_errors=True)
                    raise
                self._write_pointer(name)
            finally:
                if live_lock is not None:
                    live_lock.release()
            # Searchers elsewhere may still have the previous generation open: keep it until
            # the next rebuild, drop anything older.
            self._remove_old_generations({name, old} if old else {name})
        if progress is not None:
            progress(count)
        return count

    def _fill(
        self, ix: Any, docs: Iterable[SearchDoc], progress: Callable[[int], None] | None
    ) -> int:
        """Index ``docs`` into the new (still private) generation ``ix``.

        Documents are written in chunks of ``_REBUILD_CHUNK``, each chunk becoming one segment
        (bounded memory, no external-sort spills), by ``rebuild_procs`` worker processes; the
        segments are committed together.  This process only reads ``docs`` and ships each
        chunk as compressed field tuples (at most ``rebuild_procs`` chunks in flight); the
        workers analyse and write.  Measured at 100,000 posts: about 60 s of CPU in all
        (from 120 s), peak RSS under 200 MB per process.
        """
        path = str(ix.storage.folder)
        segments: list[Any] = []
        count = 0
        chunk: list[tuple[Any, ...]] = []
        pool = None
        pending: list[Any] = []
        # Worker processes are forked (no re-import of the caller's __main__), which is only
        # safe while this process has a single thread; otherwise index in-process.
        if self.rebuild_procs > 1 and threading.active_count() == 1:
            pool = ProcessPoolExecutor(
                max_workers=self.rebuild_procs, mp_context=multiprocessing.get_context("fork")
            )
            # With "fork" every worker starts at the first submit: do it now, before this
            # process holds any documents, so the workers don't inherit (and count) them.
            pool.submit(int).result()
        try:

            def flush() -> None:
                nonlocal chunk
                # Documents travel as one pickled list of field tuples: about half the size of
                # the analysed field dicts, and only bytes stay in this process meanwhile.
                payload = zlib.compress(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL), 1)
                chunk = []
                if pool is None:
                    segments.append(_index_chunk(path, payload))
                else:
                    while len(pending) >= self.rebuild_procs:  # bound memory held in flight
                        segments.append(pending.pop(0).result())
                    pending.append(pool.submit(_index_chunk, path, payload))

            for doc in docs:
                chunk.append(_doc_values(doc))
                count += 1
                if progress is not None and count % 1000 == 0:
                    progress(count)
                if len(chunk) >= _REBUILD_CHUNK:
                    flush()
            if chunk:
                flush()
            segments.extend(f.result() for f in pending)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        # One commit publishes every segment (the generation is private until CURRENT moves).
        writer = SegmentWriter(ix, codec=_codec())
        writer._close_segment()
        writer._commit_toc(list(writer.segments) + segments)
        writer._finish()
        indexed = ix.doc_count()
        if indexed != count:  # never swap in a partial index
            raise RuntimeError(f"rebuild indexed {indexed} of {count} documents")
        return count

    def clear(self) -> None:
        """Remove every document (swaps in an empty generation)."""
        self.rebuild(())

    # -- reading -------------------------------------------------------------------------------

    def _searcher(self) -> tuple[str, Any]:
        name = self._read_pointer() or self._ensure_index()
        local = self._local
        s = getattr(local, "searcher", None)
        if s is not None:
            # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it re-adds the previous
            # reader's segments to the new reader, so deleted/replaced posts come back.
            try:
                fresh = getattr(local, "name", None) == name and not s.is_closed and s.up_to_date()
            except Exception:  # files vanished under an old reader
                fresh = False
            if not fresh:
                with self._open_lock:
                    self._open.discard(s)
                with contextlib.suppress(Exception):
                    s.close()
                s = None
        if s is None:
            ix = self._index(name)
            s = _retry_vanished(ix.searcher)
            with self._open_lock:
                self._open.add(s)
        local.searcher, local.name = s, name
        return name, s

    def doc_count(self) -> int:
        return int(self._searcher()[1].doc_count())

    def _segment_data(self, name: str, sub: Any) -> tuple[_SegmentData, str]:
        reader = sub.reader()
        segid = f"{name}/{reader.segment().segment_id()}"
        key = (name, segid)
        seg = self._segments.get(key)
        if seg is None:
            n = reader.doc_count_all()
            cols = []
            for name_ in ("thread", "created"):
                if reader.has_column(name_):
                    creader = reader.column_reader(name_, translate=False)
                    cols.append(np.frombuffer(_bulk_numeric(creader, "q", n), dtype=np.int64))
                else:  # every value was the default (0)
                    cols.append(np.zeros(n, dtype=np.int64))
            seg = _SegmentData(cols[0], cols[1])
            self._segments[key] = seg
        return seg, segid

    def _grouped(self, ev: _Evaluation, plan: _Plan, sort: str, need: int) -> _Grouped:
        """Every matching thread counted, the best ``need`` ranked.

        Each segment's contribution (its matching threads and its own best ``need`` threads)
        is cached for large segments: they change only when a post in them is deleted, so a
        popular query stays cheap while new posts land in small new segments."""
        scored = bool(plan.clauses) and sort != "newest"
        stats_bucket = round(math.log(ev.n_docs), 2)  # BM25 statistics move ~1% per bucket
        parts: list[tuple[int, ranking.LeafResult]] = []
        for leaf in ev.leaves:
            key = None
            if leaf.maxdoc >= _LEAF_CACHE_MIN_DOCS:
                key = (leaf.segid, len(leaf.deleted), plan, scored, stats_bucket)
                hit = self._leaf_results.get(key)
                if hit is not None and (hit.complete or hit.need >= need):
                    parts.append((leaf.offset, hit))
                    continue
            mask, scores = ev.leaf_matches(leaf, plan, scored)
            part = ranking.leaf_result(mask, scores, leaf.seg.threads, leaf.seg.created, need)
            if key is not None:
                self._leaf_results.put(key, part, 1 + len(part.threads) + len(part.cands))
            parts.append((leaf.offset, part))
        total = ranking.count_threads([p.threads for _off, p in parts])
        return _Grouped(ranking.merge_candidates(parts, min(need, total)), total)

    def _hit(self, s: Any, docnum: int, score: float, plan: _Plan) -> SearchHit:
        f = s.stored_fields(docnum).get("hit") or {}
        created = f.get("created_at")
        return SearchHit(
            post_id=int(f.get("post_id", 0)),
            thread_id=int(f.get("thread_id", 0)),
            thread_title=f.get("title") or "",
            thread_slug=f.get("slug") or "",
            author=f.get("author") or "",
            board_slug=f.get("board") or "",
            board_name=f.get("board_name") or "",
            created_at=created if isinstance(created, datetime) else datetime.min,
            status=f.get("status") or "open",
            outcome=f.get("outcome") or None,
            snippet_html=make_snippet(
                f.get("body") or "", f.get("title") or "", plan.highlight, plan.highlight_caps
            ),
            score=round(float(score), 4),
        )

    def search(
        self,
        query: ParsedQuery,
        *,
        include_members_only: bool,
        page: int = 1,
        per_page: int = 20,
        sort: SortOrder = "relevance",
    ) -> SearchResults:
        """One page of threads, each represented by its best-matching visible post."""
        page, per_page, sort = clamp_paging(page, per_page, sort)
        results = SearchResults(page=page, per_page=per_page, notices=list(query.notices))
        if query.is_empty:
            return results
        name, s = self._searcher()
        plan = self._translator.plan(query, include_members_only, _indexed_phrases(s))
        if plan.impossible:
            return results
        need = page * per_page
        key = (name, s.reader().generation(), plan, sort)
        grouped = self._results.get(key) if self._results is not None else None
        ev = None
        if grouped is None or len(grouped.reps) < min(need, grouped.total_threads):
            ev = _Evaluation(self, name, s)
            grouped = self._grouped(ev, plan, sort, max(need, 2 * per_page))
            if self._results is not None:
                self._results.put(key, grouped)
        results.total_threads = grouped.total_threads
        start = (page - 1) * per_page
        results.hits = [
            self._hit(s, docnum, score, plan)
            for docnum, score in grouped.reps[start : start + per_page]
        ]
        if plan.clauses:
            results.suggestion = self._suggest(
                ev or _Evaluation(self, name, s), query, include_members_only, grouped.total_threads
            )
        return results

    # -- did you mean --------------------------------------------------------------------------

    def _correct_word(self, ev: _Evaluation, word: str) -> str | None:
        """A better-attested spelling of ``word`` (unstemmed, lower-case), or None."""
        folded = analyse(word, stem=False)
        if len(folded) != 1:
            return None
        plain = folded[0]
        if len(plain) < 4 or not plain.isalpha() or plain in self._synonyms.words:
            return None
        reader = ev.reader
        stemmed = _stem(plain)
        df = reader.doc_frequency(CONTENT, stemmed)
        if df >= 3:  # an established word, even if rare
            return None
        key = (ev.name, ev.n_docs // 1000, stemmed)
        cached = self._spelling.get(key)
        if cached is not None:
            return cached or None
        maxdist = 1 if len(stemmed) <= 5 else 2
        # The biggest segments hold nearly the whole vocabulary; probing each small recent
        # segment as well would cost more than it finds.
        leaves = sorted(ev.leaves, key=lambda leaf: leaf.maxdoc, reverse=True)[:4]
        candidates: set[str] = set()
        for leaf in leaves:
            candidates.update(leaf.reader.terms_within(CONTENT, stemmed, maxdist, prefix=1))
        candidates.discard(stemmed)
        best: tuple[int, int, str] | None = None  # (-distance, frequency, stem)
        for cand in candidates:
            freq = reader.doc_frequency(CONTENT, cand)
            if freq > df * 10:
                rank = (-_edit_distance(stemmed, cand), freq, cand)
                if best is None or rank > best:
                    best = rank
        fixed = (self._surface_form(ev, best[2]) or best[2]) if best else None
        self._spelling.put(key, fixed or "")
        return fixed

    @staticmethod
    def _surface_form(ev: _Evaluation, stemmed: str) -> str | None:
        """The usual way ``stemmed`` is written, read from a few posts that contain it."""
        counts: dict[str, int] = {}
        seen = 0
        for leaf in ev.leaves:
            for docnum in leaf.postings(CONTENT, stemmed)[0][:8].tolist():
                if docnum in leaf.deleted:
                    continue
                stored = leaf.reader.stored_fields(docnum).get("hit") or {}
                text = (stored.get("title") or "") + "\n" + (stored.get("body") or "")
                for m in _WORD_RE.finditer(text):
                    if _index_form(m.group(0)) == stemmed:
                        folded = _fold(m.group(0))
                        counts[folded] = counts.get(folded, 0) + 1
                seen += 1
            if seen >= 8:
                break
        if not counts:
            return None
        return max(counts.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]

    def _suggest(
        self, ev: _Evaluation, query: ParsedQuery, include_members_only: bool, total: int
    ) -> str | None:
        corrections: dict[str, str] = {}
        for word in dict.fromkeys(query.words()):
            fixed = self._correct_word(ev, word)
            if fixed and fixed != word.lower():
                corrections[word] = fixed
        if not corrections:
            return None
        corrected = query.with_replacements(corrections)
        plan = self._translator.plan(corrected, include_members_only, _indexed_phrases(ev.s))
        if plan.impossible:
            return None
        found = [
            np.unique(leaf.seg.threads[mask])
            for leaf, (mask, _scores) in zip(ev.leaves, ev.matches(plan, False), strict=True)
        ]
        if ranking.count_threads(found) <= total:
            return None
        return corrected.to_text()


def _indexed_phrases(searcher: Any) -> frozenset[tuple[str, ...]]:
    """Phrases this index holds as single terms (they depend on the synonyms it was built
    with; a backend given new synonyms matches new phrases positionally until a rebuild)."""
    analyzer = searcher.schema[CONTENT].analyzer
    return getattr(analyzer, "indexed_phrases", frozenset())


def _edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
