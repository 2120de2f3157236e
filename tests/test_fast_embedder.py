"""The packaged MiniLM through ONNX Runtime: the vectors search uses are PyTorch's, and
embedding a query imports neither torch nor transformers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from assistant.resources import embedder
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.fast_embedder import Precision, fast_embedder

TEXTS = [
    "Apple's quarterly revenue rose on iPhone demand.",
    "JPMorgan set aside reserves for loan losses as the economy slowed",
    "short",
    "The Federal Reserve raised interest rates by 75 basis points to fight inflation, "
    "the largest increase since 1994, and signalled more to come this year.",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return SentenceTransformerEmbedder().embed(TEXTS)


def test_fp32_is_pytorchs_vectors_and_search_int8_stays_close(model_cache, torch_vectors):
    fp32 = fast_embedder(model_cache, Precision.FP32)
    vectors = fp32.embed(TEXTS)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999
    search = embedder()
    assert search.name.endswith("ONNX int8)") and search.dimension == 384
    quantised = search.embed(TEXTS)
    assert (quantised * torch_vectors).sum(axis=1).min() > 0.98
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)


def test_int8_search_keeps_pytorchs_recall(model_cache):
    """The bar for quantising: the retrieval eval's hybrid recall@5 within 0.01 of the
    vectors PyTorch makes (0.977 on the sample corpus)."""
    from evals.retrieval.runner import run_retrieval_eval

    modes = {m.mode: m for m in run_retrieval_eval(embedder=embedder()).modes}
    assert modes["hybrid"].recall_at_5 >= 0.977 - 0.01


def test_a_texts_vector_does_not_depend_on_its_company(model_cache):
    """Texts run one by one, in parallel: the rows come back in the given order, and a
    text's vector is the same alone or among others (dynamic quantisation takes its
    scale from what it is given)."""
    search = embedder()
    texts = TEXTS * 5
    together = search.embed(texts)
    one_by_one = np.vstack([search.embed([t]) for t in texts])
    assert np.array_equal(together, one_by_one)
    assert search.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_a_query_is_embedded_without_torch_or_transformers(model_cache):
    embedder().embed(["prepare the model cache first"])
    code = (
        "import sys\n"
        "from assistant.resources import embedder\n"
        "v = embedder().embed(['bank earnings fell'])\n"
        "assert v.shape == (1, 384), v.shape\n"
        "loaded = sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules)\n"
        "print(','.join(loaded) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "none"


def test_two_precisions_loading_at_once_export_once(tmp_path):
    """A new server's first question (the router, int8) and first search (fp32) load at
    the same moment: torch's exporter is not re-entrant, so they must take turns."""
    from concurrent.futures import ThreadPoolExecutor

    from retrieval.fast_embedder import FastEmbedder, Precision

    embedders = [FastEmbedder(tmp_path, p) for p in (Precision.INT8, Precision.FP32)]
    with ThreadPoolExecutor(2) as pool:
        vectors = list(pool.map(lambda e: e.embed(["supply chain risk"]), embedders))
    assert all(v.shape == (1, 384) for v in vectors)
    assert float(vectors[0][0] @ vectors[1][0]) > 0.97  # int8 and fp32 agree


def test_layer_norms_run_unfused(model_cache, tmp_path):
    """ONNX Runtime's SkipLayerNormalization is five times slower than the Add and
    LayerNormalization it replaces (benchmarks/bench_retrieval.py): neither the export
    nor the session at load time may fuse them."""
    import onnx
    import onnxruntime as ort

    from retrieval.fast_embedder import UNFUSED

    search = fast_embedder(model_cache, Precision.INT8)
    search.embed(["load the model"])
    exported = {n.op_type for n in onnx.load(search.model_path).graph.node}
    assert "LayerNormalization" in exported and "SkipLayerNormalization" not in exported
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "as-run.onnx")
    ort.InferenceSession(
        str(search.model_path), options, ["CPUExecutionProvider"], disabled_optimizers=UNFUSED
    )
    as_run = {n.op_type for n in onnx.load(tmp_path / "as-run.onnx").graph.node}
    assert "SkipLayerNormalization" not in as_run and "LayerNormalization" in as_run
