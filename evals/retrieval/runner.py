"""Retrieval eval: recall@5, MRR@10 and nDCG@10 over labelled queries, for dense-only,
sparse-only and hybrid search on the sample corpus (indexed into a temporary folder,
so the run is reproducible and never touches the user's data dir).

Rankings are by document: each query's chunk hits are collapsed to their documents in
order of first appearance.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel

from assistant.resources import embedder as settings_embedder
from ingest.pipeline import ingest, sample_documents
from ingest.sentiment import LexiconSentiment
from retrieval.embeddings import Embedder
from retrieval.index import MODES, DocumentIndex
from retrieval.models import SearchFilters

QUERIES = Path(__file__).resolve().parent / "queries.yaml"
RECALL_GATE = 0.90


class LabelledQuery(BaseModel):
    q: str
    relevant: list[str]
    tickers: list[str] | None = None
    as_of: date | None = None


class ModeScores(BaseModel):
    mode: str
    recall_at_5: float
    mrr_at_10: float
    ndcg_at_10: float


class Gate(BaseModel):
    name: str
    passed: bool


class QueryMiss(BaseModel):
    q: str
    relevant: list[str]
    top5: list[str]


class RetrievalEval(BaseModel):
    embedder: str
    queries: int
    documents: int
    modes: list[ModeScores]
    gates: list[Gate]
    hybrid_misses: list[QueryMiss]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def load_queries(path: Path = QUERIES) -> list[LabelledQuery]:
    return [LabelledQuery.model_validate(item) for item in yaml.safe_load(path.read_text())]


def ranked_docs(index: DocumentIndex, query: LabelledQuery, mode: str) -> list[str]:
    filters = SearchFilters(tickers=query.tickers, as_of=query.as_of)
    hits = index.search(query.q, filters, k=40, mode=mode).hits
    return list(dict.fromkeys(h.chunk.doc_id for h in hits))


def score(ranking: list[str], relevant: set[str]) -> tuple[float, float, float]:
    recall = len(relevant & set(ranking[:5])) / len(relevant)
    mrr = next((1 / (i + 1) for i, d in enumerate(ranking[:10]) if d in relevant), 0.0)
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranking[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return recall, mrr, dcg / ideal


def evaluate(
    index: DocumentIndex, queries: list[LabelledQuery]
) -> tuple[list[ModeScores], list[QueryMiss]]:
    modes, misses = [], []
    for mode in MODES:
        totals = [0.0, 0.0, 0.0]
        for query in queries:
            ranking = ranked_docs(index, query, mode)
            for i, value in enumerate(score(ranking, set(query.relevant))):
                totals[i] += value
            if mode == "hybrid" and not set(query.relevant) & set(ranking[:5]):
                misses.append(QueryMiss(q=query.q, relevant=query.relevant, top5=ranking[:5]))
        n = len(queries)
        modes.append(
            ModeScores(
                mode=mode,
                recall_at_5=totals[0] / n,
                mrr_at_10=totals[1] / n,
                ndcg_at_10=totals[2] / n,
            )
        )
    return modes, misses


def run_retrieval_eval(
    queries_path: Path = QUERIES, embedder: Embedder | None = None
) -> RetrievalEval:
    """``embedder``: default, the one the settings name (what search uses)."""
    queries = load_queries(queries_path)
    embedder = embedder or settings_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = DocumentIndex(embedder, path=Path(tmp) / "qdrant")
        try:
            report = ingest(index, sample_documents(), sentiment=LexiconSentiment())
            known = index.doc_ids()
            unknown = sorted({d for q in queries for d in q.relevant} - known)
            if unknown:
                raise ValueError(f"queries.yaml names documents not in the corpus: {unknown}")
            modes, misses = evaluate(index, queries)
        finally:
            index.close()
    by_mode = {m.mode: m for m in modes}
    hybrid = by_mode["hybrid"]
    dense, sparse = by_mode["dense"], by_mode["sparse"]
    gates = [
        Gate(
            name=f"hybrid recall@5 {hybrid.recall_at_5:.3f} ≥ {RECALL_GATE}",
            passed=hybrid.recall_at_5 >= RECALL_GATE,
        ),
        Gate(
            name=f"hybrid MRR@10 {hybrid.mrr_at_10:.3f} > dense {dense.mrr_at_10:.3f} "
            f"and sparse {sparse.mrr_at_10:.3f}",
            passed=hybrid.mrr_at_10 > max(dense.mrr_at_10, sparse.mrr_at_10),
        ),
    ]
    return RetrievalEval(
        embedder=embedder.name,
        queries=len(queries),
        documents=report.documents,
        modes=modes,
        gates=gates,
        hybrid_misses=misses,
    )
