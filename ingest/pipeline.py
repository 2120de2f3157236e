"""The ingest pipeline: documents -> chunks (+ sentiment for news) -> embeddings -> index.

Work is grouped into batches of chunks so the embedding model runs on full batches;
each batch is written before the next is embedded, so an interrupted ingest keeps what
it wrote and a re-run skips unchanged documents (their stored hash matches) and
rewrites the rest under the same ids: never a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ingest.chunking import ChunkSettings, chunk_document, document_hash
from ingest.news import Deduper
from ingest.sentiment import Sentiment
from retrieval.errors import IngestError
from retrieval.index import DocumentIndex
from retrieval.models import Chunk, DocType, Document

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


class Failure(BaseModel):
    item: str
    error: str


class IngestReport(BaseModel):
    documents: int = Field(0, description="Documents read successfully.")
    written: int = Field(0, description="New or changed documents written.")
    unchanged: int = 0
    duplicates: int = Field(
        0, description="Repeats within this batch (same id, URL or text), skipped."
    )
    chunks: int = Field(0, description="Chunks written.")
    failures: list[Failure] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


Progress = Callable[[IngestReport], None]


def sample_documents() -> list[Document | IngestError]:
    from ingest.files import load_file
    from ingest.news import read_jsonl

    out: list[Document | IngestError] = []
    for path in sorted((SAMPLE_DIR / "filings").glob("*.md")):
        out.append(_attempt(load_file, path))
    out.extend(read_jsonl(SAMPLE_DIR / "news.jsonl"))
    return out


def _attempt(fn, arg) -> Document | IngestError:
    try:
        return fn(arg)
    except IngestError as exc:
        return exc


def ingest(
    index: DocumentIndex,
    items: Iterable[Document | IngestError],
    *,
    settings: ChunkSettings | None = None,
    sentiment: Sentiment | None = None,
    batch_chunks: int = 256,
    progress: Progress | None = None,
) -> IngestReport:
    """Write documents into ``index``; errors among ``items`` are reported, not raised.
    One write session: other processes keep searching the index as it was until the run
    ends (or is interrupted: what was written is kept and published)."""
    with index.exclusive():
        return _ingest(index, items, settings, sentiment, batch_chunks, progress)


def _ingest(
    index: DocumentIndex,
    items: Iterable[Document | IngestError],
    settings: ChunkSettings | None,
    sentiment: Sentiment | None,
    batch_chunks: int,
    progress: Progress | None,
) -> IngestReport:
    settings = settings or ChunkSettings()
    report = IngestReport()
    started = time.perf_counter()
    stored = index.doc_hashes()
    deduper = Deduper()
    pending: list[Chunk] = []
    pending_docs = 0
    # a batch is embedded (in the background: the embedder's runs release the GIL) while
    # the one before is written and the next is chunked. Writes stay on this thread: an
    # ingest holds the index's session, which is this thread's.
    embedding = ThreadPoolExecutor(1, thread_name_prefix="ingest-embed")
    queued: tuple[list[Chunk], int, Future[np.ndarray]] | None = None

    def write_queued() -> None:
        nonlocal queued
        if queued is not None:
            chunks, docs, vectors = queued
            queued = None
            report.chunks += index.upsert(chunks, vectors.result())
            report.written += docs
            report.seconds = time.perf_counter() - started
            if progress:
                progress(report)

    def flush() -> None:
        nonlocal pending, pending_docs, queued
        if pending:
            texts = [c.text for c in pending]
            vectors = embedding.submit(index.embedder.embed, texts)
            write_queued()
            queued = (pending, pending_docs, vectors)
        pending, pending_docs = [], 0

    try:
        for item in items:
            if isinstance(item, IngestError):
                report.failures.append(Failure(item=str(item).split(":", 1)[0], error=str(item)))
                continue
            if deduper.is_repeat(item):
                report.duplicates += 1
                continue
            report.documents += 1
            try:
                extra = sentiment.name if sentiment and item.doc_type is DocType.NEWS else ""
                digest = document_hash(item, settings, extra)
                if stored.get(item.doc_id) == digest:
                    report.unchanged += 1
                    continue
                chunks = chunk_document(item, settings, digest)
                if not chunks:
                    raise IngestError(f"{item.doc_id}: no text to index")
                if sentiment and item.doc_type is DocType.NEWS:
                    for chunk, (label, score) in zip(
                        chunks, sentiment.score([c.text for c in chunks]), strict=True
                    ):
                        chunk.sentiment, chunk.sentiment_label = round(score, 4), label
            except IngestError as exc:
                report.failures.append(Failure(item=item.doc_id, error=str(exc)))
                continue
            pending.extend(chunks)
            pending_docs += 1
            if len(pending) >= batch_chunks:
                flush()
        flush()
        write_queued()
    finally:
        embedding.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.perf_counter() - started
    if progress:
        progress(report)
    return report
