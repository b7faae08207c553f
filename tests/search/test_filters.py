"""Metadata filters: matching rules and their effect on every retriever."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from index.store import StoredDocument, open_current
from index.stores import LocalStore
from search.filters import (
    MAX_TEXT_FILTER_CHARS,
    Filters,
    allowed_chunks,
    check_filters,
    document_matches,
    with_year,
)
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import plan_query
from search.retrieve import DenseRetriever

DocMaker = Callable[..., StoredDocument]  # the make_doc fixture (conftest.py)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), True),
        (Filters(doc_type="agreement"), True),
        (Filters(doc_type="plan"), False),
        (Filters(province="Đồng Nai"), True),
        (Filters(province="dong nai"), True),  # typed without marks or capitals
        (Filters(province="tỉnh Đồng Nai"), True),
        (Filters(province="Thừa Thiên - Huế"), True),
        (Filters(province="Lào Cai"), False),
        (Filters(date_from="2024"), True),
        (Filters(date_from="2024-09"), True),
        (Filters(date_from="2024-09-11"), False),
        (Filters(date_to="2024-09-10"), True),
        (Filters(date_to="2024-08"), False),
        (Filters(date_from="2024-01-01", date_to="2024-12-31"), True),
        (Filters(doc_id="d"), True),
        (Filters(doc_id="other"), False),
    ],
)
def test_document_matches(make_doc: DocMaker, filters: Filters, expected: bool) -> None:
    assert document_matches(make_doc(), filters) is expected


def test_partial_document_dates_compare_on_their_precision(make_doc: DocMaker) -> None:
    month_only = make_doc(date="2024-09")
    assert document_matches(month_only, Filters(date_from="2024-09-20"))
    assert not document_matches(month_only, Filters(date_from="2024-10-01"))


def test_undated_documents_fail_any_date_filter(make_doc: DocMaker) -> None:
    undated = make_doc(date="")
    assert document_matches(undated, Filters(province="Đồng Nai"))
    assert not document_matches(undated, Filters(date_from="2000"))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(date_from="10/9/2024"),
        Filters(date_to="2024-9"),
        Filters(date_from="2025", date_to="2024"),
        Filters(date_from="2024-02-30"),  # not a real day
        Filters(date_to="2023-02-29"),  # not a leap year
        Filters(date_from="2024-99-99"),
        Filters(date_to="2024-13"),
        Filters(date_from="２０２４"),  # full-width digits
        Filters(date_from="2024\n"),
    ],
)
def test_malformed_filters_are_refused(filters: Filters) -> None:
    with pytest.raises(ValueError):
        check_filters(filters)


def test_every_retriever_only_returns_chunks_that_pass(tiny_index: Path, embedder) -> None:
    snap = open_current(tiny_index)
    doc_of = dict(enumerate(snap.chunk_doc_ids()))
    retrievers = [
        DenseRetriever(LocalStore(snap), embedder),
        LexicalRetriever(LocalStore(snap)),
        HybridRetriever(LocalStore(snap), embedder),
    ]
    cases = {
        Filters(province="Lào Cai"): {"ke-hoach-lao-cai"},
        Filters(doc_type="agreement"): {"dong-nai-kobe"},
        Filters(date_to="2022-12"): {"tra-vinh-tin"},
        Filters(doc_id="dong-nai-kobe"): {"dong-nai-kobe"},
    }
    for filters, allowed in cases.items():
        for retriever in retrievers:
            plan = plan_query("khu công nghiệp xanh", accent_model(snap), filters=filters)
            hits = retriever.retrieve(plan, 50)
            assert hits, (type(retriever).__name__, filters)
            assert {doc_of[cid] for cid, _ in hits} <= allowed


def test_filtered_dense_search_is_not_cut_short(tiny_index: Path, embedder) -> None:
    # The only Trà Vinh chunks rank last for this query; they must still come back.
    snap = open_current(tiny_index)
    filters = Filters(province="Trà Vinh")
    mask = allowed_chunks(snap, filters)
    assert mask is not None
    plan = plan_query("xe buýt điện", accent_model(snap), filters=filters)
    hits = DenseRetriever(LocalStore(snap), embedder).retrieve(plan, 100)
    assert len(hits) == int(mask.sum())


def test_a_filter_nothing_passes_gives_no_results(tiny_index: Path, embedder) -> None:
    snap = open_current(tiny_index)
    nothing = Filters(province="Cà Mau")
    assert not allowed_chunks(snap, nothing).any()
    plan = plan_query("xanh", accent_model(snap), filters=nothing)
    assert HybridRetriever(LocalStore(snap), embedder).retrieve(plan, 5) == []


# --- official documents: issuer, number, type as printed ----------------------------------

LAO_CAI_DECISION = {
    "issuer": "Ủy ban nhân dân tỉnh Lào Cai",
    "number": "2666/QĐ-UBND",
    "document_type": "Quyết định",
}
CUSTOMS_LETTER = {
    "issuer": "Cục Hải quan",
    "issuer_parent": "Bộ Tài chính",
    "number": "1234/CHQ-GSQL",
    "document_type": "Công văn",
}
DECREE = {"issuer": "Chính phủ", "number": "08/2022/NĐ-CP", "document_type": "Nghị định"}


@pytest.mark.parametrize(
    ("header", "issuer", "expected"),
    [
        (LAO_CAI_DECISION, "UBND tỉnh Lào Cai", True),
        (LAO_CAI_DECISION, "ubnd tinh lao cai", True),  # unaccented, lower case
        (LAO_CAI_DECISION, "ỦY BAN NHÂN DÂN TỈNH LÀO CAI", True),
        (LAO_CAI_DECISION, "Ủy ban nhân dân tỉnh Lào Cai", True),
        (LAO_CAI_DECISION, "Uỷ ban nhân dân tỉnh Lào Cai", True),  # the other tone placement
        (LAO_CAI_DECISION, "UBND Lào Cai", True),  # the unit left out
        (LAO_CAI_DECISION, "Lào Cai", True),
        (LAO_CAI_DECISION, "  ubnd   tỉnh lào cai ", True),
        (LAO_CAI_DECISION, "UBND tỉnh Yên Bái", False),
        (LAO_CAI_DECISION, "UBND thành phố Lào Cai", False),  # another body
        (LAO_CAI_DECISION, "HĐND tỉnh Lào Cai", False),
        (LAO_CAI_DECISION, "Lao Ca", False),  # whole words only
        (LAO_CAI_DECISION, "Cai Lào", False),
        (CUSTOMS_LETTER, "Bộ Tài chính", True),  # the body above the issuer
        (CUSTOMS_LETTER, "cuc hai quan", True),
        (CUSTOMS_LETTER, "Tổng cục Hải quan", False),
        (DECREE, "Chính phủ", True),
        (DECREE, "Thủ tướng Chính phủ", False),
        ({"issuer": "Sở Tài nguyên và Môi trường"}, "Sở TN&MT", True),  # glossary short form
        ({"issuer": "Sở Tài chính"}, "Department of Finance", True),  # and English name
        ({"issuer": "Sở Nông nghiệp và Môi trường"}, "Sở Nông nghiệp", True),
        ({"issuer": "Thủ tướng Chính phủ"}, "TTg", True),
        ({"issuer": "Ủy ban nhân dân tỉnh Thừa Thiên Huế"}, "Thua Thien Hue", True),
        ({"issuer": "Ủy ban nhân dân thành phố Huế"}, "UBND Huế", True),  # "Hue" is no alias
        ({"issuer": "Ủy ban nhân dân thành phố Hà Nội"}, "UBND Hanoi", True),
        ({}, "UBND tỉnh Lào Cai", False),  # no header: not an official document
    ],
)
def test_issuer_filter(make_doc: DocMaker, header: dict, issuer: str, expected: bool) -> None:
    assert document_matches(make_doc(header=header), Filters(issuer=issuer)) is expected


@pytest.mark.parametrize(
    ("header", "number", "expected"),
    [
        (LAO_CAI_DECISION, "2666/QĐ-UBND", True),
        (LAO_CAI_DECISION, "2666/qd-ubnd", True),
        (LAO_CAI_DECISION, "2666/QD-UBND", True),
        (LAO_CAI_DECISION, "2666 / QĐ - UBND", True),
        (LAO_CAI_DECISION, "Số: 2666/QĐ-UBND", True),
        (LAO_CAI_DECISION, "2666/QĐ", True),  # cut after the type code
        (LAO_CAI_DECISION, "2666", True),
        (LAO_CAI_DECISION, "02666", True),
        (LAO_CAI_DECISION, "số 2666", True),
        (LAO_CAI_DECISION, "qd 2666", True),
        (LAO_CAI_DECISION, "quyết định số 2666", True),
        (LAO_CAI_DECISION, "2667", False),
        (LAO_CAI_DECISION, "2666/QĐ-TTg", False),
        (LAO_CAI_DECISION, "nq 2666", False),  # another type
        (LAO_CAI_DECISION, "2666/2024", False),  # a year the number does not have
        (DECREE, "08/2022/NĐ-CP", True),
        (DECREE, "8/2022/nd-cp", True),
        (DECREE, "nd 08/2022", True),
        (DECREE, "Nghị định 08/2022", True),
        (DECREE, "08/2022", True),
        (DECREE, "8", True),
        (DECREE, "08/2023", False),
        ({}, "2666", False),
    ],
)
def test_number_filter(make_doc: DocMaker, header: dict, number: str, expected: bool) -> None:
    assert document_matches(make_doc(header=header), Filters(number=number)) is expected


@pytest.mark.parametrize(
    ("document_type", "expected"),
    [
        ("Quyết định", True),
        ("quyet dinh", True),
        ("QUYẾT ĐỊNH", True),
        ("QĐ", True),  # the code in numbers
        ("qd", True),
        ("Nghị quyết", False),
        ("Công văn", False),
    ],
)
def test_document_type_filter(make_doc: DocMaker, document_type: str, expected: bool) -> None:
    doc = make_doc(header=LAO_CAI_DECISION)
    assert document_matches(doc, Filters(document_type=document_type)) is expected


def test_header_filters_combine_with_each_other_and_the_dates(make_doc: DocMaker) -> None:
    doc = make_doc(header=LAO_CAI_DECISION, date="2025-11-17")
    both = Filters(issuer="ubnd lao cai", number="2666", document_type="quyet dinh")
    assert document_matches(doc, both)
    assert document_matches(doc, replace(both, date_from="2025-11", date_to="2025-12-31"))
    assert not document_matches(doc, replace(both, date_to="2025-11-16"))
    assert not document_matches(doc, replace(both, issuer="UBND tỉnh Yên Bái"))
    assert not document_matches(doc, replace(both, document_type="Kế hoạch"))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(issuer="---"),  # no word
        Filters(issuer="x" * (MAX_TEXT_FILTER_CHARS + 1)),
        Filters(number="abc"),
        Filters(number="quyết định"),
        Filters(number="1658/QĐ-TTg và 08/2022/NĐ-CP"),  # two numbers
        Filters(number="1" * (MAX_TEXT_FILTER_CHARS + 1)),
        Filters(document_type="plan"),  # the coarse type belongs to `type`
        Filters(document_type="Quyết"),
    ],
)
def test_malformed_header_filters_are_refused(filters: Filters) -> None:
    with pytest.raises(ValueError) as err:
        check_filters(filters)
    field = next(k for k in ("issuer", "number", "document_type") if getattr(filters, k))
    assert str(err.value).startswith(field)


@pytest.mark.parametrize(
    ("date_from", "date_to", "year", "expected"),
    [
        (None, None, 2024, ("2024", "2024")),
        ("2024-03", None, 2024, ("2024-03", "2024")),
        ("2023-06", "2025", 2024, ("2024", "2024")),
        (None, "2024-05-31", 2024, ("2024", "2024-05-31")),
        ("2020", "2030", None, ("2020", "2030")),
        ("0.0", None, 2024, ("0.0", "2024")),  # no date: kept, for check_filters to refuse
    ],
)
def test_a_year_narrows_the_date_range(
    date_from: str | None, date_to: str | None, year: int | None, expected: tuple[str, str]
) -> None:
    got = with_year(Filters(date_from=date_from, date_to=date_to), year)
    assert (got.date_from, got.date_to) == expected
