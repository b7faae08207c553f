"""An unknown address: a page for a browser, the API's JSON error for any other client."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from policy_search.settings import Settings
from web.app import create_app

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _client(tmp_path: Path) -> TestClient:
    # No index is needed to route a request (the app starts without one).
    return TestClient(create_app(Settings(index_dir=tmp_path / "index")))


def test_a_browser_gets_a_404_page_under_the_page_csp(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path in ("/khong-co", "/doc", "/static/khong-co.js", "/admin/x"):
        r = client.get(path, headers={"Accept": BROWSER_ACCEPT})
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert "Không tìm thấy trang này" in r.text and 'href="/"' in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "<script" not in r.text


def test_api_clients_and_api_paths_keep_the_json_error(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path, accept in (
        ("/khong-co", "*/*"),
        ("/khong-co", "application/json"),
        ("/api/khong-co", BROWSER_ACCEPT),
    ):
        r = client.get(path, headers={"Accept": accept})
        assert r.status_code == 404, (path, accept)
        assert r.json()["error"] == "not_found", (path, accept)
    # Other errors are untouched: a wrong method is still the API's 405.
    r = client.post("/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
