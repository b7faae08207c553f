"""The FastAPI app through its real test client over a real corpus index."""

import pytest
from fastapi.testclient import TestClient

from policy_search.settings import Settings
from web.app import create_app


@pytest.fixture(scope="module")
def client(corpus_index):
    return TestClient(create_app(Settings(index_dir=corpus_index)))


def test_search_returns_cli_shape(client):
    r = client.get("/api/search", params={"q": "Ai chủ trì quản lý chất thải đô thị?", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "Ai chủ trì quản lý chất thải đô thị?"
    assert len(body["results"]) == 5
    assert any(x["section"].endswith("6. Sở Xây dựng") for x in body["results"])


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["documents"] == 5 and body["chunks"] > 5


@pytest.mark.parametrize(
    "params", [{"q": ""}, {"q": "x" * 5000}, {"q": "a", "k": 0}, {"q": "a", "k": 999}]
)
def test_bad_queries_get_error_objects(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert "detail" in r.json()


def test_missing_index_is_503(tmp_path):
    c = TestClient(create_app(Settings(index_dir=tmp_path)))
    r = c.get("/api/search", params={"q": "chất thải"})
    assert r.status_code == 503
    assert r.json()["error"] == "index_unavailable"
