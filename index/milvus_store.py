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
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

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


class MilvusStore:
    """One Milvus connection; a collection per index version."""

    def __init__(self, uri: str, index_type: str = "AUTOINDEX") -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "the milvus backend needs pymilvus (and milvus-lite for a local file URI): "
                "pip install 'policy-search[milvus]'"
            ) from exc
        self.uri = uri
        self.index_type = index_type
        self.client = MilvusClient(uri)

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
        return name

    def drop_other_versions(self, keep: Sequence[str]) -> list[str]:
        """Drop the collections of versions not in ``keep`` (after garbage collection)."""
        wanted = {collection_name(v) for v in keep}
        dropped = []
        for name in self.client.list_collections():
            if name.startswith("v") and name not in wanted:
                self.client.drop_collection(name)
                dropped.append(name)
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
