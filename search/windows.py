"""Dense retrieval over chunks and their sentences (multi-granularity).

A chunk is scored by its own vector and by its best sentence window
(:mod:`index.windows`): ``CHUNK_WEIGHT * chunk + (1 - CHUNK_WEIGHT) * best
sentence``. The chunk vector keeps the context (what the passage is about);
the sentence vector finds the one fact a question asks for, which the chunk's
average blurs, above all for English questions over Vietnamese text. Taking
the best sentence alone measured worse than the even blend (docs/eval.md).
"""

from __future__ import annotations

import numpy as np

from index.embed import Embedder, sentence_capable
from index.store import IndexUnavailable
from index.stores import Records, Store
from index.windows import method_mismatch, recorded_method
from search.fusion import Ranking
from search.retrieve import DenseRetriever

# Chunk vs best sentence; 0.4-0.6 measured within 0.004 MRR@10 of each other on XQuAD.
CHUNK_WEIGHT = 0.5
# Candidates read from each FAISS index before the exact blend (or k, when larger).
CANDIDATES = 100


def searched_method(embedder_spec: str, requested: str) -> str:
    """The window method a server with these settings builds, and so expects to search."""
    return requested if requested != "late" or sentence_capable(embedder_spec) else "separate"


def check_method(store: Records, expect: str | None) -> None:
    """Refuse ``store`` when its windows were made another way than ``expect``."""
    found = recorded_method(store.path)
    if expect is not None and found is not None and found != expect:
        raise IndexUnavailable(method_mismatch(store.path, found, expect))


class WindowRetriever(DenseRetriever):
    """Dense retrieval that scores each chunk by its vector and its best sentence's."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunk_weight: float = CHUNK_WEIGHT,
        candidates: int = CANDIDATES,
    ) -> None:
        super().__init__(store, embedder)
        self.chunk_weight = chunk_weight
        self.candidates = candidates

    def search(
        self,
        text: str,
        k: int,
        mask: np.ndarray | None = None,
        vector: np.ndarray | None = None,
    ) -> Ranking:
        if k <= 0 or len(self.store) == 0:
            return []
        query = self.query_vector(text) if vector is None else vector
        if mask is not None:
            ids = np.flatnonzero(mask)
        else:
            # A chunk ranks high only when its own vector or one of its sentences does.
            depth = max(k, self.candidates)
            found = [cid for cid, _ in self.store.search_dense(query, depth)]
            found += self.store.search_windows(query, 4 * depth).tolist()
            ids = np.unique(np.asarray(found, dtype=np.int64))
        if not len(ids):
            return []
        scores = self.blend(query, ids)
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def blend(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Blended score of chunks ``ids`` (ascending) for ``query``."""
        chunk = self.store.chunk_vectors(ids) @ query
        best = self.store.window_best(query, ids)
        # A one-sentence chunk has no windows: its sentence is the chunk itself.
        best = np.where(np.isfinite(best), best, chunk)
        return self.chunk_weight * chunk + (1 - self.chunk_weight) * best


def dense_retriever(
    store: Store, embedder: Embedder, windows: bool = True, method: str | None = None
) -> DenseRetriever:
    """The dense retriever for ``store``: with sentence windows when asked and built.

    ``method``: the window method expected (:func:`searched_method`); windows made
    another way are refused with a message saying how to rebuild.
    """
    if windows:
        check_method(store, method)
    if windows and store.has_windows:
        return WindowRetriever(store, embedder)
    return DenseRetriever(store, embedder)
