"""Security headers, and document text that looks like script staying inert."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from policy_search.settings import Settings
from web.security import install_security

INJECTION = "<script>alert('chèn mã')</script><img src=x onerror=alert(1)>"


def _html_paths(app) -> list[str]:
    """Every parameter-free GET route of the app, plus a document page if there is one."""
    paths = []
    routes = list(app.routes)
    # Included routers (FastAPI >= 0.16x keeps them as one entry each): walk into them.
    routes += [
        r
        for inc in app.routes
        if hasattr(inc, "original_router")
        for r in inc.original_router.routes
    ]
    for route in routes:
        path = getattr(route, "path", "")
        if "GET" in (getattr(route, "methods", None) or ()) and "{" not in path:
            paths.append(path)
        elif path.startswith("/doc/{"):
            paths.append("/doc/injected-doc")
    return paths


def test_strict_csp_on_pages_and_framing_only_where_configured(tmp_path):
    app = FastAPI()
    page = "<!doctype html><title>t</title><script src='/static/app.js'></script>"

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return page

    @app.get("/embed", response_class=HTMLResponse)
    def embed() -> str:
        return page

    install_security(app, Settings(index_dir=tmp_path, cors_origins=["https://portal.gov.vn"]))
    client = TestClient(app)
    home_h = client.get("/").headers
    csp = home_h["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src == "'self'"  # no 'unsafe-inline': inline script cannot run
    assert "frame-ancestors 'none'" in csp and home_h["x-frame-options"] == "DENY"
    assert home_h["x-content-type-options"] == "nosniff"
    embed_h = client.get("/embed").headers
    assert "frame-ancestors 'self' https://portal.gov.vn" in embed_h["content-security-policy"]
    assert "x-frame-options" not in embed_h  # the portal may frame the widget page


def test_every_html_page_of_the_app_has_a_csp_and_no_document_text(
    index_copy, make_client, admin_headers
):
    client, _, _ = make_client(index_copy)
    r = client.post(
        "/api/documents",
        files=[("files", ("injected-doc.txt", f"Văn bản thử. {INJECTION}".encode(), "text/plain"))],
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    # The API hands the text back as JSON data, which browsers never render as a page.
    r = client.get("/api/search", params={"q": "văn bản thử alert chèn mã", "k": 10})
    hit = [x for x in r.json()["results"] if x["doc_id"] == "injected-doc"]
    assert hit and INJECTION in hit[0]["text"]
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    pages = 0
    for path in _html_paths(client.app):
        r = client.get(path)
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        pages += 1
        csp = r.headers["content-security-policy"]
        assert "object-src 'none'" in csp and "frame-ancestors" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "alert(" not in r.text, path  # document text is never put into HTML
    assert pages >= 1  # /docs at least
