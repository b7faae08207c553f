"""The search service: settings + embedder + current index snapshot.

One :class:`SearchEngine` per process. It re-opens the index when a build
switched ``current`` to a new version; a request keeps the snapshot it
started with, so it never sees half of one version and half of another.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from index.embed import Embedder, make_embedder
from index.embed_process import ProcessEmbedder
from index.query_batch import BatchingEmbedder
from index.query_cache import CachedEmbedder
from index.store import IndexUnavailable, Snapshot, current_path
from ingest.text import normalize, normalize_spaces
from search.backends import IndexBackend, make_backend
from search.filters import Filters, check_filters
from search.lexical import accent_model
from search.query import QueryPlan, plan_query
from search.rerank import CrossEncoderReranker, RerankingRetriever
from search.retrieve import Retriever
from search.settings import Settings
from search.windows import check_method, searched_method


class QueryError(ValueError):
    """The query itself is unusable (empty, too long); the message says why."""


@dataclass
class SearchResult:
    doc_id: str
    title: str
    source: str
    section: str
    page: int | None
    text: str
    score: float
    chunk_id: int

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("chunk_id")
        return d


class SearchEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder: Embedder | None = embedder
        self._cached: CachedEmbedder | None = None
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self.backend: IndexBackend = make_backend(settings)
        self._reranker: CrossEncoderReranker | None = None  # made on first use

    @property
    def embedder(self) -> Embedder:
        if self._cached is None:
            inner = self._embedder or self._make_embedder()
            # Cache first: a repeated query never waits for a batch.
            batched = BatchingEmbedder(inner, self.settings.query_batch_max)
            self._cached = CachedEmbedder(batched, self.settings.query_cache_size)
        return self._cached

    def _make_embedder(self) -> Embedder:
        if self.settings.embedder_process:
            return ProcessEmbedder(self.settings.embedder_spec)
        return make_embedder(self.settings.embedder_spec)

    def embedding_stats(self) -> dict[str, int | float]:
        """Query-embedding counters since start: cache hits/misses and batched passes."""
        cached = self._cached
        if cached is None:
            return {}
        stats: dict[str, int | float] = {
            "cache_entries": len(cached),
            "cache_hits": cached.hits,
            "cache_misses": cached.misses,
        }
        if isinstance(cached.inner, BatchingEmbedder):
            stats["passes"] = cached.inner.passes
            stats["mean_batch"] = round(cached.inner.mean_batch, 2)
        return stats

    @property
    def window_method(self) -> str:
        """How this server expects the sentence windows of an index to have been made."""
        return searched_method(self.settings.embedder_spec, self.settings.window_method)

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def snapshot(self) -> Snapshot:
        """The current complete index version (re-opened after a new build)."""
        path = current_path(self.index_dir)
        if path is None:
            raise IndexUnavailable(
                f"no index at {self.index_dir}: build one with `policy-search ingest`"
            )
        with self._lock:
            if self._snapshot is None or self._snapshot.path != path:
                snap = Snapshot(path)
                snap.check_embedder(self.embedder.name)
                if self.settings.dense_windows:
                    # Refused at once, with the fix, rather than at the first dense query.
                    check_method(snap, self.window_method)
                # Searching reads these files at random; an ingest reading its previous
                # version does not, so only the serving side asks for them up front.
                snap.prefetch()
                self._snapshot = snap
            return self._snapshot

    def retriever(self, snapshot: Snapshot) -> Retriever:
        # The backend picks dense / lexical / hybrid per settings.retrieval.
        retriever = self.backend.retriever(snapshot, self.embedder)
        if self.settings.reranker:
            if self._reranker is None:
                self._reranker = CrossEncoderReranker(self.settings.reranker)
            retriever = RerankingRetriever(
                retriever, snapshot, self._reranker, self.settings.rerank_depth
            )
        return retriever

    def clean_query(self, query: str) -> str:
        query = normalize_spaces(normalize(query or ""))
        if not query:
            raise QueryError("empty query: type some words to search for")
        if len(query) > self.settings.max_query_chars:
            raise QueryError(
                f"query is {len(query)} characters; the limit is "
                f"{self.settings.max_query_chars} (POLICY_SEARCH_MAX_QUERY_CHARS)"
            )
        return query

    def check_k(self, k: int | None) -> int:
        if k is None:
            return self.settings.default_k
        if k < 1 or k > self.settings.max_k:
            raise QueryError(
                f"k must be between 1 and {self.settings.max_k} (POLICY_SEARCH_MAX_K); got {k}"
            )
        return k

    def check_filters(self, filters: Filters | None) -> Filters | None:
        if filters is None or filters.is_empty():
            return None
        try:
            check_filters(filters)
        except ValueError as exc:
            raise QueryError(str(exc)) from exc
        return filters

    def plan(
        self, query: str, filters: Filters | None = None, snapshot: Snapshot | None = None
    ) -> QueryPlan:
        """The one plan of ``query``: checked, normalised, kind detected, diacritics restored.

        Restoration learns from the indexed text, so it reads ``snapshot`` (the
        current version when not given). Raises :class:`QueryError` for an
        unusable query or malformed filters.
        """
        query = self.clean_query(query)
        filters = self.check_filters(filters)
        snap = snapshot or self.snapshot()
        return plan_query(query, accent_model(snap), filters=filters)

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None
    ) -> list[SearchResult]:
        query = self.clean_query(query)
        k = self.check_k(k)
        filters = self.check_filters(filters)
        snap = self.snapshot()
        return self.run(self.plan(query, filters, snap), k, snap)

    def run(self, plan: QueryPlan, k: int, snapshot: Snapshot) -> list[SearchResult]:
        """The ``k`` best passages for ``plan`` in ``snapshot``, with their documents."""
        snap = snapshot
        hits = self.retriever(snap).retrieve(plan, k)
        chunks = snap.chunks([cid for cid, _ in hits])
        docs = {doc_id: snap.document(doc_id) for doc_id in {c.doc_id for c in chunks}}
        scores = dict(hits)
        results = []
        for c in chunks:
            doc = docs[c.doc_id]
            assert doc is not None, "chunk without its document: index is inconsistent"
            results.append(
                SearchResult(
                    doc_id=c.doc_id,
                    title=doc.title,
                    source=doc.source,
                    section=c.section,
                    page=c.page,
                    text=c.text,
                    score=round(scores[c.id], 4),
                    chunk_id=c.id,
                )
            )
        return results
