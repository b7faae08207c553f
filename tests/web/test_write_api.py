"""POST/DELETE /api/documents on a real index copy: synchronous, per-file verdicts, limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import CASES, write_all

from index.store import Snapshot, current_path

TOPIC = "Kế hoạch nuôi cá hồi.txt"
TOPIC_TEXT = (
    "Kế hoạch phát triển nghề nuôi cá hồi vân ở thị xã Sa Pa năm 2026. "
    "Sở Nông nghiệp và Môi trường chủ trì hướng dẫn kỹ thuật nuôi cá nước lạnh."
)
QUERY = "nuôi cá hồi ở Sa Pa"


def _files(*items: tuple[str, bytes]) -> list:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def _top(client, query=QUERY, k=3):
    r = client.get("/api/search", params={"q": query, "k": k})
    assert r.status_code == 200, r.text
    return [x["doc_id"] for x in r.json()["results"]]


def test_upload_replace_delete_each_visible_when_the_call_returns(
    index_copy, make_client, admin_headers
):
    client, _, settings = make_client(index_copy)
    before = client.get("/api/health").json()
    r = client.post(
        "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["files"] == [
        {
            "filename": TOPIC,
            "status": "added",
            "doc_id": "ke-hoach-nuoi-ca-hoi",
            "reason": None,
            "warnings": [],
            "reason_code": None,
            "reason_args": {},
        }
    ]
    assert body["documents"] == before["documents"] + 1
    assert _top(client)[0] == "ke-hoach-nuoi-ca-hoi"
    stored = settings.uploads_path / TOPIC
    assert stored.read_text(encoding="utf-8") == TOPIC_TEXT

    # The same name again replaces the document.
    new_text = TOPIC_TEXT.replace("cá hồi vân", "cá tầm Xibêri")
    r = client.post(
        "/api/documents", files=_files((TOPIC, new_text.encode())), headers=admin_headers
    )
    assert r.json()["files"][0]["status"] == "updated"
    assert r.json()["documents"] == before["documents"] + 1
    hit = client.get("/api/search", params={"q": "nuôi cá tầm Xibêri", "k": 1}).json()
    assert "cá tầm Xibêri" in hit["results"][0]["text"]

    # Identical bytes: nothing to embed, no new version.
    version = current_path(index_copy)
    r = client.post(
        "/api/documents", files=_files((TOPIC, new_text.encode())), headers=admin_headers
    )
    assert r.json()["files"][0]["status"] == "unchanged" and r.json()["embedded_chunks"] == 0
    assert current_path(index_copy) == version

    r = client.delete("/api/documents/ke-hoach-nuoi-ca-hoi", headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["documents"] == before["documents"]
    assert "ke-hoach-nuoi-ca-hoi" not in _top(client, k=10)
    assert not stored.exists()
    r = client.delete("/api/documents/ke-hoach-nuoi-ca-hoi", headers=admin_headers)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_a_corpus_document_cannot_be_shadowed_by_an_upload(index_copy, make_client, admin_headers):
    client, _, _ = make_client(index_copy)
    r = client.post(
        "/api/documents",
        files=_files(("000_336029cc1bf055f9.txt", b"Van ban gia mao.")),
        headers=admin_headers,
    )
    assert r.status_code == 422
    assert "already exists" in r.json()["files"][0]["reason"]


@pytest.mark.slow
def test_hostile_batch_each_file_judged_the_rest_goes_on(
    index_copy, make_client, admin_headers, tmp_path
):
    client, _, _ = make_client(index_copy, max_upload_files=len(CASES) + 1)
    paths = write_all(tmp_path / "hostile")
    before = client.get("/api/health").json()
    files = _files(*[(name, path.read_bytes()) for name, path in paths.items()])
    files += _files((TOPIC, TOPIC_TEXT.encode()))
    r = client.post("/api/documents", files=files, headers=admin_headers)
    assert r.status_code == 200, r.text
    results = {f["filename"]: f for f in r.json()["files"]}
    for case in CASES:
        got = results[case.name]
        if case.outcome == "rejected":
            assert got["status"] == "rejected", case.name
            assert case.matches(got["reason"]), (case.name, got["reason"])
            # Each rejection has a stable code a client keys its message by.
            assert got["reason_code"] not in (None, "other"), (case.name, got)
        else:
            assert got["status"] == "added", (case.name, got["reason"])
            if case.reason:
                assert any(case.matches(w) for w in got["warnings"])
    assert results[TOPIC]["status"] == "added"
    ingested = sum(1 for f in results.values() if f["status"] == "added")
    after = client.get("/api/health").json()
    assert after["documents"] == before["documents"] + ingested
    # One new version for the whole batch, complete and consistent.
    snap = Snapshot(current_path(index_copy))
    assert len(snap.documents()) == after["documents"]
    assert _top(client)[0] == "ke-hoach-nuoi-ca-hoi"


def test_no_usable_file_is_422_and_leaves_the_index_alone(index_copy, make_client, admin_headers):
    client, embedder, _ = make_client(index_copy)
    version = current_path(index_copy)
    r = client.post(
        "/api/documents",
        files=_files(("empty.txt", b""), ("x.exe", b"MZ\x90"), ("a.pdf", b"PK\x03\x04zip")),
        headers=admin_headers,
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "no_file_ingested"
    assert [f["status"] for f in body["files"]] == ["rejected"] * 3
    assert "unsupported file type .exe" in body["files"][1]["reason"]
    assert "ZIP archive" in body["files"][2]["reason"]
    codes = [(f["reason_code"], f["reason_args"]) for f in body["files"]]
    assert codes[0] == ("empty_file", {}) and codes[2] == ("not_pdf", {})
    assert codes[1][0] == "unsupported_type" and codes[1][1]["type"] == ".exe"
    assert ".pdf" in codes[1][1]["supported"]
    assert current_path(index_copy) == version
    assert embedder.passage_calls == 0


def test_size_and_count_limits_answer_before_any_embedding(index_copy, make_client, admin_headers):
    client, embedder, _ = make_client(
        index_copy, max_upload_bytes=2048, max_request_bytes=64 * 1024, max_upload_files=3
    )
    version = current_path(index_copy)
    r = client.post(
        "/api/documents", files=_files(("big.txt", b"a " * 4096)), headers=admin_headers
    )
    assert r.status_code == 413
    assert "POLICY_SEARCH_MAX_UPLOAD_BYTES" in r.json()["files"][0]["reason"]
    big = r.json()["files"][0]
    assert big["reason_code"] == "too_large"
    assert big["reason_args"] == {"size": str(len(b"a " * 4096)), "limit": "2048"}

    r = client.post(
        "/api/documents", files=_files(("huge.txt", b"a " * 50_000)), headers=admin_headers
    )
    assert r.status_code == 413
    assert r.json()["error"] == "request_too_large"
    assert "POLICY_SEARCH_MAX_REQUEST_BYTES" in r.json()["detail"]

    def stream():
        for _ in range(100):
            yield b"x" * 1024

    # No Content-Length (chunked): counted while it streams in.
    r = client.post(
        "/api/documents",
        content=stream(),
        headers={**admin_headers, "Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"

    r = client.post(
        "/api/documents",
        files=_files(*[(f"f{i}.txt", b"Noi dung.") for i in range(4)]),
        headers=admin_headers,
    )
    assert r.status_code == 413
    assert "POLICY_SEARCH_MAX_UPLOAD_FILES" in r.json()["detail"]

    r = client.post("/api/documents", data={"files": "not a file"}, headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"] == "bad_request"
    assert current_path(index_copy) == version
    assert embedder.calls == 0


def test_query_limits_answer_before_any_embedding_and_k_is_clamped(corpus_index, make_client):
    client, embedder, settings = make_client(corpus_index, max_k=1000)
    r = client.get("/api/search", params={"q": "x" * (settings.max_query_chars + 1)})
    assert r.status_code == 422 and "POLICY_SEARCH_MAX_QUERY_CHARS" in r.json()["detail"]
    r = client.get("/api/search", params={"q": "chất thải", "k": 1001})
    assert r.status_code == 422 and "POLICY_SEARCH_MAX_K" in r.json()["detail"]
    assert embedder.calls == 0
    chunks = client.get("/api/health").json()["chunks"]
    r = client.get("/api/search", params={"q": "chất thải", "k": 1000})
    assert r.status_code == 200
    assert len(r.json()["results"]) == chunks < 1000


def test_write_routes_need_an_admin_key(index_copy, make_client, api_keys):
    client, _, _ = make_client(index_copy)
    files = _files(("a.txt", b"Noi dung."))
    r = client.post("/api/documents", files=files)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized" and r.headers["www-authenticate"].startswith(
        "Bearer"
    )
    r = client.post("/api/documents", files=files, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "the API key is not valid"
    for headers in (
        {"Authorization": f"Bearer {api_keys['search']}"},
        {"X-API-Key": api_keys["search"]},
    ):
        r = client.post("/api/documents", files=files, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        r = client.delete("/api/documents/x", headers=headers)
        assert r.status_code == 403
    r = client.delete("/api/documents/x")
    assert r.status_code == 401
    # Both admin keys, either header, any case of "Bearer": past auth (404: no such document).
    for headers in (
        {"X-API-Key": api_keys["admin"][1]},
        {"Authorization": f"bearer {api_keys['admin'][0]}"},
    ):
        assert client.delete("/api/documents/no-such-doc", headers=headers).status_code == 404


def test_reads_can_be_restricted_to_search_keys(corpus_index, make_client, api_keys):
    client, _, _ = make_client(corpus_index, require_search_key=True)
    params = {"q": "chất thải", "k": 1}
    r = client.get("/api/search", params=params)
    assert r.status_code == 401 and "needs an API key" in r.json()["detail"]
    assert (
        client.get("/api/search", params=params, headers={"X-API-Key": "nope"}).status_code == 401
    )
    for key in (api_keys["search"], api_keys["admin"][0]):
        r = client.get("/api/search", params=params, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
    assert client.get("/api/health").status_code == 200
    # Public by default.
    open_client, _, _ = make_client(corpus_index)
    assert open_client.get("/api/search", params=params).status_code == 200


def test_keys_are_never_logged_or_echoed(corpus_index, make_client, api_keys, caplog, capsys):
    import logging

    from policy_search.settings import describe

    caplog.set_level(logging.DEBUG)
    client, _, settings = make_client(corpus_index, require_search_key=True)
    secrets = [*api_keys["admin"], api_keys["search"], "guessed-key-123"]
    bodies = []
    for key in secrets:
        for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
            bodies.append(client.get("/api/search", params={"q": "a"}, headers=headers).text)
            bodies.append(client.delete("/api/documents/x", headers=headers).text)
    out = capsys.readouterr()
    seen = caplog.text + out.out + out.err + repr(settings) + str(describe()) + "".join(bodies)
    for key in secrets:
        assert key not in seen


def test_rate_limits_per_address_and_per_key(corpus_index, make_client, api_keys):
    client, _, _ = make_client(corpus_index, rate_limit_per_address=3, rate_limit_per_key=4)
    params = {"q": "chất thải", "k": 1}
    assert [client.get("/api/search", params=params).status_code for _ in range(3)] == [200] * 3
    r = client.get("/api/search", params=params)
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited" and "RATE_LIMIT_PER_ADDRESS" in r.json()["detail"]
    assert 1 <= int(r.headers["retry-after"]) <= 20
    assert client.get("/api/health").status_code == 200  # not a search
    # A key has its own allowance (per key and address), apart from the address's.
    keyed = {"X-API-Key": api_keys["search"]}
    codes = [client.get("/api/search", params=params, headers=keyed).status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]
    # Another address is not slowed down by the first one.
    other, _, _ = make_client(corpus_index, client_addr="10.1.2.3", rate_limit_per_address=3)
    assert other.get("/api/search", params=params).status_code == 200


def test_uploaded_files_stay_in_the_upload_folder(index_copy, make_client, admin_headers):
    client, _, settings = make_client(index_copy)
    r = client.post(
        "/api/documents",
        files=_files(("../../escape.txt", b"Ke hoach thu nghiem duong dan.")),
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["files"][0]["doc_id"] == "escape"
    assert (settings.uploads_path / "escape.txt").is_file()
    assert not (index_copy.parent / "escape.txt").exists()
    assert not list(Path(index_copy).glob("uploads/.incoming/*"))


def test_uploads_build_the_index_shape_the_settings_ask_for(index_copy, make_client, admin_headers):
    import json

    # An approximate index from 40 vectors: an upload's new version follows the same
    # settings `policy-search ingest` would use, not the library defaults.
    client, _, _ = make_client(index_copy, ann_exact_below=40, ann_recall_sample=50)
    before = current_path(index_copy)
    assert before is not None
    r = client.post(
        "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 200, r.text
    after = current_path(index_copy)
    assert after is not None and after != before
    windows = json.loads((after / "windows.json").read_text())
    assert windows["method"] == json.loads((before / "windows.json").read_text())["method"]
    dense = json.loads((after / "manifest.json").read_text())["dense_index"]
    assert dense["type"] == "hnsw-sq8" and dense["recall_at_10"] >= 0.95
    assert _top(client)[0] == "ke-hoach-nuoi-ca-hoi"


def test_an_upload_that_would_mix_vector_kinds_is_refused(index_copy, make_client, admin_headers):
    """Windows switched off under an index whose chunk vectors come from the late pass: the
    new documents' vectors would be of another kind, so the upload asks for a rebuild and
    the previous version keeps serving."""
    import json

    before = current_path(index_copy)
    assert before is not None
    assert json.loads((before / "windows.json").read_text())["method"] == "late"
    client, _, _ = make_client(index_copy, dense_windows=False)
    r = client.post(
        "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "index_unavailable"
    assert "policy-search ingest" in r.json()["detail"]
    assert current_path(index_copy) == before
    assert client.get("/api/search", params={"q": "chất thải"}).status_code == 200
