"""The index on the sample corpus: idempotent upserts, replacement, deletes, filters,
the as-of guarantee, citations, and the embedded search agreeing with Qdrant's own."""

from datetime import date

import pytest

from assistant.resources import embedder
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest, sample_documents
from ingest.sentiment import LexiconSentiment
from retrieval.embeddings import shared_embedder
from retrieval.errors import RetrievalError
from retrieval.index import DocumentIndex
from retrieval.models import DocType, Document, SearchFilters

QUERIES = [
    "supply chain risk",
    "why did the stock fall in March 2020",
    "interest rates and bank earnings",
    "vaccine approval",
    "oil prices",
    "price increases inflation",
    "acquisition deal",
    "pandemic lockdown sales",
    "debt reduction natural gas",
    "lawsuits and litigation",
]


@pytest.fixture(scope="module")
def index(tmp_path_factory, model_cache):
    idx = DocumentIndex(
        shared_embedder(cache_dir=model_cache), path=tmp_path_factory.mktemp("index") / "qdrant"
    )
    report = ingest(idx, sample_documents(), sentiment=LexiconSentiment())
    assert report.failures == []
    assert report.documents == report.written == 148
    yield idx
    idx.close()


def test_reingest_changes_nothing(index):
    before = index.count()
    again = ingest(index, sample_documents(), sentiment=LexiconSentiment())
    assert (again.written, again.unchanged, again.chunks) == (0, 148, 0)
    assert index.count() == before


def test_supply_chain_question_cites_the_apple_filing(index):
    result = index.search("supply chain risk", SearchFilters(tickers=["AAPL"]), k=5)
    top = result.hits[0]
    assert top.chunk.doc_id in {"sample:AAPL:10-K:2020", "sample:AAPL:10-Q:2020Q1"}
    assert top.citation.n == 1 and top.citation.section == "Item 1A. Risk Factors"
    assert "China" in top.chunk.text
    assert [h.citation.n for h in result.hits] == [1, 2, 3, 4, 5]
    assert all("AAPL" in h.chunk.tickers for h in result.hits)
    assert all(len(h.citation.snippet) <= 280 for h in result.hits)


@pytest.mark.parametrize(
    "as_of", [date(2019, 12, 31), date(2020, 3, 31), date(2020, 12, 31), date(2021, 6, 30)]
)
def test_as_of_never_returns_later_documents(index, as_of):
    for mode in ("hybrid", "dense", "sparse"):
        for query in QUERIES:
            hits = index.search(query, SearchFilters(as_of=as_of), k=20, mode=mode).hits
            assert all(h.chunk.published_at <= as_of for h in hits), (query, mode)
    # and the filter is not vacuous: later documents exist and match without it
    unfiltered = index.search("vaccine approval", k=20).hits
    assert any(h.chunk.published_at > date(2019, 12, 31) for h in unfiltered)


def test_as_of_answers_about_the_past_from_the_past(index):
    hits = index.search(
        "JPMorgan loan loss reserves", SearchFilters(tickers=["JPM"], as_of=date(2020, 6, 30)), k=3
    ).hits
    assert (
        hits[0].chunk.doc_id
        == "sample:JPM:news:2020-04-14:jpmorgan-profit-falls-69-percent-as-bank-braces-"
    )
    assert all(
        h.chunk.doc_id
        != "sample:JPM:news:2021-01-15:jpmorgan-releases-reserves-as-economy-recovers"
        for h in hits
    )


def test_type_form_and_date_filters(index):
    filings = index.search(
        "risk factors", SearchFilters(doc_type=DocType.FILING, form="10-Q"), k=10
    ).hits
    assert filings and all(h.chunk.form == "10-Q" for h in filings)
    news = index.search(
        "profit", SearchFilters(doc_type=DocType.NEWS, start=date(2022, 1, 1)), k=10
    ).hits
    assert news and all(
        h.chunk.doc_type is DocType.NEWS and h.chunk.published_at >= date(2022, 1, 1) for h in news
    )
    assert all(h.chunk.sentiment is not None for h in news)
    energy = index.search("crude", SearchFilters(tickers=["XOM", "CVX"]), k=10).hits
    assert energy and all({"XOM", "CVX"} & set(h.chunk.tickers) for h in energy)
    assert index.search("anything", SearchFilters(tickers=["NOPE"])).hits == []


def test_embedded_search_ranks_like_qdrant(index):
    """Same scores for each retriever; fused lists agree up to the order of tied chunks
    (templated news about 20 companies ties on BM25, and tie order is arbitrary)."""
    filters = SearchFilters(as_of=date(2021, 12, 31))
    for query in QUERIES:
        for mode in ("dense", "sparse"):
            ours = index.search(query, filters, k=5, mode=mode).hits
            theirs = index.server_search(query, filters, k=5, mode=mode)
            assert [h.score for h in ours] == pytest.approx([s for _, s in theirs], rel=1e-4), (
                query,
                mode,
            )
        ours = index.search(query, filters, k=5).hits
        theirs = index.server_search(query, filters, k=5)
        shared = {h.chunk.chunk_id for h in ours} & {c.chunk_id for c, _ in theirs}
        assert len(shared) >= 3, query
        assert ours[0].score == pytest.approx(theirs[0][1], rel=0.02), query


def test_changed_document_replaces_its_chunks_and_delete_removes_them(tmp_path):
    idx = DocumentIndex(embedder(), path=tmp_path / "q")
    long_text = "\n\n".join(f"Paragraph {i} about widgets and gizmos. " * 6 for i in range(8))
    doc = Document(
        doc_id="d1",
        title="Widgets",
        source="t",
        doc_type="news",
        tickers=["W"],
        published_at=date(2021, 1, 1),
        text=long_text,
    )
    settings = ChunkSettings(chunk_words=60, overlap_words=0)
    first = ingest(idx, [doc], settings=settings)
    assert first.chunks > 3 and idx.count() == first.chunks
    shorter = doc.model_copy(update={"text": "Only gizmos now."})
    second = ingest(idx, [shorter], settings=settings)
    assert (second.written, second.chunks) == (1, 1)
    assert idx.count() == 1  # no stale chunks from the longer version
    assert idx.search("gizmos").hits[0].chunk.text.endswith("Only gizmos now.")
    idx.delete("d1")
    assert idx.count() == 0 and idx.doc_ids() == set()
    idx.close()


def test_one_bad_document_does_not_stop_the_rest(tmp_path):
    from retrieval.errors import IngestError

    idx = DocumentIndex(embedder(), path=tmp_path / "q")
    good = Document(
        doc_id="g",
        title="Good",
        source="t",
        doc_type="news",
        published_at=date(2021, 1, 1),
        text="fine text",
    )
    empty = good.model_copy(update={"doc_id": "e", "text": "   "})
    report = ingest(idx, [IngestError("x.md: empty document"), empty, good])
    assert report.written == 1 and [f.item for f in report.failures] == ["x.md", "e"]
    idx.close()


def test_bad_queries(index):
    with pytest.raises(RetrievalError, match="empty"):
        index.search("   ")
    with pytest.raises(RetrievalError, match="unknown search mode"):
        index.search("x", mode="fuzzy")


def test_readers_search_while_another_index_writes_and_see_it_when_done(tmp_path):
    """Two indexes on one folder stand for two processes (each holds its own lock file
    handle): the reader searches the last published mirror while the writer writes,
    sees the new documents once the write session ends, and a second writer waits, then
    gives up with a message that says why."""
    docs = [d for d in sample_documents() if isinstance(d, Document)]
    writer = DocumentIndex(embedder(), path=tmp_path / "q")
    ingest(writer, docs[:3])
    reader = DocumentIndex(embedder(), path=tmp_path / "q", writer_wait=0.2)
    before = reader.count()
    assert before > 0 and reader.search("revenue").hits
    with writer.exclusive():
        ingest(writer, docs[3:])
        assert reader.count() == before  # the published mirror, not a half-written state
        with pytest.raises(RetrievalError, match="another process has been writing"):
            reader.delete(docs[0].doc_id)
    assert reader.count() == writer.count() > before
    assert reader.doc_ids() == {d.doc_id for d in docs}


def test_interrupted_ingest_resumes_without_duplicates(tmp_path):
    docs = [d for d in sample_documents() if isinstance(d, Document)]
    idx = DocumentIndex(embedder(), path=tmp_path / "q")
    batches = []

    def stop_after_first_batch(report):
        batches.append(report.chunks)
        if report.chunks:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-ingest

    with pytest.raises(KeyboardInterrupt):
        ingest(idx, docs, batch_chunks=64, progress=stop_after_first_batch)
    partial = idx.count()
    assert 0 < partial < 257
    resumed = ingest(idx, docs, batch_chunks=64)
    assert resumed.unchanged > 0  # what was written before the interruption is kept
    assert idx.count() == 257
    with idx.exclusive():
        ids = [p.id for p in idx._scroll_all(with_vectors=False)]
    assert len(ids) == len(set(ids)) == 257
    idx.close()


def test_the_same_story_twice_in_one_batch_is_written_once(tmp_path):
    idx = DocumentIndex(embedder(), path=tmp_path / "q")
    story = Document(
        doc_id="n1",
        title="Oil jumps",
        source="wire",
        doc_type="news",
        published_at=date(2022, 3, 8),
        url="https://example.com/oil",
        text="Crude rose five percent on supply fears.",
    )
    same_url = story.model_copy(update={"doc_id": "n2", "title": "Oil jumps (update)"})
    same_text = story.model_copy(update={"doc_id": "n3", "url": None})
    report = ingest(idx, [story, same_url, same_text])
    assert (report.documents, report.duplicates, report.written) == (1, 2, 1)
    assert idx.doc_ids() == {"n1"}
    idx.close()


def test_fused_ties_go_to_the_dense_order():
    """Rank 1 in one list and 3 in the other ties with the reverse: the first (dense)
    list's order decides, whatever the ids."""
    from retrieval.mirror import rrf

    assert [i for i, _ in rrf([[9, 7, 5], [5, 8, 9]])][:2] == [9, 5]
    assert [i for i, _ in rrf([[5, 7, 9], [9, 8, 5]])][:2] == [5, 9]


def test_embedded_writes_commit_without_a_disk_sync_each_and_persist(tmp_path):
    """Embedded Qdrant commits point by point; its SQLite file runs in WAL mode with
    NORMAL sync (no fsync per point), and what was written is there on reopening."""
    import sqlite3

    docs = [d for d in sample_documents() if isinstance(d, Document)][:5]
    idx = DocumentIndex(embedder(), path=tmp_path / "q")
    written = ingest(idx, docs).chunks
    idx.close()
    (storage,) = (tmp_path / "q").rglob("storage.sqlite")
    with sqlite3.connect(storage) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = DocumentIndex(embedder(), path=tmp_path / "q")
    assert again.count() == written > 0
    assert ingest(again, docs).unchanged == 5
    again.close()
