"""The ``milvus`` index backend: dense + BM25 + RRF fusion, all inside Milvus.

:class:`MilvusRetriever` answers the same :class:`~search.retrieve.Retriever`
protocol as the FAISS retrievers, over the collection of one index version
(index/milvus_store.py). :class:`MilvusBackend` publishes each new version
at ingest and hands out retrievers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.milvus_store import MilvusStore, bm25_text
from index.store import IndexUnavailable, Snapshot, open_current
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


def snapshot_rows(snapshot: Snapshot) -> Iterator[tuple[int, np.ndarray, str]]:
    for chunk in snapshot.all_chunks():
        yield chunk.id, np.asarray(snapshot.vectors[chunk.id]), bm25_text(chunk.embed_text)


class MilvusBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uri = settings.milvus_uri or str(Path(settings.index_dir) / "milvus.db")
        self._store: MilvusStore | None = None
        self._lock = threading.Lock()
        self._ready: set[str] = set()  # versions known to be fully in Milvus
        # settings.retrieval names the same three choices as on FAISS.
        self.mode = {"dense": "dense", "lexical": "bm25"}.get(settings.retrieval, "hybrid")

    @property
    def store(self) -> MilvusStore:
        with self._lock:
            if self._store is None:
                self._store = MilvusStore(self.uri, self.settings.milvus_index_type)
            return self._store

    def publish(self, index_dir: Path) -> str:
        snapshot = open_current(index_dir)
        n = len(snapshot)
        if not self.store.has_version(snapshot.version, n):
            self.store.publish(
                snapshot.version, int(snapshot.manifest["dim"]), snapshot_rows(snapshot)
            )
        versions = Path(index_dir) / "versions"
        kept = [p.name for p in versions.iterdir() if not p.name.startswith(".")]
        self.store.drop_other_versions(kept)
        snapshot.close()
        return f"milvus: version {snapshot.version} published to {self.uri} ({n} chunks)"

    def retriever(self, snapshot: Snapshot, embedder: Embedder) -> Retriever:
        if snapshot.version in self._ready:
            return MilvusRetriever(
                self.store, snapshot.version, embedder, self.mode, snapshot=snapshot
            )
        if not self.store.has_version(snapshot.version, len(snapshot)):
            raise IndexUnavailable(
                f"index version {snapshot.version} is not in Milvus at {self.uri}: run "
                "`policy-search ingest` with POLICY_SEARCH_INDEX_BACKEND=milvus"
            )
        self._ready.add(snapshot.version)
        return MilvusRetriever(self.store, snapshot.version, embedder, self.mode, snapshot=snapshot)
