"""The budget headers as a portal's page sees them: Chromium, another origin, real fetch.

Cross-origin, a page can read only the response headers CORS exposes; this checks that
``RateLimit``, ``RateLimit-Policy`` and ``Retry-After`` are among them, from a page served
by a second local server (the portal), against the app on a real uvicorn server.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("POLICY_SEARCH_CHROMIUM", "/usr/bin/chromium"))
PLAN = "004_0ae3777ec9422ce6"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
    """A static site on another port: the portal's origin."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng</title>'
        "</head><body><h1>Cổng thông tin tỉnh</h1></body></html>",
        encoding="utf-8",
    )
    port = _free_port()
    handler = lambda *a, **kw: _Quiet(*a, directory=str(tmp_path), **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


@pytest.fixture
def api(corpus_index: Path, embedder, portal: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    settings = Settings(index_dir=corpus_index, cors_origins=[portal], rate_limit_per_address=3)
    app = create_app(settings, SearchEngine(settings, embedder))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_a_portal_page_reads_its_budget_and_the_wait(portal: str, api: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (run scripts/install-browser.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(f"{portal}/index.html")
            seen = page.evaluate(
                """async (url) => {
                    const out = [];
                    for (let i = 0; i < 4; i++) {
                        const r = await fetch(url);
                        out.push({
                            status: r.status,
                            policy: r.headers.get("RateLimit-Policy"),
                            budget: r.headers.get("RateLimit"),
                            retry: r.headers.get("Retry-After"),
                        });
                    }
                    return out;
                }""",
                f"{api}/api/documents/{PLAN}",
            )
        finally:
            browser.close()
    assert [s["status"] for s in seen] == [200, 200, 200, 429], seen
    assert all(s["policy"] == '"address";q=3;w=60' for s in seen), seen
    assert [s["budget"].split(";")[1] for s in seen] == ["r=2", "r=1", "r=0", "r=0"], seen
    assert seen[0]["retry"] is None and 1 <= int(seen[3]["retry"]) <= 20, seen
