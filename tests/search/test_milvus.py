"""The milvus backend against a real Milvus Lite database, over the real corpus index.

The store contract (tests/index/test_store_contract.py) and the retriever
contract (tests/search/test_retriever_contract.py) run on Milvus too; these
are the Milvus-specific checks and the engine end to end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "pymilvus", reason="milvus backend tests need pymilvus: pip install '.[milvus]'"
)
pytest.importorskip("milvus_lite", reason="milvus backend tests need milvus-lite (local Milvus)")

from index.milvus_store import MilvusBackend, check_uri, collection_name
from index.store import IndexUnavailable, current_path, open_current
from index.stores import LocalBackend
from policy_search.settings import Settings
from search.engine import SearchEngine
from search.filters import Filters
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.query import plan_query

WASTE_Q = "Ai chủ trì quản lý chất thải đô thị?"


@pytest.fixture(scope="module")
def milvus_settings(corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    return Settings(index_dir=corpus_index, index_backend="milvus", milvus_uri=uri)


@pytest.fixture(scope="module")
def backend(milvus_settings: Settings) -> MilvusBackend:
    backend = MilvusBackend(milvus_settings.milvus_uri)
    line = backend.publish(current_path(milvus_settings.index_dir))
    assert "published" in line
    return backend


def test_milvus_uris_are_checked_before_connecting(tmp_path: Path) -> None:
    check_uri("http://milvus.internal:19530")
    check_uri(str(tmp_path / "milvus.db"))  # Milvus Lite keeps its data in a folder named .db
    (tmp_path / "data").mkdir()
    with pytest.raises(IndexUnavailable, match="is a folder"):
        check_uri(str(tmp_path / "data"))
    with pytest.raises(IndexUnavailable, match=r"must end in '\.db'"):
        check_uri(str(tmp_path / "milvus.sqlite"))


def test_dense_matches_faiss_exact_search(backend, milvus_settings, embedder) -> None:
    snap = open_current(milvus_settings.index_dir)
    store = backend.open(snap)
    vector = embedder.embed_queries([WASTE_Q])[0]
    faiss_hits = snap.search_dense(vector, 10)
    milvus_hits = store.search_dense(vector, 10)
    assert [i for i, _ in milvus_hits] == [i for i, _ in faiss_hits]
    for (_, a), (_, b) in zip(milvus_hits, faiss_hits, strict=True):
        assert a == pytest.approx(b, abs=1e-4)


def test_bm25_matches_with_and_without_diacritics(backend, milvus_settings):
    snap = open_current(milvus_settings.index_dir)
    store = backend.open(snap)
    bm25 = LexicalRetriever(store)
    marked = bm25.retrieve(plan_query("Sở Xây dựng chất thải rắn", accent_model(store)), 5)
    plain = bm25.retrieve(plan_query("so xay dung chat thai ran", accent_model(store)), 5)
    assert marked and plain
    top = snap.chunks([marked[0][0]])[0]
    assert "chất thải" in top.text.lower() or "xây dựng" in top.text.lower()
    # The folded query finds the same best passage through the folded field.
    assert plain[0][0] == marked[0][0]
    assert bm25.retrieve(plan_query("zzzqqq", accent_model(store)), 5) == []


def test_hybrid_is_the_tuned_fusion_as_on_the_local_store(
    backend, milvus_settings, embedder
) -> None:
    snap = open_current(milvus_settings.index_dir)
    milvus, local = backend.open(snap), LocalBackend().open(snap)
    for query in (WASTE_Q, "ai chu tri quan ly chat thai do thi", "who leads waste management?"):
        plan = plan_query(query, accent_model(local))
        got = HybridRetriever(milvus, embedder).retrieve(plan, 10)
        want = HybridRetriever(local, embedder).retrieve(plan, 10)
        assert [i for i, _ in got] == [i for i, _ in want], query
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-4)


def test_engine_and_api_contract_on_milvus(backend, milvus_settings, embedder) -> None:
    engine = SearchEngine(milvus_settings, embedder=embedder)
    engine.backend = backend  # share the one Milvus Lite connection of this module
    results = engine.search(WASTE_Q, 5)
    assert len(results) == 5
    # The passage the dense search ranks first for this question survives the fusion.
    assert any(
        "quản lý chất thải đô thị" in r.text and r.section.endswith("6. Sở Xây dựng")
        for r in results
    ), [r.section for r in results]
    assert all(r.text and r.title for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    # The same answers as the local store gives.
    local = SearchEngine(milvus_settings.model_copy(update={"index_backend": "faiss"}), embedder)
    assert [r.chunk_id for r in local.search(WASTE_Q, 5)] == [r.chunk_id for r in results]


def test_unpublished_version_is_unavailable(milvus_settings, tmp_path) -> None:
    other = MilvusBackend(str(tmp_path / "m.db"))
    snap = open_current(milvus_settings.index_dir)
    with pytest.raises(IndexUnavailable, match="not in Milvus"):
        other.open(snap)
    other.close()


def test_retire_drops_only_the_named_versions(milvus_settings, tmp_path) -> None:
    milvus = MilvusBackend(str(tmp_path / "m.db"))
    snap = open_current(milvus_settings.index_dir)
    milvus.publish(snap.path)
    names = {collection_name(snap.version, p) for p in "vw"}
    assert names <= set(milvus.client.list_collections())
    assert milvus.retire(["20000101T000000000000-aaaaaa"]) == []  # another index's version
    assert sorted(milvus.retire([snap.version])) == sorted(names)
    assert not names & set(milvus.client.list_collections())
    milvus.close()


def test_filters_restrict_milvus_results(backend, milvus_settings, embedder) -> None:
    engine = SearchEngine(milvus_settings, embedder=embedder)
    engine.backend = backend
    only = "001_1239ce19dc31f053"
    results = engine.search(WASTE_Q, 5, filters=Filters(doc_id=only))
    assert results and all(r.doc_id == only for r in results)
    assert engine.search(WASTE_Q, 5, filters=Filters(doc_id="no-such-document")) == []
