"""The portal widget (web/static/widget.js) and the iframe page in a real browser.

Playwright drives Debian's Chromium as in test_browser.py (whose fixtures these tests share:
the app on loopback, a static "portal" on another port, so the widget always calls across
origins). Every failure is made for real: a server with a tiny rate limit answers 429, one
with a 1 ms request deadline answers 503 ``timeout``, a small proxy in front of the app
answers 502 without CORS headers as nginx does by default, and a port nobody listens on
plays a server that is down.
"""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_browser import (  # the shared browser fixtures; pytest finds them by name here
    REPO,
    Recorder,
    _free_port,
    _portal_page,
    _serving,
    browser,
    portal,
    server,
)

from policy_search.settings import Settings

__all__ = ["browser", "portal", "server"]

pytestmark = pytest.mark.slow

KEY = "widget-search-key-3e91"
QUERY = "tăng trưởng xanh"


@pytest.fixture(scope="module")
def limited(ask_index: Path, embedder, portal, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A server that needs a search key and gives it 3 searches a minute."""
    index = tmp_path_factory.mktemp("limited") / "index"
    shutil.copytree(ask_index, index, symlinks=True)
    settings = Settings(
        index_dir=index,
        cors_origins=[portal["allowed"]],
        search_keys=KEY,
        require_search_key=True,
        rate_limit_per_key=3,
        rate_limit_per_address=3,
    )
    with _serving(settings, embedder) as url:
        yield url


@pytest.fixture(scope="module")
def busy(ask_index: Path, embedder, portal) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A server whose every search runs past its deadline: 503 ``timeout``, Retry-After."""
    settings = Settings(
        index_dir=ask_index,
        cors_origins=[portal["allowed"]],
        rate_limit_per_address=0,
        request_timeout_s=0.001,
    )
    with _serving(settings, embedder) as url:
        yield url


class _Proxy(http.server.BaseHTTPRequestHandler):
    """Passes requests to the app; a query holding "proxy-502" gets nginx's bare 502 page (no
    CORS headers), one holding "nginx-502" the error page of deploy/nginx (with them)."""

    upstream = ""

    def do_GET(self) -> None:
        if "nginx-502" in self.path:
            # deploy/nginx: its own error page, with CORS headers for allowed origins.
            body = b'{"error": "upstream_unavailable", "detail": "the service did not answer"}'
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", ""))
            self.send_header("Access-Control-Expose-Headers", "Retry-After")
            self.send_header("Retry-After", "10")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "proxy-502" in self.path:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        keep = ("origin", "accept", "x-api-key")
        headers = {k: v for k, v in self.headers.items() if k.lower() in keep}
        r = httpx.get(self.upstream + self.path, headers=headers, timeout=60)
        self.send_response(r.status_code)
        for k, v in r.headers.items():
            if k.lower() not in (
                "content-length",
                "transfer-encoding",
                "connection",
                "content-encoding",
            ):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def proxy(server: str) -> Iterator[str]:
    handler = type("Proxy", (_Proxy,), {"upstream": server})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def ctx(browser) -> Iterator[tuple[Any, Recorder]]:  # type: ignore[no-untyped-def]
    """A browser context whose requests may go to loopback servers only (app, portal, the
    test's other servers), with no page error."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    rec = Recorder()
    rec.attach(context)
    yield context, rec
    context.close()
    outside = [
        u
        for u in rec.urls
        if urlsplit(u).hostname not in ("127.0.0.1", "localhost") and not u.startswith("data:")
    ]
    assert not outside, f"requests left the host: {outside}"
    assert not rec.errors, rec.errors


# A portal's page that records the widget's events for the test to read.
EVENTS = (
    "<script>window.__ev = [];"
    "for (const t of ['result', 'error']) document.addEventListener('policy-search:' + t, (e) => "
    "window.__ev.push({type: t, target: e.target.id, detail: JSON.parse(JSON.stringify(e.detail))}));"
    "</script>"
)


def _widget(portal: dict[str, Any], name: str, src: str, attrs: str = "", div: str = "") -> str:
    _portal_page(
        portal,
        name,
        EVENTS + f'<div id="policy-search">{div}</div>'
        f'<script src="{src}" data-target="#policy-search" {attrs}></script>',
    )
    return f"{portal['allowed']}/{name}"


def _sent(rec: Recorder, path: str) -> list[dict[str, list[str]]]:
    return rec.api(path)


def _events(page: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in page.evaluate("window.__ev") if e["type"] == kind]


def test_presets_and_locks_are_sent_and_locked_ones_are_not_controls(ctx, server, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = _widget(
        portal,
        "presets.html",
        f"{server}/widget.js",
        'data-province="Lào Cai" data-type="plan" data-issuer="" data-lock="province" '
        'data-mode="search"',
    )
    context, rec = ctx
    page = context.new_page()
    page.goto(url)
    w = page.locator("#policy-search")
    # Locked: the scope line, no control. Unlocked preset: a control holding it.
    expect(w.locator(".scope")).to_have_text("Phạm vi: Lào Cai")
    expect(w.locator("[name=province]")).to_have_count(0)
    expect(w.locator("select[name=type]")).to_have_value("plan")
    w.locator("input.q").fill(QUERY)
    w.locator("input.q").press("Enter")
    expect(w.locator(".card ol li").first).to_be_visible(timeout=60_000)
    sent = _sent(rec, "/api/search")[-1]
    assert sent["province"] == ["Lào Cai"] and sent["type"] == ["plan"], sent
    # Only the Lào Cai plan is a plan of Lào Cai.
    titles = w.locator(".card ol li a").all_inner_texts()
    assert titles and all("Lào Cai" in t for t in titles), titles

    # The visitor lifts the unlocked filter; the locked one is still sent.
    w.locator("select[name=type]").select_option("")
    w.locator("button[type=submit]").click()
    page.wait_for_function(
        "window.__ev.filter(e => e.type === 'result').length >= 2", timeout=60_000
    )
    sent = _sent(rec, "/api/search")[-1]
    assert sent["province"] == ["Lào Cai"] and "type" not in sent, sent
    # The API cannot unlock it either.
    page.evaluate(
        "PolicySearch.get(document.getElementById('policy-search')).setFilters({province: 'Trà Vinh'})"
    )
    page.evaluate(f"PolicySearch.get(document.getElementById('policy-search')).ask('{QUERY}')")
    expect(w.locator(".card .answer")).to_be_visible(timeout=60_000)
    page.wait_for_function(
        "window.__ev.filter(e => e.type === 'result').length >= 3", timeout=60_000
    )
    asked = _sent(rec, "/api/ask")[-1]
    assert asked["province"] == ["Lào Cai"], asked


def test_search_mode_pages_with_next_and_previous(ctx, server, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = _widget(portal, "paging.html", f"{server}/widget.js", 'data-k="4" data-lang="en"')
    context, rec = ctx
    page = context.new_page()
    page.goto(url)
    w = page.locator("#policy-search")
    w.locator(".modes button", has_text="Search documents").click()
    expect(w.locator(".modes button[aria-pressed=true]")).to_have_text("Search documents")
    w.locator("input.q").fill(QUERY)
    w.locator("button[type=submit]").click()
    expect(w.locator(".range")).to_contain_text("Results 1–4", timeout=60_000)
    first = w.locator(".card ol li a").all_inner_texts()
    expect(w.locator(".pager .prev")).to_have_count(0)
    w.locator(".pager .next").click()
    expect(w.locator(".range")).to_contain_text("Results 5–8", timeout=60_000)
    assert w.locator(".card ol").get_attribute("start") == "5"
    sent = _sent(rec, "/api/search")
    assert sent[-1]["offset"] == ["4"] and sent[-1]["k"] == ["4"], sent
    expected = httpx.get(server + "/api/search", params={"q": QUERY, "k": 4, "offset": 4}).json()
    assert w.locator(".card ol li a").count() == len(expected["results"])
    w.locator(".pager .prev").click()
    expect(w.locator(".range")).to_contain_text("Results 1–4", timeout=60_000)
    assert "offset" not in _sent(rec, "/api/search")[-1]
    assert w.locator(".card ol li a").all_inner_texts() == first


def test_events_and_js_api(ctx, server, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # No data-target: the page mounts the widget itself.
    _portal_page(
        portal,
        "api.html",
        EVENTS + '<div id="mine"></div>'
        f'<script src="{server}/widget.js"></script>'
        "<script>window.addEventListener('load', () => {"
        "  window.w = PolicySearch.mount(document.getElementById('mine'), "
        "    {mode: 'search', type: 'plan', lock: ['type'], k: 3});"
        "});</script>",
    )
    context, _ = ctx
    page = context.new_page()
    page.goto(f"{portal['allowed']}/api.html")
    page.wait_for_function("window.w !== undefined")
    total = page.evaluate(f"w.search('{QUERY}').then((r) => r.results.length)")
    assert total == 3
    expect(page.locator("#mine .card ol li")).to_have_count(3)
    got = _events(page, "result")
    assert len(got) == 1 and got[0]["target"] == "mine"
    d = got[0]["detail"]
    assert (d["mode"], d["query"], d["offset"], d["filters"]) == (
        "search",
        QUERY,
        0,
        {"type": "plan"},
    )
    assert len(d["response"]["results"]) == 3 and d["response"]["next_offset"] == 3

    answer = page.evaluate(
        "w.ask('Ai chủ trì quản lý chất thải đô thị?').then((r) => r.answer.text)"
    )
    assert "Sở" in answer
    assert _events(page, "result")[-1]["detail"]["mode"] == "ask"
    # A request the server refuses: the promise rejects with the same detail as the event.
    refused = page.evaluate("w.search('x'.repeat(5000)).then(() => null, (e) => e.detail)")
    assert refused["kind"] == "bad_request" and refused["status"] == 422
    assert _events(page, "error")[-1]["detail"] == refused


def test_key_header_then_429_names_the_wait_and_holds_the_button(ctx, limited, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = _widget(
        portal, "limited.html", f"{limited}/widget.js", f'data-key="{KEY}" data-mode="search"'
    )
    context, rec = ctx
    page = context.new_page()
    keys: list[str | None] = []
    retry: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("x-api-key"))
            if urlsplit(r.url).path == "/api/search" and r.method == "GET"
            else None
        ),
    )
    page.on(
        "response",
        lambda r: retry.append(r.headers.get("retry-after", "")) if r.status == 429 else None,
    )
    page.goto(url)
    w = page.locator("#policy-search")
    box = w.locator("input.q")
    for n in range(1, 6):  # 3 a minute: the 4th is refused
        box.fill(f"{QUERY} {n}")
        box.press("Enter")
        page.wait_for_function(f"window.__ev.length >= {n}", timeout=60_000)
        if _events(page, "error"):
            break
    err = _events(page, "error")
    assert err, "no 429 after 5 searches at 3 a minute"
    d = err[-1]["detail"]
    assert d["kind"] == "rate_limited" and d["status"] == 429, d
    assert retry and int(retry[-1]) == d["retryAfter"] > 0, (retry, d)
    assert keys and all(k == KEY for k in keys), keys
    msg = w.locator(".out .error")
    expect(msg).to_contain_text(re.compile(r"Hãy thử lại sau \d+ giây \(lúc \d\d:\d\d:\d\d\)"))
    shown = int(re.search(r"sau (\d+) giây", msg.inner_text()).group(1))  # type: ignore[union-attr]
    assert d["retryAfter"] - 3 <= shown <= d["retryAfter"]
    expect(w.locator("button[type=submit]")).to_be_disabled()
    # Pressing Enter while held sends nothing.
    before = len(_sent(rec, "/api/search"))
    box.press("Enter")
    page.wait_for_timeout(300)
    assert len(_sent(rec, "/api/search")) == before
    assert "POLICY_SEARCH" not in w.inner_text()
    # The wait is readable by the portal's own code too (CORS exposes Retry-After).
    seen = page.evaluate(
        f"fetch('{limited}/api/search?q=x', {{headers: {{'X-API-Key': '{KEY}'}}}})"
        ".then((r) => [r.status, r.headers.get('Retry-After')])"
    )
    assert seen[0] == 429 and int(seen[1]) > 0, seen


def test_503_busy_says_busy_not_unreachable(ctx, busy, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = _widget(portal, "busy.html", f"{busy}/widget.js", 'data-mode="search" data-lang="en"')
    context, _ = ctx
    page = context.new_page()
    page.goto(url)
    w = page.locator("#policy-search")
    w.locator("input.q").fill(QUERY)
    w.locator("input.q").press("Enter")
    msg = w.locator(".out .error")
    expect(msg).to_contain_text("The search service is busy. Try again in 1 s.", timeout=60_000)
    d = _events(page, "error")[-1]["detail"]
    assert (d["kind"], d["status"], d["error"], d["retryAfter"]) == ("busy", 503, "timeout", 1)
    assert "reached" not in w.inner_text()
    expect(w.locator(".out a")).to_have_attribute("href", f"{busy}/")


def test_proxy_502_without_cors_headers_is_a_gateway_error(ctx, proxy, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = _widget(portal, "proxy.html", f"{proxy}/widget.js", 'data-mode="search"')
    context, _ = ctx
    page = context.new_page()
    page.goto(url)
    w = page.locator("#policy-search")
    box = w.locator("input.q")
    box.fill(QUERY)  # through the proxy, fine
    box.press("Enter")
    expect(w.locator(".card ol li").first).to_be_visible(timeout=60_000)
    box.fill("proxy-502 chất thải")
    box.press("Enter")
    msg = w.locator(".out .error")
    expect(msg).to_contain_text("lỗi tại cổng kết nối", timeout=30_000)
    assert "POLICY_SEARCH_CORS_ORIGINS" not in w.inner_text()
    d = _events(page, "error")[-1]["detail"]
    assert (d["kind"], d["status"]) == ("proxy", 0), d
    # With CORS headers on the proxy's error page, the page reads its status and wait.
    box.fill("nginx-502 chất thải")
    box.press("Enter")
    expect(msg).to_contain_text("Hãy thử lại sau 10 giây.", timeout=30_000)
    d = _events(page, "error")[-1]["detail"]
    assert (d["kind"], d["status"], d["error"], d["retryAfter"]) == (
        "proxy",
        502,
        "upstream_unavailable",
        10,
    ), d
    expect(w.locator(".out a")).to_be_visible()


def test_server_down_at_load_shows_a_message_and_the_fallback_link(ctx, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    dead = f"http://127.0.0.1:{_free_port()}"
    fallback = f'<a href="{dead}/">Tra cứu văn bản chính sách</a>'
    # widget.js copied onto the portal (or cached), the service itself down.
    shutil.copy(REPO / "web/static/widget.js", portal["root"] / "widget.js")
    url = _widget(portal, "down.html", "/widget.js", f'data-api="{dead}"', div=fallback)
    context, _ = ctx
    page = context.new_page()
    page.goto(url)
    w = page.locator("#policy-search")
    expect(w.locator(".out .error")).to_have_text(
        "Hiện không kết nối được với dịch vụ tra cứu.", timeout=30_000
    )
    expect(w.locator(".out a")).to_have_attribute("href", f"{dead}/")
    assert _events(page, "error")[0]["detail"]["kind"] == "down"

    # widget.js itself cannot load: the documented link inside the <div> is what shows.
    url = _widget(portal, "noscript.html", f"{dead}/widget.js", div=fallback)
    page = context.new_page()
    page.goto(url)
    link = page.locator("#policy-search > a")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"{dead}/")


def test_refused_origin_tells_the_console_not_the_public(ctx, server, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    _widget(portal, "refused.html", f"{server}/widget.js")
    context, rec = ctx
    page = context.new_page()
    # localhost is not in the server's CORS list; 127.0.0.1 is.
    page.goto(f"http://localhost:{portal['port']}/refused.html")
    out = page.locator("#policy-search .out")
    # At load, before anything is typed.
    expect(out).to_contain_text("Tra cứu hiện chưa dùng được trên trang này.", timeout=30_000)
    assert "POLICY_SEARCH" not in out.inner_text()
    assert any(
        "POLICY_SEARCH_CORS_ORIGINS" in m and f"http://localhost:{portal['port']}" in m
        for m in rec.console
        if m.startswith("error")
    ), rec.console


def test_embed_page_presets_lock_and_events(ctx, server, portal) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    _portal_page(
        portal,
        "frame-lock.html",
        f'<iframe id="ps" src="{server}/embed?province=L%C3%A0o%20Cai&type=plan&lock=province&lang=vi" '
        'title="Tra cứu" style="width:100%;height:300px;border:0"></iframe>'
        f'<script src="{server}/embed-resize.js"></script>'
        "<script>window.__ev = []; document.getElementById('ps').addEventListener("
        "'policy-search:result', (e) => window.__ev.push({type: 'result', target: e.target.id, "
        "detail: JSON.parse(JSON.stringify(e.detail))}));</script>",
    )
    context, rec = ctx
    page = context.new_page()
    page.goto(f"{portal['allowed']}/frame-lock.html")
    frame = page.frame_locator("#ps")
    expect(frame.locator("#f-province")).to_be_hidden()
    expect(frame.locator("#scope")).to_contain_text("Lào Cai", timeout=30_000)
    expect(frame.locator("#f-type")).to_have_value("plan")
    frame.locator("#q").fill(QUERY)
    frame.locator("#q").press("Enter")
    expect(frame.locator("#groups .group").first).to_be_visible(timeout=60_000)

    def results_sent() -> dict[str, list[str]]:
        # The results' search, not a menu's count of the other choices (k=1, without the
        # filter whose values it counts).
        return [x for x in _sent(rec, "/api/search") if x.get("k") != ["1"]][-1]

    sent = results_sent()
    assert sent["province"] == ["Lào Cai"] and sent["type"] == ["plan"], sent
    # "Clear filters" clears what the visitor may change, never the lock.
    frame.locator("#clear").click()
    page.wait_for_function(
        "window.__ev.some((e) => e.detail.mode === 'search' && !('type' in e.detail.filters))",
        timeout=60_000,
    )
    sent = results_sent()
    assert sent["province"] == ["Lào Cai"] and "type" not in sent, sent
    d = [e for e in page.evaluate("window.__ev") if e["detail"]["mode"] == "search"][-1]
    assert d["target"] == "ps" and d["detail"]["query"] == QUERY
    assert d["detail"]["filters"] == {"province": "Lào Cai"}
    assert isinstance(d["detail"]["total"], int) and d["detail"]["results"] > 0
    qs = parse_qs(urlsplit(frame.locator("body").evaluate("() => location.href")).query)
    assert qs["lock"] == ["province"]
