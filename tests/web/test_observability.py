"""/metrics, JSON logs with request ids, the audit line, HEAD, and no server path in a reply.

Real apps over real index copies; /metrics is read by prometheus-client's own
text parser and the log lines by ``json.loads``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from index.store import current_path
from web.requestlog import JsonFormatter

TOPIC = "Kế hoạch nuôi cá hồi.txt"
TOPIC_TEXT = (
    "Kế hoạch phát triển nghề nuôi cá hồi vân ở thị xã Sa Pa năm 2026. "
    "Sở Nông nghiệp và Môi trường chủ trì hướng dẫn kỹ thuật nuôi cá nước lạnh."
)


def _files(*items: tuple[str, bytes]) -> list:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and labels, as the Prometheus text parser reads it."""
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_route_templates_behind_a_trusted_proxy(index_copy, make_client, log_lines):
    """A proxied request (its client rewritten from X-Forwarded-For) is counted and logged
    under its route template, for routes of included routers too, not as ``unmatched``."""
    client, _, _ = make_client(index_copy, client_addr="10.0.0.5", trusted_proxies="10.0.0.0/8")
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    doc_id = client.get("/api/documents", headers=proxied).json()["documents"][0]["doc_id"]
    before = scrape(client)
    assert client.get(f"/api/documents/{doc_id}", headers=proxied).status_code == 200
    assert client.head(f"/api/documents/{doc_id}", headers=proxied).status_code == 200
    after = scrape(client)
    for method in ("GET", "HEAD"):
        route = {"route": "/api/documents/{doc_id}", "method": method, "status": "200"}
        name = "policy_search_http_requests_total"
        assert value(after, name, **route) - value(before, name, **route) == 1, method
    access = [
        line
        for line in parsed(log_lines)
        if line.get("event") == "access" and line["path"].endswith(doc_id)
    ]
    assert [line["route"] for line in access] == ["/api/documents/{doc_id}"] * 2
    assert [line["client"] for line in access] == ["203.0.113.9"] * 2


def test_refusals_before_routing_keep_their_route_template(index_copy, make_client):
    """A 429 (refused before the router runs) on a route of an included router is counted
    under that route's template, not as ``unmatched``."""
    client, _, _ = make_client(index_copy, rate_limit_per_address=1)
    before = scrape(client)
    codes = [client.get("/api/documents/no-such-document").status_code for _ in range(2)]
    assert codes == [404, 429]
    after = scrape(client)
    name = "policy_search_http_requests_total"
    route = {"route": "/api/documents/{doc_id}", "method": "GET", "status": "429"}
    assert value(after, name, **route) - value(before, name, **route) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "429"}
    assert value(after, name, **unmatched) == value(before, name, **unmatched)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the server logs (every ``policy-search`` logger), formatted as the server does."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("policy-search")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_metrics_move_with_real_requests(index_copy, make_client, admin_headers):
    client, _, _ = make_client(index_copy, max_concurrent_searches=1, admission_queue=0)
    health = client.get("/api/health").json()
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/search", params={"q": "chất thải rắn", "k": 3}).status_code == 200
    assert client.get("/api/documents/no-such-document").status_code == 404
    assert client.get("/no/such/route/at/all").status_code == 404
    after = scrape(client)

    route = {"route": "/api/search", "method": "GET", "status": "200"}
    assert (
        value(after, "policy_search_http_requests_total", **route)
        - value(before, "policy_search_http_requests_total", **route)
        == 3
    )
    count = "policy_search_http_request_duration_seconds_count"
    labels = {"route": "/api/search", "method": "GET"}
    assert value(after, count, **labels) - value(before, count, **labels) == 3
    # Route templates, not raw paths: a scan of random paths adds no label.
    doc_route = {"route": "/api/documents/{doc_id}", "method": "GET", "status": "404"}
    assert value(after, "policy_search_http_requests_total", **doc_route) >= 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "policy_search_http_requests_total", **unmatched) >= 1
    assert not any("no/such" in str(labels) for _, labels in after)
    # The same query three times: embedded once, then found in the cache.
    hits = "policy_search_query_cache_hits_total"
    assert value(after, hits) - value(before, hits) >= 2
    # The three searches and the document lookup ran in the search pool.
    assert (
        value(after, "policy_search_admission_admitted_total", pool="search")
        - value(before, "policy_search_admission_admitted_total", pool="search")
        == 4
    )
    assert value(after, "policy_search_admission_slots", pool="search") >= 1
    # The index served, and its size.
    assert value(after, "policy_search_index_documents") == health["documents"]
    assert value(after, "policy_search_index_chunks") == health["chunks"]
    assert value(after, "policy_search_index_version_info", version=health["index_version"]) == 1

    # Refusals: one slot, no queue, eight searches at once.
    before = scrape(client)
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda i: client.get("/api/search", params={"q": f"quy hoạch đô thị {i}"}),
                range(8),
            )
        )
    overloaded = sum(r.status_code == 503 and r.json()["error"] == "overloaded" for r in replies)
    assert overloaded >= 1
    after = scrape(client)
    refused = "policy_search_admission_refused_total"
    assert value(after, refused, pool="search") - value(before, refused, pool="search") == (
        overloaded
    )
    status_503 = {"route": "/api/search", "method": "GET", "status": "503"}
    assert (
        value(after, "policy_search_http_requests_total", **status_503)
        - value(before, "policy_search_http_requests_total", **status_503)
        == overloaded
    )

    # A build: its stages are timed.
    r = client.post(
        "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 200, r.text
    final = scrape(client)
    assert (
        value(final, "policy_search_ingest_builds_total")
        - value(after, "policy_search_ingest_builds_total")
        == 1
    )
    for stage in ("extract", "chunk", "embed", "index", "write"):
        key = "policy_search_ingest_stage_seconds_count"
        assert value(final, key, stage=stage) - value(after, key, stage=stage) == 1, stage
    assert value(final, "policy_search_index_documents") == r.json()["documents"]
    assert value(final, "policy_search_index_version_info", version=r.json()["index_version"]) == 1
    assert value(final, "policy_search_index_version_info", version=health["index_version"]) == 0


def test_metrics_can_require_an_admin_key(index_copy, make_client, admin_headers, api_keys):
    client, _, _ = make_client(index_copy, metrics_key_required=True)
    assert client.get("/metrics").status_code == 401
    search_key = {"Authorization": f"Bearer {api_keys['search']}"}
    assert client.get("/metrics", headers=search_key).status_code == 401
    r = client.get("/metrics", headers=admin_headers)
    assert r.status_code == 200 and "policy_search_http_requests_total" in r.text


def test_logs_are_json_lines_with_request_ids(index_copy, make_client, log_lines, api_keys):
    client, _, _ = make_client(index_copy)
    given = client.get(
        "/api/search", params={"q": "chất thải"}, headers={"X-Request-ID": "portal-42"}
    )
    assert given.status_code == 200
    assert given.headers["x-request-id"] == "portal-42"
    first = client.get("/api/health").headers["x-request-id"]
    second = client.get("/api/health").headers["x-request-id"]
    assert first != second and len(first) == 32 and int(first, 16) >= 0
    # An id that could forge a log line is replaced, not echoed.
    odd = client.get("/api/health", headers={"X-Request-ID": 'x" "level": "error'})
    assert odd.headers["x-request-id"] != 'x" "level": "error'

    lines = parsed(log_lines)
    access = [line for line in lines if line.get("event") == "access"]
    by_id = {line["request_id"]: line for line in access}
    line = by_id["portal-42"]
    assert line["route"] == "/api/search" and line["status"] == 200 and line["method"] == "GET"
    assert line["level"] == "info" and line["logger"] == "policy-search.access"
    assert "q=" in line["query"] and line["client"] == "testclient"
    assert first in by_id and second in by_id
    assert odd.headers["x-request-id"] in by_id


def test_no_key_in_any_log_line(index_copy, make_client, log_lines, api_keys, admin_headers):
    client, _, _ = make_client(index_copy, require_search_key=True)
    secret = api_keys["search"]
    r = client.get("/api/search", params={"q": "chất thải", "api_key": secret})
    assert r.status_code == 401, r.text  # refused (a key goes in a header) ...
    client.get("/api/health", params={"token": "tok-9f8e7d", "apikey": "ak-1a2b3c"})
    for header in ({"Authorization": f"Bearer {secret}"}, {"X-API-Key": secret}):
        assert client.get("/api/search", params={"q": "đất"}, headers=header).status_code == 200
    client.delete("/api/documents/none", headers=admin_headers)
    lines = parsed(log_lines)  # ... and logged, with the key's value redacted
    text = log_lines.getvalue()
    for leaked in (secret, "tok-9f8e7d", "ak-1a2b3c", *api_keys["admin"]):
        assert leaked not in text
    refused = [
        line
        for line in lines
        if line.get("event") == "access" and "api_key" in line.get("query", "")
    ]
    assert refused and "api_key=[redacted]" in refused[0]["query"]


def test_an_audit_line_for_every_write(index_copy, make_client, log_lines, api_keys, admin_headers):
    client, _, _ = make_client(index_copy)
    admin = api_keys["admin"][0]
    key_id = hashlib.sha256(admin.encode()).hexdigest()[:16]
    r = client.post(
        "/api/documents",
        files=_files((TOPIC, TOPIC_TEXT.encode()), ("x.exe", b"MZ\x90")),
        headers={**admin_headers, "X-Request-ID": "upload-1"},
    )
    assert r.status_code == 200, r.text
    doc_id = next(f["doc_id"] for f in r.json()["files"] if f["status"] == "added")
    assert client.delete(f"/api/documents/{doc_id}", headers=admin_headers).status_code == 200
    bad = client.post(
        "/api/documents", files=_files((TOPIC, b"x")), headers={"X-API-Key": "not-a-key-77"}
    )
    assert bad.status_code == 401
    no_key = client.delete(f"/api/documents/{doc_id}")
    assert no_key.status_code == 401

    audit = [line for line in parsed(log_lines) if line.get("event") == "audit"]
    assert [a["action"] for a in audit] == ["upload", "delete", "upload", "delete"]
    upload, delete, refused, anonymous = audit
    assert upload["request_id"] == "upload-1" and upload["logger"] == "policy-search.audit"
    assert upload["key_id"] == key_id and upload["status"] == 200 and upload["result"] == "ok"
    assert {(f["filename"], f["status"]) for f in upload["files"]} == {
        (TOPIC, "added"),
        ("x.exe", "rejected"),
    }
    assert upload["index_version"] == r.json()["index_version"]
    assert delete["doc_id"] == doc_id and delete["key_id"] == key_id and delete["result"] == "ok"
    bad_id = hashlib.sha256(b"not-a-key-77").hexdigest()[:16]
    assert refused["key_id"] == bad_id and refused["status"] == 401
    assert refused["result"] == "unauthorized"
    assert anonymous["key_id"] is None and anonymous["status"] == 401
    assert admin not in log_lines.getvalue() and "not-a-key-77" not in log_lines.getvalue()


def test_personal_data_can_be_left_out_of_the_logs(
    index_copy, make_client, log_lines, admin_headers
):
    client, _, _ = make_client(index_copy, log_personal_data=False)
    client.get("/api/search", params={"q": "nuôi cá hồi Sa Pa", "k": 2})
    client.get("/api/ask", params={"q": "ai chủ trì nuôi cá hồi"})
    client.delete("/api/documents/none", headers=admin_headers)
    text = log_lines.getvalue()
    lines = parsed(log_lines)
    assert "Sa Pa" not in text and "Sa+Pa" not in text and "c%C3%A1" not in text
    assert "chủ trì" not in text and "testclient" not in text
    search = next(line for line in lines if line.get("route") == "/api/search")
    assert search["query"] == "q=[redacted]&k=[redacted]"
    assert not any("client" in line for line in lines)


def _sample_path(path: str, doc_id: str) -> str:
    return (
        path.replace("{doc_id}", doc_id)
        .replace("{doc_id:path}", doc_id)
        .replace("{path:path}", "widget.js")
        .replace("{path}", "widget.js")
        .replace("{task_id}", "0" * 32)
    )


def test_head_works_wherever_get_does(index_copy, make_client):
    client, _, _ = make_client(index_copy)
    doc_id = client.get("/api/search", params={"q": "chất thải"}).json()["results"][0]["doc_id"]
    paths = set()

    def walk(routes: list) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                walk(route.original_router.routes)
            elif "GET" in (getattr(route, "methods", None) or set()):
                paths.add(_sample_path(route.path, doc_id))

    walk(client.app.routes)
    assert "/api/health" in paths and "/metrics" in paths and len(paths) >= 10
    for path in sorted(paths):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code, path
        assert head.status_code != 405, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        if "content-length" in head.headers and path != "/metrics":
            assert head.headers["content-length"] == get.headers["content-length"], path
    assert client.head("/api/health").status_code == 200


def test_no_server_path_in_health_when_current_points_outside(index_copy, make_client, tmp_path):
    client, _, _ = make_client(index_copy)
    version = current_path(index_copy)
    assert version is not None
    elsewhere = tmp_path / "elsewhere" / "secret-place"
    elsewhere.mkdir(parents=True)
    link = index_copy / "current"
    # Outside the index, and not a version.
    os.remove(link)
    os.symlink(elsewhere, link)
    r = client.get("/api/health")
    assert r.status_code == 503, r.text
    assert str(tmp_path) not in r.text and "secret-place" not in r.text
    assert "POLICY_SEARCH_INDEX_DIR" in r.text or "[a server path]" in r.text
    # Outside the index, missing.
    os.remove(link)
    os.symlink(tmp_path / "gone" / "v1", link)
    r = client.get("/api/health")
    assert r.status_code == 503 and str(tmp_path) not in r.text, r.text
    # Outside the index, a whole version: served, and still no path.
    shutil.copytree(version, elsewhere / "v-copy")
    os.remove(link)
    os.symlink(elsewhere / "v-copy", link)
    r = client.get("/api/health")
    assert r.status_code == 200, r.text
    assert str(tmp_path) not in r.text and "/" not in json.dumps(r.json()["index_version"])


def test_index_error_keeps_the_path_for_the_operator(tmp_path: Path, make_client, log_lines):
    client, _, _ = make_client(tmp_path / "empty-index")
    r = client.get("/api/health")
    assert r.status_code == 503 and str(tmp_path) not in r.text
    assert "no index at POLICY_SEARCH_INDEX_DIR" in r.json()["detail"]
    assert str(tmp_path) in log_lines.getvalue()


def test_workers_share_a_fresh_metrics_folder(tmp_path: Path, monkeypatch):
    from web.metrics import MULTIPROC_ENV, prepare_workers, remove_worker_folder

    # Recorded first, so that teardown puts back what was there before prepare_workers set it.
    monkeypatch.setenv(MULTIPROC_ENV, "")
    monkeypatch.delenv(MULTIPROC_ENV)
    assert prepare_workers(1) is None and MULTIPROC_ENV not in os.environ
    made = prepare_workers(2)
    assert made is not None and made.is_dir() and os.environ[MULTIPROC_ENV] == str(made)
    remove_worker_folder(made)
    assert not made.exists()
    # An operator's folder is kept but emptied of an earlier run's values.
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old")
    (given / "notes.txt").write_text("kept")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    assert prepare_workers(2) == given
    assert sorted(p.name for p in given.iterdir()) == ["notes.txt"]
    remove_worker_folder(given)
    assert given.exists()
