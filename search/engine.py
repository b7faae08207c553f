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

from index.embed import Embedder, make_embedder
from index.embed_process import ProcessEmbedder
from index.query_batch import BatchingEmbedder
from index.query_cache import CachedEmbedder
from index.store import SAFE_FIX, IndexUnavailable, Snapshot, current_path, no_index
from index.stores import Backend
from ingest.text import normalize, normalize_spaces
from policy_search.settings import Settings
from search import deadline
from search.backends import make_backend, make_retriever
from search.collection import public_source
from search.filters import Filters, check_filters
from search.lexical import accent_model
from search.query import QueryPlan, plan_query
from search.rerank import CrossEncoderReranker, RerankingRetriever
from search.retrieve import LookupRetriever, Retriever
from search.windows import check_method, searched_method


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
        self.backend: Backend = make_backend(settings)
        self._reranker: CrossEncoderReranker | None = None  # made on first use

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
            raise no_index(self.index_dir)
        with self._lock:
            if self._snapshot is None or self._snapshot.path != path:
                try:
                    snap = Snapshot(path)
                except IndexUnavailable as exc:
                    raise IndexUnavailable(f"{exc}; {SAFE_FIX}") from exc
                snap.check_embedder(self.embedder.name)
                if self.settings.dense_windows:
                    # Refused at once, with the fix, rather than at the first dense query.
                    check_method(snap, self.window_method)
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
        """The configured retrieval (hybrid, dense or lexical) over the backend's store."""
        store = self.backend.open(snapshot)
        retriever = make_retriever(store, self.embedder, self.settings)
        if self.settings.reranker:
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

    def check_offset(self, offset: int, k: int) -> int:
        """``offset``, refused when the page it starts would reach past POLICY_SEARCH_MAX_RESULTS.

        Only paging is bounded: a first page of ``k`` (<= max_k) always works. A page
        past the cap is a 422 naming it, never a silently shorter or empty page, and a
        page's ``next_offset`` is given only when the next page of the same ``k`` fits
        (search/paging.py), so a client that follows it never meets this error.
        """
        cap = self.settings.max_results
        if offset < 0 or (offset and offset + k > cap):
            raise QueryError(
                f"offset + k must be at most {cap} (POLICY_SEARCH_MAX_RESULTS); "
                f"got offset {offset} + k {k} = {offset + k}"
            )
        return offset

    def plan(
        self,
        query: str,
        filters: Filters | None = None,
        snapshot: Snapshot | None = None,
        restore: bool = True,
    ) -> QueryPlan:
        """The one plan of ``query``: checked, normalised, kind detected, diacritics restored.

        Restoration learns from the indexed text, so it reads ``snapshot`` (the
        current version when not given); ``restore=False`` keeps a query typed
        without diacritics as typed. Raises :class:`QueryError` for an unusable
        query or malformed filters.
        """
        query = self.clean_query(query)
        filters = self.check_filters(filters)
        snap = snapshot or self.snapshot()
        return plan_query(query, accent_model(snap), filters=filters, restore=restore)

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        offset: int = 0,
        restore: bool = True,
    ) -> list[SearchResult]:
        """The ``k`` best passages from rank ``offset`` (0: the best).

        ``restore=False`` searches a query typed without diacritics as typed.
        """
        query = self.clean_query(query)
        k = self.check_k(k)
        offset = self.check_offset(offset, k)
        filters = self.check_filters(filters)
        deadline.check("search")
        snap = self.snapshot()
        hits = self.ranking(self.plan(query, filters, snap, restore), self.page_depth(k), snap)
        return self.results(hits[offset : offset + k], snap)

    def page_depth(self, k: int) -> int:
        """How deep every page of a search ranks: the same for every ``offset``.

        A page is a slice of one ranking of this depth, so pages of one query never
        repeat or skip a passage, whatever their ``offset`` and ``k``.
        """
        return max(self.settings.max_results, k)

    def run(
        self, plan: QueryPlan, k: int, snapshot: Snapshot, offset: int = 0
    ) -> list[SearchResult]:
        """The ``k`` passages for ``plan`` in ``snapshot`` from rank ``offset``, with documents.

        Callers that read more of the index for the same request (paging totals,
        passage ordinals) pass the snapshot they hold, so a version switched in
        meanwhile cannot mix into one answer.
        """
        return self.results(self.ranking(plan, offset + k, snapshot)[offset:], snapshot)

    def ranking(self, plan: QueryPlan, depth: int, snapshot: Snapshot) -> list[tuple[int, float]]:
        """(chunk id, score) of the ``depth`` best passages for ``plan``, best first.

        Scores are those of this query's ranking only (the fusion normalises each list
        per query, README "Scores"); they order one result list and mean nothing across
        queries.
        """
        # The lookup by number and article last, so that no reranking reorders what the
        # query named (search/lookup.py).
        retriever = LookupRetriever(self.retriever(snapshot), snapshot)
        hits = retriever.retrieve(plan, depth)
        deadline.check("retrieved")
        return hits

    def results(self, hits: list[tuple[int, float]], snapshot: Snapshot) -> list[SearchResult]:
        """``hits`` as results, with their documents' titles and sources."""
        snap = snapshot
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
                    source=public_source(doc.source),
                    section=c.section,
                    page=c.page,
                    text=c.text,
                    score=round(scores[c.id], 4),
                    chunk_id=c.id,
                )
            )
        return results
