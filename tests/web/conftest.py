"""Web test fixtures.

* ``ask_*``: a real index of the corpus plus one hostile document, built once per
  session (separate from the shared ``corpus_index`` because the browser test
  needs a document whose text is markup).
* ``index_copy`` / ``make_client``: private, writable index copies and apps with
  API keys and test limits, for the write API and security tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from index.embed_base import ForwardsSentences, Span
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

# Markup in a document must reach the page as text, never as HTML.
HOSTILE = """Thông báo thử nghiệm hiển thị an toàn

Văn bản này chứa <script>window.__pwned = 1</script> và <img src=x onerror="window.__pwned = 2"> \
trong nội dung về kiểm thử hiển thị an toàn của trang tra cứu.
"""


@pytest.fixture(scope="session")
def ask_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("corpus")
    for f in CORPUS.iterdir():
        shutil.copy(f, docs / f.name)
    (docs / "zz_hostile.txt").write_text(HOSTILE, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    report = build_index([docs], index_dir, embedder)
    assert report.documents == len(list(CORPUS.iterdir())) + 1, report.summary()
    return index_dir


@pytest.fixture(scope="session")
def ask_settings(ask_index: Path) -> Settings:
    # No rate limit: this session-wide app answers every ask of several test modules, and an
    # ask counts ask_cost searches against the per-address budget (test_rate_limits.py tests them).
    return Settings(
        index_dir=ask_index,
        cors_origins=["https://portal.example.gov.vn"],
        rate_limit_per_address=0,
    )


@pytest.fixture(scope="session")
def ask_app(ask_settings: Settings, embedder):  # type: ignore[no-untyped-def]
    from search.engine import SearchEngine

    return create_app(ask_settings, SearchEngine(ask_settings, embedder))


@pytest.fixture(scope="session")
def ask_client(ask_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(ask_app) as c:
        yield c


# --- write API and security ---

ADMIN_KEYS = ("admin-key-1-7f3a9c", "admin-key-2-b81e04")
SEARCH_KEY = "search-key-1-c5d2e8"


class CountingEmbedder(ForwardsSentences):
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

    def embed_passages_and_sentences(
        self, texts: Sequence[str], sentences: Sequence[Sequence[Span]], progress: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        self.passage_calls += 1
        return super().embed_passages_and_sentences(texts, sentences, progress)

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
def make_client(embedder) -> AppFactory:
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
        counting = CountingEmbedder(embedder)
        app = create_app(settings, engine=SearchEngine(settings, embedder=counting))
        return TestClient(app, client=(client_addr, 50000)), counting, settings

    return make


@pytest.fixture
def api_keys() -> dict[str, Any]:
    return {"admin": ADMIN_KEYS, "search": SEARCH_KEY}


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEYS[0]}"}


@pytest.fixture
def live_server():  # type: ignore[no-untyped-def]
    """``start(app)`` -> base URL of a real uvicorn server on loopback, configured as
    `policy-search serve` configures it (policy_search.cli.server_config); stopped afterwards."""
    import socket
    import threading
    import time

    import uvicorn

    from policy_search.cli import server_config

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = server_config(app, "127.0.0.1", port)
        config.access_log = False
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)
