"""The web page in a real browser: Playwright driving Debian's Chromium, headless.

Chromium comes from `scripts/install-browser.sh` (apt-get install chromium);
Playwright's own browser download is never used. Screenshots go to
artifacts/ at the repository root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("POLICY_SEARCH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(ask_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(ask_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: Chromium could not be installed here "
            "(run scripts/install-browser.sh)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def test_ask_see_answer_open_citation_toggle_english(server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    # Keyboard only: "/" focuses the box, Enter submits.
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("Ai chủ trì quản lý chất thải đô thị?")
    page.keyboard.press("Enter")

    card = page.locator("#answer")
    expect(card).to_be_visible(timeout=60_000)
    expect(page.locator("#answer-text")).to_contain_text("Sở Tài nguyên và Môi trường")
    expect(page.locator("#answer-text")).to_contain_text("Sở Xây dựng")
    citation = page.locator("#citations a.citation").first
    expect(citation).to_be_visible()
    expect(page.locator("#passages mark").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "answer-vi.png"), full_page=True)

    # Open the cited passage: the document view shows it highlighted.
    citation.focus()
    page.keyboard.press("Enter")
    first_cited = page.locator("#doc-body .cited").first
    expect(first_cited).to_be_visible(timeout=30_000)
    expect(first_cited).to_be_focused()
    cited = page.locator("#doc-body .cited", has_text="quản lý chất thải đô thị")
    expect(cited).to_be_visible()
    assert "/doc/004_0ae3777ec9422ce6#p" in page.url
    expect(page.locator("#related-list li").first).to_be_visible()

    # English toggle relabels the page.
    page.locator("#lang").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#back")).to_have_text("← Back to results")
    expect(page.locator("#lang")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#related-list")).to_contain_text("shared topics")
    cited.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "document-en.png"))

    page.locator("#back").click()
    expect(page.locator("#answer-h")).to_have_text("Answer")
    expect(page.locator("#answer-text")).to_contain_text("Sở Tài nguyên và Môi trường")
    assert not errors, errors
    page.close()


def test_no_answer_and_document_markup_shown_as_text(server, browser) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(server + "/?q=" + "kiểm thử hiển thị an toàn script")
    expect(page.locator("#passages li").first).to_be_visible(timeout=60_000)
    hostile = page.locator("#passages li", has_text="<script>")
    expect(hostile.first).to_be_visible()
    expect(hostile.first).to_contain_text('onerror="window.__pwned = 2"')
    hostile.first.locator("h3 a").click()
    expect(page.locator("#doc-body")).to_contain_text("<script>window.__pwned = 1</script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#doc-body script, #doc-body img, #passages img").count() == 0

    page.goto(server + "/?q=" + "cách nấu phở bò ngon")
    expect(page.locator("#answer.none")).to_be_visible(timeout=60_000)
    expect(page.locator("#answer-text")).to_contain_text("Không tìm thấy câu trả lời")
    expect(page.locator("#passages li").first).to_be_visible()
    # Phone-sized: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "no-answer-phone.png"), full_page=True)
    page.close()


def test_embed_page_and_widget(server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server + "/embed?q=who%20leads%20urban%20waste%20management%3F&lang=en")
    expect(page.locator("#answer-text")).to_contain_text(
        "Lead: Sở Tài nguyên và Môi trường", timeout=60_000
    )
    expect(page.locator(".top")).to_be_hidden()
    # The widget on a page of the same server (a portal elsewhere needs CORS, tested in the API).
    page.goto(server + "/static/widget-demo.html")
    box = page.locator("#policy-search input")
    box.fill("Ai chủ trì quản lý chất thải đô thị?")
    box.press("Enter")
    expect(page.locator("#policy-search .card")).to_contain_text(
        "Sở Tài nguyên và Môi trường", timeout=60_000
    )
    page.close()
