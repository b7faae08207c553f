"""Honest result sets on a real index: pages of one ranking, totals that can be paged,
results by document and facets of the query's hits.

The index holds corpus/ and 36 generated decisions of a few provinces (seven articles
each), so that a query has more than POLICY_SEARCH_MAX_RESULTS (200) hits to page.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from index.store import Snapshot, current_path
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
PROVINCES = ("Lào Cai", "Đồng Nai", "Trà Vinh", "Nghệ An")
SUBJECTS = (
    ("quản lý chất thải rắn sinh hoạt", "thu gom, vận chuyển và xử lý chất thải"),
    ("phát triển giao thông công cộng", "mở tuyến xe buýt và bến xe khách"),
    ("bảo vệ rừng phòng hộ", "trồng rừng, khoanh nuôi và phòng cháy rừng"),
)
TASKS = (
    "Sở Tài nguyên và Môi trường chủ trì, phối hợp với các sở, ngành liên quan tổ chức {work} "
    "trên địa bàn tỉnh {province}, báo cáo kết quả trước ngày 15 tháng {month}.",
    "Sở Tài chính bố trí kinh phí thực hiện {work} từ nguồn ngân sách tỉnh năm {year}.",
    "Ủy ban nhân dân các huyện, thành phố hướng dẫn người dân tham gia {work}.",
    "Sở Kế hoạch và Đầu tư tổng hợp nhu cầu vốn cho {work}, trình Ủy ban nhân dân tỉnh.",
    "Sở Thông tin và Truyền thông tuyên truyền về {work} trên các phương tiện thông tin.",
    "Công an tỉnh kiểm tra, xử lý vi phạm trong lĩnh vực {work} theo quy định.",
    "Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc các sở chịu trách nhiệm thi hành.",
)


def decision(n: int) -> str:
    province = PROVINCES[n % len(PROVINCES)]
    subject, work = SUBJECTS[n % len(SUBJECTS)]
    year = 2020 + n % 5
    articles = "\n\n".join(
        f"## Điều {i + 1}.\n\n" + task.format(work=work, province=province, month=i + 1, year=year)
        for i, task in enumerate(TASKS)
    )
    # Every decision cites others; two cite decision 876/QĐ-TTg (not indexed), one the
    # article 103 of the Construction Law (not indexed either); the rest cite numbers and
    # articles that share words or digits with those.
    cited = {4: "876/QĐ-TTg", 22: "876/QĐ-TTg", 5: "876/QĐ-UBND"}.get(n, f"{1870 + n}/QĐ-TTg")
    article = {7: "khoản 2 Điều 103 Luật Xây dựng", 8: "Điều 103 Luật Đất đai"}.get(
        n, "khoản 2 Điều 10 Luật Xây dựng"
    )
    return (
        f"ỦY BAN NHÂN DÂN TỈNH {province.upper()}\n\nSố: {100 + n}/QĐ-UBND\n\n"
        f"{province}, ngày {n % 27 + 1} tháng {n % 12 + 1} năm {year}\n\n"
        f"# QUYẾT ĐỊNH\n\nVề việc {subject} năm {year}\n\n"
        f"Căn cứ Quyết định số {cited} về {work}; căn cứ {article} về trách nhiệm của "
        f"chủ đầu tư.\n\n{articles}\n"
    )


@pytest.fixture(scope="module")
def paging_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("paging-docs")
    for f in CORPUS.iterdir():
        shutil.copy(f, docs / f.name)
    for n in range(36):
        (docs / f"qd-{n:02d}.md").write_text(decision(n), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("paging-index")
    build_index([docs], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="module")
def client(paging_index: Path, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=paging_index, rate_limit_per_address=0)
    with TestClient(create_app(settings, SearchEngine(settings, embedder))) as c:
        yield c


def search(client: TestClient, **params) -> dict:  # type: ignore[no-untyped-def]
    r = client.get("/api/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def page_all(client: TestClient, q: str, k: int, **params) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    """Every page of ``q`` followed through ``next_offset``: (pages, results in order)."""
    pages, offset = [], 0
    while offset is not None and len(pages) < 100:
        body = search(client, q=q, k=k, offset=offset, **params)
        pages.append(body)
        offset = body["next_offset"]
    key = "documents" if params.get("group") == "document" else "results"
    return pages, [r for p in pages for r in p[key]]


@pytest.mark.parametrize(
    "q",
    [
        "thu gom chất thải rắn",
        "kinh phí ngân sách tỉnh",
        "xe buyt cong cong",  # without diacritics: restored
        "Sở chủ trì phối hợp tổ chức",
        "phòng cháy rừng Nghệ An",
    ],
)
def test_paging_200_deep_is_one_ranking_without_repeats_or_gaps(client: TestClient, q: str) -> None:
    pages, results = page_all(client, q, k=10)
    urls = [r["url"] for r in results]
    total = pages[0]["total"]
    assert len(urls) == len(set(urls)), "a passage came twice"
    assert total == len(urls) == 200  # the index holds more: paged to the cap, all of it
    assert {p["total"] for p in pages} == {total}
    assert all(p["offset"] == 10 * i for i, p in enumerate(pages))
    # Other page sizes slice the same ranking: no gap, no other order, the same scores.
    wide = [r for o in range(0, 200, 50) for r in search(client, q=q, k=50, offset=o)["results"]]
    assert [r["url"] for r in wide] == urls
    assert [r["score"] for r in wide] == [r["score"] for r in results]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert pages[0]["total_documents"] == len({r["doc_id"] for r in results})


def test_total_is_what_a_small_index_can_page(client: TestClient) -> None:
    # One document's passages: every one of them can be paged, and no more.
    snap = Snapshot(current_path(client.app.state.engine.index_dir))  # type: ignore[attr-defined,arg-type]
    doc = "qd-05"
    pages, results = page_all(client, "kinh phí", k=3, doc=doc)
    assert pages[0]["total"] == len(results) == len(snap.doc_chunks(doc)) >= 7
    assert len({r["url"] for r in results}) == len(results)


def test_lexical_match_flag_and_words_count(client: TestClient) -> None:
    none = search(client, q="qwzx plorfin", k=5)
    assert none["lexical_match"] is False and none["with_all_words"] == 0
    assert none["results"]  # still the nearest in meaning, said to be only that
    some = search(client, q="xe buýt", k=5)
    assert some["lexical_match"] is True and some["with_all_words"] >= 12  # 12 decisions say it


def test_results_by_document(client: TestClient) -> None:
    q = "thu gom chất thải rắn"
    _, passages = page_all(client, q, k=50)
    by_doc: dict[str, list[str]] = {}
    for r in passages:
        by_doc.setdefault(r["doc_id"], []).append(r["url"])
    pages, docs = page_all(client, q, k=7, group="document")
    ids = [d["doc_id"] for d in docs]
    assert ids == list(by_doc)  # documents in the order of their best passage, each once
    assert {p["total"] for p in pages} == {len(by_doc)} and pages[0]["total_documents"] == len(ids)
    assert all(p["offset"] == 7 * i for i, p in enumerate(pages))
    for d in docs:
        urls = [p["url"] for p in d["passages"]]
        assert urls == by_doc[d["doc_id"]][:3]  # its best passages, at most three
        assert d["score"] == d["passages"][0]["score"]
    first = pages[0]
    assert [r["url"] for r in first["results"]] == [
        p["url"] for d in first["documents"] for p in d["passages"]
    ]
    decision_5 = next(d for d in docs if d["doc_id"] == "qd-05")
    assert decision_5["number"] == "105/QĐ-UBND" and decision_5["provinces"] == ["Đồng Nai"]
    assert "Đồng Nai" in decision_5["issuer"] or "ĐỒNG NAI" in decision_5["issuer"].upper()
    assert search(client, q=q)["documents"] is None  # not grouped: no documents list
    bad = client.get("/api/search", params={"q": q, "group": "page"})
    assert bad.status_code == 422


def test_sort_by_date_pages_the_same_hits_newest_first(client: TestClient) -> None:
    q = "thu gom chất thải rắn"
    _, ranked = page_all(client, q, k=7, group="document")
    pages, docs = page_all(client, q, k=7, group="document", sort="date")
    ids = [d["doc_id"] for d in docs]
    # Every document of the hits once, the same total, pages of one list.
    assert len(ids) == len(set(ids)) and set(ids) == {d["doc_id"] for d in ranked}
    assert {p["total"] for p in pages} == {len(ranked)}
    assert all(p["offset"] == 7 * i for i, p in enumerate(pages))
    dates = [d["date"] or "" for d in docs]
    dated = [x for x in dates if x]
    assert len(set(dated)) > 3, dates  # the generated decisions span five years
    assert dated == sorted(dated, reverse=True) and dates[: len(dated)] == dated  # undated last
    # Documents of one date keep the order of relevance.
    rank = {d["doc_id"]: i for i, d in enumerate(ranked)}
    for a, b in pairwise(docs):
        if a["date"] == b["date"]:
            assert rank[a["doc_id"]] < rank[b["doc_id"]]
    # Passages: the same hits, each document's together, documents in the same order.
    _, passages = page_all(client, q, k=50, sort="date")
    _, by_rank = page_all(client, q, k=50)
    assert sorted(r["url"] for r in passages) == sorted(r["url"] for r in by_rank)
    assert list(dict.fromkeys(r["doc_id"] for r in passages)) == ids
    bad = client.get("/api/search", params={"q": q, "sort": "title"})
    assert bad.status_code == 422 and bad.json()["error"] == "bad_request"


def test_facets_count_the_documents_of_the_hits(client: TestClient) -> None:
    snap = Snapshot(current_path(client.app.state.engine.index_dir))  # type: ignore[attr-defined,arg-type]
    for params in ({"q": "xe buýt bến xe khách"}, {"q": "trồng rừng", "province": "Lào Cai"}):
        pages, results = page_all(client, k=50, **params)  # type: ignore[arg-type]
        docs = [snap.document(d) for d in dict.fromkeys(r["doc_id"] for r in results)]
        want: dict[str, Counter[str]] = {k: Counter() for k in ("type", "province", "year")}
        for d in docs:
            assert d is not None
            want["type"][d.doc_type or "unknown"] += 1
            want["province"].update(d.provinces)
            if d.date:
                want["year"][d.date[:4]] += 1
        facets = pages[0]["facets"]
        for name, counts in want.items():
            assert facets[name] == dict(counts), name
        assert sum(facets["document_type"].values()) == sum(
            1 for d in docs if d and d.header.get("document_type")
        )
        assert all(p["facets"] == facets for p in pages)  # the hit set, not the page
    lao_cai = search(client, q="trồng rừng", province="Lào Cai")["facets"]
    assert set(lao_cai["province"]) >= {"Lào Cai"} and "Trà Vinh" not in lao_cai["province"]


@pytest.mark.parametrize("typed", ["Quyết định 876/QĐ-TTg", "quyet dinh 876/qd-ttg", "876/QĐ-TTg"])
def test_a_number_typed_as_the_query_returns_its_mentions_first(
    client: TestClient, typed: str
) -> None:
    # 876/QĐ-TTg is not indexed: the passages that cite it (two decisions, and a corpus
    # article) come first, before those citing 876/QĐ-UBND or 18xx/QĐ-TTg.
    snap = Snapshot(current_path(client.app.state.engine.index_dir))  # type: ignore[attr-defined,arg-type]
    mentions = re.compile(r"(?<!\d)876/QĐ-TTg").search  # not 1876/QĐ-TTg
    citing = [c for c in snap.all_chunks() if mentions(c.text)]
    assert {"qd-04", "qd-22"} < {c.doc_id for c in citing}
    body = search(client, q=typed, k=10)
    first = body["results"][: len(citing)]
    assert {r["doc_id"] for r in first} == {c.doc_id for c in citing}, [
        r["text"][:80] for r in body["results"]
    ]
    assert all(mentions(r["text"]) for r in first)
    assert not mentions(body["results"][len(citing)]["text"])


def test_an_article_typed_as_the_query_returns_its_mentions_first(client: TestClient) -> None:
    body = search(client, q="khoản 2 Điều 103 Luật Xây dựng", k=5)
    top = body["results"][0]
    assert top["doc_id"] == "qd-07" and "Điều 103 Luật Xây dựng" in top["text"]
    assert "Điều 103 Luật Xây dựng" not in body["results"][1]["text"]
    # Inside a longer question the reference is one signal among others, not a pin.
    question = search(client, q="Sở Tài chính bố trí kinh phí theo Điều 103 Luật Xây dựng ra sao?")
    assert question["results"]
