"""A real index of the corpus plus one hostile document, built once per session.

Separate from the shared ``corpus_index`` (five documents) because the browser
test needs a document whose text is markup.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from search.settings import Settings
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
    return Settings(index_dir=ask_index, cors_origins=["https://portal.example.gov.vn"])


@pytest.fixture(scope="session")
def ask_app(ask_settings: Settings, embedder):  # type: ignore[no-untyped-def]
    from search.engine import SearchEngine

    return create_app(ask_settings, SearchEngine(ask_settings, embedder))


@pytest.fixture(scope="session")
def ask_client(ask_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(ask_app) as c:
        yield c
