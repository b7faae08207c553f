"""The ``milvus`` index backend: dense + BM25 + RRF fusion, all inside Milvus.

:class:`MilvusRetriever` answers the same :class:`~search.retrieve.Retriever`
protocol as the FAISS retrievers, over the collection of one index version
(index/milvus_store.py). :class:`MilvusBackend` publishes each new version
at ingest and hands out retrievers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.milvus_store import MilvusBackend as IndexMilvusBackend
from index.milvus_store import MilvusStore
from index.store import Snapshot
from search.filters import allowed_chunks
from search.query import QueryPlan
from search.retrieve import Retriever
from search.settings import Settings


class MilvusRetriever:
    """``mode``: 'hybrid' (dense + BM25, Milvus RRF), 'dense' or 'bm25'."""

    def __init__(
        self,
        store: MilvusStore,
        version: str,
        embedder: Embedder,
        mode: str = "hybrid",
        rrf_k: int = 60,
        snapshot: Snapshot | None = None,
    ) -> None:
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown Milvus retrieval mode {mode!r}")
        self.store = store
        self.version = version
        self.embedder = embedder
        self.mode = mode
        self.rrf_k = rrf_k
        self.snapshot = snapshot

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        query = plan.text
        where = ""
        if self.snapshot is not None and plan.filters is not None:
            mask = allowed_chunks(self.snapshot, plan.filters)
            if mask is not None:
                ids = np.flatnonzero(mask)
                if not len(ids):
                    return []
                # Metadata lives in SQLite; Milvus gets the allowed chunk ids.
                where = f"id in [{','.join(str(int(i)) for i in ids)}]"
        if self.mode == "bm25":
            return self.store.search_bm25(self.version, query, k, where)
        vector = self.embedder.embed_queries([query])[0]
        if self.mode == "dense":
            return self.store.search_dense(self.version, vector, k, where)
        return self.store.search_hybrid(self.version, vector, query, k, self.rrf_k, where=where)


class MilvusBackend:
    """The ``milvus`` backend from the settings: publishing, and Milvus retrievers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uri = settings.milvus_uri or str(Path(settings.index_dir) / "milvus.db")
        self.backend = IndexMilvusBackend(self.uri, settings.milvus_index_type)
        # settings.retrieval names the same three choices as on FAISS.
        self.mode = {"dense": "dense", "lexical": "bm25"}.get(settings.retrieval, "hybrid")

    @property
    def store(self) -> MilvusStore:
        return self.backend.store

    def publish(self, version_dir: Path) -> str:
        return self.backend.publish(version_dir)

    def retire(self, versions: Sequence[str]) -> list[str]:
        return self.backend.retire(versions)

    def retriever(self, snapshot: Snapshot, embedder: Embedder) -> Retriever:
        store = self.backend.ready(snapshot)
        return MilvusRetriever(store, snapshot.version, embedder, self.mode, snapshot=snapshot)
