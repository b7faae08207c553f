"""The page on real official documents (issue 24), in Chromium, with axe-core.

The index holds the corpus and the real official documents of ../shared/eval/admindocs
(skipped when that folder is absent). The server serves documents in parts of at most
``PART_BLOCKS`` blocks, so that several of them are longer than one part, as a 559-block
decision is under the default cap. Browser, recorder and axe as in test_browser.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_browser import AXE, Recorder, _serving, _shot, browser  # the shared browser fixture

from index.build import build_index
from ingest.reasons import REASONS
from ingest.text import fold
from policy_search.settings import Settings
from web.errors import ERROR_CODES

__all__ = ["browser"]

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ADMINDOCS = REPO.parent / "shared" / "eval" / "admindocs" / "docs"
CORPUS = REPO / "corpus"
PART_BLOCKS = 40
ADMIN_KEY = "page-official-admin-key-91c3"
UPLOAD_LIMIT = 64 * 1024
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def official_docs_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    if not ADMINDOCS.is_dir():
        pytest.skip(f"{ADMINDOCS} is not here (the shared evaluation data)")
    docs = tmp_path_factory.mktemp("admindocs")
    for folder in (ADMINDOCS, CORPUS):
        for f in folder.iterdir():
            shutil.copy(f, docs / f.name)
    index_dir = tmp_path_factory.mktemp("admindocs-index") / "index"
    build_index([docs], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="module")
def server(official_docs_index: Path, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = Settings(
        index_dir=official_docs_index,
        admin_keys=ADMIN_KEY,
        rate_limit_per_address=0,
        rate_limit_per_key=0,
        max_document_part_blocks=PART_BLOCKS,
        max_upload_bytes=UPLOAD_LIMIT,
    )
    with _serving(settings, embedder) as url:
        yield url


@pytest.fixture
def page(browser, server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page whose context may run axe (it bypasses the CSP for that one inline script);
    no request may leave the server, no script error may happen."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="vi-VN", bypass_csp=True
    )
    rec = Recorder()
    rec.attach(context)
    p = context.new_page()
    p.recorder = rec
    yield p
    context.close()
    outside = [u for u in rec.urls if not u.startswith((server, "data:", "blob:"))]
    assert not outside, outside
    assert not rec.errors, rec.errors


def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations of the page as it is now."""
    if not AXE.exists():
        pytest.skip(f"{AXE} not found: run scripts/install-browser.sh (npm axe-core)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _get(url: str, **kw: Any) -> httpx.Response:
    # The machine is shared: an ask may take seconds while other work runs.
    return httpx.get(url, timeout=120, **kw)


def _documents(server: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = _get(server + "/api/documents").json()["documents"]
    return docs


def _part(server: str, doc_id: str, **params: Any) -> dict[str, Any]:
    r = _get(server + f"/api/documents/{doc_id}", params=params)
    r.raise_for_status()
    part: dict[str, Any] = r.json()
    return part


def _longest(server: str) -> tuple[str, int]:
    """The official document with the most blocks, and that count."""
    sizes = {
        d["doc_id"]: _part(server, d["doc_id"], limit=1)["part"]["total_blocks"]
        for d in _documents(server)
        if d["number"]
    }
    doc_id = max(sizes, key=lambda k: sizes[k])
    return doc_id, sizes[doc_id]


# --- the official document view -----------------------------------------------------------


def test_header_card_shows_the_labelled_header_and_the_outline_links_articles(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    docs = [d for d in _documents(server) if d["number"] and d["signer"] and d["issuer"]]
    assert len(docs) >= 10, [d["doc_id"] for d in _documents(server)]
    for d in docs[:4]:
        page.goto(server + f"/doc/{d['doc_id']}")
        card = page.locator("#doc-header")
        expect(card).to_be_visible(timeout=30_000)
        rows = dict(
            zip(
                card.locator("dt").all_inner_texts(),
                card.locator("dd").all_inner_texts(),
                strict=True,
            )
        )
        assert rows["Số, ký hiệu"] == d["number"], rows
        assert rows["Cơ quan ban hành"] == d["issuer"], rows
        assert d["signer"] in rows["Người ký"], rows
        if d["date"]:
            y, m, day = d["date"].split("-")
            assert f"{day}/{m}/{y}" in rows["Nơi, ngày ban hành"], rows
        if d["issuer_parent"]:
            assert rows["Cơ quan cấp trên"] == d["issuer_parent"], rows
        if d["bases"]:
            assert card.locator(".h-bases li").count() == len(d["bases"])

    # A decision's articles (Điều 1, Điều 2 …) in the outline; a link moves to its text.
    decision = next(
        d
        for d in docs
        if d["document_type"] == "Quyết định"
        and any(b["text"].startswith("Điều 2") for b in _part(server, d["doc_id"])["blocks"])
    )
    page.goto(server + f"/doc/{decision['doc_id']}")
    outline = page.locator("#doc-outline")
    expect(outline).to_be_visible(timeout=30_000)
    links = outline.locator("a.outline-link")
    labels = links.all_inner_texts()
    assert any(re.match(r"Điều 2\b", x) for x in labels), labels
    second = next(i for i, x in enumerate(labels) if re.match(r"Điều 2\b", x))
    links.nth(second).click()
    target = page.locator(links.nth(second).get_attribute("href") or "")
    expect(target).to_be_focused()
    assert target.inner_text().startswith("Điều 2")
    assert "#b" not in page.url  # the URL still names the document, not a block
    _shot(page, "official-document")
    assert not _axe(page)


def test_a_document_longer_than_one_part_reads_to_its_last_block(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    doc_id, total = _longest(server)
    assert total > 2 * PART_BLOCKS, (doc_id, total)
    last = _part(server, doc_id, start=total - 1)["blocks"][-1]["text"]
    page.goto(server + f"/doc/{doc_id}")
    notice = page.locator("#doc-part")
    expect(notice).to_contain_text(re.compile(r"Phần 1 / \d+"), timeout=30_000)
    shown = page.locator("#doc-body [data-block]")
    assert shown.count() <= PART_BLOCKS
    # Scrolling down loads the next parts, one at a time, to the end.
    for _ in range(total // PART_BLOCKS + 5):
        if "Đã hiện hết" in notice.inner_text():
            break
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(300)
    expect(notice).to_have_text(f"Đã hiện hết {total} đoạn của văn bản.")
    expect(page.locator("#doc-next")).to_be_hidden()
    numbers = [int(x) for x in shown.evaluate_all("els => els.map(e => e.dataset.block)")]
    titles = _part(server, doc_id)["blocks"][0]["heading_level"] == 0
    # Every block once, in order (the title block is the page's heading).
    assert numbers == list(range(1 if titles else 0, total)), numbers[:5]
    assert shown.last.inner_text().strip() == last.strip()


def test_a_link_into_a_later_part_and_a_passage_past_the_end(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    doc_id, total = _longest(server)
    # The last passage of the document: its closing blocks (signature, recipients) belong to
    # none, so it is read from the last part's blocks, past the first part.
    tail = _part(server, doc_id, start=max(total - PART_BLOCKS, PART_BLOCKS))
    ordinal = max(
        [o for block in tail["blocks"] for o in block["passages"]]
        or [p["ordinal"] for p in tail["passages"]]
    )
    page.goto(server + f"/doc/{doc_id}#p{ordinal}")
    cited = page.locator("#doc-body .cited").first
    expect(cited).to_be_focused(timeout=30_000)
    # The text before it is there too, from the first block.
    assert page.locator("#doc-body [data-block]").first.get_attribute("data-block") in ("0", "1")
    expect(page.locator("#doc-notice")).to_be_hidden()

    page.goto(server + f"/doc/{doc_id}#p99999")
    expect(page.locator("#doc-notice")).to_have_text(
        "Văn bản này không có đoạn #p99999; đang hiện từ đầu văn bản.", timeout=30_000
    )
    expect(page.locator("#doc-title")).to_be_focused()
    assert page.locator("#doc-body [data-block]").count() <= PART_BLOCKS


# --- the answer card ------------------------------------------------------------------------


def test_answer_shows_its_confidence_in_words_and_its_cited_passages(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    q = "Ai chủ trì quản lý chất thải đô thị?"
    api = _get(server + "/api/ask", params={"q": q, "k": 5, "lang": "vi"}).json()
    assert api["answer"], api
    page.goto(server + "/?q=" + q)
    word = page.locator("#answer-conf .conf-word")
    expect(word).to_be_visible(timeout=60_000)
    value = api["answer"]["confidence"]
    th = api["threshold"]
    expected = (
        "chắc chắn" if value >= th + (1 - th) / 2 else "có thể" if value >= th else "không chắc"
    )
    expect(word).to_have_text(expected)
    expect(word).to_have_attribute("title", re.compile(rf"\b{round(value * 100)}%"))
    cited = page.locator("#citations li.cited-passage")
    passages = {p["n"]: p for p in api["passages"]}
    expect(cited).to_have_count(len(api["answer"]["citations"]))
    for i, n in enumerate(api["answer"]["citations"]):
        item = cited.nth(i)
        expect(item.locator("a.citation")).to_have_attribute("href", passages[n]["url"])
        quote = " ".join(item.locator(".cited-text").inner_text().replace("…", " ").split())
        # A cropped piece of the passage itself.
        assert quote[:30] in " ".join(passages[n]["text"].split()), (quote, passages[n]["text"])
        assert not item.inner_text().rstrip().endswith("—")
    _shot(page, "answer-confidence")
    assert not _axe(page)


def test_set_answers_name_each_document_by_number_issuer_and_province(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    docs = {d["doc_id"]: d for d in _documents(server)}
    question = "Những văn bản nào của Ủy ban nhân dân tỉnh Đắk Lắk?"
    api = _get(server + "/api/ask", params={"q": question, "lang": "vi"}).json()
    if not api["answer"] or api["answer"]["type"] != "set":
        pytest.skip(f"this index gives no list of documents for {question!r}: {api['answer']}")
    page.goto(server + "/?q=" + question)
    items = page.locator("#answer-text .answer-items li")
    expect(items).to_have_count(len(api["answer"]["items"]), timeout=60_000)
    for i, item in enumerate(api["answer"]["items"]):
        d = docs[item["doc_id"]]
        name = items.nth(i).locator("a.item-doc")
        if d["number"]:
            expect(name).to_contain_text(d["number"])
        if d["issuer"]:
            expect(name).to_contain_text(d["issuer"])


# --- Vietnamese everywhere -------------------------------------------------------------------


def test_admin_rejections_are_vietnamese_and_unchanged_is_said_unchanged(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/admin")
    # Every API error code has its message in both languages.
    codes = page.evaluate("PSMessages.codes")
    assert set(ERROR_CODES) <= set(codes), set(ERROR_CODES) - set(codes)
    # Every rejection's code too: the page keys its words by reason_code, not by the English.
    reasons = page.evaluate("PSMessages.reasonCodes")
    assert set(REASONS) == set(reasons), set(REASONS) ^ set(reasons)
    page.locator("#key").fill(ADMIN_KEY)
    page.locator("#key-form button[type=submit]").click()
    expect(page.locator("#key-status")).to_contain_text("Đã lưu khóa")
    good = (
        "Thông báo thử nghiệm tải lên lần hai\n\n"
        "Văn phòng Ủy ban nhân dân tỉnh thử tải lên một văn bản hai lần liên tiếp để xem "
        "trang quản trị báo văn bản không đổi."
    )
    files = [
        ("lan-hai.txt", good),
        ("hong.pdf", "this is not a pdf at all"),
        ("bang.xlsx", "a spreadsheet"),
        ("rong.txt", ""),
        ("lon.txt", "chữ " * (UPLOAD_LIMIT // 4)),
    ]

    def drop(batch: list[tuple[str, str]]) -> None:
        transfer = page.evaluate_handle(
            """(files) => { const dt = new DataTransfer();
                for (const [name, text] of files) dt.items.add(new File([text], name));
                return dt; }""",
            batch,
        )
        page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})

    drop(files)
    results = page.locator("#upload-results li")
    expect(results).to_have_count(len(files), timeout=120_000)
    expect(page.locator("#upload-status")).to_contain_text(
        "1 tệp được thêm, 4 tệp bị từ chối", timeout=30_000
    )
    said = {
        "hong.pdf": "Tệp không phải là PDF.",
        "bang.xlsx": "Không nhận loại tệp .xlsx",
        "rong.txt": "Tệp rỗng.",
        "lon.txt": "giới hạn là 0,1 MB",
    }
    for name, words in said.items():
        row = results.filter(has_text=name)
        expect(row).to_contain_text("Bị từ chối")
        expect(row).to_contain_text(words)
        reason = row.locator(".reason")
        # The server's English stays out of the text, kept on hover for support.
        english = reason.get_attribute("title") or ""
        assert english and english not in row.inner_text(), (english, row.inner_text())
    _shot(page, "admin-rejections")
    assert not _axe(page)

    drop(files[:1])
    expect(page.locator("#upload-status")).to_have_text(
        re.compile(r"^1 tệp không đổi\. Phiên bản chỉ mục"), timeout=120_000
    )
    expect(results.first).to_contain_text("Không đổi")
    delete = page.locator("#docs tr", has_text="Thông báo thử nghiệm tải lên lần hai")
    delete.locator("button.delete").click()
    page.locator("#confirm-yes").click()
    expect(page.locator("#docs-status")).to_contain_text("Đã xóa", timeout=120_000)


def test_search_errors_come_from_the_shared_table(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/?q=quyết định&number=abc")
    expect(page.locator("#status")).to_contain_text("bộ lọc", timeout=30_000)
    for code in ERROR_CODES:
        vi = page.evaluate(f"PSMessages.error({code!r}, 'vi')")
        en = page.evaluate(f"PSMessages.error({code!r}, 'en')")
        assert vi and en and vi != en, (code, vi, en)


# --- the smaller points of §7 ------------------------------------------------------------------


def test_back_after_typing_stays_in_the_site(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/")
    expect(page.locator("#doc-list li").first).to_be_visible(timeout=30_000)
    page.locator("#q").press_sequentially("kế hoạch", delay=40)
    expect(page.locator("#groups .group").first).to_be_visible(timeout=60_000)
    assert "q=" in page.url
    page.locator("#q").press_sequentially(" năm 2025", delay=40)
    expect(page).to_have_url(re.compile(r"2025"), timeout=30_000)
    page.go_back()
    expect(page).to_have_url(server + "/")
    expect(page.locator("#home-view")).to_be_visible()
    expect(page.locator("#q")).to_have_value("")


def test_sort_menu_lists_each_order_once(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/")
    expect(page.locator("#doc-list li").first).to_be_visible(timeout=30_000)
    options = "els => els.map(e => e.textContent)"
    home = page.locator("#f-sort option").evaluate_all(options)
    assert home == ["Mới nhất", "Theo tên"], home
    page.goto(server + "/?q=kế hoạch")
    expect(page.locator("#groups .group").first).to_be_visible(timeout=60_000)
    found = page.locator("#f-sort option").evaluate_all(options)
    assert found == ["Liên quan nhất", "Mới nhất"], found


def test_reversed_date_range_is_told_and_leaves_no_stale_list(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/")
    expect(page.locator("#doc-list li").first).to_be_visible(timeout=30_000)
    page.fill("#f-from", "2025-12-01")
    page.locator("#f-from").dispatch_event("change")
    page.fill("#f-to", "2025-01-31")
    page.locator("#f-to").dispatch_event("change")
    expect(page.locator("#status")).to_have_text(
        "“Từ ngày” đang sau “Đến ngày”: hãy đổi lại khoảng ngày."
    )
    expect(page.locator("#doc-list li")).to_have_count(0)
    page.goto(server + "/?q=kế hoạch&date_from=2025-12-01&date_to=2025-01-31")
    expect(page.locator("#status")).to_contain_text("“Từ ngày” đang sau “Đến ngày”")
    expect(page.locator("#results")).to_be_hidden()


def test_unknown_address_shows_a_page(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    response = page.goto(server + "/khong-co-trang-nay")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Không tìm thấy trang này")
    assert not _axe(page)
    # An API client still gets the API's error.
    r = _get(server + "/khong-co-trang-nay")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_skip_link_reaches_the_results_in_two_tabs(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/?q=thủ tục hành chính")
    expect(page.locator("#groups .group").first).to_be_visible(timeout=60_000)
    page.locator("body").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    skip = page.locator("#skip-results")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#results-view")).to_be_focused()
    page.keyboard.press("Tab")
    # The answer arrives after the passages and renders them again: focus stays put.
    expect(page.locator("#answer")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(300)
    inside = "document.activeElement.closest('#results-view') !== null"
    assert page.evaluate(inside), page.evaluate("document.activeElement.outerHTML")


def test_phone_answer_near_the_top_with_a_filter_and_44px_actions(browser, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "/?q=Ai chủ trì quản lý chất thải đô thị?&province=Lào Cai")
    expect(page.locator("#answer-text")).to_be_visible(timeout=60_000)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    expect(page.locator("#filters-count")).to_have_text(" (1)")
    top = page.locator("#answer").bounding_box()
    assert top is not None and top["y"] < PHONE["height"] / 2, top
    heights = page.locator(
        "#groups .actions a, #groups .actions button, #groups .more-from, #citations a.citation"
    ).evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44, heights
    context.close()


def test_highlight_marks_query_phrases_not_a_lone_syllable_of_another_word(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(server + "/?q=Sở Tài chính")
    expect(page.locator("#groups mark").first).to_be_visible(timeout=60_000)
    marks = [fold(m) for m in page.locator("#groups mark").all_inner_texts()]
    assert "tai chinh" in marks or "so tai chinh" in marks, marks
    assert all(" " in m for m in marks), marks  # no lone "Chính" (of "Chính phủ"), "Sở", "Tài"


def test_a_long_passage_is_cropped_around_its_first_match(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # A result whose first match lies past the opening of a long passage (from the API).
    found = None
    queries = (
        "thủ tục hành chính",
        "kinh phí thực hiện",
        "báo cáo kết quả",
        "Sở Tài chính",
        "ngân sách nhà nước",
        "công nghệ thông tin",
        "tổ chức thực hiện",
        "đào tạo cán bộ",
    )
    for q in queries:
        api = _get(server + "/api/search", params={"q": q, "k": 10}).json()
        # A passage the answer card quotes is shown whole (its quoted words marked), not cropped.
        ask = _get(server + "/api/ask", params={"q": q}).json()
        answer = ask.get("answer") or {}
        quoted = {p["url"] for p in ask["passages"] if p["n"] in answer.get("citations", [])}
        per_doc: dict[str, int] = {}
        for r in api["results"]:
            if r["url"] in quoted:
                continue
            per_doc[r["doc_id"]] = per_doc.get(r["doc_id"], 0) + 1
            if per_doc[r["doc_id"]] > 2:  # the page shows a document's first two at once
                continue
            at = min(
                (i for t in api["highlight"] if (i := fold(r["text"]).find(fold(t))) >= 0),
                default=-1,
            )
            # The page crops a passage over 480 characters from a third of that before its
            # first match, once the match lies past that third (app.js cropAround).
            if len(r["text"]) > 520 and at > 480 // 3 + 5:
                found = (q, r, at)
                break
        if found:
            break
    assert found, "no long passage with a late match among the queries"
    q, r, at = found
    page.goto(server + "/?q=" + q)
    shown = page.locator(f'#groups .passage[data-url="{r["url"]}"] .ptext')
    expect(shown).to_be_visible(timeout=60_000)
    text = shown.inner_text()
    assert text.startswith("… ") and len(text) < len(r["text"]), text
    assert shown.locator("mark").count() >= 1  # the match is inside the crop


# --- results by document, facets of the query, filter chips -----------------------------------


def test_document_mode_pages_through_every_matching_document_once(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    q = "thủ tục hành chính"
    api = _get(server + "/api/search", params={"q": q, "k": 10, "group": "document"}).json()
    total = api["total"]
    assert total > 10, total  # two pages at least
    page.goto(server + "/?q=" + q)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    page.get_by_label("Văn bản", exact=True).check()
    expect(page).to_have_url(re.compile(r"group=document"))
    status = page.locator("#status")
    expect(status).to_have_text(f"1–10 trong {total} văn bản", timeout=60_000)
    assert not _axe(page)
    seen: list[str] = []
    for n in range(total // 10 + 2):
        expect(status).to_have_text(
            f"{10 * n + 1}–{min(10 * n + 10, total)} trong {total} văn bản", timeout=60_000
        )
        hits = page.locator("#groups .doc-hit")
        ids = hits.evaluate_all("els => els.map(e => e.dataset.group)")
        seen += ids
        first = api["documents"][0] if n == 0 else None
        if first:  # the best document named by number, issuer and province, with its passages
            where = hits.first.locator(".doc-facts").inner_text()
            for bit in (first["number"], first["issuer"], *first["provinces"][:1]):
                assert bit in where, (bit, where)
            assert hits.first.locator(".passage").count() == len(first["passages"]) >= 1
        if page.locator("#next-docs").is_hidden():
            break
        page.locator("#next-docs").click()
        expect(page).to_have_url(re.compile(rf"offset={10 * (n + 1)}\b"))
    # Every matching document once: no repeat, no gap.
    assert len(seen) == len(set(seen)) == total, (len(seen), len(set(seen)), total)
    # A copied link restores the same page of documents; Back goes to the page before.
    page.go_back()
    expect(status).to_contain_text(f"trong {total} văn bản", timeout=60_000)
    page.get_by_label("Đoạn văn", exact=True).check()
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    expect(status).to_contain_text("đoạn")
    assert "group=" not in page.url


def _option_counts(page: Any, select: str) -> dict[str, int]:
    texts = page.locator(f"{select} option").all_inner_texts()
    found = (re.fullmatch(r"(.+) \((\d+)\)", t.strip()) for t in texts)
    return {m.group(1): int(m.group(2)) for m in found if m}


def test_facet_counts_follow_the_query_hits_and_chips_remove_one_filter(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    q = "thủ tục hành chính"
    facets = _get(server + "/api/search", params={"q": q, "k": 10}).json()["facets"]
    page.goto(server + "/?q=" + q)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    expect(page.locator("#f-province option").nth(1)).to_be_attached(timeout=30_000)
    provinces = _option_counts(page, "#f-province")
    assert provinces == facets["province"], (provinces, facets["province"])
    assert _option_counts(page, "#f-doctype") == facets["document_type"]
    assert _option_counts(page, "#f-year") == facets["year"]

    province = next(iter(facets["province"]))
    year = next(iter(facets["year"]))
    page.goto(server + f"/?q={q}&province={province}&year={year}")
    chips = page.locator("#chips .remove-chip")
    expect(chips).to_have_count(2, timeout=30_000)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    assert not _axe(page)
    chips.filter(has_text=province).click()
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(year)
    assert "province=" not in page.url and f"year={year}" in page.url
    chips.first.click()
    expect(chips).to_have_count(0)
    assert "year=" not in page.url and "q=" in page.url

    # Several provinces: each one chosen in the menu is added (any of them), one chip each.
    a, b = list(facets["province"])[:2]
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    page.select_option("#f-province", a)
    expect(chips).to_have_count(1, timeout=30_000)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    # The province menu counts the hits under the other filters (none here), so the other
    # provinces stay on offer with the query's counts; the chosen one is ticked.
    ticked_a = f"✓ {a} ({facets['province'][a]})"
    expect(page.locator("#f-province option", has_text=ticked_a)).to_have_count(1, timeout=60_000)
    expected = {(f"✓ {k}" if k == a else k): v for k, v in facets["province"].items()}
    assert _option_counts(page, "#f-province") == expected
    page.select_option("#f-province", b)
    expect(chips).to_have_count(2, timeout=30_000)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    sent = [x for x in page.recorder.api("/api/search") if x.get("k") == ["10"]]
    assert sent[-1]["province"] == [a, b], sent
    both = _get(
        server + "/api/search", params=[("q", q), ("k", "10"), ("province", a), ("province", b)]
    ).json()
    shown = page.locator("#groups .group").evaluate_all("els => els.map(e => e.dataset.group)")
    assert set(shown) == {r["doc_id"] for r in both["results"]}
    # The menu ticks the chosen values; its counts are those of the hits under both.
    ticked = [t for t in page.locator("#f-province option").all_inner_texts() if t.startswith("✓")]
    assert len(ticked) == 2, ticked
    chips.filter(has_text=a).click()
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(b)
    assert parse_qs(urlsplit(page.url).query)["province"] == [b]
    expect(page.locator("#f-province")).to_have_value(b)


def test_type_year_and_document_type_take_several_values(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    q = "thủ tục hành chính"
    facets = _get(server + "/api/search", params={"q": q, "k": 10}).json()["facets"]
    page.goto(server + "/?q=" + q)
    expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
    chips = page.locator("#chips .remove-chip")
    chosen: list[tuple[str, str]] = []
    for name, menu in (("year", "#f-year"), ("document_type", "#f-doctype"), ("type", "#f-type")):
        values = [v for v in facets[name] if v != "unknown"][:2]
        if len(values) < 2:
            continue  # this query's hits have one value only
        a, b = values
        page.select_option(menu, a)
        expect(chips).to_have_count(len(chosen) + 1, timeout=30_000)
        # The menu still offers the other values (counted under the other filters), a ticked.
        expect(page.locator(f"{menu} option", has_text="✓ ")).to_have_count(1, timeout=60_000)
        page.select_option(menu, b)
        expect(chips).to_have_count(len(chosen) + 2, timeout=30_000)
        expect(page.locator(f"{menu} option", has_text="✓ ")).to_have_count(2, timeout=60_000)
        chosen += [(name, a), (name, b)]
        expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
        sent = [x for x in page.recorder.api("/api/search") if x.get("k") == ["10"]]
        assert sent[-1][name] == [a, b], sent[-1]
    assert len(chosen) >= 4, facets  # two filters at least took two values each
    both = _get(server + "/api/search", params=[("q", q), ("k", "10"), *chosen]).json()
    expect(page.locator("#groups .group").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(300)
    shown = page.locator("#groups .group").evaluate_all("els => els.map(e => e.dataset.group)")
    assert set(shown) == {r["doc_id"] for r in both["results"]}, (shown, both["results"])
    assert not _axe(page)
    # A chip takes off its one value; the filter's other value stays.
    name, a = chosen[0]
    chips.filter(has_text=a).click()
    expect(chips).to_have_count(len(chosen) - 1)
    assert parse_qs(urlsplit(page.url).query)[name] == [chosen[1][1]]


def test_newest_first_orders_the_documents_of_every_page(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    q = "thủ tục hành chính"
    params = {"q": q, "k": 10, "group": "document", "sort": "date"}
    api = _get(server + "/api/search", params=params).json()
    relevance = _get(server + "/api/search", params={**params, "sort": "relevance"}).json()
    assert api["total"] == relevance["total"] > 10
    page.goto(server + f"/?q={q}&group=document&sort=date")
    status = page.locator("#status")
    expect(status).to_have_text(f"1–10 trong {api['total']} văn bản", timeout=60_000)
    expect(page.locator("#f-sort")).to_have_value("date")
    ids = page.locator("#groups .doc-hit").evaluate_all("els => els.map(e => e.dataset.group)")
    assert ids == [d["doc_id"] for d in api["documents"]]
    dates = [d["date"] for d in api["documents"] if d["date"]]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) > 1, dates
    assert ids != [d["doc_id"] for d in relevance["documents"]]
    page.locator("#next-docs").click()
    expect(status).to_have_text(
        f"11–{min(20, api['total'])} trong {api['total']} văn bản", timeout=60_000
    )
    second = _get(server + "/api/search", params={**params, "offset": 10}).json()
    later = page.locator("#groups .doc-hit").evaluate_all("els => els.map(e => e.dataset.group)")
    assert later == [d["doc_id"] for d in second["documents"]]
    assert not set(later) & set(ids)
    newest_later = max((d["date"] for d in second["documents"] if d["date"]), default="")
    assert newest_later <= dates[-1]
    sent = page.recorder.api("/api/search")
    assert sent[-1]["sort"] == ["date"] and sent[-1]["offset"] == ["10"], sent[-1]


# --- the document view: who does what, search inside ----------------------------------------


def test_outline_lists_every_part_and_a_link_loads_the_part_holding_it(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    doc_id, _ = _longest(server)
    first = _part(server, doc_id)
    later = [e for e in first["outline"] if e["block"] >= first["part"]["end"]]
    assert later, first["outline"]
    page.goto(server + f"/doc/{doc_id}")
    links = page.locator("#doc-outline a.outline-link")
    expect(links).to_have_count(len(first["outline"]), timeout=30_000)
    assert page.locator("#doc-body [data-block]").count() <= PART_BLOCKS
    target = later[-1]
    link = page.locator(f'#doc-outline a[href="#b{target["block"]}"]')
    link.click()
    block = page.locator(f"#b{target['block']}")
    expect(block).to_be_focused(timeout=60_000)
    assert " ".join(block.inner_text().split()).startswith(target["text"].removesuffix("…"))
    # The parts before it loaded too: the text reads on from the first block.
    numbers = page.locator("#doc-body [data-block]").evaluate_all(
        "els => els.map(e => Number(e.dataset.block))"
    )
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert numbers[0] in (0, 1) and max(numbers) >= target["block"]


def test_a_signature_link_opens_the_document_at_its_signature_block(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    signed = {}
    unsigned = None
    for d in _documents(server):
        part = _part(server, d["doc_id"], limit=1)
        if part["signature"] is not None:
            signed[d["doc_id"]] = part["signature"]
        elif unsigned is None:
            unsigned = d["doc_id"]
    assert signed
    # The one whose signature lies furthest in: past the first part when one is.
    doc_id = max(signed, key=lambda k: signed[k])
    at = signed[doc_id]
    page.goto(server + f"/doc/{doc_id}#signature")
    block = page.locator(f"#b{at}")
    expect(block).to_be_focused(timeout=60_000)
    expect(block).to_have_class(re.compile(r"\bsignature\b"))
    expect(page.locator("#doc-notice")).to_be_hidden()
    assert block.is_visible()
    # A link to it in the page (as the answer's citation of the signer) does the same.
    page.goto(server + "/")
    expect(page.locator("#doc-list li").first).to_be_visible(timeout=30_000)
    page.evaluate(
        """(href) => { const a = document.createElement('a'); a.href = href; a.id = 'sig-link';
            a.textContent = 'ký'; document.querySelector('main').prepend(a); }""",
        f"/doc/{doc_id}#signature",
    )
    page.locator("#sig-link").click()
    expect(block).to_be_focused(timeout=60_000)
    assert urlsplit(page.url).fragment == "signature"
    if unsigned is not None:
        page.goto(server + f"/doc/{unsigned}#signature")
        expect(page.locator("#doc-notice")).to_have_text(
            "Văn bản này không có phần chữ ký; đang hiện từ đầu văn bản.", timeout=30_000
        )
        expect(page.locator("#doc-title")).to_be_focused()


# --- the document view: who does what, search inside ----------------------------------------


def test_document_view_shows_who_does_what(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    found = None
    for d in _documents(server):
        part = _part(server, d["doc_id"])
        rows = [a for a in part["assignments"] if a["lead"] and a["task"]]
        if rows:
            found = d["doc_id"], rows
            break
    assert found, "no document with assignments in its first part"
    doc_id, rows = found
    page.goto(server + f"/doc/{doc_id}")
    table = page.locator("#doc-tasks")
    expect(table).to_be_visible(timeout=30_000)
    heads = table.locator("th").all_inner_texts()
    assert heads == ["Chủ trì", "Phối hợp", "Thời hạn", "Nhiệm vụ"], heads
    leads = table.locator("td.t-lead").all_inner_texts()
    tasks = table.locator("td.t-task").all_inner_texts()
    first = rows[0]
    i = tasks.index(first["task"])
    assert leads[i] == first["lead"], (leads[i], first)
    partners = table.locator("td.t-partners").nth(i).inner_text()
    assert all(p in partners for p in first["partners"]), (partners, first)
    assert table.locator("td.t-deadline").nth(i).inner_text() == first["deadline"]
    assert not _axe(page)
    # A document without any assignment has no table.
    for d in _documents(server):
        stated = _get(server + "/api/assignments", params={"document": d["doc_id"]}).json()
        if stated["total"] == 0:
            page.goto(server + f"/doc/{d['doc_id']}")
            expect(page.locator("#doc-title")).to_have_text(d["title"], timeout=30_000)
            expect(table).to_be_hidden()
            break


def test_search_inside_a_long_document_loads_its_parts_and_marks_matches(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    doc_id, total = _longest(server)
    last = _part(server, doc_id, start=total - 1)["blocks"][-1]["text"]
    words = [w for w in re.findall(r"\w{4,}", last) if not w.isdigit()]
    assert words, last
    word = max(words, key=len)
    page.goto(server + f"/doc/{doc_id}")
    expect(page.locator("#doc-part")).to_contain_text("Phần 1 /", timeout=30_000)
    page.fill("#doc-find-q", word)
    page.locator("#doc-find button[type=submit]").click()
    note = page.locator("#doc-find-note")
    expect(note).to_have_text(re.compile(r"Chỗ 1 / \d+"), timeout=60_000)
    n = int(note.inner_text().rsplit("/", 1)[1])
    marks = page.locator("#doc-body mark.find")
    assert marks.count() == n
    assert all(fold(m) == fold(word) for m in marks.all_inner_texts())
    # The whole document was loaded to find it, the last block included, and marked there.
    expect(page.locator("#doc-next")).to_be_hidden()
    tail = page.locator(f"#doc-body [data-block='{total - 1}'] mark.find")
    assert tail.count() >= 1
    expect(page.locator("#doc-body mark.find-current")).to_have_count(1)
    if n > 1:
        page.locator("#doc-find-next").click()
        expect(note).to_have_text(f"Chỗ 2 / {n}")
    assert not _axe(page)
    page.fill("#doc-find-q", "zzqxw")
    page.locator("#doc-find button[type=submit]").click()
    expect(note).to_have_text("Không thấy trong văn bản.")
    assert marks.count() == 0


# --- no markup on the page --------------------------------------------------------------------


def _markup(text: str) -> list[str]:
    """The source markup a rendered text may not carry: bold marks, a line of only '|', rules."""
    bad = [line for line in text.splitlines() if re.fullmatch(r"\s*\|[\s|]*", line)]
    return bad + [m for m in ("**", "---") if m in text]


def test_no_rendered_passage_or_document_carries_markup(page, server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    for q in ("thủ tục hành chính", "Sở Tài chính", "Ủy ban nhân dân tỉnh", "quyết định"):
        for mode in ("", "&group=document"):
            page.goto(server + f"/?q={q}{mode}")
            expect(page.locator("#groups .passage").first).to_be_visible(timeout=60_000)
            text = page.locator("#groups").inner_text()
            assert not _markup(text), (q, mode, _markup(text))
    official = [d for d in _documents(server) if d["number"]]
    assert len(official) >= 10
    for d in official:
        page.goto(server + f"/doc/{d['doc_id']}")
        expect(page.locator("#doc-title")).to_have_text(d["title"], timeout=30_000)
        # A search for nothing loads every part (and marks nothing).
        page.fill("#doc-find-q", "zzqxw")
        page.locator("#doc-find button[type=submit]").click()
        expect(page.locator("#doc-find-note")).to_have_text(
            "Không thấy trong văn bản.", timeout=60_000
        )
        text = page.locator("#doc-view").inner_text()
        assert not _markup(text), (d["doc_id"], _markup(text)[:5])
