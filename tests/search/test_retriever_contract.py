"""The contract every retriever passes, on every store (haystack-style test mixins).

Each retrieval method (dense, dense with sentence windows, lexical, hybrid) runs
over the local store and over Milvus Lite, on the same real index; on both it
returns at most k chunks, best first, respects filters, handles an empty index
and a k larger than the index, and ranks exactly as it does on the local store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embed import Embedder
from index.store import current_path, open_current
from index.stores import Backend, LocalBackend, Store
from search.filters import Filters, allowed_chunks
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import QueryPlan, plan_query
from search.retrieve import DenseRetriever, Retriever
from search.windows import WindowRetriever, dense_retriever

RETRIEVERS: dict[str, Callable[[Store, Embedder], Retriever]] = {
    "dense": DenseRetriever,
    "windows": dense_retriever,
    "lexical": lambda store, embedder: LexicalRetriever(store),
    "hybrid": HybridRetriever,
}
QUERIES = [
    "khu công nghiệp xanh",  # Vietnamese
    "khu cong nghiep xanh o Dong Nai",  # without diacritics: restored for the dense side
    "Which province signed an agreement with Kobe?",  # English
]
FILTERS = [
    Filters(province="Lào Cai"),
    Filters(doc_type="agreement"),
    Filters(date_to="2022-12"),
    Filters(doc_id="dong-nai-kobe"),
]


def _plan(store: Store, text: str, filters: Filters | None = None) -> QueryPlan:
    return plan_query(text, accent_model(store), filters=filters)


def _published(backend: Backend, index: Path) -> Store:
    """The current version of ``index``, published to ``backend`` and opened there."""
    version = current_path(index)
    assert version is not None
    backend.publish(version)
    return backend.open(open_current(index))


@pytest.fixture(params=list(RETRIEVERS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestRetrieverContract:
    """Parametrised by the ``backend`` fixture (tests/conftest.py): faiss and Milvus Lite."""

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, backend: Backend, tiny_index: Path) -> Store:
        return _published(backend, tiny_index)

    @pytest.fixture(scope="class")
    @classmethod
    def local(cls, tiny_index: Path) -> Store:
        return LocalBackend().open(open_current(tiny_index))

    @pytest.fixture(scope="class")
    @classmethod
    def empty(cls, backend: Backend, tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
        tmp = tmp_path_factory.mktemp("empty")
        (tmp / "docs").mkdir()
        build_index([tmp / "docs"], tmp / "index", embedder, publisher=backend)
        return backend.open(open_current(tmp / "index"))

    def test_the_windowed_retriever_uses_the_windows(self, store: Store, embedder) -> None:
        assert store.has_windows
        assert isinstance(dense_retriever(store, embedder), WindowRetriever)

    @pytest.mark.parametrize("query", QUERIES)
    def test_at_most_k_best_first(self, store: Store, embedder, kind: str, query: str) -> None:
        retriever = RETRIEVERS[kind](store, embedder)
        for k in (0, 1, 3):
            hits = retriever.retrieve(_plan(store, query), k)
            assert len(hits) <= k
            if kind != "lexical":  # dense scores every chunk
                assert len(hits) == k
            ids = [i for i, _ in hits]
            assert len(set(ids)) == len(ids) and all(0 <= i < len(store) for i in ids)
            scores = [s for _, s in hits]
            assert scores == sorted(scores, reverse=True)

    def test_k_larger_than_the_index(self, store: Store, embedder, kind: str) -> None:
        n = len(store)
        hits = RETRIEVERS[kind](store, embedder).retrieve(_plan(store, QUERIES[0]), n + 50)
        assert 0 < len(hits) <= n
        if kind != "lexical":
            assert sorted(i for i, _ in hits) == list(range(n))

    @pytest.mark.parametrize("filters", FILTERS, ids=str)
    def test_filters_are_respected(
        self, store: Store, embedder, kind: str, filters: Filters
    ) -> None:
        mask = allowed_chunks(store, filters)
        assert mask is not None and mask.any()
        hits = RETRIEVERS[kind](store, embedder).retrieve(
            _plan(store, "khu công nghiệp xanh rừng", filters), 50
        )
        assert hits and all(mask[i] for i, _ in hits)
        if kind != "lexical":  # a filter never cuts the dense side short
            assert len(hits) == int(mask.sum())
        nothing = _plan(store, "khu công nghiệp xanh", Filters(province="Cà Mau"))
        assert RETRIEVERS[kind](store, embedder).retrieve(nothing, 5) == []

    def test_an_empty_index(self, empty: Store, embedder, kind: str) -> None:
        assert len(empty) == 0
        retriever = RETRIEVERS[kind](empty, embedder)
        for query in QUERIES:
            assert retriever.retrieve(_plan(empty, query), 5) == []

    @pytest.mark.parametrize("query", QUERIES)
    def test_ranks_as_on_the_local_store(
        self, store: Store, local: Store, embedder, kind: str, query: str
    ) -> None:
        plan = _plan(store, query)
        assert plan == _plan(local, query)  # the same accent model: the same plan
        got = RETRIEVERS[kind](store, embedder).retrieve(plan, 8)
        want = RETRIEVERS[kind](local, embedder).retrieve(plan, 8)
        assert [i for i, _ in got] == [i for i, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-4)


# The header filters, on the official documents of tests/official.py: doc ids by number.
HEADER_FILTERS = [
    (Filters(issuer="ubnd tinh lao cai"), {"123/KH-UBND"}),
    (Filters(issuer="UBND Đắk Lắk"), {"1658/QĐ-UBND"}),
    (Filters(issuer="Chính phủ"), {"08/2022/NĐ-CP", "1658/QĐ-TTg"}),  # and "Thủ tướng Chính phủ"
    (Filters(number="1658"), {"1658/QĐ-TTg", "1658/QĐ-UBND"}),
    (Filters(number="1658/qd-ttg"), {"1658/QĐ-TTg"}),
    (Filters(number="nd 08/2022"), {"08/2022/NĐ-CP"}),
    (Filters(document_type="quyet dinh"), {"1658/QĐ-TTg", "1658/QĐ-UBND"}),
    (Filters(document_type="Quyết định", date_from="2024"), {"1658/QĐ-UBND"}),
    (Filters(date_from="2021-10-01", date_to="2022-01-10"), {"1658/QĐ-TTg", "08/2022/NĐ-CP"}),
    (Filters(issuer="UBND", number="1658"), {"1658/QĐ-UBND"}),
]


class TestHeaderFiltersOnEveryStore:
    """The official documents' filters (issuer, number, type as printed, the header's
    date) restrict every retriever on every store to the same documents."""

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, backend: Backend, official_index: Path) -> Store:
        return _published(backend, official_index)

    @pytest.mark.parametrize(("filters", "numbers"), HEADER_FILTERS, ids=str)
    def test_only_the_documents_named(
        self, store: Store, embedder, kind: str, filters: Filters, numbers: set[str]
    ) -> None:
        number_of = {d.doc_id: d.header.get("number", "") for d in store.documents()}
        doc_of = store.chunk_doc_ids()
        hits = RETRIEVERS[kind](store, embedder).retrieve(
            _plan(store, "tăng trưởng xanh môi trường quyết định", filters), 100
        )
        assert {number_of[doc_of[i]] for i, _ in hits} == numbers, (kind, filters)

    @pytest.mark.parametrize(
        "filters",
        [
            Filters(issuer="UBND tỉnh Cà Mau"),
            Filters(number="9999/QĐ-UBND"),
            Filters(document_type="Thông tư"),
            Filters(issuer="ubnd lao cai", document_type="Quyết định"),
        ],
        ids=str,
    )
    def test_a_header_filter_nothing_passes(
        self, store: Store, embedder, kind: str, filters: Filters
    ) -> None:
        mask = allowed_chunks(store, filters)
        assert mask is not None and not mask.any()
        plan = _plan(store, "tăng trưởng xanh", filters)
        assert RETRIEVERS[kind](store, embedder).retrieve(plan, 10) == []
