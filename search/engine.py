"""The search service: settings + embedder + current index snapshot.

One :class:`SearchEngine` per process. It re-opens the index when a build
switched ``current`` to a new version; a request keeps the snapshot it
started with, so it never sees half of one version and half of another.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from index.embed import Embedder, make_embedder
from index.query_batch import BatchingEmbedder
from index.query_cache import CachedEmbedder
from index.store import IndexUnavailable, Snapshot, current_path
from ingest.text import normalize, normalize_spaces
from search import deadline
from search.backends import IndexBackend, make_backend
from search.filters import Filters, check_filters
from search.retrieve import Retriever
from search.settings import Settings


class QueryError(ValueError):
    """The query itself is unusable (empty, too long); the message says why."""


# What counts as a character of a query: anything but white space, control and
# invisible format characters. Spelled out rather than ``\S`` so that Python and the
# OpenAPI schema's regular expression (ECMA 262, where ``\s`` differs) agree exactly.
BLANK_CHARS = (
    "\\x00-\\x20\\x7f-\\xa0\\xad\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f"
    "\\u205f-\\u2064\\u3000\\ufeff"
)
QUERY_PATTERN = f"[^{BLANK_CHARS}]"
_VISIBLE = re.compile(QUERY_PATTERN)


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
        self._checked: Embedder | None = None
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self.backend: IndexBackend = make_backend(settings)
        self._reranker: Any = None  # search.rerank.CrossEncoderReranker, made on first use

    @property
    def embedder(self) -> Embedder:
        if self._cached is None:
            inner = self._embedder or self._make_embedder()
            # Cache first: a repeated query never waits for a batch.
            batched = BatchingEmbedder(inner, self.settings.query_batch_max)
            self._cached = CachedEmbedder(batched, self.settings.query_cache_size)
            # Every call into the embedder is a point where a request past its time
            # limit stops (search/deadline.py).
            self._checked = deadline.DeadlineEmbedder(self._cached)
        assert self._checked is not None
        return self._checked

    def _make_embedder(self) -> Embedder:
        if self.settings.embedder_process:
            from index.embed_process import ProcessEmbedder

            return ProcessEmbedder(self.settings.embedder)
        return make_embedder(self.settings.embedder)

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
                # Searching reads these files at random; an ingest reading its previous
                # version does not, so only the serving side asks for them up front.
                snap.prefetch()
                self._snapshot = snap
            return self._snapshot

    def open_snapshot(self) -> Snapshot | None:
        """The current version if it is already open, else None; never opens or waits."""
        snap = self._snapshot
        return snap if snap is not None and snap.path == current_path(self.index_dir) else None

    def retriever(self, snapshot: Snapshot) -> Retriever:
        # The backend picks dense / lexical / hybrid per settings.retrieval.
        retriever = self.backend.retriever(snapshot, self.embedder)
        if self.settings.reranker:
            from search.rerank import CrossEncoderReranker, RerankingRetriever

            if self._reranker is None:
                self._reranker = CrossEncoderReranker(self.settings.reranker)
            retriever = RerankingRetriever(
                retriever, snapshot, self._reranker, self.settings.rerank_depth
            )
        return retriever

    def clean_query(self, query: str) -> str:
        """The query, normalised; refused when empty or longer than the limit.

        Both rules apply to the query as sent (the API schema states them the same way).
        """
        query = query or ""
        if not _VISIBLE.search(query):
            raise QueryError("empty query: type some words to search for")
        if len(query) > self.settings.max_query_chars:
            raise QueryError(
                f"query is {len(query)} characters; the limit is "
                f"{self.settings.max_query_chars} (POLICY_SEARCH_MAX_QUERY_CHARS)"
            )
        return normalize_spaces(normalize(query))

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

    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None
    ) -> list[SearchResult]:
        query = self.clean_query(query)
        k = self.check_k(k)
        filters = self.check_filters(filters)
        deadline.check("search")
        snap = self.snapshot()
        hits = self.retriever(snap).retrieve(query, k, filters=filters)
        deadline.check("retrieved")
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
