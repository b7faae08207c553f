"""References between documents through the real app: a plan that cites a decision and a
decree (tests/official.py) gives the right `references` and `cited-by`; a document named by
its number comes first in /api/search and /api/ask; the Lào Cai plan's bases are shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app


@pytest.fixture(scope="module")
def client(official_index: Path, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=official_index, rate_limit_per_address=0)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client: TestClient) -> dict[str, str]:
    """doc_id by number (or title, for the one-article files)."""
    docs = client.get("/api/documents").json()["documents"]
    return {d["number"] or d["title"]: d["doc_id"] for d in docs}


def test_a_plan_citing_two_documents_has_them_resolved(
    client: TestClient, ids: dict[str, str]
) -> None:
    plan = ids["123/KH-UBND"]
    body = client.get(f"/api/documents/{plan}/references").json()
    assert body["doc_id"] == plan
    refs = {r["number"]: r for r in body["references"]}
    assert refs["1658/QĐ-TTg"]["doc_id"] == ids["1658/QĐ-TTg"]
    assert refs["1658/QĐ-TTg"]["title"].startswith("PHÊ DUYỆT CHIẾN LƯỢC")
    assert refs["08/2022/NĐ-CP"]["doc_id"] == ids["08/2022/NĐ-CP"]
    # Mentioned in the body, not in the index: kept, unresolved.
    assert refs["02/2022/TT-BTNMT"]["doc_id"] is None
    assert refs["02/2022/TT-BTNMT"]["title"] is None
    # The same references in the document and in the list of documents.
    doc = client.get(f"/api/documents/{plan}").json()
    assert doc["references"] == body["references"]
    listed = next(
        d for d in client.get("/api/documents").json()["documents"] if d["doc_id"] == plan
    )
    assert listed["references"] == body["references"]
    assert len(doc["bases"]) == 2 and doc["bases"][0].startswith("Quyết định số 1658/QĐ-TTg")


def test_cited_by_lists_the_citing_documents(client: TestClient, ids: dict[str, str]) -> None:
    plan = ids["123/KH-UBND"]
    for cited in ("1658/QĐ-TTg", "08/2022/NĐ-CP"):
        body = client.get(f"/api/documents/{ids[cited]}/cited-by").json()
        assert body["number"] == cited
        assert [c["doc_id"] for c in body["cited_by"]] == [plan]
        item = body["cited_by"][0]
        assert item["number"] == "123/KH-UBND" and item["document_type"] == "Kế hoạch"
        assert cited in item["text"]
    # Same sequence number, another issuer: nobody cites it.
    assert client.get(f"/api/documents/{ids['1658/QĐ-UBND']}/cited-by").json()["cited_by"] == []
    # A law cited by its name ("Căn cứ Luật Bảo vệ môi trường ..."): the decree.
    law = client.get(f"/api/documents/{ids['72/2020/QH14']}/cited-by").json()
    assert [c["doc_id"] for c in law["cited_by"]] == [ids["08/2022/NĐ-CP"]]
    assert client.get(f"/api/documents/{plan}/cited-by").json()["cited_by"] == []


@pytest.mark.parametrize("route", ["references", "cited-by"])
def test_unknown_document_is_a_404(client: TestClient, route: str) -> None:
    r = client.get(f"/api/documents/no-such-doc/{route}")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


@pytest.mark.parametrize("q", ["qd 1658 tang truong xanh", "1658/QD-TTg", "nghị định 08/2022"])
def test_search_and_ask_put_the_named_document_first(
    client: TestClient, ids: dict[str, str], q: str
) -> None:
    expected = ids["08/2022/NĐ-CP"] if "08/2022" in q else ids["1658/QĐ-TTg"]
    results = client.get("/api/search", params={"q": q, "k": 3}).json()["results"]
    assert results[0]["doc_id"] == expected
    passages = client.get("/api/ask", params={"q": q, "k": 3}).json()["passages"]
    assert passages[0]["doc_id"] == expected


@pytest.mark.parametrize(
    "q",
    [
        "những kế hoạch nào thực hiện Quyết định 1658/QĐ-TTg?",
        "nhung ke hoach nao thuc hien qd 1658",
        "which plans implement 1658/QĐ-TTg?",
        "which documents implement decree 08/2022?",
    ],
)
def test_ask_which_plans_implement_a_decision(
    client: TestClient, ids: dict[str, str], q: str
) -> None:
    body = client.get("/api/ask", params={"q": q}).json()
    answer = body["answer"]
    assert answer is not None, body
    assert answer["type"] == "set"
    assert [i["doc_id"] for i in answer["items"]] == [ids["123/KH-UBND"]]
    cited = body["passages"][answer["items"][0]["citations"][0] - 1]
    assert cited["doc_id"] == ids["123/KH-UBND"]


def test_the_lao_cai_plan_shows_its_bases_and_references(ask_client: TestClient) -> None:
    """corpus/: the plan's "Căn cứ" and the decisions it cites, not in this index."""
    doc = ask_client.get("/api/documents/004_0ae3777ec9422ce6").json()
    assert doc["bases"] and "1658/QĐ-TTg" in doc["bases"][0]
    refs = ask_client.get("/api/documents/004_0ae3777ec9422ce6/references").json()["references"]
    assert {r["number"] for r in refs} >= {"1658/QĐ-TTg", "882/QĐ-TTg"}
    assert all(r["doc_id"] is None for r in refs if r["number"])
    assert doc["references"] == refs
    # Not indexed, 1658/QĐ-TTg is still found cited: the plan answers who implements it.
    body = ask_client.get("/api/ask", params={"q": "which plans implement 1658/QĐ-TTg?"}).json()
    assert body["answer"] is not None, body
    assert [i["doc_id"] for i in body["answer"]["items"]] == ["004_0ae3777ec9422ce6"]
