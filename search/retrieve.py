"""Retrievers: a query in, ranked chunk ids out, behind one protocol.

The dense retriever is the first; lexical and hybrid retrievers plug in as
further classes over the same :class:`~index.store.Snapshot`.
"""

from __future__ import annotations

from typing import Protocol

from index.embed import Embedder
from index.store import Snapshot
from ingest.text import normalize


class Retriever(Protocol):
    def retrieve(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, at most ``k``."""
        ...


class DenseRetriever:
    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder

    def retrieve(self, query: str, k: int) -> list[tuple[int, float]]:
        vector = self.embedder.embed_queries([normalize(query)])[0]
        return self.snapshot.search_dense(vector, k)
