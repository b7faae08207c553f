"""What the page needs from the API: pages of results, totals, facets, downloads, offline docs.

Through the real app over the real test index (tests/web/conftest.py).
"""

from __future__ import annotations

import pytest

from index.store import Snapshot, current_path
from ingest.text import tokenize

pytestmark = pytest.mark.slow

PLAN = "004_0ae3777ec9422ce6"
KOBE = "001_1239ce19dc31f053"


def search(client, q: str, **params):  # type: ignore[no-untyped-def]
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_search_pages_through_one_ranking(ask_client) -> None:  # type: ignore[no-untyped-def]
    first = search(ask_client, "tăng trưởng xanh", k=4)
    second = search(ask_client, "tăng trưởng xanh", k=4, offset=4)
    both = search(ask_client, "tăng trưởng xanh", k=8)
    assert first["offset"] == 0 and first["next_offset"] == 4 and second["offset"] == 4
    assert [r["url"] for r in first["results"] + second["results"]] == [
        r["url"] for r in both["results"]
    ]
    assert first["total"] == second["total"] == both["total"]
    assert all(r["url"].startswith(f"/doc/{r['doc_id']}#p") for r in both["results"])
    kobe = search(ask_client, "hợp tác tăng trưởng xanh", doc=KOBE)["results"][0]
    assert kobe["type"] == "agreement" and kobe["date"] == "2024-09-10"
    assert kobe["provinces"] == ["Đồng Nai"] and kobe["source_url"].startswith("https://")
    chunks = ask_client.get("/api/health").json()["chunks"]
    last = search(ask_client, "tăng trưởng xanh", k=10, offset=chunks - 3)
    assert len(last["results"]) == 3 and last["next_offset"] is None


def test_a_page_past_max_results_is_422_naming_the_cap(ask_client) -> None:  # type: ignore[no-untyped-def]
    # offset 195 with k 10 would reach past POLICY_SEARCH_MAX_RESULTS (200): refused, as
    # README says, not a shorter or empty page.
    r = ask_client.get("/api/search", params={"q": "tăng trưởng xanh", "k": 10, "offset": 195})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_query"
    assert "POLICY_SEARCH_MAX_RESULTS" in r.json()["detail"] and "200" in r.json()["detail"]
    search(ask_client, "tăng trưởng xanh", k=10, offset=190)  # ends at the cap: allowed


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"offset": -1}, "bad_request"),
        ({"offset": 200, "k": 10}, "bad_query"),  # past POLICY_SEARCH_MAX_RESULTS (200)
        ({"type": "decree-ish"}, "bad_query"),
    ],
)
def test_search_limits_and_unknown_type_are_422(ask_client, params, error) -> None:  # type: ignore[no-untyped-def]
    r = ask_client.get("/api/search", params={"q": "chất thải", **params})
    assert r.status_code == 422 and r.json()["error"] == error, r.text


def test_ask_and_search_take_the_same_filters(ask_client) -> None:  # type: ignore[no-untyped-def]
    r = ask_client.get("/api/ask", params={"q": "chất thải", "type": "decree-ish"})
    assert r.status_code == 422 and "type must be one of" in r.json()["detail"]
    for route, key in (("/api/ask", "passages"), ("/api/search", "results")):
        body = ask_client.get(route, params={"q": "hợp tác", "doc": KOBE, "k": 10}).json()
        assert body[key] and {p["doc_id"] for p in body[key]} == {KOBE}
        body = ask_client.get(route, params={"q": "hợp tác tăng trưởng xanh", "year": 2024}).json()
        assert {p["doc_id"] for p in body[key]} == {KOBE}
        body = ask_client.get(route, params={"q": "tăng trưởng", "province": "Trà Vinh"}).json()
        assert {p["doc_id"] for p in body[key]} == {"003_c37eb1d54eca6eb1"}


def test_with_all_words_counts_passages_with_every_word_tone_exact(ask_client, ask_index) -> None:  # type: ignore[no-untyped-def]
    snap = Snapshot(current_path(ask_index))  # type: ignore[arg-type]
    words = [set(tokenize(c.embed_text)) for c in snap.all_chunks()]

    def having(*syllables: str) -> int:
        return sum(1 for w in words if all(s in w for s in syllables))

    assert search(ask_client, "chất thải")["with_all_words"] == having("chất", "thải") > 0
    # "thải" and "thái" are different words; typed with its marks, one is not the other.
    assert search(ask_client, "sinh thái")["with_all_words"] == having("sinh", "thái") > 0
    assert having("sinh", "thải") != having("sinh", "thái")
    body = search(ask_client, "cách nấu phở bò ngon")
    assert body["with_all_words"] == 0 and body["results"]  # nearest in meaning still listed


def test_restored_query_and_search_as_typed(ask_client) -> None:  # type: ignore[no-untyped-def]
    body = search(ask_client, "quan ly chat thai do thi")
    assert body["kind"] == "vi_plain" and body["restored"] == "quản lý chất thải đô thị"
    # Highlights follow what was searched: the restored words, with their marks.
    assert "chất thải" in body["highlight"] and "thai" not in body["highlight"]
    typed = search(ask_client, "quan ly chat thai do thi", restore="false")
    assert typed["restored"] is None and "chat thai" in typed["highlight"]
    accented = search(ask_client, "thải đô thị Sở")
    assert {"thải", "đô thị"} <= set(accented["highlight"])
    assert not {"thai", "do", "so", "số"} & set(accented["highlight"])
    assert search(ask_client, "waste management")["highlight"]  # English: Vietnamese renderings


def test_documents_facets_filters_sort_and_paging(ask_client) -> None:  # type: ignore[no-untyped-def]
    everything = ask_client.get("/api/documents").json()
    assert everything["total"] == len(everything["documents"]) == 6
    facets = everything["facets"]
    assert facets["province"]["Lào Cai"] == 2 and facets["year"] == {"2024": 1, "2025": 1}
    assert facets["source"] == {"none": 5, "baodongnai.com.vn": 1}
    assert sum(facets["type"].values()) == 6
    lao_cai = ask_client.get("/api/documents", params={"province": "Lào Cai"}).json()
    assert lao_cai["total"] == 2
    assert lao_cai["facets"]["type"] == {"agreement": 1, "plan": 1}
    assert lao_cai["facets"]["province"] == facets["province"]  # its own facet: unfiltered
    newest = ask_client.get("/api/documents", params={"sort": "date", "limit": 2}).json()
    assert [d["date"] for d in newest["documents"]] == ["2025-10-28", "2024-09-10"]
    assert newest["total"] == 6
    site = ask_client.get("/api/documents", params={"source": "baodongnai.com.vn"}).json()
    assert [d["doc_id"] for d in site["documents"]] == [KOBE]
    assert site["documents"][0]["source_url"].startswith("https://baodongnai.com.vn/")
    r = ask_client.get("/api/documents", params={"type": "memo"})
    assert r.status_code == 422
    assert ask_client.get("/api/documents", params={"limit": 0}).status_code == 422


def test_sources_are_never_server_paths(ask_client, ask_index) -> None:  # type: ignore[no-untyped-def]
    docs = ask_client.get("/api/documents").json()["documents"]
    plan = next(d for d in docs if d["doc_id"] == PLAN)
    assert plan["source"] == f"{PLAN}.txt" and plan["source_url"] is None
    for d in docs:
        assert "/" not in d["source"] or d["source"].startswith("https://"), d
    for r in search(ask_client, "tăng trưởng xanh", k=20)["results"]:
        assert str(ask_index.parent) not in r["source"] and not r["source"].startswith("/")


def test_original_file_download_for_uploaded_documents_only(  # type: ignore[no-untyped-def]
    index_copy, make_client, admin_headers
) -> None:
    client, _, _ = make_client(index_copy)
    data = "Văn bản tải lên để thử tải về.\n\nSở Tư pháp chủ trì việc thử tải tệp gốc về.".encode()
    r = client.post(
        "/api/documents",
        files=[("files", ("tai-ve.txt", data, "text/plain"))],
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    docs = {d["doc_id"]: d for d in client.get("/api/documents").json()["documents"]}
    assert docs["tai-ve"]["file_url"] == "/api/documents/tai-ve/file"
    got = client.get("/api/documents/tai-ve/file")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/api/documents/{PLAN}").json()["file_url"] is None
    missing = client.get(f"/api/documents/{PLAN}/file")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_pages_answer_head_favicon_and_offline_docs(ask_client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/embed", "/admin", "/docs", "/redoc", f"/doc/{PLAN}"):
        assert ask_client.head(path).status_code == 200, path
    icon = ask_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"
    docs = ask_client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert "/docs-assets/redoc.standalone.js" in ask_client.get("/redoc").text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert ask_client.get(f"/docs-assets/{asset}").status_code == 200, asset
    csp = ask_client.get("/docs").headers["content-security-policy"]
    assert "script-src 'self';" in csp
    page = ask_client.get("/").text
    assert 'maxlength="512"' in page and "<h1" in page


def test_every_operation_has_a_summary_and_the_search_routes_examples(ask_client) -> None:  # type: ignore[no-untyped-def]
    spec = ask_client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
    for path in ("/api/search", "/api/ask"):
        q = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "q")
        assert q.get("examples") or q["schema"].get("examples"), path
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert {"type", "province", "year", "doc"} <= names, path
