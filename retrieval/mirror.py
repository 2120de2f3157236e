"""The collection in memory, and the file other processes read it from.

Embedded Qdrant evaluates filters and sparse scores point by point in Python (~690 ms
per filtered hybrid query at 20k chunks), so the embedded index searches a mirror: a
dense matrix, a sparse BM25 matrix and metadata arrays. Embedded Qdrant also locks its
folder for as long as a client is open, so one process holding it (``assistant serve``)
would shut every other one out. The writer therefore saves the mirror beside the
collection (``mirror.npz``, replaced atomically) each time it finishes writing, and
readers — the server, ``assistant search``, ``chat``, ``mcp`` — load that file and
never open Qdrant at all: several readers, one writer at a time.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse as sp

from retrieval.models import Chunk, SearchFilters

DENSE, SPARSE = "dense", "sparse"
RRF_K = 60
SNAPSHOT = "mirror.npz"
FORMAT = 1


def as_int_date(day: date) -> int:
    """Qdrant range filters need numbers: 2020-03-16 -> 20200316."""
    return day.year * 10_000 + day.month * 100 + day.day


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of several best-first lists of ids: Σ 1/(k + rank), rank
    counted from 0 — Qdrant's formula, so the embedded and server paths score alike. Equal
    scores are common (rank 1 in one list and 3 in the other ties with the reverse): the
    first list's order breaks them (the dense one, when there is one), not the ids."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    first = {item: rank for rank, item in enumerate(rankings[0])} if rankings else {}
    return sorted(scores.items(), key=lambda kv: (-kv[1], first.get(kv[0], len(first)), kv[0]))


def chunk_of(payload: dict) -> Chunk:
    return Chunk.model_validate({k: v for k, v in payload.items() if k != "published"})


class Mirror:
    """The collection in memory: dense matrix, sparse BM25 matrix (CSC), metadata arrays."""

    def __init__(
        self, payloads: list[dict[str, Any]], dense: np.ndarray, sparse: sp.csc_matrix, terms
    ) -> None:
        """``terms[j]`` is the sparse vocabulary id of column ``j`` of ``sparse``."""
        n = len(payloads)
        self.payloads = payloads
        self.chunks = [chunk_of(p) for p in payloads]
        self.doc_ids = [c.doc_id for c in self.chunks]
        self.hashes = {c.doc_id: c.doc_hash for c in self.chunks}
        self.dense = dense
        self.sparse = sparse
        self.terms = np.asarray(terms, dtype=np.int64)
        self.vocab = {int(t): j for j, t in enumerate(self.terms)}
        df = np.diff(self.sparse.indptr)
        # Qdrant's IDF modifier: ln(1 + (N - df + 0.5) / (df + 0.5))
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.published = np.array([p["published"] for p in payloads], dtype=np.int64)
        self.doc_type = np.array([c.doc_type.value for c in self.chunks], dtype=object)
        self.form = np.array([(c.form or "").upper() for c in self.chunks], dtype=object)
        self.by_ticker: dict[str, np.ndarray] = {}
        for i, c in enumerate(self.chunks):
            for t in c.tickers:
                self.by_ticker.setdefault(t, np.zeros(n, dtype=bool))[i] = True

    @classmethod
    def from_points(cls, points: Iterable, dimension: int) -> Mirror:
        """From Qdrant records (payload, and vectors named DENSE and SPARSE)."""
        points = list(points)
        n = len(points)
        dense = np.zeros((n, dimension), dtype=np.float32)
        vocab: dict[int, int] = {}
        rows, cols, vals = [], [], []
        for i, p in enumerate(points):
            dense[i] = p.vector[DENSE]
            sv = p.vector.get(SPARSE)
            if sv is None:
                continue
            for idx, val in zip(sv.indices, sv.values, strict=True):
                rows.append(i)
                cols.append(vocab.setdefault(idx, len(vocab)))
                vals.append(val)
        matrix = sp.csc_matrix(
            (vals, (rows, cols)), shape=(n, max(len(vocab), 1)), dtype=np.float32
        )
        terms = np.zeros(max(len(vocab), 1), dtype=np.int64)
        for term, column in vocab.items():
            terms[column] = term
        return cls([p.payload for p in points], dense, matrix, terms if vocab else [])

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename): a reader sees the old file or the new."""
        payloads = json.dumps(self.payloads).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mirror-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(
                    out,
                    format=np.array([FORMAT]),
                    dense=self.dense,
                    data=self.sparse.data,
                    indices=self.sparse.indices,
                    indptr=self.sparse.indptr,
                    shape=np.array(self.sparse.shape),
                    terms=self.terms,
                    payloads=np.frombuffer(payloads, dtype=np.uint8),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Mirror | None:
        """The saved mirror, or None if it is missing or of another format (rebuild it)."""
        try:
            with np.load(path, allow_pickle=False) as f:
                if int(f["format"][0]) != FORMAT:
                    return None
                matrix = sp.csc_matrix(
                    (f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"])
                )
                return cls(json.loads(f["payloads"].tobytes()), f["dense"], matrix, f["terms"])
        except (OSError, KeyError, ValueError):
            return None

    def mask(self, f: SearchFilters) -> np.ndarray:
        keep = np.ones(len(self.chunks), dtype=bool)
        if f.tickers:
            any_of = np.zeros(len(self.chunks), dtype=bool)
            for t in f.tickers:
                if t in self.by_ticker:
                    any_of |= self.by_ticker[t]
            keep &= any_of
        if f.doc_type is not None:
            keep &= self.doc_type == f.doc_type.value
        if f.form is not None:
            keep &= self.form == f.form
        if f.start is not None:
            keep &= self.published >= as_int_date(f.start)
        if f.latest is not None:
            keep &= self.published <= as_int_date(f.latest)
        return keep

    def search(self, dense, sparse_q, filters: SearchFilters, k: int, pool: int):
        keep = self.mask(filters)
        if not keep.any():
            return []
        rankings, scores = [], {}
        if dense is not None:
            s = self.dense @ dense
            rankings.append(top_n(s, keep, pool))
            scores["dense"] = s
        if sparse_q is not None:
            cols = [self.vocab[i] for i in sparse_q[0] if i in self.vocab]
            if cols:
                s = np.asarray(self.sparse[:, cols] @ self.idf[cols]).ravel()
                ranked = top_n(s, keep & (s > 0), pool)
                rankings.append(ranked)
                scores["sparse"] = s
            elif dense is None:
                return []
        if len(rankings) == 1:
            only = next(iter(scores.values()))
            return [(self.chunks[i], float(only[i])) for i in rankings[0][:k]]
        return [(self.chunks[i], score) for i, score in rrf(rankings)[:k]]


def top_n(scores: np.ndarray, keep: np.ndarray, n: int) -> list[int]:
    candidates = np.flatnonzero(keep)
    if candidates.size > n:
        part = np.argpartition(-scores[candidates], n - 1)[:n]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order].tolist()
