"""Retrievers: a query plan in, ranked chunk ids out, behind one protocol.

:class:`DenseRetriever` (here), :class:`~search.windows.WindowRetriever` (chunks and
their sentences), :class:`~search.lexical.LexicalRetriever` and
:class:`~search.hybrid.HybridRetriever` all read one
:class:`~index.store.Snapshot`. They take the :class:`~search.query.QueryPlan` the
engine built once per query (normalised text, kind, restored diacritics, filters)
and never plan the query again; the plan's filters restrict them to the chunks of
the documents that pass.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from index.embed import Embedder
from index.store import Snapshot
from search.filters import allowed_chunks
from search.query import QueryPlan


class Retriever(Protocol):
    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, at most ``k``, all passing ``plan.filters``."""
        ...


class DenseRetriever:
    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder

    def query_vector(self, text: str) -> np.ndarray:
        """The query vector of ``text``, a plan's ``dense_text`` (already normalised)."""
        return self.embedder.embed_queries([text])[0]

    def search(
        self,
        text: str,
        k: int,
        mask: np.ndarray | None = None,
        vector: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best chunks for ``text`` (whose query vector may be given, already embedded)."""
        vector = self.query_vector(text) if vector is None else vector
        if mask is None:
            return self.snapshot.search_dense(vector, k)
        ids = np.flatnonzero(mask)
        if k <= 0 or not len(ids):
            return []
        # Exact scores over the allowed rows only: a filtered search never comes back short.
        scores = np.asarray(self.snapshot.vectors[ids], dtype=np.float32) @ vector
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        return self.search(plan.dense_text, k, allowed_chunks(self.snapshot, plan.filters))
