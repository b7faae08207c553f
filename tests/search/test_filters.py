"""Metadata filters: matching rules and their effect on every retriever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from index.store import StoredDocument, open_current
from index.stores import LocalStore
from search.filters import Filters, allowed_chunks, check_filters, document_matches
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
