"""What the API promises in its schema and its errors: dates, bounds, 405, one error shape."""

from __future__ import annotations

import pytest

from web.errors import ERROR_CODES


@pytest.fixture(scope="module")
def contract_client(corpus_index, embedder):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from search.engine import SearchEngine
    from search.settings import Settings
    from web.app import create_app

    s = Settings(
        index_dir=corpus_index,
        max_k=7,
        max_query_chars=100,
        max_upload_files=4,
        rate_limit_per_address=0,
        admin_keys="contract-admin-key",
    )
    with TestClient(create_app(s, SearchEngine(s, embedder))) as client:
        yield client


@pytest.mark.parametrize("route", ["/api/search", "/api/ask"])
@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2024-02-30"},
        {"date_to": "2023-02-29"},  # not a leap year
        {"date_from": "2024-99-99"},
        {"date_from": "2024-13"},
        {"date_to": "2024-00"},
        {"date_from": "２０２４"},  # full-width digits are not a year
    ],
)
def test_impossible_dates_are_422(contract_client, route, params) -> None:  # type: ignore[no-untyped-def]
    r = contract_client.get(route, params={"q": "tăng trưởng xanh", **params})
    assert r.status_code == 422, (route, params, r.text)
    assert r.json()["error"] in ("bad_query", "bad_request")


@pytest.mark.parametrize(
    "params", [{"date_from": "2024-02-29"}, {"date_to": "2000-02-29"}, {"date_from": "2024-09"}]
)
def test_real_dates_pass(contract_client, params) -> None:  # type: ignore[no-untyped-def]
    r = contract_client.get("/api/search", params={"q": "tăng trưởng xanh", **params})
    assert r.status_code == 200, r.text


def _param(op: dict, name: str) -> dict:
    return next(p for p in op["parameters"] if p["name"] == name)["schema"]


def test_openapi_states_the_bounds_the_server_enforces(contract_client) -> None:  # type: ignore[no-untyped-def]
    spec = contract_client.get("/openapi.json").json()
    for route in ("/api/search", "/api/ask"):
        op = spec["paths"][route]["get"]
        q = _param(op, "q")
        assert q["minLength"] == 1 and q["maxLength"] == 100, route  # from the settings
        assert "pattern" in q  # at least one visible character
        k = _param(op, "k")
        k = next((s for s in k.get("anyOf", [k]) if s.get("type") == "integer"), k)
        assert k["minimum"] == 1 and k["maximum"] == 7, route
        for name in ("date_from", "date_to"):
            assert _param(op, name).get("pattern") or any(
                "pattern" in s for s in _param(op, name).get("anyOf", [])
            ), (route, name)
        assert {"422", "429", "503"} <= set(op["responses"]), route
    body = spec["paths"]["/api/documents"]["post"]["requestBody"]["content"]
    files = body["multipart/form-data"]["schema"]["properties"]["files"]
    assert files["minItems"] == 1 and files["maxItems"] == 4
    # The server enforces the same numbers.
    assert contract_client.get("/api/search", params={"q": "a", "k": 8}).status_code == 422
    assert contract_client.get("/api/search", params={"q": "a" * 101}).status_code == 422
    assert contract_client.get("/api/search", params={"q": "a" * 100}).status_code == 200
    assert contract_client.get("/api/search", params={"q": " \t"}).status_code == 422


def test_openapi_error_model_lists_the_codes(contract_client) -> None:  # type: ignore[no-untyped-def]
    spec = contract_client.get("/openapi.json").json()
    described = spec["components"]["schemas"]["ErrorModel"]["properties"]["error"]["description"]
    for code in ERROR_CODES:
        assert code in described


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/search", {"GET"}),
        ("POST", "/api/ask", {"GET"}),
        ("PUT", "/api/documents", {"GET", "POST"}),
        ("PATCH", "/api/documents/some-doc", {"GET", "DELETE"}),
        ("DELETE", "/api/health", {"GET"}),
    ],
)
def test_405_says_what_is_allowed(contract_client, method, path, allowed) -> None:  # type: ignore[no-untyped-def]
    r = contract_client.request(method, path)
    assert r.status_code == 405, r.text
    assert r.json()["error"] == "method_not_allowed"
    got = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed <= got and method not in got, got
