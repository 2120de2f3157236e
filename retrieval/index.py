"""The document index: Qdrant holds the chunks; search is hybrid, filtered and cited.

Qdrant runs embedded (``path=``, the default, under ``<data dir>/qdrant``) or as a
server (``url=``). Embedded, search runs on a mirror of the collection
(:mod:`retrieval.mirror`) that the writer saves beside it: Qdrant itself is opened only
to write, inside :meth:`DocumentIndex.exclusive`, which holds the data dir's writer lock,
so any number of processes (server, CLI, MCP) search one data dir while one writes.
Against a server, the same query goes to Qdrant's own prefetch + reciprocal-rank-fusion
API. Both paths are tested to rank alike.

Each point carries ``doc_hash``; upserting a document whose hash is already stored is
a no-op, a changed one replaces all its chunks (deletes by ``doc_id`` first).
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock, Timeout

from retrieval.embeddings import Embedder
from retrieval.errors import RetrievalError, UnknownTickerError
from retrieval.mirror import (
    DENSE,
    RRF_K,
    SNAPSHOT,
    SPARSE,
    Mirror,
    as_int_date,
    chunk_of,
)
from retrieval.models import Chunk, Citation, SearchFilters, SearchHit, SearchResult
from retrieval.sparse import encode_document, encode_query

if TYPE_CHECKING:  # Qdrant's client takes 1.3 s to import: searching the mirror needs none
    from qdrant_client import QdrantClient, models

log = logging.getLogger(__name__)
COLLECTION = "documents"
SNIPPET_CHARS = 280
MODES = ("hybrid", "dense", "sparse")
WRITER_WAIT_SECONDS = 60.0
"""How long a writer waits for another process's write (an ingest) before giving up."""


def _locked(method):
    """Serialise a DocumentIndex method on the instance's lock."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, chunk_id))


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    body = text.split("\n", 1)[-1] if text.startswith("[") else text  # drop the heading path
    body = " ".join(body.split())
    return body if len(body) <= limit else body[: limit - 1].rsplit(" ", 1)[0] + "…"


class DocumentIndex:
    """Write and search the chunks of one collection."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        writer_wait: float = WRITER_WAIT_SECONDS,
    ) -> None:
        self.local = not url
        self.embedder = embedder
        self.path = path
        self.writer_wait = writer_wait
        # pydantic-ai runs sync tools in worker threads; embedded Qdrant is not thread-safe
        self._lock = threading.RLock()
        self._server: QdrantClient | None = None
        self._client: QdrantClient | None = None  # embedded: open only inside exclusive()
        self._depth = 0
        self._changed = False
        self._mirror: Mirror | None = None
        self._mirror_identity: tuple[int, int, int] | None = None
        self._hashes: dict[str, str] | None = None
        if url:
            from qdrant_client import QdrantClient

            self._server = QdrantClient(url=url, api_key=api_key)
            self._ensure_collection()
            return
        if path is None:
            raise ValueError("DocumentIndex needs a path (embedded) or a url (server)")
        path.mkdir(parents=True, exist_ok=True)
        self._writer = FileLock(path / ".writer.lock", thread_local=False)

    @property
    def client(self) -> QdrantClient:
        if self._server is not None:
            return self._server
        if self._client is None:
            raise RuntimeError("embedded Qdrant is open only inside DocumentIndex.exclusive()")
        return self._client

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Open embedded Qdrant for several operations (an ingest run) while holding the
        data dir's writer lock; on leaving, save the mirror readers load. Re-entrant;
        against a server it only serialises this process's threads."""
        with self._lock:
            if self._server is not None or self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self._writer.acquire(timeout=self.writer_wait)
            except Timeout:
                raise RetrievalError(
                    f"another process has been writing the index at {self.path} for over "
                    f"{self.writer_wait:.0f} s (an ingest?); try again when it has finished"
                ) from None
            try:
                self._open()
                self._depth, self._changed, self._hashes = 1, False, None
                try:
                    yield
                finally:
                    self._depth = 0
                    self._publish()
            finally:
                if self._client is not None:
                    self._client.close()
                    self._client = None
                self._writer.release()

    def _open(self) -> None:
        from qdrant_client import QdrantClient

        try:
            self._client = QdrantClient(path=str(self.path))
        except RuntimeError as exc:
            if "already accessed" not in str(exc):
                raise
            raise RetrievalError(
                f"the index at {self.path} is held open by another process (a Qdrant "
                "client outside Market Assistant?); stop it, or run a Qdrant server and set "
                "QDRANT_URL"
            ) from None
        self._ensure_collection()
        self._fast_commits()

    def _fast_commits(self) -> None:
        """Embedded Qdrant commits each point on its own, and SQLite's default journal
        syncs the disk on each commit: 1.5 s of a 3.5 s ingest of 857 chunks. In WAL mode
        with NORMAL sync a commit is durable when the process ends or crashes (not on a
        power cut, which a re-run of the ingest repairs: documents are skipped by hash),
        as for the product's own database. Reached through the client's internals; a
        client that moved them keeps its default (slower, as safe)."""
        try:
            storage = self._client._client.collections[COLLECTION].storage.storage
            storage.execute("PRAGMA journal_mode=WAL")
            storage.execute("PRAGMA synchronous=NORMAL")
        except (AttributeError, KeyError, TypeError) as exc:
            log.debug("embedded Qdrant keeps its own commit mode: %s", exc)

    @property
    def _snapshot(self) -> Path:
        assert self.path is not None
        return self.path / SNAPSHOT

    def _publish(self) -> None:
        """Save the mirror when this session wrote, or when there is none yet. If saving
        fails, no stale mirror is left: the next reader rebuilds it."""
        if not self._changed and self._identity() is not None:
            return
        try:
            self._mirror = Mirror.from_points(
                self._scroll_all(with_vectors=True), self.embedder.dimension
            )
            self._mirror.save(self._snapshot)
            self._mirror_identity = self._identity()
        except BaseException:
            self._snapshot.unlink(missing_ok=True)
            self._mirror = self._mirror_identity = None
            raise

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = self._snapshot.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _get_mirror(self) -> Mirror:
        """The collection as the last writer saved it (re-read when another process has
        written since), or, inside a write session, as Qdrant holds it now."""
        if self._depth:
            if self._mirror is None:
                self._mirror = Mirror.from_points(
                    self._scroll_all(with_vectors=True), self.embedder.dimension
                )
            return self._mirror
        identity = self._identity()
        if identity is not None and identity == self._mirror_identity and self._mirror:
            return self._mirror
        loaded = Mirror.load(self._snapshot) if identity is not None else None
        if loaded is None:  # none yet (an index older than mirrors): build and save one
            with self.exclusive():
                self._changed = True
            assert self._mirror is not None
            return self._mirror
        self._mirror, self._mirror_identity = loaded, identity
        return loaded

    def _ensure_collection(self) -> None:
        from qdrant_client import models

        if self.client.collection_exists(COLLECTION):
            return
        self.client.create_collection(
            COLLECTION,
            vectors_config={
                DENSE: models.VectorParams(
                    size=self.embedder.dimension, distance=models.Distance.COSINE
                )
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if not self.local:
            for key, schema in (
                ("doc_id", models.PayloadSchemaType.KEYWORD),
                ("tickers", models.PayloadSchemaType.KEYWORD),
                ("doc_type", models.PayloadSchemaType.KEYWORD),
                ("form", models.PayloadSchemaType.KEYWORD),
                ("published", models.PayloadSchemaType.INTEGER),
            ):
                self.client.create_payload_index(COLLECTION, key, schema)

    @_locked
    def doc_hashes(self) -> dict[str, str]:
        """doc_id -> stored doc_hash for every indexed document (read once per write
        session, then kept up to date by its writes)."""
        if self.local and not self._depth:
            return dict(self._get_mirror().hashes)
        if self._hashes is None:
            hashes: dict[str, str] = {}
            offset = None
            while True:
                points, offset = self.client.scroll(
                    COLLECTION, limit=2048, offset=offset, with_payload=["doc_id", "doc_hash"]
                )
                for p in points:
                    hashes[p.payload["doc_id"]] = p.payload["doc_hash"]
                if offset is None:
                    break
            self._hashes = hashes
        return self._hashes

    def stored_hash(self, doc_id: str) -> str | None:
        return self.doc_hashes().get(doc_id)

    @_locked
    def upsert(self, chunks: list[Chunk], vectors: np.ndarray | None = None) -> int:
        """Write the chunks of one or more documents; returns how many were written.

        Documents whose stored hash matches are skipped; changed ones lose their old
        chunks first, so a shorter new version leaves no stale tail behind.
        """
        if not chunks:
            return 0
        with self.exclusive():
            return self._upsert(chunks, vectors)

    def _upsert(self, chunks: list[Chunk], vectors: np.ndarray | None) -> int:
        from qdrant_client import models

        by_doc: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            by_doc.setdefault(chunk.doc_id, []).append(i)
        keep: list[int] = []
        for doc_id, rows in by_doc.items():
            stored = self.stored_hash(doc_id)
            if stored == chunks[rows[0]].doc_hash:
                continue
            if stored is not None:
                self.delete(doc_id)
            keep.extend(rows)
        if not keep:
            return 0
        todo = [chunks[i] for i in keep]
        dense = (
            vectors[keep] if vectors is not None else self.embedder.embed([c.text for c in todo])
        )
        points = []
        for chunk, vector in zip(todo, dense, strict=True):
            indices, values = encode_document(chunk.text)
            payload = chunk.model_dump(mode="json")
            payload["published"] = as_int_date(chunk.published_at)
            points.append(
                models.PointStruct(
                    id=point_id(chunk.chunk_id),
                    vector={
                        DENSE: vector.tolist(),
                        SPARSE: models.SparseVector(indices=indices, values=values),
                    },
                    payload=payload,
                )
            )
        self.client.upsert(COLLECTION, points)
        self._mirror, self._changed = None, True
        hashes = self.doc_hashes()
        for chunk in todo:
            hashes[chunk.doc_id] = chunk.doc_hash
        return len(points)

    @_locked
    def delete(self, doc_id: str) -> None:
        from qdrant_client import models

        with self.exclusive():
            self.client.delete(
                COLLECTION, points_selector=models.FilterSelector(filter=_match("doc_id", doc_id))
            )
            self._mirror, self._changed = None, True
            self.doc_hashes().pop(doc_id, None)

    @_locked
    def count(self) -> int:
        if self.local and not self._depth:
            return len(self._get_mirror().chunks)
        return self.client.count(COLLECTION, exact=True).count

    def doc_ids(self) -> set[str]:
        return set(self.doc_hashes())

    @_locked
    def tickers(self) -> set[str]:
        """Every ticker some indexed document mentions."""
        if self.local:
            return set(self._get_mirror().by_ticker)
        return {t for p in self._scroll_all(with_vectors=False) for t in p.payload["tickers"]}

    def check_tickers(self, tickers: list[str]) -> None:
        """A search a person types names tickers some document mentions: an unknown one
        is an error that lists the known ones, not an empty result that looks like "no
        news". (The agent's tool is not held to this: no documents is an answer there.)"""
        known = self.tickers() if tickers else set()
        unknown = [t for t in tickers if t not in known]
        if unknown:
            raise UnknownTickerError(
                f"unknown ticker {', '.join(unknown)}: no indexed document mentions it"
                + (
                    f" (indexed: {', '.join(sorted(known)[:30])})"
                    if known
                    else "; the index is empty"
                )
            )

    @_locked
    def chunks(self, filters: SearchFilters) -> list[Chunk]:
        """Every chunk the filters keep, no query (a sentiment index reads all the news)."""
        if self.local:
            mirror = self._get_mirror()
            return [mirror.chunks[i] for i in np.flatnonzero(mirror.mask(filters))]
        out, offset = [], None
        while True:
            points, offset = self.client.scroll(
                COLLECTION,
                scroll_filter=_qdrant_filter(filters),
                limit=1024,
                offset=offset,
                with_payload=True,
            )
            out += [chunk_of(p.payload) for p in points]
            if offset is None:
                return out

    # -- searching -----------------------------------------------------------------

    @_locked
    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        k: int = 5,
        mode: str = "hybrid",
        candidates: int = 50,
    ) -> SearchResult:
        if mode not in MODES:
            raise RetrievalError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        if not query.strip():
            raise RetrievalError("the query is empty")
        filters = filters or SearchFilters()
        dense, sparse_q = self._query_vectors(query, mode)
        pool = max(candidates, k)
        if self.local:
            ranked = self._get_mirror().search(dense, sparse_q, filters, k, pool)
        else:
            ranked = self._server_search(dense, sparse_q, filters, k, pool)
        hits = [
            SearchHit(score=score, chunk=chunk, citation=cite(n, chunk))
            for n, (chunk, score) in enumerate(ranked, start=1)
        ]
        return SearchResult(query=query, mode=mode, filters=filters, as_of=filters.as_of, hits=hits)

    @_locked
    def server_search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        k: int = 5,
        mode: str = "hybrid",
        candidates: int = 50,
    ) -> list[tuple[Chunk, float]]:
        """Qdrant's own ranking (what a server does), for checking the mirror against."""
        dense, sparse_q = self._query_vectors(query, mode)
        with self.exclusive():
            return self._server_search(
                dense, sparse_q, filters or SearchFilters(), k, max(candidates, k)
            )

    def _query_vectors(self, query: str, mode: str):
        dense = self.embedder.embed([query])[0] if mode != "sparse" else None
        sparse_q = encode_query(query) if mode != "dense" else None
        return dense, sparse_q

    def _server_search(self, dense, sparse_q, filters, k, pool) -> list[tuple[Chunk, float]]:
        from qdrant_client import models

        qfilter = _qdrant_filter(filters)
        prefetch = []
        if dense is not None:
            prefetch.append(
                models.Prefetch(query=dense.tolist(), using=DENSE, limit=pool, filter=qfilter)
            )
        if sparse_q is not None and sparse_q[0]:
            vector = models.SparseVector(indices=sparse_q[0], values=sparse_q[1])
            prefetch.append(models.Prefetch(query=vector, using=SPARSE, limit=pool, filter=qfilter))
        if not prefetch:
            return []
        if len(prefetch) == 1:
            p = prefetch[0]
            response = self.client.query_points(
                COLLECTION,
                query=p.query,
                using=p.using,
                query_filter=qfilter,
                limit=k,
                with_payload=True,
            )
        else:
            response = self.client.query_points(
                COLLECTION,
                prefetch=prefetch,
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                limit=k,
                with_payload=True,
            )
        return [(chunk_of(p.payload), float(p.score)) for p in response.points]

    def _scroll_all(self, *, with_vectors: bool):
        offset = None
        while True:
            points, offset = self.client.scroll(
                COLLECTION, limit=1024, offset=offset, with_payload=True, with_vectors=with_vectors
            )
            yield from points
            if offset is None:
                return


def _match(key: str, value: str) -> models.Filter:
    from qdrant_client import models

    return models.Filter(
        must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))]
    )


def _qdrant_filter(f: SearchFilters) -> models.Filter | None:
    from qdrant_client import models

    must: list = []
    if f.tickers:
        must.append(models.FieldCondition(key="tickers", match=models.MatchAny(any=f.tickers)))
    if f.doc_type is not None:
        must.append(
            models.FieldCondition(key="doc_type", match=models.MatchValue(value=f.doc_type.value))
        )
    if f.form is not None:
        must.append(models.FieldCondition(key="form", match=models.MatchValue(value=f.form)))
    low = as_int_date(f.start) if f.start else None
    high = as_int_date(f.latest) if f.latest else None
    if low is not None or high is not None:
        must.append(models.FieldCondition(key="published", range=models.Range(gte=low, lte=high)))
    return models.Filter(must=must) if must else None


def cite(n: int, chunk: Chunk) -> Citation:
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=chunk.title,
        source=chunk.source,
        published_at=chunk.published_at,
        section=chunk.section,
        snippet=snippet(chunk.text),
        url=chunk.url,
    )
