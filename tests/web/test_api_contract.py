"""What the API promises in its schema and its errors: dates, bounds, 405, one error shape."""

from __future__ import annotations

import pytest

from web.errors import ERROR_CODES


@pytest.fixture(scope="module")
def contract_client(corpus_index, embedder):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from policy_search.settings import Settings
    from search.engine import SearchEngine
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


# --- the schema is what the server accepts and answers (issue 25, §5) ---------------------


def test_unknown_query_parameters_are_422_naming_them(contract_client) -> None:  # type: ignore[no-untyped-def]
    # A misspelt filter used to be ignored: the search ran without it.
    r = contract_client.get("/api/search", params={"q": "chất thải", "typ": "plan", "yr": 2024})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "bad_request" and set(body) == {"error", "detail"}
    assert "'typ'" in body["detail"] and "'yr'" in body["detail"]
    assert "type" in body["detail"].split("takes:")[1]  # what the route does take
    r = contract_client.delete("/api/documents/x", params={"force": "1"})
    assert r.status_code == 422 and "'force'" in r.json()["detail"], r.text
    assert contract_client.get("/api/health", params={"x": "1"}).status_code == 422
    # Declared parameters pass, and pages keep their own (their script reads them).
    assert contract_client.get("/api/search", params={"q": "chất thải", "type": "plan"}).is_success
    assert contract_client.get("/", params={"q": "chất thải", "lang": "en"}).status_code == 200


def test_operation_ids_and_tags_read_well_in_generated_clients(contract_client) -> None:  # type: ignore[no-untyped-def]
    spec = contract_client.get("/openapi.json").json()
    ids = {
        (method.upper(), path): (op["operationId"], op["tags"])
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    assert ids == {
        ("GET", "/api/search"): ("search", ["search"]),
        ("GET", "/api/ask"): ("ask", ["search"]),
        ("GET", "/api/documents"): ("listDocuments", ["documents"]),
        ("POST", "/api/documents"): ("uploadDocuments", ["documents"]),
        ("GET", "/api/documents/{doc_id}"): ("getDocument", ["documents"]),
        ("DELETE", "/api/documents/{doc_id}"): ("deleteDocument", ["documents"]),
        ("GET", "/api/documents/{doc_id}/file"): ("getDocumentFile", ["documents"]),
        ("GET", "/api/documents/{doc_id}/related"): ("getRelatedDocuments", ["documents"]),
        ("GET", "/api/documents/{doc_id}/references"): ("getDocumentReferences", ["documents"]),
        ("GET", "/api/documents/{doc_id}/cited-by"): ("getDocumentCitedBy", ["documents"]),
        ("GET", "/api/stats"): ("getStats", ["service"]),
        ("GET", "/api/assignments"): ("listAssignments", ["documents"]),
        ("GET", "/api/health"): ("health", ["service"]),
        ("GET", "/api/tasks/{task_id}"): ("getTask", ["documents"]),
        ("GET", "/metrics"): ("metrics", ["service"]),
    }
    assert [t["name"] for t in spec["tags"]] == ["search", "documents", "service"]
    # FastAPI's validation-error shape is never sent, so it is not in the schema.
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_reads_declare_the_key_as_optional_and_writes_as_required(contract_client) -> None:  # type: ignore[no-untyped-def]
    spec = contract_client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {} in paths["/api/search"]["get"]["security"]
    assert len(paths["/api/search"]["get"]["security"]) == 3  # none, bearer or X-API-Key
    assert {} not in paths["/api/documents"]["post"]["security"]
    assert "security" not in paths["/api/health"]["get"]  # public: a key is not even read


def test_a_required_search_key_makes_read_security_required(corpus_index, embedder) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from policy_search.settings import Settings
    from search.engine import SearchEngine
    from web.app import create_app

    s = Settings(index_dir=corpus_index, search_keys="k-1", require_search_key=True)
    spec = TestClient(create_app(s, SearchEngine(s, embedder))).get("/openapi.json").json()
    security = spec["paths"]["/api/search"]["get"]["security"]
    assert security and {} not in security


def test_the_file_route_declares_a_media_type_for_every_uploadable_kind(contract_client) -> None:  # type: ignore[no-untyped-def]
    from ingest.extract import supported_suffixes
    from web.routes import ORIGINAL_TYPES

    assert supported_suffixes() <= set(ORIGINAL_TYPES)
    spec = contract_client.get("/openapi.json").json()
    declared = set(
        spec["paths"]["/api/documents/{doc_id}/file"]["get"]["responses"]["200"]["content"]
    )
    assert declared == set(ORIGINAL_TYPES.values())


@pytest.fixture(scope="module")
def small_cap_client(corpus_index, embedder):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from policy_search.settings import Settings
    from search.engine import SearchEngine
    from web.app import create_app

    s = Settings(
        index_dir=corpus_index,
        max_results=12,
        rate_limit_per_address=0,
        cors_origins=["https://portal.example.gov.vn"],
    )
    with TestClient(create_app(s, SearchEngine(s, embedder))) as client:
        yield client


def test_paging_never_leads_past_max_results(small_cap_client) -> None:  # type: ignore[no-untyped-def]
    q = {"q": "tăng trưởng xanh", "k": 5}
    first = small_cap_client.get("/api/search", params=q).json()
    # Twelve hits can be paged, however many passages the index holds.
    assert first["next_offset"] == 5 and first["total"] == 12
    # 5 + 5 = 10 fits, but the page after it (10 + 5) would not: no next_offset there.
    second = small_cap_client.get("/api/search", params={**q, "offset": 5}).json()
    assert len(second["results"]) == 5 and second["next_offset"] is None
    r = small_cap_client.get("/api/search", params={**q, "offset": 10})
    assert r.status_code == 422 and r.json()["error"] == "bad_query", r.text
    assert "offset + k must be at most 12 (POLICY_SEARCH_MAX_RESULTS)" in r.json()["detail"]
    last = small_cap_client.get("/api/search", params={**q, "offset": 10, "k": 2})
    assert last.status_code == 200 and len(last.json()["results"]) == 2


def test_a_refused_cors_preflight_is_the_json_error_shape(small_cap_client) -> None:  # type: ignore[no-untyped-def]
    ask = {"Access-Control-Request-Method": "GET"}
    ok = small_cap_client.options(
        "/api/search", headers={"Origin": "https://portal.example.gov.vn", **ask}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://portal.example.gov.vn"
    for headers in (
        {"Origin": "https://elsewhere.example", **ask},
        {"Origin": "https://portal.example.gov.vn", "Access-Control-Request-Method": "DELETE"},
    ):
        r = small_cap_client.options("/api/search", headers=headers)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.json()["error"] == "cors_rejected" and set(r.json()) == {"error", "detail"}
        assert "POLICY_SEARCH_CORS_ORIGINS" in r.json()["detail"]
    refused = small_cap_client.options(
        "/api/search", headers={"Origin": "https://elsewhere.example", **ask}
    )
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("route", ["/api/search", "/api/documents"])
def test_a_filter_is_refused_only_when_it_cannot_be_read(contract_client, route) -> None:  # type: ignore[no-untyped-def]
    """The rule README states: a value that cannot be read as an issuer, a number or a
    printed type is a 422 naming the parameter; a readable value that matches no document
    is an empty answer (200), as for every other filter."""
    q = {"q": "tăng trưởng xanh"} if route == "/api/search" else {}
    key = "results" if route == "/api/search" else "documents"
    for name, value in (
        ("issuer", "UBND tỉnh Không Có"),
        ("number", "9999/QĐ-UBND"),
        ("number", "9999"),
        ("province", "Không Có"),
    ):
        r = contract_client.get(route, params={**q, name: value})
        assert r.status_code == 200, (name, value, r.text)
        assert r.json()[key] == [] and r.json()["total"] == 0, (name, value)
    for name, value in (
        ("number", "abc"),
        ("number", "2666/QĐ-UBND 08/2022/NĐ-CP"),  # two numbers
        ("issuer", "!!!"),
        ("document_type", "abc"),
        ("type", "decree-ish"),
    ):
        r = contract_client.get(route, params={**q, name: value})
        assert r.status_code == 422, (name, value, r.text)
        assert r.json()["error"] == "bad_query" and r.json()["detail"].startswith(name), r.text


def _cp1258(text: str) -> bytes:
    """``text`` in the Vietnamese Windows code page (tone marks combining, as it writes them)."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += (base + "".join(c for c in parts if c in tones)).encode("cp1258")
    return out


def test_the_file_route_sends_the_kind_and_encoding_of_the_upload(
    index_copy, make_client, admin_headers
) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = make_client(index_copy)
    text = (
        "Thông báo của Sở Giao thông tỉnh Cà Mau: năm 2026 mở đường mới cho xã Tân Thành. "
        "Đây là văn bản thử nghiệm mã Windows."
    )
    sent = {
        "cp1258.txt": (_cp1258(text), "text/plain; charset=windows-1258"),
        "utf8.md": (text.encode(), "text/markdown; charset=utf-8"),
        "utf16.txt": (text.encode("utf-16"), "text/plain; charset=utf-16"),
        # No byte-order mark: ingest reads it as UTF-16LE, so the header must say so
        # (its bytes are valid UTF-8 too, which is what the route used to claim).
        "utf16le.txt": (text.encode("utf-16-le"), "text/plain; charset=utf-16le"),
    }
    files = [
        ("files", (name, data, "application/octet-stream")) for name, (data, _) in sent.items()
    ]
    r = client.post("/api/documents", files=files, headers=admin_headers)
    assert r.status_code == 200, r.text
    ids = {f["filename"]: f["doc_id"] for f in r.json()["files"]}
    assert all(ids.values()), r.text
    for name, (data, media) in sent.items():
        got = client.get(f"/api/documents/{ids[name]}/file")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == media, name
        assert got.content == data  # the bytes as uploaded
