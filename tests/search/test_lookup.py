"""Lookup by number and by article: the usual forms of a document number, unaccented and
with extra words, put that document first; "Điều N Luật X" puts that article first.

Real index of tests/official.py (real embedder, real FAISS and BM25) through SearchEngine,
as the API, the page and the answerer use it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.references import reference_table
from policy_search.settings import Settings
from search.engine import SearchEngine
from search.filters import Filters
from search.lookup import find_lookup, lookup_targets
from search.retrieve import LookupRetriever


@pytest.fixture(scope="module")
def engine(official_index: Path, embedder) -> SearchEngine:  # type: ignore[no-untyped-def]
    return SearchEngine(Settings(index_dir=official_index), embedder)


def doc_id(engine: SearchEngine, number: str = "", title: str = "") -> str:
    for d in engine.snapshot().documents():
        if (number and d.header.get("number") == number) or (title and d.title.startswith(title)):
            return d.doc_id
    raise AssertionError(f"no document {number or title}")


# (query, whether it names the Prime Minister's decision alone)
TTG_FORMS = [
    ("1658/QĐ-TTg", True),
    ("1658/QD-TTg", True),
    ("1658/qd-ttg", True),
    ("1658 / QĐ - TTg", True),
    ("Quyết định số 1658/QĐ-TTg về tăng trưởng xanh", True),
    ("qd 1658", False),
    ("QĐ 1658", False),
    ("quyết định 1658", False),
    ("quyết định số 1658", False),
    ("quyet dinh so 1658", False),
    ("1658/QĐ", False),
    ("mục tiêu của qd 1658 là gì", False),
    # Extra words decide between the two.
    ("quyet dinh 1658 tang truong xanh", True),
    ("decision 1658 green growth", True),
]


@pytest.mark.parametrize(("query", "alone"), TTG_FORMS)
def test_a_decision_by_number_comes_first(engine: SearchEngine, query: str, alone: bool) -> None:
    ids = [r.doc_id for r in engine.search(query, k=5)]
    ttg = doc_id(engine, "1658/QĐ-TTg")
    if alone:
        assert ids[0] == ttg, ids
    else:
        # A short form names both decisions 1658 (the Prime Minister's and Đắk Lắk's).
        assert set(ids[:2]) == {ttg, doc_id(engine, "1658/QĐ-UBND")}, ids


def test_the_whole_number_names_one_document(engine: SearchEngine) -> None:
    """Without the lookup, the plan citing 1658/QĐ-TTg twice outranks it lexically."""
    ttg = doc_id(engine, "1658/QĐ-TTg")
    ubnd = doc_id(engine, "1658/QĐ-UBND")
    for query in ("1658/QĐ-TTg", "1658/qd-ttg ke hoach"):
        ids = [r.doc_id for r in engine.search(query, k=5)]
        assert ids[0] == ttg
        assert ubnd not in ids[:2]
    assert engine.search("1658/QĐ-UBND", k=3)[0].doc_id == ubnd


@pytest.mark.parametrize(
    "query",
    [
        "Nghị định 08/2022/NĐ-CP",
        "nghi dinh 08/2022/nd-cp",
        "8/2022/NĐ-CP",
        "nd 08/2022",
        "NĐ 8/2022",
        "nghị định số 08/2022",
        "nghi dinh 08 phạm vi điều chỉnh",
        "nd 08/2022 quy dinh ve chat thai ran sinh hoat nhu the nao",
    ],
)
def test_a_decree_by_number_comes_first(engine: SearchEngine, query: str) -> None:
    assert engine.search(query, k=3)[0].doc_id == doc_id(engine, "08/2022/NĐ-CP")


def test_best_passage_of_the_named_document_first(engine: SearchEngine) -> None:
    results = engine.search("nd 08/2022 doi tuong ap dung", k=3)
    assert results[0].doc_id == doc_id(engine, "08/2022/NĐ-CP")
    assert "Điều 2" in results[0].section, results[0].section


def test_a_number_not_in_the_index_changes_nothing(engine: SearchEngine) -> None:
    query = "chất thải rắn sinh hoạt 999/QĐ-TTg"
    plan = engine.plan(query)
    assert plan.lookup.numbers  # read as a number, but no document has it
    assert lookup_targets(engine.snapshot(), plan.lookup) == []
    inner = engine.retriever(engine.snapshot())
    assert engine.search(query, k=5) and [r.chunk_id for r in engine.search(query, k=5)] == [
        cid for cid, _ in inner.retrieve(plan, 5)
    ]


def test_filters_still_apply(engine: SearchEngine) -> None:
    results = engine.search("qd 1658", k=5, filters=Filters(date_from="2024"))
    assert results and all(r.doc_id != doc_id(engine, "1658/QĐ-TTg") for r in results)
    assert results[0].doc_id == doc_id(engine, "1658/QĐ-UBND")


@pytest.mark.parametrize(
    ("query", "article"),
    [
        ("Điều 5 Luật Bảo vệ môi trường", "Điều 5."),
        ("dieu 5 luat bao ve moi truong quy dinh gi", "Điều 5."),
        ("Điều 6 của Luật Bảo vệ môi trường năm 2020", "Điều 6."),
        ("điều 1 luật bvmt", None),  # an abbreviation of a name the index does not know
    ],
)
def test_an_article_of_a_law(engine: SearchEngine, query: str, article: str | None) -> None:
    first = engine.search(query, k=3)[0]
    if article is None:
        assert not find_lookup(query).articles or "bvmt" in find_lookup(query).articles[0].law
        return
    assert first.doc_id == doc_id(engine, "72/2020/QH14")
    assert article in first.section, first.section


@pytest.mark.parametrize(
    "query",
    ["Điều 11 Bộ luật Dân sự 2015", "dieu 11 bo luat dan su", "Điều 11 BLDS năm 2015 nói gì"],
)
def test_an_article_of_a_code_in_one_article_files(engine: SearchEngine, query: str) -> None:
    first = engine.search(query, k=3)[0]
    assert first.doc_id == doc_id(engine, title="Bộ Luật Dân sự 2015 – Điều 11")


def test_the_table_knows_numbers_and_laws(engine: SearchEngine) -> None:
    table = reference_table(engine.backend.open(engine.snapshot()))
    assert table.documents_numbered("1658", code="QD") == sorted(
        [doc_id(engine, "1658/QĐ-TTg"), doc_id(engine, "1658/QĐ-UBND")]
    )
    assert table.documents_numbered("8", "2022", "ND") == [doc_id(engine, "08/2022/NĐ-CP")]
    assert table.documents_numbered("1658", key="1658/QD-XYZ") == []
    assert "luat bao ve moi truong" in table.laws
    assert len(table.laws["bo luat dan su"]) == 2


@pytest.mark.parametrize(
    ("query", "law"),
    [
        ("Theo Luật Bảo vệ môi trường, hành vi nào bị nghiêm cấm?", "luat bao ve moi truong"),
        ("theo bo luat dan su nam 2015 quyen dan su bi xam pham thi sao", "bo luat dan su"),
        ("Theo BLDS, cá nhân có được lạm dụng quyền dân sự không?", "bo luat dan su"),
    ],
)
def test_a_law_named_raises_its_passages(engine: SearchEngine, query: str, law: str) -> None:
    table = reference_table(engine.backend.open(engine.snapshot()))
    docs = set(table.laws[law])
    first = engine.search(query, k=3)[0]
    assert first.doc_id in docs, first


def test_a_law_the_index_does_not_hold_changes_nothing(engine: SearchEngine) -> None:
    query = "Theo Luật Cư trú, chất thải rắn sinh hoạt"
    assert find_lookup(query).laws
    plain = [r.chunk_id for r in engine.search("chất thải rắn sinh hoạt", k=5)]
    assert [r.chunk_id for r in engine.search(query, k=5)][:1] == plain[:1]


def test_the_law_boost_moves_the_named_law_above_a_better_match(engine: SearchEngine) -> None:
    """The decree matches "quản lý chất thải rắn sinh hoạt" best; naming the law raises the
    law's passages by a share of the best score (a large share is a restriction)."""
    snap = engine.snapshot()
    plan = engine.plan("Theo Luật Bảo vệ môi trường, quản lý chất thải rắn sinh hoạt")
    inner = engine.retriever(snap)

    def first(boost: float) -> str:
        ranking = LookupRetriever(inner, snap, law_boost=boost).retrieve(plan, 3)
        return snap.chunks([ranking[0][0]])[0].doc_id

    assert first(0.0) == doc_id(engine, "08/2022/NĐ-CP")
    assert first(10.0) == doc_id(engine, "72/2020/QH14")


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("quyết định 1658 năm 2021", ["1658"]),
        ("kế hoạch số 5", ["5"]),
        ("nd 08/2022/nd-cp", ["8"]),
        # Quantities and years, not numbers of documents.
        ("kế hoạch 5 năm phát triển kinh tế", []),
        ("ke hoach 30 ngay", []),
        ("kế hoạch 2023 của Lào Cai", []),
        ("nghị định 100 tỷ đồng", []),
        ("ngày 01/10/2021", []),
        ("tỷ lệ 15/3", []),
    ],
)
def test_what_is_read_as_a_number(query: str, numbers: list[str]) -> None:
    assert [n.seq for n in find_lookup(query).numbers] == numbers
