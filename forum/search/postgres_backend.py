"""PostgreSQL full-text implementation of :class:`forum.search.backend.SearchBackend`.

For deployments with several app servers: the index lives in the database they share, so
there are no index files to keep in step.  Chosen with ``SEARCH_BACKEND=postgres``.

**Storage** (migration ``0003``, models in ``forum.models.search_document``).
``search_documents`` holds one row per post: what a result shows (title, body, author,
board, dates, status) plus ``tsv``, a ``tsvector`` with a GIN index -- thread title weight A,
body B, outcome summary C, and weight D for short words written in capitals, stored as
``'an!'`` (the ``!`` keeps them out of reach of anything a member can type).
``search_terms`` lists every word seen, for "did you mean" (pg_trgm similarity).

**Analysis** matches the Whoosh backend: Python splits text into words the same way
(``nf2``, ``w&w``, ``2.5cm`` stay whole, apostrophes vanish: ``don't`` -> ``dont``), lower-cases
and folds accents (``Ménière`` -> ``meniere``) and hands PostgreSQL the words separated by
spaces; the text search configuration ``cairn`` stems them (Snowball English) and drops no
stop words, so "an", "gk", "vs" are terms.  Query words go through the same two steps (one
round trip, cached), which yields the lexemes used to spot synonyms and to write the
``tsquery`` text; so documents and queries always agree.

**Queries** become one ``tsquery`` (clauses AND-ed, alternatives OR-ed, quoted phrases and
multi-word synonyms as ``<->`` phrases, synonym groups expanded at query time, never for
quoted phrases; a two-letter everyday word reached only through a synonym -- "AN" for
"acoustic neuroma" -- matches only where it was written in capitals; exclusions as ``& !(...)``
so the GIN index drops them; ``in:title`` as weight-A lexemes) plus plain SQL for the
filters.  One statement then finds the matching posts (GIN bitmap only: the session turns
sequential scans off, see ``_search_settings``), keeps each thread's best post
(``DISTINCT ON (thread_id)``), counts the threads (a window count), cuts the page with
``LIMIT``/``OFFSET`` and runs ``ts_headline`` for that page only.  Snippets are HTML-escaped
in Python after ``ts_headline`` marked the matches with private-use characters, which become
``<mark>``.

**Relevance** is ``ts_rank`` of the OR of every query lexeme (frequency, title > body >
summary, normalised by 1 + log of the post's length); ``ts_rank_cd`` with the full query was
measured 7-8x slower on synonym-heavy queries at 100,000 posts.  Because ranking
reads each post's tsvector, only the newest ``rank_window`` (5,000) matching posts are ranked;
older matches of a very common query score 0 and follow, newest first.  Below that many
matches the order is exact.  "Newest" and filter-only searches never rank.

**Writing.**  ``add`` upserts (``INSERT ... ON CONFLICT (post_id) DO UPDATE``) and ``delete``
deletes rows, each in its own connection and transaction, committed before returning; the
caller's session is never touched.  Concurrent writers only take row locks (in post id
order), so they never need :class:`IndexBusy` -- except while a ``rebuild`` holds every row:
``add``/``delete``/``clear`` then give up after ``write_timeout`` seconds and raise
IndexBusy, so the durable queue keeps the change instead of a web request waiting minutes.
``rebuild`` deletes and refills both tables in one transaction: readers see the old set until
it commits, then the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from forum.search.backend import IndexBusy, SortOrder, clamp_paging
from forum.search.documents import SearchDoc, SearchHit, SearchResults
from forum.search.query import Clause, ParsedQuery, Phrase, Term

__all__ = ["AMBIGUOUS_SHORT_WORDS", "PostgresBackend", "analysable"]

log = logging.getLogger(__name__)

# The text search configuration created by migration 0003 is called 'cairn'; statements
# name it literally.

# Two-letter abbreviations that are also everyday English words (the Whoosh backend's list):
# reached through a synonym group they only match where the author wrote them in capitals.
_AMBIGUOUS = "am an as at be by do go he hi if in is it me my no of oh ok on or so to up us vs we"
AMBIGUOUS_SHORT_WORDS = frozenset(_AMBIGUOUS.split())

_SNIPPET_CHARS = 200
_HEADLINE_CHARS = 50_000  # ts_headline reads at most this much of a post
_VECTOR_CHARS = 400_000  # text analysed per field (a tsvector must stay under 1 MB)
_WRITE_BATCH = 500  # rows per INSERT statement
_WRITE_TIMEOUT = 2.0  # seconds add/delete/clear wait for row locks (only a rebuild holds them)
_REBUILD_LOCK_TIMEOUT = 120.0
_SEARCH_TIMEOUT = 10.0
_RANK_WINDOW = 5000  # relevance is computed for at most this many (the newest) matching posts
_LEXEME_CACHE = 20_000
_SUGGEST_CANDIDATES = 40
_FREQ_CAP = 1000  # candidate frequencies are counted up to this

# Private-use characters: ts_headline's match markers and stand-ins for < and >, which the
# PostgreSQL parser would otherwise read as HTML tags and drop from the headline.
_START, _STOP, _LT, _GT = "\ue000", "\ue001", "\ue002", "\ue003"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15, ShortWord=0, MaxFragments=1"
)

# ---------------------------------------------------------------------------------------------
# Analysis (the Python half; PostgreSQL stems)
# ---------------------------------------------------------------------------------------------

# Words, keeping "w&w", "2.5cm", "nf2" together (the Whoosh backend's pattern).
_WORD_RE = re.compile(r"\w+(?:[&.'\u2019]\w+)*")
_CAPS_RE = re.compile(r"(?<![\w&])[A-Z][A-Z0-9]{1,3}(?![\w&])")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}
)
_UNSAFE_RE = re.compile(f"[\x00{_START}{_STOP}{_LT}{_GT}]")


def _clean(value: str | None) -> str:
    """Text PostgreSQL accepts: no NUL, no lone surrogates, no snippet markers."""
    if not value:
        return ""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    value = _UNSAFE_RE.sub("", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "ignore").decode("utf-8")
    return value


def _fold(value: str) -> str:
    """Lower-case, drop apostrophes (don't -> dont), fold accents (café -> cafe)."""
    value = value.lower().replace("'", "")
    if not value.isascii():
        value = value.replace("\u2019", "").translate(_LETTERS)
        value = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", value))
    return value


def _words(value: str) -> list[str]:
    return _WORD_RE.findall(_fold(_clean(value)))


def analysable(value: str) -> str:
    """``value`` as ``to_tsvector('cairn', ...)`` is given it: folded words, one space apart."""
    return " ".join(_words(value))


def _caps_vector(*values: str) -> str:
    """A tsvector literal for the short words written in capitals: ``'an!':1 'vs!':1``."""
    caps = set()
    for value in values:
        caps.update(_CAPS_RE.findall(value))
    return " ".join(sorted({f"'{w.lower()}!':1" for w in caps}))


def _slugify(value: str) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def _facet(value: str) -> str:
    return " ".join(value.lower().replace(",", " ").split())


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` once it is certainly above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# ---------------------------------------------------------------------------------------------
# tsquery text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tokens:
    """What PostgreSQL made of a text: lexemes in order, with their positions."""

    lexemes: tuple[str, ...]
    positions: tuple[int, ...]


def _lexeme(lex: str, weight: str = "") -> str:
    """A quoted tsquery lexeme; ``weight="A"`` restricts it to thread titles."""
    quoted = "'" + lex.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"{quoted}:{weight}" if weight else quoted


def _sequence(tokens: _Tokens, *, as_words: bool, weight: str = "") -> str:
    """One lexeme, a phrase (``a <-> b``) or, ``as_words``, all of them anywhere (``a & b``)."""
    lexemes = tokens.lexemes
    if len(lexemes) == 1:
        return _lexeme(lexemes[0], weight)
    if as_words:
        return "(" + " & ".join(_lexeme(lex, weight) for lex in lexemes) + ")"
    parts = [_lexeme(lexemes[0], weight)]
    for k in range(1, len(lexemes)):
        gap = max(1, tokens.positions[k] - tokens.positions[k - 1])
        parts.append("<->" if gap == 1 else f"<{gap}>")
        parts.append(_lexeme(lexemes[k], weight))
    return "(" + " ".join(parts) + ")"


def _any_of(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else "(" + " | ".join(items) + ")"


@dataclass
class _Synonyms:
    groups: list[list[_Tokens]]
    index: dict[tuple[str, ...], int]
    max_len: int
    words: frozenset[str]  # folded, unstemmed words of every member


@dataclass(frozen=True)
class _Plan:
    positive: str | None = None  # tsquery text every result matches (None: filters only)
    excluded: str | None = None  # tsquery text no result matches
    rank: str | None = None  # every positive lexeme OR-ed: what relevance counts
    highlight: str | None = None  # ``positive`` without the title-only weights
    where: tuple[str, ...] = ()  # filter conditions on search_documents d
    params: tuple[tuple[str, Any], ...] = ()
    impossible: bool = False


class _Translator:
    """ParsedQuery -> _Plan, given the lexemes of every text it needs (``tokens``).

    Mirrors the Whoosh backend's translator: the same synonym expansion (typed member as
    typed, other members as phrases, ambiguous short words only in capitals, nothing for
    quoted phrases), the same multi-word-synonym detection across separate words.
    """

    def __init__(
        self,
        synonyms: _Synonyms,
        lookup: Callable[[str, str], str | None] | None,
        tokens: Mapping[str, _Tokens],
    ) -> None:
        self.syn = synonyms
        self.lookup = lookup
        self.tokens = tokens
        self.weight = ""
        self.marks: set[str] = set()

    def _analysed(self, value: str) -> _Tokens:
        return self.tokens.get(analysable(value)) or _Tokens((), ())

    def _group(self, gid: int, typed: tuple[str, ...], as_words: bool) -> str:
        members = self.syn.groups[gid]
        typed_single = typed[0] if len(typed) == 1 else None
        # Lexemes matched on their own; "steroid" already matches all "steroid injection"
        # does, so phrases containing one are left out (same matches, a cheaper query).
        singles = {
            m.lexemes[0]
            for m in members
            if len(m.lexemes) == 1
            and (m.lexemes[0] not in AMBIGUOUS_SHORT_WORDS or m.lexemes[0] == typed_single)
        }
        alts = []
        for member in members:
            lexemes = member.lexemes
            if lexemes == typed:
                alts.append(_sequence(member, as_words=as_words, weight=self.weight))
                self.marks.update(lexemes)
            elif len(lexemes) == 1 and lexemes[0] in AMBIGUOUS_SHORT_WORDS:
                if not self.weight:  # capitals are not tracked for titles alone
                    alts.append(_lexeme(lexemes[0] + "!"))
                    self.marks.add(lexemes[0] + "!")
            elif len(lexemes) == 1 or not singles.intersection(lexemes):
                alts.append(_sequence(member, as_words=False, weight=self.weight))
                self.marks.update(lexemes)
        return _any_of(alts)

    def _alternative(self, alt: Term | Phrase) -> str | None:
        toks = self._analysed(alt.text)
        if not toks.lexemes:
            return None
        if isinstance(alt, Term):
            gid = self.syn.index.get(toks.lexemes)
            if gid is not None:
                return self._group(gid, toks.lexemes, False)
        self.marks.update(toks.lexemes)
        return _sequence(toks, as_words=False, weight=self.weight)

    def _clauses(self, clauses: tuple[Clause, ...]) -> list[str]:
        out: list[str] = []
        simple = [len(c.alternatives) == 1 and isinstance(c.alternatives[0], Term) for c in clauses]
        toks_of = [
            self._analysed(c.alternatives[0].text).lexemes if simple[i] else ()
            for i, c in enumerate(clauses)
        ]
        i, n = 0, len(clauses)
        while i < n:
            # A multi-word synonym typed as separate words ("gamma knife spasms").
            if simple[i] and self.syn.max_len > 1:
                best = None
                seq = toks_of[i]
                j = i + 1
                while j < n and simple[j] and len(seq) < self.syn.max_len:
                    seq = seq + toks_of[j]
                    if seq in self.syn.index:
                        best = (j, seq)
                    j += 1
                if best is not None:
                    j, seq = best
                    out.append(self._group(self.syn.index[seq], seq, True))
                    i = j + 1
                    continue
            alts = [self._alternative(a) for a in clauses[i].alternatives]
            alts = [a for a in alts if a is not None]
            if alts:
                out.append(_any_of(alts))
            i += 1
        return out

    def plan(self, query: ParsedQuery, include_members_only: bool) -> _Plan:
        f = query.filters
        self.weight = "A" if f.in_title else ""  # in:title -> title lexemes only
        clauses = self._clauses(query.clauses)
        if query.clauses and not clauses:
            return _Plan(impossible=True)  # only punctuation was typed
        rank = " | ".join(_lexeme(lex) for lex in sorted(self.marks)) or None
        self.weight = ""  # exclusions look at the whole post, as in the Whoosh backend
        highlight = self._clauses(query.clauses) if f.in_title else clauses
        excluded = [self._alternative(a) for a in query.excluded]
        excluded = [e for e in excluded if e is not None]

        where: list[str] = []
        params: dict[str, Any] = {}
        if not include_members_only:
            where.append("NOT d.members_only")
        if f.boards:
            where.append("lower(d.board_slug) = ANY(CAST(:boards AS text[]))")
            params["boards"] = [_clean(_facet(b)) for b in f.boards]
        if f.authors:
            where.append("lower(d.author) = ANY(CAST(:authors AS text[]))")
            params["authors"] = [_clean(_facet(a)) for a in f.authors]
        if f.status:
            where.append("d.status = :status")
            params["status"] = f.status
        tags: dict[str, list[str]] = {}
        columns = {"treatment": "treatments", "symptom": "symptoms", "condition": "conditions"}
        for kind, value in f.tags():
            slug = None
            if self.lookup is not None:
                try:
                    slug = self.lookup(kind, value)
                except Exception:  # a broken vocabulary must not break search
                    slug = None
            slug = _clean(slug or _slugify(value)).lower()
            if not slug:
                return _Plan(impossible=True)
            tags.setdefault(kind, []).append(slug)
        for kind, slugs in tags.items():
            where.append(f"d.{columns[kind]} @> CAST(:{kind} AS text[])")
            params[kind] = slugs
        start = _midnight(f.after.bound) if f.after else None
        end = _midnight(f.before.bound) if f.before else None
        if start is not None:
            where.append("d.created_at >= :after")
            params["after"] = start
        if end is not None:
            where.append("d.created_at < :before")
            params["before"] = end
        return _Plan(
            positive=" & ".join(clauses) if clauses else None,
            excluded=" | ".join(excluded) if excluded else None,
            rank=rank,
            highlight=" & ".join(highlight) if highlight else None,
            where=tuple(where),
            params=tuple(params.items()),
            impossible=bool(start is not None and end is not None and start >= end),
        )


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _naive_utc(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        return dt.astimezone(UTC).replace(tzinfo=None)
    return dt


# ---------------------------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------------------------


def _plain_snippet(value: str) -> str:
    value = " ".join(value.split())
    if len(value) <= _SNIPPET_CHARS:
        return html.escape(value, quote=False)
    cut = value.rfind(" ", 0, _SNIPPET_CHARS)
    cut = cut if cut > _SNIPPET_CHARS // 2 else _SNIPPET_CHARS
    return html.escape(value[:cut], quote=False) + "…"


def _has_alnum(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def _snippet(headline: str | None, source: str) -> str:
    """Escaped text with ``<mark>`` around matches, from a ts_headline fragment of ``source``
    (an ellipsis where it was cut mid-text); the start of ``source`` when nothing matched."""
    if not headline or _START not in headline:
        return _plain_snippet(source)
    shown = headline.replace(_LT, "<").replace(_GT, ">")
    plain = shown.replace(_START, "").replace(_STOP, "").strip()
    out = html.escape(shown.strip(), quote=False)
    out = out.replace(_START, "<mark>").replace(_STOP, "</mark>")
    at = source.find(plain)
    if at < 0:  # not found verbatim (should not happen): no ellipses rather than wrong ones
        before = after = ""
    else:
        before, after = source[:at], source[at + len(plain) :]
    # Don't cut off a closing full stop or an opening quote just to show an ellipsis.
    out = ("…" if _has_alnum(before) else html.escape(before, quote=False)) + out
    out += "…" if _has_alnum(after) else html.escape(after, quote=False)
    return " ".join(out.split())


# ---------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------

_TOKENS_SQL = """
SELECT x.i, u.lexeme, p.pos
FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS x(t, i)
CROSS JOIN LATERAL unnest(to_tsvector('cairn', x.t)) AS u(lexeme, positions, weights)
CROSS JOIN LATERAL unnest(u.positions) AS p(pos)
"""

_UPSERT_SQL = """
INSERT INTO search_documents AS s (
    post_id, thread_id, thread_title, thread_slug, body, author, board_slug, board_name,
    members_only, is_first_post, status, outcome, treatments, symptoms, conditions,
    created_at, tsv)
SELECT r.post_id, r.thread_id, r.title, r.slug, r.body, r.author, r.board_slug, r.board_name,
       r.members_only, r.is_first_post, r.status, r.outcome, r.treatments, r.symptoms,
       r.conditions, r.created_at,
       setweight(to_tsvector('cairn', r.title_a), 'A')
       || setweight(to_tsvector('cairn', r.body_a), 'B')
       || setweight(to_tsvector('cairn', r.summary_a), 'C')
       || setweight(CAST(r.caps AS tsvector), 'D')
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
    post_id integer, thread_id integer, title text, slug text, body text, author text,
    board_slug text, board_name text, members_only boolean, is_first_post boolean,
    status text, outcome text, treatments text[], symptoms text[], conditions text[],
    created_at timestamp, title_a text, body_a text, summary_a text, caps text)
ORDER BY r.post_id
ON CONFLICT (post_id) DO UPDATE SET
    thread_id = EXCLUDED.thread_id, thread_title = EXCLUDED.thread_title,
    thread_slug = EXCLUDED.thread_slug, body = EXCLUDED.body, author = EXCLUDED.author,
    board_slug = EXCLUDED.board_slug, board_name = EXCLUDED.board_name,
    members_only = EXCLUDED.members_only, is_first_post = EXCLUDED.is_first_post,
    status = EXCLUDED.status, outcome = EXCLUDED.outcome, treatments = EXCLUDED.treatments,
    symptoms = EXCLUDED.symptoms, conditions = EXCLUDED.conditions,
    created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv
"""

_TERMS_SQL = """
INSERT INTO search_terms (word)
SELECT w FROM unnest(CAST(:words AS text[])) AS w ORDER BY w
ON CONFLICT (word) DO NOTHING
"""

_SNIPPET_SOURCE = "CASE WHEN btrim(d.body) = '' THEN d.thread_title ELSE d.body END"


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


_LOCK_NOT_AVAILABLE = "55P03"
_DEADLOCK = "40P01"
_QUERY_CANCELED = "57014"


def _set_local(conn: Connection, **settings: str) -> None:
    """``SET LOCAL`` for the current transaction, in one round trip."""
    calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(settings)))
    params: dict[str, str] = {}
    for i, (key, value) in enumerate(settings.items()):
        params[f"k{i}"], params[f"v{i}"] = key, value
    conn.execute(text("SELECT " + calls), params)


def _row(doc: SearchDoc) -> tuple[dict[str, Any], set[str]]:
    """The JSON row ``_UPSERT_SQL`` reads for ``doc``, and the words for ``search_terms``."""
    title = _clean(doc.thread_title)
    body = _clean(doc.body_text)
    summary = _clean(doc.outcome_summary)
    title_a = " ".join(_WORD_RE.findall(_fold(title[:_VECTOR_CHARS])))
    body_a = " ".join(_WORD_RE.findall(_fold(body[:_VECTOR_CHARS])))
    summary_a = " ".join(_WORD_RE.findall(_fold(summary[:_VECTOR_CHARS])))
    distinct = set(title_a.split()) | set(body_a.split()) | set(summary_a.split())
    words = {w for w in distinct if 3 <= len(w) <= 40 and w.isalpha()}
    row = {
        "post_id": int(doc.post_id),
        "thread_id": int(doc.thread_id),
        "title": title,
        "slug": _clean(doc.thread_slug),
        "body": body,
        "author": _clean(doc.author),
        "board_slug": _clean(doc.board_slug),
        "board_name": _clean(doc.board_name),
        "members_only": bool(doc.members_only),
        "is_first_post": bool(doc.is_first_post),
        "status": _clean(doc.status or "open")[:10],
        "outcome": _clean(doc.outcome)[:20] or None,
        "treatments": [_clean(s).lower() for s in doc.treatments],
        "symptoms": [_clean(s).lower() for s in doc.symptoms],
        "conditions": [_clean(s).lower() for s in doc.conditions],
        "created_at": _naive_utc(doc.created_at).isoformat(),
        "title_a": title_a,
        "body_a": body_a,
        "summary_a": summary_a,
        "caps": _caps_vector(title, body, summary),
    }
    return row, words


def _batches(docs: Iterable[SearchDoc], size: int) -> Iterator[list[SearchDoc]]:
    batch: list[SearchDoc] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


class PostgresBackend:
    """Search backend on PostgreSQL full-text search; safe with any number of app servers.

    ``engine``: a SQLAlchemy engine (or URL) for the database migrated to ``0003``; the
    backend takes its own connections from it.  ``synonyms``: groups of lower-case words or
    phrases that mean the same thing.  ``vocabulary_lookup(kind, text)``: resolves
    ``treatment:``/``symptom:``/``condition:`` values to vocabulary slugs (``None``: slugify
    the value).  ``write_timeout``: how long ``add``/``delete``/``clear`` wait for rows a
    rebuild holds before raising :class:`IndexBusy`.
    """

    def __init__(
        self,
        engine: Engine | str,
        *,
        synonyms: list[list[str]],
        vocabulary_lookup: Callable[[str, str], str | None] | None = None,
        write_timeout: float = _WRITE_TIMEOUT,
        search_timeout: float = _SEARCH_TIMEOUT,
        rank_window: int = _RANK_WINDOW,
    ) -> None:
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        if self.engine.dialect.name != "postgresql":
            raise ValueError("PostgresBackend needs a PostgreSQL database")
        self.write_timeout = write_timeout
        self.search_timeout = search_timeout
        self.rank_window = max(1, int(rank_window))
        self._synonym_groups = [list(g) for g in synonyms]
        self._lookup = vocabulary_lookup
        self._synonyms: _Synonyms | None = None
        self._tokens: dict[str, _Tokens] = {}
        self._trigram: bool | None = None
        self._lock = threading.Lock()

    # -- analysis ------------------------------------------------------------------------------

    def _analyse(self, conn: Connection, texts: Iterable[str]) -> dict[str, _Tokens]:
        """Lexemes of each (already analysable) text, from the cache or in one round trip."""
        cache = self._tokens
        result: dict[str, _Tokens] = {}
        missing: list[str] = []
        for t in dict.fromkeys(t for t in texts if t):
            hit = cache.get(t)
            if hit is None:
                missing.append(t)
            else:
                result[t] = hit
        if missing:
            found: dict[int, list[tuple[int, str]]] = {}
            for i, lexeme, pos in conn.execute(text(_TOKENS_SQL), {"texts": missing}):
                found.setdefault(i, []).append((pos, lexeme))
            for i, t in enumerate(missing, 1):
                pairs = sorted(found.get(i, ()))
                result[t] = _Tokens(tuple(lex for _, lex in pairs), tuple(pos for pos, _ in pairs))
            if len(cache) + len(missing) > _LEXEME_CACHE:
                cache = {}
            cache.update((t, result[t]) for t in missing)
            self._tokens = cache  # a plain dict: readers in other threads see old or new
        return result

    def _synonym_index(self, conn: Connection) -> _Synonyms:
        if self._synonyms is not None:
            return self._synonyms
        with self._lock:
            if self._synonyms is None:
                members = [analysable(p) for g in self._synonym_groups for p in g]
                tokens = self._analyse(conn, members)
                groups: list[list[_Tokens]] = []
                index: dict[tuple[str, ...], int] = {}
                words: set[str] = set()
                max_len = 1
                for group in self._synonym_groups:
                    found: list[_Tokens] = []
                    for phrase in group:
                        toks = tokens.get(analysable(phrase))
                        if toks and toks.lexemes and all(t.lexemes != toks.lexemes for t in found):
                            found.append(toks)
                            words.update(_words(phrase))
                    if len(found) < 2:
                        continue
                    gid = len(groups)
                    groups.append(found)
                    for toks in found:
                        index.setdefault(toks.lexemes, gid)
                        max_len = max(max_len, len(toks.lexemes))
                self._synonyms = _Synonyms(groups, index, max_len, frozenset(words))
            return self._synonyms

    def _translator(self, conn: Connection, queries: Iterable[ParsedQuery]) -> _Translator:
        texts = []
        for q in queries:
            for clause in q.clauses:
                texts.extend(analysable(a.text) for a in clause.alternatives)
            texts.extend(analysable(a.text) for a in q.excluded)
            texts.extend(analysable(w) for w in q.words())
        synonyms = self._synonym_index(conn)
        return _Translator(synonyms, self._lookup, self._analyse(conn, texts))

    # -- writing -------------------------------------------------------------------------------

    def _write(
        self, work: Callable[[Connection], None], timeout: float, *, attempts: int = 3
    ) -> None:
        """Run ``work`` in its own transaction, committed; retried after a deadlock; lock
        waits beyond ``timeout`` raise IndexBusy (nothing was written)."""
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    _set_local(conn, lock_timeout=f"{int(timeout * 1000)}ms")
                    work(conn)
                return
            except DBAPIError as exc:
                state = _sqlstate(exc)
                if state == _DEADLOCK and attempt < attempts - 1:
                    continue
                if state in (_LOCK_NOT_AVAILABLE, _DEADLOCK):
                    raise IndexBusy("the search tables are locked (a rebuild is running)") from exc
                raise

    @staticmethod
    def _upsert(conn: Connection, docs: list[SearchDoc], known: set[str] | None = None) -> None:
        rows: dict[int, dict[str, Any]] = {}
        words: set[str] = set()
        for doc in docs:
            row, doc_words = _row(doc)
            rows[row["post_id"]] = row  # the last version of a post wins
            words |= doc_words
        if known is not None:
            words -= known
            known |= words
        conn.execute(text(_UPSERT_SQL), {"rows": json.dumps(list(rows.values()))})
        if words:
            conn.execute(text(_TERMS_SQL), {"words": sorted(words)})

    def add(self, docs: Iterable[SearchDoc]) -> None:
        """Index ``docs``, replacing earlier versions (an upsert per post)."""
        batch = list(docs)
        if not batch:
            return

        def work(conn: Connection) -> None:
            for chunk in _batches(sorted(batch, key=lambda d: d.post_id), _WRITE_BATCH):
                self._upsert(conn, chunk)

        self._write(work, self.write_timeout)

    def delete(self, post_ids: Iterable[int]) -> None:
        """Remove posts from the index (unknown ids are ignored)."""
        ids = sorted({int(p) for p in post_ids})
        if not ids:
            return
        self._write(
            lambda conn: conn.execute(
                text("DELETE FROM search_documents WHERE post_id = ANY(CAST(:ids AS integer[]))"),
                {"ids": ids},
            ),
            self.write_timeout,
        )

    def writing(self) -> contextlib.AbstractContextManager[PostgresBackend]:
        """Each ``add``/``delete`` commits on its own here (upserts by post id)."""
        return contextlib.nullcontext(self)

    def rebuild(
        self,
        docs: Iterable[SearchDoc],
        *,
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Replace every document with ``docs`` in one transaction; returns how many.

        ``progress(n)`` is called every 1,000 documents and once at the end; ``total`` is only
        a hint for the caller's display.  Searches see the previous documents until the commit.
        """
        del total
        count = 0

        def work(conn: Connection) -> None:
            nonlocal count
            conn.execute(text("DELETE FROM search_documents"))
            conn.execute(text("DELETE FROM search_terms"))
            known: set[str] = set()
            reported = 0
            for chunk in _batches(docs, _WRITE_BATCH):
                self._upsert(conn, chunk, known)
                count += len(chunk)
                if progress is not None and count // 1000 > reported:
                    reported = count // 1000
                    progress(count)

        self._write(work, _REBUILD_LOCK_TIMEOUT, attempts=1)  # ``docs`` can be read only once
        # Rather than wait for autovacuum: drop the replaced rows, merge the GIN index's
        # pending list (which every search scans linearly until then) and refresh the
        # planner's statistics.  Searches run about twice as fast afterwards.
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("VACUUM (ANALYZE) search_documents, search_terms"))
        except DBAPIError:  # e.g. not the tables' owner: autovacuum will get there
            log.info("could not VACUUM the search tables after a rebuild", exc_info=True)
        if progress is not None:
            progress(count)
        return count

    def clear(self) -> None:
        """Remove every document (may raise IndexBusy while a rebuild runs)."""

        def work(conn: Connection) -> None:
            conn.execute(text("DELETE FROM search_documents"))
            conn.execute(text("DELETE FROM search_terms"))

        self._write(work, self.write_timeout)

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_documents")).scalar_one())

    # -- searching -----------------------------------------------------------------------------

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
        try:
            with self.engine.connect() as conn, conn.begin():
                _set_local(conn, **self._search_settings(text_search=query.has_text))
                plan = self._translator(conn, [query]).plan(query, include_members_only)
                if plan.impossible:
                    return results
                self._page(conn, plan, sort, results)
                if plan.positive is not None:
                    results.suggestion = self._suggest(
                        conn, query, include_members_only, results.total_threads
                    )
        except DBAPIError as exc:
            if _sqlstate(exc) != _QUERY_CANCELED:
                raise
            log.warning("search timed out: %s", query.to_text())
            results.hits, results.total_threads, results.suggestion = [], 0, None
            results.notices.append("That search took too long; try fewer or rarer words.")
        return results

    def _search_settings(self, *, text_search: bool) -> dict[str, str]:
        settings = {
            # Plan every statement for its own tsquery (psycopg prepares repeated statements).
            "plan_cache_mode": "force_custom_plan",
            "statement_timeout": str(int(self.search_timeout * 1000)),
            "work_mem": "32MB",  # grouping sorts every matching post's (thread, date, score)
            # Row estimates for the CTEs are guesses; JIT-compiling the plan they price at
            # millions of rows cost ~100 ms more than it ever saved.
            "jit": "off",
        }
        if text_search:
            # The planner underrates evaluating @@ on every post: a sequential scan (or a
            # walk along another index) reads each tsvector, while the GIN bitmap reads
            # only those of posts that may match a phrase.
            settings["enable_seqscan"] = "off"
        return settings

    @staticmethod
    def _conditions(plan: _Plan) -> tuple[list[str], dict[str, Any]]:
        where = list(plan.where)
        params = dict(plan.params)
        if plan.positive is not None:
            # Exclusions inside the tsquery: GIN drops those posts without reading them.
            params["q"] = plan.positive
            if plan.excluded is not None:
                params["q"] = f"({plan.positive}) & !({plan.excluded})"
            where.append("d.tsv @@ CAST(:q AS tsquery)")
        elif plan.excluded is not None:
            params["x"] = plan.excluded
            where.append("NOT (d.tsv @@ CAST(:x AS tsquery))")
        return where or ["TRUE"], params

    def _count_threads(self, conn: Connection, plan: _Plan) -> int:
        where, params = self._conditions(plan)
        conditions = " AND ".join(where)  # fixed fragments; values are bound parameters
        sql = f"SELECT count(DISTINCT thread_id) FROM search_documents d WHERE {conditions}"  # noqa: S608
        return int(conn.execute(text(sql), params).scalar_one())

    def _page(self, conn: Connection, plan: _Plan, sort: str, results: SearchResults) -> None:
        """Fill ``results`` with one page of threads and their number, in one statement."""
        where, params = self._conditions(plan)
        conditions = " AND ".join(where)
        if plan.rank is not None and sort != "newest":
            # Relevance: ts_rank (term frequency, title > body > summary, divided by 1 + log
            # of the post's length) for the newest ``rank_window`` matching posts; older
            # matches of a very common query score 0 and follow, newest first.  The matches
            # are read once (``matches``); only the window's posts are read again, by
            # primary key, for their tsvector.
            params["rank"], params["window"] = plan.rank, self.rank_window
            scored = """, ranked AS (
                SELECT w.post_id, ts_rank(r.tsv, CAST(:rank AS tsquery), 1) AS score
                FROM (SELECT post_id FROM matches
                      ORDER BY created_at DESC, post_id LIMIT :window) w
                JOIN search_documents r ON r.post_id = w.post_id
            ), scored AS (
                SELECT m.post_id, m.thread_id, m.created_at, coalesce(k.score, 0) AS score
                FROM matches m LEFT JOIN ranked k ON k.post_id = m.post_id
            )"""
            order = "{p}score DESC, {p}created_at DESC, {p}post_id"
        else:
            scored = """, scored AS (
                SELECT post_id, thread_id, created_at, 0.0 AS score FROM matches
            )"""
            order = "{p}created_at DESC, {p}post_id"
        if plan.positive is not None:
            headline = (
                f"ts_headline('cairn', translate(left({_SNIPPET_SOURCE}, {_HEADLINE_CHARS}), "
                "'<>', :ltgt), CAST(:h AS tsquery), :options)"
            )
            params["h"] = plan.highlight
            params["ltgt"] = _LT + _GT
            params["options"] = _HEADLINE_OPTIONS
        else:
            headline = "NULL"
        params["limit"] = results.per_page
        params["offset"] = (results.page - 1) * results.per_page
        # Only fixed fragments are formatted in; every value is a bound parameter.
        sql = f"""
            WITH matches AS MATERIALIZED (
                SELECT d.post_id, d.thread_id, d.created_at
                FROM search_documents d
                WHERE {conditions}
            ){scored}, best AS (
                SELECT DISTINCT ON (thread_id) thread_id, post_id, created_at, score
                FROM scored
                ORDER BY thread_id, {order.format(p="")}
            ), page AS (
                SELECT post_id, created_at, score, count(*) OVER () AS total
                FROM best
                ORDER BY {order.format(p="")}
                LIMIT :limit OFFSET :offset
            )
            SELECT p.total, p.score, d.post_id, d.thread_id, d.thread_title, d.thread_slug,
                   d.author, d.board_slug, d.board_name, d.created_at, d.status, d.outcome,
                   {headline} AS headline, left({_SNIPPET_SOURCE}, {_HEADLINE_CHARS}) AS source
            FROM page p JOIN search_documents d ON d.post_id = p.post_id
            ORDER BY {order.format(p="p.")}
        """  # noqa: S608
        rows = conn.execute(text(sql), params).all()
        if rows:
            results.total_threads = int(rows[0].total)
        elif results.page > 1:
            results.total_threads = self._count_threads(conn, plan)
        results.hits = [
            SearchHit(
                post_id=r.post_id,
                thread_id=r.thread_id,
                thread_title=r.thread_title,
                thread_slug=r.thread_slug,
                author=r.author,
                board_slug=r.board_slug,
                board_name=r.board_name,
                created_at=r.created_at,
                status=r.status,
                outcome=r.outcome,
                snippet_html=_snippet(r.headline, r.source or ""),
                score=round(float(r.score), 4),
            )
            for r in rows
        ]

    # -- did you mean --------------------------------------------------------------------------

    def _has_trigram(self, conn: Connection) -> bool:
        if self._trigram is None:
            found = conn.execute(
                text(
                    "SELECT to_regprocedure('similarity(text,text)') IS NOT NULL "
                    "AND to_regclass('search_terms') IS NOT NULL"
                )
            ).scalar_one()
            self._trigram = bool(found)
            if not found:
                log.info("pg_trgm is not installed: search offers no spelling suggestions")
        return self._trigram

    def _suggest(
        self, conn: Connection, query: ParsedQuery, include_members_only: bool, total: int
    ) -> str | None:
        """A corrected query, when some word is (nearly) unknown and the correction finds
        more threads; ``None`` otherwise (and always without pg_trgm)."""
        syn = self._synonym_index(conn)
        eligible: dict[str, str] = {}  # typed word -> folded word
        for word in dict.fromkeys(query.words()):
            folded = _words(word)
            if len(folded) != 1:
                continue
            plain = folded[0]
            if len(plain) >= 4 and plain.isalpha() and plain not in syn.words:
                eligible[word] = plain
        if not eligible or not self._has_trigram(conn):
            return None
        tokens = self._analyse(conn, eligible.values())
        typed = {w: p for w, p in eligible.items() if tokens[p].lexemes}
        if not typed:
            return None
        # How many posts contain each word (we only care whether it is fewer than 3).
        rare = conn.execute(
            text(
                "SELECT t.w, (SELECT count(*) FROM (SELECT 1 FROM search_documents d "
                "WHERE d.tsv @@ CAST(t.q AS tsquery) LIMIT 3) s) "
                "FROM unnest(CAST(:words AS text[]), CAST(:queries AS text[])) AS t(w, q)"
            ),
            {
                "words": list(typed.values()),
                "queries": [_sequence(tokens[p], as_words=True) for p in typed.values()],
            },
        ).all()
        df = {w: n for w, n in rare if n < 3}
        if not df:
            return None
        candidates = conn.execute(
            text(
                "SELECT t.w, c.word FROM unnest(CAST(:words AS text[])) AS t(w) "
                "CROSS JOIN LATERAL (SELECT word FROM search_terms "
                "WHERE word % t.w AND left(word, 1) = left(t.w, 1) AND word <> t.w "
                "ORDER BY similarity(word, t.w) DESC, word LIMIT :n) c"
            ),
            {"words": sorted(df), "n": _SUGGEST_CANDIDATES},
        ).all()
        near: dict[str, list[tuple[int, str]]] = {}
        for w, cand in candidates:
            limit = 1 if len(w) <= 5 else 2
            dist = _edit_distance(w, cand, limit)
            if dist <= limit:
                near.setdefault(w, []).append((dist, cand))
        if not near:
            return None
        words = sorted({c for pairs in near.values() for _, c in pairs})
        freq = dict(
            conn.execute(
                text(
                    "SELECT c.w, (SELECT count(*) FROM (SELECT 1 FROM search_documents d "
                    "WHERE d.tsv @@ plainto_tsquery('cairn', c.w) LIMIT :cap) s) "
                    "FROM unnest(CAST(:words AS text[])) AS c(w)"
                ),
                {"words": words, "cap": _FREQ_CAP},
            ).all()
        )
        corrections: dict[str, str] = {}
        for word, plain in typed.items():
            if plain not in near:
                continue
            floor = df[plain] * 10
            scored = [(-d, freq.get(c, 0), -len(c), c) for d, c in near[plain]]
            scored = [s for s in scored if s[1] > floor]
            if scored:
                fixed = max(scored)[3]
                if fixed != word.lower():
                    corrections[word] = fixed
        if not corrections:
            return None
        corrected = query.with_replacements(corrections)
        plan = self._translator(conn, [corrected]).plan(corrected, include_members_only)
        if plan.impossible or plan.positive is None:
            return None
        if self._count_threads(conn, plan) <= total:
            return None
        return corrected.to_text()
