"""Milvus as the vector and full-text engine for one index version.

The version folder (SQLite text, manifest) stays the record; Milvus holds,
per version, a collection of ``id`` (= chunk id), the dense vector and the
BM25 text, so the web replicas query Milvus instead of loading FAISS. The
collection is named after the version (``v<version id>``), so switching
``current`` switches collections atomically too, and a request keeps the
collection of the snapshot it started with.

BM25 runs inside Milvus (a BM25 *function* turns the text field into a
sparse vector at insert and at query time). Milvus's analyzers do not know
Vietnamese syllables, so the text is tokenised here, by the same rules as
the FAISS side (``ingest.text.tokenize``), and handed over lower-cased and
space-separated: the syllables with their diacritics plus the folded form of
those that have any, so "Lào Cai" and "lao cai" both match. Hybrid search is
Milvus's own ``hybrid_search`` with its RRF ranker.

Works against Milvus Lite (``uri`` = a local ``.db`` file) and a Milvus
server or cluster (``uri`` = ``http://host:19530``) alike.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.store import IndexUnavailable, Snapshot
from ingest.text import fold, tokenize

INSERT_BATCH = 2_000
MAX_TEXT = 60_000  # bytes; Milvus VARCHAR fields need a bound


def bm25_text(text: str) -> str:
    """Tokens for Milvus's BM25: syllables, plus the folded form of marked ones."""
    tokens = tokenize(text)
    folded = [f for f in (fold(t) for t in tokens) if f]
    extra = [f for t, f in zip(tokens, folded, strict=False) if f != t]
    out = " ".join(tokens + extra)
    return out.encode("utf-8")[:MAX_TEXT].decode("utf-8", "ignore")


def collection_name(version: str, prefix: str = "v") -> str:
    return prefix + re.sub(r"[^0-9A-Za-z_]", "_", version)


_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


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


class MilvusStore:
    """One Milvus connection; a collection per index version."""

    def __init__(self, uri: str, index_type: str = "AUTOINDEX") -> None:
        check_uri(uri)
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "the milvus backend needs pymilvus (and milvus-lite for a local file URI): "
                "pip install 'policy-search[milvus]'"
            ) from exc
        self.uri = uri
        self.index_type = index_type
        try:
            self.client = MilvusClient(uri)
        except Exception as exc:  # pymilvus raises its own types, and OSError for files
            raise IndexUnavailable(f"cannot connect to Milvus at {uri}: {exc}") from exc
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    def ensure_loaded(self, version: str) -> None:
        """Load the collection of ``version`` for search, once per process.

        A collection is "released" in a process that did not create it (a search
        after ``ingest`` ran elsewhere): Milvus refuses to search it until loaded.
        """
        name = collection_name(version)
        with self._lock:
            if name in self._loaded:
                return
            self.client.load_collection(name)
            self._loaded.add(name)

    def has_version(self, version: str, n_chunks: int) -> bool:
        name = collection_name(version)
        if not self.client.has_collection(name):
            return False
        stats = self.client.get_collection_stats(name)
        return int(stats.get("row_count", -1)) == n_chunks

    def publish(
        self,
        version: str,
        dim: int,
        rows: Iterator[tuple[int, np.ndarray, str]],
    ) -> str:
        """Create the collection of ``version`` from (chunk id, vector, text) rows."""
        from pymilvus import DataType, Function, FunctionType

        name = collection_name(version)
        if self.client.has_collection(name):
            self.client.drop_collection(name)  # a half-published earlier attempt
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field(
            "text",
            DataType.VARCHAR,
            max_length=MAX_TEXT + 1,
            enable_analyzer=True,
            # Text arrives pre-tokenised: the standard tokenizer only splits on spaces here.
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type=self.index_type, metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(name, schema=schema, index_params=params)
        batch: list[dict[str, Any]] = []
        for cid, vector, text in rows:
            batch.append({"id": int(cid), "dense": np.asarray(vector).tolist(), "text": text})
            if len(batch) >= INSERT_BATCH:
                self.client.insert(name, batch)
                batch = []
        if batch:
            self.client.insert(name, batch)
        self.client.flush(name)
        self.client.load_collection(name)
        with self._lock:
            self._loaded.add(name)
        return name

    def drop_versions(self, versions: Sequence[str]) -> list[str]:
        """Drop the collections of ``versions`` (garbage collection removed their folders).

        Only those: a Milvus server may hold the collections of other indexes too.
        """
        dropped = []
        for name in (collection_name(v) for v in versions):
            if self.client.has_collection(name):
                self.client.drop_collection(name)
                dropped.append(name)
        with self._lock:
            self._loaded -= set(dropped)
        return dropped

    def search_dense(
        self, version: str, vector: np.ndarray, k: int, where: str = ""
    ) -> list[tuple[int, float]]:
        res = self.client.search(
            collection_name(version),
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="dense",
            filter=where,
            limit=k,
            search_params={"metric_type": "IP"},
            output_fields=["id"],
        )
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def search_bm25(
        self, version: str, query: str, k: int, where: str = ""
    ) -> list[tuple[int, float]]:
        text = bm25_text(query)
        if not text:
            return []
        res = self.client.search(
            collection_name(version),
            data=[text],
            anns_field="sparse",
            filter=where,
            limit=k,
            search_params={"metric_type": "BM25"},
            output_fields=["id"],
        )
        # Milvus Lite reports BM25 as a negated distance; the order is right either way.
        return [(int(h["id"]), abs(float(h["distance"]))) for h in res[0]]

    def search_hybrid(
        self,
        version: str,
        vector: np.ndarray,
        query: str,
        k: int,
        rrf_k: int = 60,
        depth: int = 50,
        where: str = "",
    ) -> list[tuple[int, float]]:
        """Dense and BM25 lists of ``depth`` each, fused by Milvus's RRF ranker."""
        from pymilvus import AnnSearchRequest, RRFRanker

        text = bm25_text(query)
        requests = [
            AnnSearchRequest(
                data=[np.asarray(vector, np.float32).tolist()],
                anns_field="dense",
                param={"metric_type": "IP"},
                limit=max(k, depth),
                expr=where or None,
            )
        ]
        if text:
            requests.append(
                AnnSearchRequest(
                    data=[text],
                    anns_field="sparse",
                    param={"metric_type": "BM25"},
                    limit=max(k, depth),
                    expr=where or None,
                )
            )
        res = self.client.hybrid_search(
            collection_name(version),
            requests,
            ranker=RRFRanker(rrf_k),
            limit=k,
            output_fields=["id"],
        )
        return [(int(h["id"]), float(h["distance"])) for h in res[0]]

    def close(self) -> None:
        self.client.close()


def snapshot_rows(snapshot: Snapshot) -> Iterator[tuple[int, np.ndarray, str]]:
    for chunk in snapshot.all_chunks():
        yield chunk.id, np.asarray(snapshot.vectors[chunk.id]), bm25_text(chunk.embed_text)


class MilvusBackend:
    """Index versions served from Milvus: published at the end of every write.

    The write pipeline calls :meth:`publish` with each complete version before
    ``current`` switches to it, and :meth:`retire` after garbage collection, so
    Milvus holds the collections of exactly the versions on disk. One connection
    per backend object: with Milvus Lite only one process may open the file, so the
    server's writes (uploads) go through the connection its searches use.
    """

    def __init__(self, uri: str, index_type: str = "AUTOINDEX") -> None:
        check_uri(uri)
        self.uri = uri
        self.index_type = index_type
        self._store: MilvusStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> MilvusStore:
        with self._lock:
            if self._store is None:
                self._store = MilvusStore(self.uri, self.index_type)
            return self._store

    def publish(self, version_dir: Path) -> str:
        snapshot = Snapshot(version_dir)
        try:
            n = len(snapshot)
            if not self.store.has_version(snapshot.version, n):
                self.store.publish(
                    snapshot.version, int(snapshot.manifest["dim"]), snapshot_rows(snapshot)
                )
        finally:
            snapshot.close()
        return f"milvus: version {snapshot.version} published to {self.uri} ({n} chunks)"

    def retire(self, versions: Sequence[str]) -> list[str]:
        return self.store.drop_versions(versions)

    def ready(self, snapshot: Snapshot) -> MilvusStore:
        """The connection, with ``snapshot``'s version loaded for search."""
        if not self.store.has_version(snapshot.version, len(snapshot)):
            raise IndexUnavailable(
                f"index version {snapshot.version} is not in Milvus at {self.uri}: run "
                "`policy-search ingest` with POLICY_SEARCH_INDEX_BACKEND=milvus"
            )
        self.store.ensure_loaded(snapshot.version)
        return self.store
