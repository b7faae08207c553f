"""Paging and totals on real long documents: the first 40 lawqa articles (../shared/eval/lawqa).

The issue's deep-paging faults were found on this collection (5 of 5 queries repeated
passages 200 deep, ``total`` 0 or 62 while 85 could be paged); tests/web/test_search_paging.py
checks the same on generated decisions. Here the questions are the collection's own (read
from ``dev_questions.jsonl`` at run time, never copied), so the hits are real law articles'
passages with many near-equal scores. Skipped where the collection is absent.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from index.store import Snapshot, current_path
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

LAWQA = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "lawqa"
DOCS = 40

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (LAWQA / "docs").is_dir(), reason=f"lawqa not found at {LAWQA}"),
]


def first_docs() -> list[str]:
    return sorted(p.name for p in (LAWQA / "docs").iterdir() if p.is_file())[:DOCS]


def questions(n: int) -> list[str]:
    """The first ``n`` development questions whose article is indexed here."""
    indexed = set(first_docs())
    out = []
    for line in (LAWQA / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["doc"] in indexed:
            out.append(row["question"])
    return out[:n]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("lawqa-docs")
    for name in first_docs():
        shutil.copyfile(LAWQA / "docs" / name, docs / name)
    index_dir = tmp_path_factory.mktemp("lawqa-index")
    build_index([docs], index_dir, embedder)
    settings = Settings(index_dir=index_dir, rate_limit_per_address=0)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        yield c


def search(client: TestClient, **params) -> dict:  # type: ignore[no-untyped-def]
    r = client.get("/api/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def page_all(client: TestClient, q: str, k: int, **params) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    pages, offset = [], 0
    while offset is not None and len(pages) < 100:
        body = search(client, q=q, k=k, offset=offset, **params)
        pages.append(body)
        offset = body["next_offset"]
    return pages, [r for p in pages for r in p["results"]]


def test_paging_200_deep_on_real_articles_repeats_and_skips_nothing(client: TestClient) -> None:
    asked = [*questions(4), "quy dinh ve thu tuc cap giay phep"]  # the last without diacritics
    for q in asked:
        pages, results = page_all(client, q, k=10)
        urls = [r["url"] for r in results]
        total = pages[0]["total"]
        assert len(urls) == len(set(urls)), f"{q!r}: a passage came twice"
        # 40 articles hold some 700 passages: every query pages to the cap.
        assert total == len(urls) == 200, q
        assert {p["total"] for p in pages} == {total}, q
        assert all(p["offset"] == 10 * i for i, p in enumerate(pages)), q
        # Pages of another size are slices of the same ranking, with the same scores.
        wide = [
            r for o in range(0, 200, 40) for r in search(client, q=q, k=40, offset=o)["results"]
        ]
        assert [r["url"] for r in wide] == urls, q
        assert [r["score"] for r in wide] == [r["score"] for r in results], q
        assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_total_is_what_one_article_can_page(client: TestClient) -> None:
    snap = Snapshot(current_path(client.app.state.engine.index_dir))  # type: ignore[attr-defined,arg-type]
    # The longest article: its passages are fewer than the cap, so all of them can be paged.
    doc = max(set(snap.chunk_doc_ids()), key=lambda d: len(snap.doc_chunks(d)))
    assert len(snap.doc_chunks(doc)) > 10
    pages, results = page_all(client, "quy định", k=7, doc=doc)
    assert pages[0]["total"] == len(results) == len(snap.doc_chunks(doc))
    assert len({r["url"] for r in results}) == len(results)
