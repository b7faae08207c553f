"""Hybrid retrieval end to end on a tiny real index: engine, CLI, API and eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.store import open_current
from index.stores import LocalStore
from policy_search.cli import main
from policy_search.settings import Settings
from search.engine import QueryError, SearchEngine
from search.filters import Filters
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import plan_query
from web.app import create_app


@pytest.fixture(scope="module")
def engine(tiny_index: Path, embedder) -> SearchEngine:
    return SearchEngine(Settings(index_dir=tiny_index), embedder=embedder)


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("Sở nào quản lý chất thải rắn?", "ke-hoach-lao-cai"),
        ("so nao quan ly chat thai ran", "ke-hoach-lao-cai"),
        ("Which department manages solid waste?", "ke-hoach-lao-cai"),
        ("Đồng Nai có bao nhiêu khu công nghiệp?", "dong-nai-kobe"),
        ("dong nai co bao nhieu khu cong nghiep", "dong-nai-kobe"),
        ("How many industrial parks does Dong Nai have?", "dong-nai-kobe"),
        ("du lich sinh thai ven bien", "tra-vinh-tin"),
    ],
)
def test_hybrid_finds_the_document_for_every_kind_of_query(
    engine: SearchEngine, query: str, doc_id: str
) -> None:
    assert engine.search(query, 1)[0].doc_id == doc_id


def test_engine_uses_the_hybrid_retriever_by_default(engine: SearchEngine) -> None:
    assert isinstance(engine.retriever(engine.snapshot()), HybridRetriever)


def test_k_larger_than_the_index(tiny_index: Path, embedder) -> None:
    snap = open_current(tiny_index)
    n = len(snap)
    plan = plan_query("tăng trưởng xanh", accent_model(snap))
    hits = HybridRetriever(LocalStore(snap), embedder).retrieve(plan, n + 50)
    assert len(hits) == n and len({cid for cid, _ in hits}) == n
    lexical = LexicalRetriever(LocalStore(snap)).retrieve(plan, n + 50)
    assert 0 < len(lexical) <= n


def test_query_matching_nothing_lexically_still_gets_dense_results(engine: SearchEngine) -> None:
    snap = engine.snapshot()
    assert (
        LexicalRetriever(LocalStore(snap)).retrieve(plan_query("zzzqqq", accent_model(snap)), 5)
        == []
    )
    assert len(engine.search("zzzqqq", 3)) == 3


def test_search_with_filters(engine: SearchEngine) -> None:
    results = engine.search("khu công nghiệp", 5, filters=Filters(doc_type="plan"))
    assert results and {r.doc_id for r in results} == {"ke-hoach-lao-cai"}
    with pytest.raises(QueryError, match="date_from"):
        engine.search("x", 5, filters=Filters(date_from="yesterday"))


def test_cli_search_flags(tiny_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "search",
            "khu cong nghiep xanh",
            "--index",
            str(tiny_index),
            "--json",
            "--province",
            "Dong Nai",
            "--date-from",
            "2024-01",
            "--type",
            "agreement",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"] and {r["doc_id"] for r in out["results"]} == {"dong-nai-kobe"}
    code = main(["search", "xanh", "--index", str(tiny_index), "--doc", "tra-vinh-tin", "--json"])
    assert {r["doc_id"] for r in json.loads(capsys.readouterr().out)["results"]} == {"tra-vinh-tin"}
    assert main(["search", "xanh", "--index", str(tiny_index), "--date-to", "2024/01"]) == 2


def test_api_search_filters(engine: SearchEngine) -> None:
    client = TestClient(create_app(engine.settings, engine=engine))
    r = client.get("/api/search", params={"q": "rừng", "province": "Trà Vinh", "k": 3})
    assert r.status_code == 200
    assert {x["doc_id"] for x in r.json()["results"]} == {"tra-vinh-tin"}
    r = client.get(
        "/api/search",
        params={"q": "rừng", "type": "plan", "date_from": "2023", "date_to": "2023-12-31"},
    )
    assert {x["doc_id"] for x in r.json()["results"]} == {"ke-hoach-lao-cai"}
    r = client.get("/api/search", params={"q": "rừng", "date_from": "03/2023"})
    assert r.status_code == 422 and r.json()["error"] == "bad_query"


def test_eval_command_on_a_tiny_question_set(
    tiny_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = [
        {
            "id": "1",
            "doc_id": "dong-nai-kobe",
            "vi": "Đồng Nai có bao nhiêu khu công nghiệp?",
            "en": "How many industrial parks does Dong Nai have?",
        },
        {
            "id": "2",
            "doc_id": "ke-hoach-lao-cai",
            "evidence": "xe buýt điện",
            "vi": "Ai mở thêm tuyến xe buýt điện?",
        },
        {"id": "3", "doc_id": "tra-vinh-tin", "query": "rừng ngập mặn ven biển"},
    ]
    path = tmp_path / "qs.json"
    path.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    code = main(["eval", "--questions", str(path), "--index", str(tiny_index), "--markdown"])
    out = capsys.readouterr().out
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("| qs |")]
    rows = {
        (cells[1], cells[2]): cells
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)
    }
    # 3 Vietnamese (2 typed + 1 detected), 2 made unaccented, 1 English; 6 in all.
    assert rows[("Vietnamese", "hybrid")][3] == "3"
    assert rows[("Vietnamese without diacritics", "hybrid")][3] == "2"
    assert rows[("English", "hybrid")][3] == "1"
    assert rows[("all", "hybrid")][3] == "6"
    assert float(rows[("all", "hybrid")][4]) == pytest.approx(1.0)  # MRR@10: all found first
    assert {m for _, m in rows} == {
        "lexical",
        "dense",
        "dense-windows",
        "hybrid-no-windows",
        "hybrid",
    }


def test_eval_command_without_xquad_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "eval",
            "--set",
            "xquad",
            "--xquad",
            str(tmp_path / "nowhere"),
            "--cache",
            str(tmp_path / "cache"),
        ]
    )
    assert code == 1
    assert "XQuAD not found" in capsys.readouterr().err
