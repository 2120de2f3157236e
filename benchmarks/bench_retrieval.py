"""Embedding throughput of the packaged MiniLM through ONNX Runtime (fp32; int8 with
fp32 attention, which search and ingestion use; int8 with the attention quantised too, for
comparison) next to PyTorch's SentenceTransformer.encode on the same chunks, with the
retrieval eval's recall@5 for each; ingest throughput next to raw encode; and
hybrid search latency (query embedding included) at 1k and 20k chunks, embedded Qdrant.

Run: `.venv/bin/python -m benchmarks.bench_retrieval` (or `make bench`). Targets: ONNX
≥ 2.3x PyTorch with recall@5 within 0.01 of PyTorch's; ingest ≥ 0.8x raw encode; search
p50 < 50 ms at 20k chunks. Filler documents for the larger index are synthetic sentences
built from a finance vocabulary, embedded for real. The model cache is
ASSISTANT_MODEL_CACHE_DIR (default <data dir>/models): prepared once, outside the timing.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from assistant.resources import embedder as embedder_for_search
from assistant.settings import get_settings
from evals.retrieval.runner import run_retrieval_eval
from ingest.chunking import ChunkSettings, chunk_document, document_hash
from ingest.pipeline import ingest, sample_documents
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.fast_embedder import FastEmbedder, Precision, fast_embedder
from retrieval.index import DocumentIndex
from retrieval.models import DocType, Document, SearchFilters

VOCAB = """revenue margin guidance supply chain tariff semiconductor cloud subscription
deposit loan credit default reserve crude refinery pipeline drilling vaccine trial approval
patent lawsuit settlement dividend buyback inflation wage freight inventory store online
demand pricing currency acquisition merger regulator antitrust outage cyberattack factory
shortage recession rates mortgage housing consumer advertising streaming battery""".split()
TICKERS = ["AAPL", "MSFT", "JPM", "XOM", "PFE", "KO", "WMT", "HD", "GE", "AMD"]
QUERIES = [
    "supply chain disruption at factories",
    "bank loan loss reserves",
    "oil prices and refinery margins",
    "drug approval by regulators",
    "price increases and inflation",
    "acquisition blocked by antitrust",
]


def filler(n_docs: int, seed: int = 0) -> list[Document]:
    """``n_docs`` one-chunk documents; ids carry the seed so batches never collide."""
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        sentences = [" ".join(rng.choices(VOCAB, k=12)).capitalize() + "." for _ in range(4)]
        docs.append(
            Document(
                doc_id=f"filler:{seed}:{i}",
                title=f"Filler report {i}",
                source="synthetic filler",
                doc_type=DocType.NEWS if i % 3 else DocType.FILING,
                form=None if i % 3 else "10-Q",
                tickers=[rng.choice(TICKERS)],
                published_at=date(2015, 1, 1) + timedelta(days=i % 2900),
                text=" ".join(sentences),
                synthetic=True,
            )
        )
    return docs


def latency(index: DocumentIndex, repeats: int = 5) -> tuple[float, float]:
    filters = [
        SearchFilters(),
        SearchFilters(tickers=["AAPL"]),
        SearchFilters(as_of=date(2020, 6, 30)),
    ]
    index.search("warm up", k=5)
    times = []
    for _ in range(repeats):
        for q in QUERIES:
            for f in filters:
                start = time.perf_counter()
                index.search(q, f, k=5)
                times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def rate(embedder: Embedder, texts: list[str], repeats: int = 3) -> float:
    """Texts per second, the median of ``repeats`` passes (a shared machine's neighbours
    move single passes by ±15%)."""
    embedder.embed(texts[:64])  # warm: sessions, allocators
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def cpu_note() -> str:
    """int8 only pays where the CPU multiplies bytes fast (VNNI): say which this is."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU: unknown"
    model = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?"
    )
    flags = set(
        next(
            (
                line.split(":", 1)[1].split()
                for line in info.splitlines()
                if line.startswith("flags")
            ),
            [],
        )
    )
    vnni = sorted(flags & {"avx512_vnni", "avx_vnni", "amx_int8"})
    return (
        f"CPU: {model}; int8 dot products: {', '.join(vnni) or 'none (no VNNI: int8 gains little)'}"
    )


def quantised_attention(fp32: Path, target: Path) -> FastEmbedder:
    """int8 with the fused attention quantised too (QAttention): faster, not used (its
    recall; see :mod:`retrieval.fast_embedder`)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
    )
    embedder = FastEmbedder(target.parent, Precision.INT8)
    embedder.path = lambda _precision: target  # type: ignore[method-assign]
    embedder.name = "ONNX int8, attention too"
    return embedder


def encoders(texts: list[str], scratch: Path) -> None:
    """Each encoder on the same chunks, and its recall@5 on the retrieval eval."""
    print(cpu_note())
    cache = get_settings().effective_model_cache_dir
    pytorch = SentenceTransformerEmbedder()
    fp32 = fast_embedder(cache, Precision.FP32)
    fp32.embed(["prepare the cache"])
    rows = [
        ("PyTorch (sentence-transformers)", pytorch),
        ("ONNX Runtime fp32", fp32),
        ("ONNX Runtime int8 (search)", fast_embedder(cache, Precision.INT8)),
        ("ONNX int8, attention too", quantised_attention(fp32.model_path, scratch / "qattn.onnx")),
    ]
    base_rate = base_recall = 0.0
    print(
        f"encode: {len(texts)} chunks (PyTorch: batches of {pytorch.batch_size}; ONNX: one "
        f"text per run, {fp32.workers} at once)"
    )
    for name, embedder in rows:
        r = rate(embedder, texts)
        recall = next(
            m.recall_at_5 for m in run_retrieval_eval(embedder=embedder).modes if m.mode == "hybrid"
        )
        base_rate, base_recall = (r, recall) if embedder is pytorch else (base_rate, base_recall)
        print(
            f"  {name:32s} {r:7.1f} chunks/s  x{r / base_rate:.2f}   hybrid recall@5 "
            f"{recall:.3f} ({recall - base_recall:+.3f})"
        )
    print(
        f"  search uses {embedder_for_search().name}; "
        "targets: x2.3 and recall@5 within 0.01 of PyTorch"
    )


def main() -> None:
    embedder = embedder_for_search()
    embedder.embed(["warm up the model"])
    settings = ChunkSettings()
    docs = [d for d in sample_documents() if isinstance(d, Document)] + filler(600, seed=1)
    texts = [c.text for d in docs for c in chunk_document(d, settings, document_hash(d, settings))]
    with tempfile.TemporaryDirectory() as scratch:
        encoders(texts, Path(scratch))

    raw_rate = rate(embedder, texts)
    ingest_rates = []
    for _ in range(3):  # the median of three, as for encode
        with tempfile.TemporaryDirectory() as tmp:
            index = DocumentIndex(embedder, path=Path(tmp) / "q")
            report = ingest(index, docs, settings=settings)
            index.close()
        ingest_rates.append(report.chunks_per_second)
    ingest_rate = statistics.median(ingest_rates)
    print(f"ingest: {report.chunks} chunks of {len(docs)} documents")
    print(f"  raw encode (the search embedder) {raw_rate:7.1f} chunks/s")
    print(
        f"  ingest pipeline (chunk+embed+write) {ingest_rate:7.1f} chunks/s   "
        f"ratio {ingest_rate / raw_rate:.2f} (target ≥ 0.80)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        index = DocumentIndex(embedder, path=Path(tmp) / "q")
        ingest(
            index, [d for d in sample_documents() if isinstance(d, Document)] + filler(750, seed=2)
        )
        n1 = index.count()
        p50, p95 = latency(index)
        print(f"search at {n1:,} chunks: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        started = time.perf_counter()
        ingest(index, filler(20_000 - n1, seed=3), batch_chunks=1024)
        n2 = index.count()
        built = time.perf_counter() - started
        p50, p95 = latency(index)
        print(
            f"search at {n2:,} chunks: p50 {p50:.1f} ms, p95 {p95:.1f} ms   target p50 < 50 ms "
            f"(filler indexed in {built:.0f} s)"
        )
        index.close()


if __name__ == "__main__":
    main()
