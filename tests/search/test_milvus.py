"""The milvus backend against a real Milvus Lite (a local file), over the real corpus index."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip(
    "pymilvus", reason="milvus backend tests need pymilvus: pip install '.[milvus]'"
)
pytest.importorskip("milvus_lite", reason="milvus backend tests need milvus-lite (local Milvus)")

from index.milvus_store import bm25_text
from index.store import IndexUnavailable, current_path, open_current
from search.engine import SearchEngine
from search.lexical import accent_model
from search.milvus_retriever import MilvusBackend, MilvusRetriever
from search.query import plan_query
from search.settings import Settings

WASTE_Q = "Ai chủ trì quản lý chất thải đô thị?"


@pytest.fixture(scope="module")
def milvus_settings(corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    return Settings(index_dir=corpus_index, index_backend="milvus", milvus_uri=uri)


@pytest.fixture(scope="module")
def backend(milvus_settings: Settings) -> MilvusBackend:
    backend = MilvusBackend(milvus_settings)
    line = backend.publish(current_path(milvus_settings.index_dir))
    assert "published" in line
    return backend


def test_bm25_text_keeps_syllables_and_adds_folded_forms() -> None:
    assert bm25_text("Sở Xây dựng Lào Cai") == "sở xây dựng lào cai so xay dung lao"
    assert bm25_text("ở Hà Nội, ý kiến") == "ở hà nội ý kiến o ha noi y kien"
    assert bm25_text("!!!") == ""


def test_dense_matches_faiss_exact_search(backend, milvus_settings, embedder) -> None:
    snap = open_current(milvus_settings.index_dir)
    milvus = MilvusRetriever(backend.store, snap.version, embedder, mode="dense")
    vector = embedder.embed_queries([WASTE_Q])[0]
    faiss_hits = snap.search_dense(vector, 10)
    milvus_hits = milvus.retrieve(plan_query(WASTE_Q, accent_model(snap)), 10)
    assert [i for i, _ in milvus_hits] == [i for i, _ in faiss_hits]
    for (_, a), (_, b) in zip(milvus_hits, faiss_hits, strict=True):
        assert a == pytest.approx(b, abs=1e-4)


def test_bm25_matches_with_and_without_diacritics(backend, milvus_settings, embedder):
    snap = open_current(milvus_settings.index_dir)
    bm25 = MilvusRetriever(backend.store, snap.version, embedder, mode="bm25")
    marked = bm25.retrieve(plan_query("Sở Xây dựng chất thải rắn", accent_model(snap)), 5)
    plain = bm25.retrieve(plan_query("so xay dung chat thai ran", accent_model(snap)), 5)
    assert marked and plain
    top = snap.chunks([marked[0][0]])[0]
    assert "chất thải" in top.text.lower() or "xây dựng" in top.text.lower()
    # The folded query finds the same best passage through the folded tokens.
    assert plain[0][0] == marked[0][0]
    assert bm25.retrieve(plan_query("zzzqqq", accent_model(snap)), 5) == []


def test_hybrid_is_reciprocal_rank_fusion_of_both_lists(backend, milvus_settings, embedder):
    snap = open_current(milvus_settings.index_dir)
    store, v = backend.store, snap.version
    query = WASTE_Q
    vector = embedder.embed_queries([query])[0]
    dense = [i for i, _ in store.search_dense(v, vector, 50)]
    sparse = [i for i, _ in store.search_bm25(v, query, 50)]
    expected: dict[int, float] = {}
    for ranked in (dense, sparse):
        for rank, cid in enumerate(ranked, 1):
            expected[cid] = expected.get(cid, 0.0) + 1 / (60 + rank)
    hybrid = MilvusRetriever(store, v, embedder).retrieve(plan_query(query, accent_model(snap)), 5)
    best = sorted(expected.items(), key=lambda x: -x[1])[:5]
    assert [s for _, s in hybrid] == pytest.approx([s for _, s in best], abs=1e-6)
    assert {i for i, _ in hybrid} <= set(dense) | set(sparse)


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


def test_unpublished_version_is_unavailable(milvus_settings, embedder, tmp_path) -> None:
    other = MilvusBackend(milvus_settings.model_copy(update={"milvus_uri": str(tmp_path / "m.db")}))
    snap = open_current(milvus_settings.index_dir)
    with pytest.raises(IndexUnavailable, match="not in Milvus"):
        other.retriever(snap, embedder)
    other.store.close()


def test_filters_restrict_milvus_results(backend, milvus_settings, embedder) -> None:
    from search.filters import Filters

    engine = SearchEngine(milvus_settings, embedder=embedder)
    engine.backend = backend
    only = "001_1239ce19dc31f053"
    results = engine.search(WASTE_Q, 5, filters=Filters(doc_id=only))
    assert results and all(r.doc_id == only for r in results)
    assert engine.search(WASTE_Q, 5, filters=Filters(doc_id="no-such-document")) == []
