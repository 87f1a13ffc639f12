"""Ranking arithmetic for the Whoosh backend, on whole arrays (NumPy), not per document.

A segment's matches are a boolean ``mask`` over its document numbers plus, when ranked, a
``scores`` array of the same length (meaningful only where ``mask`` is true).  BM25 for one
term, OR (sum), AND (sum where all match) and the choice of each thread's best post are each a
few vector operations, so a word found in every post costs about as much as a rare one does in
Python -- the previous dict-per-posting evaluation spent ~10 µs of interpreter time for every
matching post of a common query.

No Whoosh here: ``forum.search.whoosh_backend`` reads postings and columns into arrays and
calls these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "K1",
    "B",
    "LeafResult",
    "bm25",
    "leaf_result",
    "merge_candidates",
    "norms",
]

K1 = 1.2
B = 0.75


def norms(lengths: np.ndarray, avg: float) -> np.ndarray:
    """BM25's per-document length normalisation ``K1 * (1 - B + B * length / avg)``."""
    a = K1 * (1 - B)
    c = K1 * B / (avg or 1.0)
    return a + c * lengths.astype(np.float64)


def bm25(ids: np.ndarray, tfs: np.ndarray, norm: np.ndarray, idf: float, maxdoc: int) -> np.ndarray:
    """Dense BM25 scores of one term: ``idf * (K1 + 1) * tf / (tf + norm)``, 0 elsewhere."""
    out = np.zeros(maxdoc, dtype=np.float64)
    if len(ids):
        tf = tfs.astype(np.float64)
        out[ids] = (idf * (K1 + 1)) * tf / (tf + norm[ids])
    return out


def mask_of(ids: np.ndarray, maxdoc: int) -> np.ndarray:
    out = np.zeros(maxdoc, dtype=bool)
    if len(ids):
        out[ids] = True
    return out


@dataclass
class LeafResult:
    """One segment's part of a result: its matching threads (sorted, unique) and its best
    ``need`` threads as (sort key, local docnum, thread, score), best first."""

    threads: np.ndarray
    cands: list[tuple[float, int, int, float]]
    need: int
    complete: bool  # cands covers every matching thread of the segment


def _first_per_thread(
    order: np.ndarray, threads: np.ndarray, need: int
) -> tuple[np.ndarray, np.ndarray]:
    """Of the docnums in ``order`` (best first): the first of each thread, at most ``need``."""
    t = threads[order]
    _uniq, first = np.unique(t, return_index=True)
    first.sort()
    first = first[:need]
    return order[first], t[first]


def leaf_result(
    mask: np.ndarray,
    scores: np.ndarray | None,
    threads: np.ndarray,
    created: np.ndarray,
    need: int,
) -> LeafResult:
    """Rank one segment's matches: by ``scores`` (ties: lower docnum first) when given, else
    newest first (ties: lower docnum first); keep each thread's best post."""
    docs = np.flatnonzero(mask)
    matching = distinct(threads[docs])
    if not len(docs) or need <= 0:
        return LeafResult(matching, [], need, len(matching) == 0)
    keys = scores[docs] if scores is not None else created[docs].astype(np.float64)
    # The best ``m`` posts are enough when they already hold ``need`` threads: a thread
    # outside them has no post scoring above the m-th.  Otherwise rank them all.
    m = need * 8
    while True:
        if m < len(docs):
            kth = np.partition(keys, len(keys) - m)[len(keys) - m]
            sel = np.flatnonzero(keys >= kth)  # every tie of the m-th key included
        else:
            sel = np.arange(len(docs))
        # docs ascend, so a stable sort on the negated key puts lower docnums first in ties
        order = sel[np.argsort(-keys[sel], kind="stable")]
        best, best_threads = _first_per_thread(docs[order], threads, need)
        if len(best) >= need or len(sel) == len(docs):
            break
        m *= 4
    best_keys = (scores[best] if scores is not None else created[best].astype(np.float64)).tolist()
    cands = [
        (k, d, t, k if scores is not None else 0.0)
        for k, d, t in zip(best_keys, best.tolist(), best_threads.tolist(), strict=True)
    ]
    return LeafResult(matching, cands, need, len(cands) >= len(matching))


def merge_candidates(parts: list[tuple[int, LeafResult]], need: int) -> list[tuple[int, float]]:
    """The ``need`` best threads over all segments: (global docnum, score).

    A segment's own top ``need`` threads are enough: a thread outside them has ``need``
    better threads in that segment alone.  Ties go to the lower docnum."""
    if need <= 0:
        return []
    merged = [(key, -(off + d), t, score) for off, part in parts for key, d, t, score in part.cands]
    merged.sort(reverse=True)
    out: list[tuple[int, float]] = []
    seen: set[int] = set()
    for _key, neg_doc, t, score in merged:
        if t in seen:
            continue
        seen.add(t)
        out.append((-neg_doc, score))
        if len(out) >= need:
            break
    return out


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values (sorted) of an array of small non-negative ids such as thread ids:
    a bitmap over their range, much cheaper than sorting or hashing 100,000 of them."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo > 8 * len(values) + 1_000_000:  # sparse ids: the bitmap would be wasteful
        return np.unique(values)
    seen = np.zeros(hi - lo + 1, dtype=bool)
    seen[values - lo] = True
    return np.flatnonzero(seen) + lo


def count_threads(parts: list[np.ndarray]) -> int:
    """Distinct threads over the segments' (each sorted, unique) thread arrays."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return 0
    if len(parts) == 1:
        return len(parts[0])
    return len(distinct(np.concatenate(parts)))
