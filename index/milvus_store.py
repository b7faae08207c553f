"""Milvus as a store for index versions (the :class:`~index.stores.Store` seam).

Per version, two collections named after it, so that switching ``current``
switches them too and a request keeps the collections of the snapshot it
started with:

* ``v<version>``: ``id`` (the chunk id), ``dense`` (the chunk vector) and
  ``lexical`` (a sparse vector: the chunk's BM25 weight for every term of the
  syllable and folded fields);
* ``w<version>``: ``id`` (window row), ``chunk`` (its chunk id) and ``dense``,
  when the version has sentence windows.

The BM25 in Milvus is the version's own. The write pipeline computes every
term's BM25 weight in every chunk with bm25s (``lexical.*`` files); publishing
copies those weights into each chunk's sparse vector, the two fields' term ids
side by side. A query is the sparse vector of its weighted term counts, so the
inner product Milvus ranks by is exactly the weighted sum of BM25 field scores
the local store computes, and top-k and filters run inside Milvus. (Milvus's
own BM25 function scores documents differently from bm25s and has no
Vietnamese analyzer, so retrieval would not be the same on both stores.)

Records (text, sections, pages) and derived files (accent model, assignments)
stay in the version folder, which web replicas mount read-only as with the
local store. Works against Milvus Lite (``uri``: a local ``.db`` file) and a
Milvus server or cluster (``http://host:19530``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.lexical import FIELDS, LexicalIndex
from index.store import IndexUnavailable, Snapshot
from index.stores import LexicalQuery, Ranking, SnapshotRecords, lexical_index, window_index

INSERT_BATCH = 1_000
# Milvus returns at most this many rows from one search or query.
MAX_LIMIT = 16_384
# Chunks whose windows one query fetches (a chunk has a few dozen sentences at most).
WINDOW_BATCH = 256
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def collection_name(version: str, prefix: str = "v") -> str:
    return prefix + re.sub(r"[^0-9A-Za-z_]", "_", version)


def check_uri(uri: str) -> None:
    """Refuse a Milvus URI that cannot work, saying why (before pymilvus fails obscurely).

    Milvus Lite keeps its data in a folder named like a file, ``….db``; any other
    local path is refused.
    """
    if _REMOTE.match(uri):
        return
    path = Path(uri).expanduser()
    if path.suffix == ".db":
        return
    if path.is_dir():
        raise IndexUnavailable(
            f"POLICY_SEARCH_MILVUS_URI={uri} is a folder; give a Milvus Lite database path "
            "ending in '.db' (e.g. INDEX_DIR/milvus.db) or a server address such as "
            "http://HOST:19530"
        )
    raise IndexUnavailable(
        f"POLICY_SEARCH_MILVUS_URI={uri}: a local Milvus Lite database must end in '.db'; "
        "for a server give http://HOST:19530"
    )


def _id_filter(field: str, ids: Sequence[int] | np.ndarray) -> str:
    return f"{field} in [{','.join(str(int(i)) for i in ids)}]"


class _Vocabulary:
    """The term ids of both lexical fields in one sparse space: field i after field i-1."""

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index
        self.offsets: dict[str, int] = {}
        offset = 0
        for field in FIELDS:
            self.offsets[field] = offset
            model = index.models.get(field)
            offset += len(model.scores["indptr"]) - 1 if model is not None else 0

    def query(self, queries: Sequence[LexicalQuery]) -> dict[int, float]:
        """The sparse query vector: each term's weight times how often the query has it."""
        vector: dict[int, float] = {}
        for field, terms, weight in queries:
            model = self.index.models.get(field)
            if weight <= 0 or model is None:
                continue
            for term_id in model.get_tokens_ids(list(terms)):
                key = self.offsets[field] + int(term_id)
                vector[key] = vector.get(key, 0.0) + float(weight)
        return vector

    def rows(self) -> list[dict[int, float]]:
        """Every chunk's sparse vector: its BM25 weight for each term of each field."""
        rows: list[dict[int, float]] = [{} for _ in range(self.index.n)]
        for field in FIELDS:
            model = self.index.models.get(field)
            if model is None:
                continue
            # bm25s keeps the weights term by term (CSC): postings of term t are
            # indices/data[indptr[t]:indptr[t+1]].
            indptr = np.asarray(model.scores["indptr"])
            docs = np.asarray(model.scores["indices"])
            weights = np.asarray(model.scores["data"], dtype=np.float32)
            terms = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr)) + self.offsets[field]
            for doc, term, weight in zip(
                docs.tolist(), terms.tolist(), weights.tolist(), strict=True
            ):
                rows[doc][term] = weight
        return rows


class MilvusBackend:
    """Index versions served from Milvus: published at the end of every write.

    One connection per backend object: with Milvus Lite only one process may open
    the file, so a server's writes (uploads) go through the connection its
    searches use.
    """

    name = "milvus"

    def __init__(self, uri: str, index_type: str = "AUTOINDEX") -> None:
        check_uri(uri)
        self.uri = uri
        self.index_type = index_type
        self._client: Any = None
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    from pymilvus import MilvusClient
                except ImportError as exc:  # pragma: no cover - depends on the install
                    raise ImportError(
                        "the milvus backend needs pymilvus (and milvus-lite for a local file "
                        "URI): pip install 'policy-search[milvus]'"
                    ) from exc
                try:
                    self._client = MilvusClient(self.uri)
                except Exception as exc:  # pymilvus raises its own types, OSError for files
                    raise IndexUnavailable(
                        f"cannot connect to Milvus at {self.uri}: {exc}"
                    ) from exc
            return self._client

    # -- writing ----------------------------------------------------------------------

    def _rows(self, name: str) -> int:
        if not self.client.has_collection(name):
            return -1
        return int(self.client.get_collection_stats(name).get("row_count", -1))

    def published(self, snapshot: Snapshot) -> bool:
        """Both collections of ``snapshot``'s version are complete in Milvus."""
        if self._rows(collection_name(snapshot.version)) != len(snapshot):
            return False
        windows = window_index(snapshot)
        return windows is None or self._rows(collection_name(snapshot.version, "w")) == len(windows)

    def publish(self, version_dir: Path) -> str:
        snapshot = Snapshot(version_dir)
        try:
            if not self.published(snapshot):
                self._publish(snapshot)
            n = len(snapshot)
        finally:
            snapshot.close()
        return f"milvus: version {snapshot.version} published to {self.uri} ({n} chunks)"

    def _create(
        self, name: str, fields: list[tuple[str, Any, dict[str, Any]]], indexes: Any
    ) -> None:
        if self.client.has_collection(name):
            self.client.drop_collection(name)  # a half-published earlier attempt
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        for field, dtype, extra in fields:
            schema.add_field(field, dtype, **extra)
        self.client.create_collection(name, schema=schema, index_params=indexes)

    def _insert(self, name: str, rows: Iterator[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                self.client.insert(name, batch)
                batch = []
        if batch:
            self.client.insert(name, batch)
        self.client.flush(name)
        self.client.load_collection(name)
        with self._lock:
            self._loaded.add(name)

    def _publish(self, snapshot: Snapshot) -> None:
        from pymilvus import DataType

        dim = int(snapshot.manifest["dim"])
        name = collection_name(snapshot.version)
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type=self.index_type, metric_type="IP")
        params.add_index("lexical", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        self._create(
            name,
            [
                ("id", DataType.INT64, {"is_primary": True}),
                ("dense", DataType.FLOAT_VECTOR, {"dim": dim}),
                ("lexical", DataType.SPARSE_FLOAT_VECTOR, {}),
            ],
            params,
        )
        sparse = _Vocabulary(lexical_index(snapshot)).rows()
        vectors = snapshot.vectors
        self._insert(
            name,
            (
                {
                    "id": i,
                    "dense": np.asarray(vectors[i], np.float32).tolist(),
                    # Milvus refuses an empty sparse vector; a chunk has terms, but be safe.
                    "lexical": sparse[i] or {0: 0.0},
                }
                for i in range(len(snapshot))
            ),
        )
        windows = window_index(snapshot)
        if windows is None:
            return
        name = collection_name(snapshot.version, "w")
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type=self.index_type, metric_type="IP")
        self._create(
            name,
            [
                ("id", DataType.INT64, {"is_primary": True}),
                ("chunk", DataType.INT64, {}),
                ("dense", DataType.FLOAT_VECTOR, {"dim": dim}),
            ],
            params,
        )
        owners = windows.chunk_ids.tolist()
        self._insert(
            name,
            (
                {
                    "id": row,
                    "chunk": int(owners[row]),
                    "dense": np.asarray(windows.vectors[row], np.float32).tolist(),
                }
                for row in range(len(windows))
            ),
        )

    def retire(self, versions: Sequence[str]) -> list[str]:
        # Only the named versions' collections: a server may serve other indexes too.
        dropped = []
        for version in versions:
            for prefix in "vw":
                name = collection_name(version, prefix)
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
                    dropped.append(name)
        with self._lock:
            self._loaded -= set(dropped)
        return dropped

    # -- reading ----------------------------------------------------------------------

    def ensure_loaded(self, name: str) -> None:
        """Load a collection for search, once per process.

        A collection is "released" in a process that did not create it (a search
        after ``ingest`` ran elsewhere): Milvus refuses to search it until loaded.
        """
        with self._lock:
            if name in self._loaded:
                return
        self.client.load_collection(name)
        with self._lock:
            self._loaded.add(name)

    def open(self, snapshot: Snapshot) -> MilvusStore:
        def make(s: Snapshot) -> MilvusStore:
            if not self.published(s):
                raise IndexUnavailable(
                    f"index version {s.version} is not in Milvus at {self.uri}: run "
                    "`policy-search ingest` with POLICY_SEARCH_INDEX_BACKEND=milvus"
                )
            return MilvusStore(self, s)

        store: MilvusStore = snapshot.derived(f"store:milvus:{self.uri}", make)
        return store

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                self._loaded.clear()


class MilvusStore(SnapshotRecords):
    """One index version in Milvus; records and derived data from its folder."""

    def __init__(self, backend: MilvusBackend, snapshot: Snapshot) -> None:
        self.backend = backend
        self.snapshot = snapshot
        self.chunks_name = collection_name(snapshot.version)
        self.windows_name = collection_name(snapshot.version, "w")
        self._has_windows = window_index(snapshot) is not None
        backend.ensure_loaded(self.chunks_name)
        if self._has_windows:
            backend.ensure_loaded(self.windows_name)
        self._vocabulary = _Vocabulary(lexical_index(snapshot))

    @property
    def client(self) -> Any:
        return self.backend.client

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), int(self.snapshot.manifest["dim"])), dtype=np.float32)
        if not len(ids):
            return out
        where = {int(i): n for n, i in enumerate(ids.tolist())}
        for start in range(0, len(ids), MAX_LIMIT):
            batch = ids[start : start + MAX_LIMIT].tolist()
            for row in self.client.get(self.chunks_name, ids=batch, output_fields=["dense"]):
                out[where[int(row["id"])]] = row["dense"]
        return out

    def _search(
        self,
        name: str,
        data: Any,
        field: str,
        k: int,
        where: str = "",
        output: str = "id",
    ) -> list[tuple[int, float]]:
        res = self.client.search(
            name,
            data=[data],
            anns_field=field,
            filter=where,
            limit=min(k, MAX_LIMIT),
            search_params={"metric_type": "IP"},
            output_fields=[output],
        )
        return [(int(h["entity"].get(output, h["id"])), float(h["distance"])) for h in res[0]]

    def _allowed(self, allowed: np.ndarray | None) -> str | None:
        """The Milvus filter for ``allowed``; None when nothing may be returned."""
        if allowed is None:
            return ""
        ids = np.flatnonzero(allowed)
        return _id_filter("id", ids) if len(ids) else None

    def search_dense(
        self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        where = self._allowed(allowed)
        k = min(k, len(self) if allowed is None else int(np.count_nonzero(allowed)))
        if where is None or k <= 0:
            return []
        data = np.asarray(vector, np.float32).tolist()
        hits = self._search(self.chunks_name, data, "dense", k, where)
        # Ties in the order of the local store: by chunk id.
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    @property
    def has_windows(self) -> bool:
        return self._has_windows

    def search_windows(self, vector: np.ndarray, k: int) -> np.ndarray:
        if not self._has_windows or k <= 0:
            return np.zeros(0, dtype=np.int64)
        data = np.asarray(vector, np.float32).tolist()
        hits = self._search(self.windows_name, data, "dense", k, output="chunk")
        return np.asarray([chunk for chunk, _ in hits], dtype=np.int64)

    def window_best(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        best = np.full(len(ids), -np.inf, dtype=np.float32)
        if not self._has_windows or not len(ids):
            return best
        where = {int(c): n for n, c in enumerate(np.asarray(ids).tolist())}
        query = np.asarray(vector, np.float32)
        for start in range(0, len(ids), WINDOW_BATCH):
            batch = np.asarray(ids)[start : start + WINDOW_BATCH]
            rows = self.client.query(
                self.windows_name,
                filter=_id_filter("chunk", batch),
                output_fields=["chunk", "dense"],
                limit=MAX_LIMIT,
            )
            if not rows:
                continue
            owners = np.asarray([where[int(r["chunk"])] for r in rows])
            scores = np.asarray([r["dense"] for r in rows], dtype=np.float32) @ query
            np.maximum.at(best, owners, scores)
        return best

    def lexical_search(
        self, queries: Sequence[LexicalQuery], k: int, allowed: np.ndarray | None = None
    ) -> Ranking:
        where = self._allowed(allowed)
        sparse = self._vocabulary.query(queries)
        if where is None or not sparse or k <= 0 or not len(self):
            return []
        hits = self._search(self.chunks_name, sparse, "lexical", k, where)
        return sorted(((i, s) for i, s in hits if s > 0), key=lambda h: (-h[1], h[0]))
