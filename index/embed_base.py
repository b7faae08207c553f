"""What every embedder backend shares: the protocol and two small helpers.

Its own module so that backends in other modules (:mod:`index.e5st`) and the
registry that imports them (:mod:`index.embed`) both build on it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

ProgressFn = Callable[[int], None]
# Character ranges of one passage whose tokens are pooled into one vector.
SpanGroup = Sequence[tuple[int, int]]
# The range that selects the tokens outside the text: <s>, </s> and the "passage: " prefix.
SPECIAL_TOKENS = (-1, 0)


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_count(self, text: str) -> int: ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pool_spans(
    spans: np.ndarray, states: np.ndarray, groups: Sequence[SpanGroup], fallback: np.ndarray
) -> np.ndarray:
    """Mean of ``states`` over the tokens of each group (not normalised).

    ``spans[j]`` is token j's character range in the passage; tokens outside
    the text (specials, prefix) have :data:`SPECIAL_TOKENS`. A token belongs to
    a group when it overlaps one of the group's ranges. A group that covers no
    token (text cut off by the model's limit) gets ``fallback``.
    """
    starts, ends = spans[:, 0][None, :], spans[:, 1][None, :]
    member = np.zeros((len(groups), len(spans)), dtype=bool)
    for g, group in enumerate(groups):
        for lo, hi in group:
            member[g] |= ((starts < hi) & (ends > lo))[0]
    counts = member.sum(axis=1, keepdims=True)
    out = (member.astype(np.float32) @ states) / np.maximum(counts, 1)
    out[counts[:, 0] == 0] = fallback
    return out.astype(np.float32, copy=False)
