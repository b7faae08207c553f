"""The store seam: one index version as retrieval reads it, whatever serves it.

The retrieval algorithms (:mod:`search`: BM25 over the syllable and folded
fields with per-kind weights, dense search blended with sentence windows, the
fusion, accent restoration) sit above a :class:`Store` and run the same on
every store. A store offers a handful of primitives:

* records: documents and chunks (text, section, page);
* vectors: stored chunk vectors, dense search (optionally within allowed chunks);
* sentence windows: window search and each chunk's best window;
* lexical scores: the top chunks by a weighted sum of BM25 field scores;
* derived data built from the version's files on first use (accent model, ...).

Two stores implement it: :class:`LocalStore` (the version folder: SQLite,
FAISS over ``vectors.npy``, the bm25s matrices, the window index) and
:class:`index.milvus_store.MilvusStore` (the same records and derived files;
vectors, windows and BM25 postings served by Milvus). A :class:`Backend` makes
stores: it publishes each version the write pipeline completes, forgets the
versions garbage collection dropped, and opens a version for reading.
``tests/index/test_store_contract.py`` is the suite every store passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.lexical import LexicalIndex
from index.store import Snapshot, StoredChunk, StoredDocument
from index.windows import WindowIndex

Ranking = list[tuple[int, float]]
# (field, terms, weight): one weighted BM25 query over a lexical field (index.lexical.FIELDS)
LexicalQuery = tuple[str, Sequence[str], float]


class Records(Protocol):
    """What one index version holds, as written: documents, chunks, derived data.

    :class:`~index.store.Snapshot` is one; so is every :class:`Store`.
    """

    @property
    def version(self) -> str: ...

    @property
    def path(self) -> Path:
        """The version folder: records and derived files are read from it."""
        ...

    def __len__(self) -> int: ...

    def documents(self) -> list[StoredDocument]: ...

    def document(self, doc_id: str) -> StoredDocument | None: ...

    def chunks(self, ids: Sequence[int]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        ...

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]: ...

    def all_chunks(self) -> Iterator[StoredChunk]: ...

    def chunk_doc_ids(self) -> list[str]:
        """The document of every chunk, by chunk id."""
        ...

    def derived(self, name: str, load: Callable[[Snapshot], Any]) -> Any:
        """``load(snapshot)`` once per version (an accent model, ...), then kept."""
        ...


class Store(Records, Protocol):
    """One complete index version, read-only, as retrieval reads it. Chunk ids are 0..len-1."""

    # -- vectors ------------------------------------------------------------------

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of chunks ``ids``, float32, in that order."""
        ...

    def search_dense(
        self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        """The ``k`` chunks whose vectors have the highest inner product with ``vector``.

        ``allowed``: a boolean mask over chunk ids; only those may be returned, and a
        filtered search is never cut short by the filter.
        """
        ...

    # -- sentence windows (index/windows.py) ---------------------------------------

    @property
    def has_windows(self) -> bool: ...

    def search_windows(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Chunk ids of the ``k`` best windows (a chunk may appear more than once)."""
        ...

    def window_best(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Best window score of each of chunks ``ids`` (ascending); -inf for one without."""
        ...

    # -- lexical --------------------------------------------------------------------

    def lexical_search(
        self, queries: Sequence[LexicalQuery], k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        """The ``k`` chunks with the highest positive sum of ``weight * BM25(terms, field)``.

        Exact: the same scores as the version's bm25s matrices give, ties broken by
        chunk id.
        """
        ...


class Backend(Protocol):
    """Where index versions are served from, besides their folder."""

    name: str

    def publish(self, version_dir: Path) -> str:
        """Make the complete version at ``version_dir`` servable; a line for the report.

        The write pipeline calls it before ``current`` switches to the version.
        """
        ...

    def retire(self, versions: Sequence[str]) -> list[str]:
        """Forget ``versions``, whose folders garbage collection removed; what went."""
        ...

    def open(self, snapshot: Snapshot) -> Store:
        """The store of ``snapshot``'s version (raises IndexUnavailable when not servable)."""
        ...


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> Ranking:
    """The ``k`` best positive scores (allowed by ``mask``) as (chunk id, score), best first."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    candidates = np.flatnonzero(scores > 0)
    if k <= 0 or not len(candidates):
        return []
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    return [(int(i), float(scores[i])) for i in order]


def lexical_index(snapshot: Records) -> LexicalIndex:
    """The version's bm25s matrices (built in memory for versions written before them)."""

    def load(s: Snapshot) -> LexicalIndex:
        return LexicalIndex.load(s.path) or LexicalIndex.build(
            [c.embed_text for c in s.all_chunks()]
        )

    index: LexicalIndex = snapshot.derived("lexical", load)
    return index


def window_index(snapshot: Snapshot) -> WindowIndex | None:
    """The version's sentence windows; None when it was built without them."""

    def load(s: Snapshot) -> WindowIndex | None:
        return WindowIndex.load(s.path, len(s))

    windows: WindowIndex | None = snapshot.derived("windows", load)
    return windows


class SnapshotRecords:
    """Records and derived data straight from the version folder (shared by the stores)."""

    snapshot: Snapshot

    @property
    def version(self) -> str:
        return self.snapshot.version

    @property
    def path(self) -> Path:
        return self.snapshot.path

    def __len__(self) -> int:
        return len(self.snapshot)

    def documents(self) -> list[StoredDocument]:
        return self.snapshot.documents()

    def document(self, doc_id: str) -> StoredDocument | None:
        return self.snapshot.document(doc_id)

    def chunks(self, ids: Sequence[int]) -> list[StoredChunk]:
        return self.snapshot.chunks(ids)

    def doc_chunks(self, doc_id: str) -> list[StoredChunk]:
        return self.snapshot.doc_chunks(doc_id)

    def all_chunks(self) -> Iterator[StoredChunk]:
        return self.snapshot.all_chunks()

    def chunk_doc_ids(self) -> list[str]:
        return self.snapshot.chunk_doc_ids()

    def derived(self, name: str, load: Callable[[Snapshot], Any]) -> Any:
        return self.snapshot.derived(name, load)


class LocalStore(SnapshotRecords):
    """The version folder as a store: FAISS, memory-mapped vectors, bm25s, windows."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.snapshot.vectors[np.asarray(ids, dtype=np.int64)], np.float32)

    def search_dense(
        self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        if allowed is None:
            return self.snapshot.search_dense(vector, k)
        ids = np.flatnonzero(allowed)
        if k <= 0 or not len(ids):
            return []
        # Exact scores over the allowed rows only: a filtered search never comes back short.
        scores = self.chunk_vectors(ids) @ np.asarray(vector, np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]

    @property
    def has_windows(self) -> bool:
        return window_index(self.snapshot) is not None

    def _windows(self) -> WindowIndex:
        windows = window_index(self.snapshot)
        if windows is None:
            raise LookupError(f"index version {self.version} has no sentence windows")
        return windows

    def search_windows(self, vector: np.ndarray, k: int) -> np.ndarray:
        return self._windows().search(vector, k)

    def window_best(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self._windows().best(vector, ids)

    def lexical_search(
        self, queries: Sequence[LexicalQuery], k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        index = lexical_index(self.snapshot)
        total = np.zeros(index.n, dtype=np.float32)
        for field, terms, weight in queries:
            if weight > 0:
                total += weight * index.scores(field, terms)
        return top_k(total, k, allowed)


class LocalBackend:
    """Versions served from their folders alone: nothing to publish."""

    name = "faiss"

    def publish(self, version_dir: Path) -> str:
        return ""  # dense.faiss and the rest are written with the version itself

    def retire(self, versions: Sequence[str]) -> list[str]:
        return []

    def open(self, snapshot: Snapshot) -> Store:
        return LocalStore(snapshot)  # no state of its own: the snapshot keeps what it loads
