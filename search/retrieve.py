"""Retrievers: a query plan in, ranked chunk ids out, behind one protocol.

:class:`DenseRetriever` (here), :class:`~search.windows.WindowRetriever` (chunks and
their sentences), :class:`~search.lexical.LexicalRetriever` and
:class:`~search.hybrid.HybridRetriever` all read one :class:`~index.stores.Store`
(the version folder, or Milvus): the algorithms live here, the store only answers
primitive searches, so retrieval runs the same on every store. They take the :class:`~search.query.QueryPlan` the
engine built once per query (normalised text, kind, restored diacritics, filters)
and never plan the query again; the plan's filters restrict them to the chunks of
the documents that pass.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from index.embed import Embedder
from index.stores import Store
from search.filters import allowed_chunks
from search.query import QueryPlan


class Retriever(Protocol):
    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, at most ``k``, all passing ``plan.filters``."""
        ...


class DenseRetriever:
    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
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
        return self.store.search_dense(vector, k, mask)

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        return self.search(plan.dense_text, k, allowed_chunks(self.store, plan.filters))
