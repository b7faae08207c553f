"""The dense index factory on small real FAISS indexes: exact when small, IVF-SQ8 when large."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from index.ann import (
    KINDS,
    AnnConfig,
    RefinedIndex,
    build_dense_index,
    choose_nlist,
    describe,
    inner_index,
    load_dense_index,
)
from index.store import NewVersion, Snapshot, StoredChunk, StoredDocument, write_version

DIM = 64


def clustered(n: int, seed: int = 0, topics: int = 60) -> np.ndarray:
    """Unit vectors in a narrow cone, clustered in topics: the shape of e5 embeddings."""
    rng = np.random.default_rng(seed)
    mean = rng.standard_normal(DIM)
    centres = mean * 1.5 + rng.standard_normal((topics, DIM))
    x = centres[rng.integers(0, topics, n)] + 0.6 * rng.standard_normal((n, DIM))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1)[:, :k]


def test_below_threshold_is_exact() -> None:
    vectors = clustered(520)[:500]
    index, info = build_dense_index(vectors, DIM, AnnConfig(exact_below=501))
    assert isinstance(index, faiss.IndexFlatIP)
    assert info["type"] == "flat-ip" and info["exact"]
    queries = clustered(520)[500:]
    _, ids = index.search(queries, 10)
    np.testing.assert_array_equal(ids, exact_top(vectors, queries, 10))


def kind_max(index: faiss.Index, kind: str) -> int:
    return KINDS[kind].levels(index)[-1]


def _effort(index: Any, kind: str) -> int:
    index = inner_index(index)
    if kind.startswith("ivf"):
        return int(faiss.extract_index_ivf(index).nprobe)
    return int(faiss.downcast_index(index).hnsw.efSearch)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_above_threshold_is_approximate_and_meets_the_recall_target(kind: str) -> None:
    data = clustered(6200)
    vectors, held_out = data[:6000], data[6000:]
    config = AnnConfig(exact_below=5000, target_recall=0.95, recall_sample=300, kind=kind)
    index, info = build_dense_index(vectors, DIM, config)
    assert info["type"] == kind and not info["exact"]
    knob = info["search_param"]
    assert _effort(index, kind) == info[knob]
    searcher: Any = index
    if kind == "ivf-sq8":
        ivf = faiss.extract_index_ivf(index)
        assert ivf.nlist == info["nlist"] == choose_nlist(6000)
        assert info[knob] < ivf.nlist
        # Codes are one byte per dimension: a quarter of float32.
        assert ivf.code_size == DIM
    elif kind == "ivf-pq":
        ivf = faiss.extract_index_ivf(index)
        assert ivf.nlist == info["nlist"] == choose_nlist(6000)
        # Two dimensions a 4-bit code: a sixteenth of float32.
        assert ivf.code_size == DIM // 4 == info["bytes_per_vector"] - 8
        searcher = RefinedIndex(index, vectors)  # served (and calibrated) with exact re-scoring
    else:
        assert faiss.downcast_index(faiss.downcast_index(index).storage).code_size == DIM
    assert info["recall_at_10"] >= 0.95
    # The calibration stopped at the first effort reaching the target, and
    # serves the configured headroom above it.
    curve = info["recall_curve"]
    assert curve[-1][0] == info["effort_at_target"] and curve[-1][1] >= 0.95
    assert all(r < 0.95 for _, r in curve[:-1])
    assert info[knob] == min(kind_max(index, kind), 4 * info["effort_at_target"])
    # Recall holds on held-out vectors of the same distribution, never indexed.
    _, ids = searcher.search(held_out, 10)
    truth = exact_top(vectors, held_out, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth, strict=True)])
    assert recall >= 0.9
    assert "recall@10" in describe(info) and kind in describe(info)


def test_auto_takes_the_graph_while_small_and_compact_codes_from_the_threshold() -> None:
    config = AnnConfig(exact_below=1000, compact_above=4000, recall_sample=200)
    assert config.kind == "auto"
    assert [config.kind_for(n) for n in (999, 1000, 3999, 4000)] == [
        "flat-ip",
        "hnsw-sq8",
        "hnsw-sq8",
        "ivf-pq",
    ]
    assert AnnConfig(kind="ivf-sq8").kind_for(10**6) == "ivf-sq8"
    _, small = build_dense_index(clustered(3000, seed=7), DIM, config)
    _, large = build_dense_index(clustered(5000, seed=7), DIM, config)
    assert (small["type"], large["type"]) == ("hnsw-sq8", "ivf-pq")
    assert small["recall_at_10"] >= 0.95 and large["recall_at_10"] >= 0.95


def test_unreachable_target_is_reported_not_hidden() -> None:
    vectors = clustered(3000, seed=3)
    config = AnnConfig(exact_below=100, target_recall=1.0, kind="ivf-sq8")
    _, info = build_dense_index(vectors, DIM, config)
    # SQ8 codes cannot be exact, so the search widens to every list and says what it got.
    assert [level for level, _ in info["recall_curve"]][-1] == info["nlist"]
    assert info["recall_at_10"] < 1.0
    assert info["recall_at_target_effort"] == max(r for _, r in info["recall_curve"])


def _version(vectors: np.ndarray, ann: AnnConfig) -> NewVersion:
    n = len(vectors)
    doc = StoredDocument("d", "t", "s", "/p", "/", "", "plan", [], "h", [], n)
    chunks = [StoredChunk(-1, "d", i, "", None, f"chunk {i}", f"chunk {i}") for i in range(n)]
    return NewVersion({"embedder": "test", "dim": DIM}, [doc], chunks, vectors, ann=ann)


@pytest.mark.parametrize(
    ("exact_below", "kind"),
    [(10_000, "hnsw-sq8"), (1000, "hnsw-sq8"), (1000, "ivf-sq8"), (1000, "ivf-pq")],
)
def test_snapshot_round_trip(tmp_path: Path, exact_below: int, kind: str) -> None:
    vectors = clustered(3000, seed=5)
    path = write_version(tmp_path, _version(vectors, AnnConfig(exact_below, kind=kind)))
    snap = Snapshot(path)
    info = snap.manifest["dense_index"]
    assert snap.manifest["index_type"] == info["type"]
    assert info["type"] == ("flat-ip" if exact_below > 3000 else kind)
    if not info["exact"]:
        assert _effort(snap.faiss_index, kind) == info[info["search_param"]]
    # A stored vector finds itself first, and the text comes from SQLite.
    for i in (0, 1234, 2999):
        hits = snap.search_dense(vectors[i], 5)
        assert hits[0][0] == i
        assert snap.chunks([hits[0][0]])[0].text == f"chunk {i}"
    snap.close()


@pytest.mark.parametrize("kind", ["hnsw-sq8", "ivf-pq"])
def test_approximate_index_out_of_step_with_the_vectors_is_refused(
    tmp_path: Path, kind: str
) -> None:
    from index.store import IndexUnavailable

    vectors = clustered(6000, seed=17)
    path = write_version(tmp_path, _version(vectors, AnnConfig(1000, kind=kind)))
    Snapshot(path).close()  # consistent: each checked row finds itself
    # Rows shuffled under the index: row i no longer holds the vector indexed as i.
    shuffled = vectors[np.random.default_rng(17).permutation(len(vectors))]
    np.save(path / "vectors.npy", shuffled, allow_pickle=False)
    with pytest.raises(IndexUnavailable, match=r"differs from vectors\.npy"):
        Snapshot(path)


def test_duplicate_rows_pass_the_self_search_check(tmp_path: Path) -> None:
    # Identical chunks (boilerplate repeated across documents) have identical vectors;
    # the index may return any of them for the row's own vector.
    vectors = np.repeat(clustered(100, seed=19), 30, axis=0)  # more copies than the 10 checked
    path = write_version(tmp_path, _version(vectors, AnnConfig(1000, kind="hnsw-sq8")))
    snap = Snapshot(path)
    assert snap.manifest["dense_index"]["type"] == "hnsw-sq8"
    snap.close()


def test_memory_mapped_load_searches_like_in_memory(tmp_path: Path) -> None:
    vectors = clustered(4000, seed=11)
    index, info = build_dense_index(vectors, DIM, AnnConfig(exact_below=1000, kind="ivf-sq8"))
    faiss.write_index(index, str(tmp_path / "dense.faiss"))
    mapped = load_dense_index(tmp_path / "dense.faiss", info, mmap=True)
    loaded = load_dense_index(tmp_path / "dense.faiss", info, mmap=False)
    queries = clustered(4050, seed=11)[4000:]
    d1, i1 = mapped.search(queries, 10)
    d2, i2 = loaded.search(queries, 10)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2)


def test_refined_index_returns_exact_scores_of_better_candidates(tmp_path: Path) -> None:
    vectors = clustered(6000, seed=13)
    queries = clustered(6100, seed=13)[6000:]
    config = AnnConfig(exact_below=1000, target_recall=0.95, recall_sample=300, kind="ivf-pq")
    raw, info = build_dense_index(vectors, DIM, config)
    faiss.write_index(raw, str(tmp_path / "dense.faiss"))
    with pytest.raises(ValueError, match="needs the stored vectors"):
        load_dense_index(tmp_path / "dense.faiss", info)
    refined = load_dense_index(tmp_path / "dense.faiss", info, np.asarray(vectors))
    assert isinstance(refined, RefinedIndex) and refined.ntotal == 6000 and refined.d == DIM
    assert _effort(refined, "ivf-pq") == info["nprobe"]
    scores, ids = refined.search(queries, 10)
    # Scores are exact inner products of the returned rows, best first.
    np.testing.assert_allclose(scores, np.einsum("qkd,qd->qk", vectors[ids], queries), rtol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 0)
    truth = exact_top(vectors, queries, 10)

    def recall(found: np.ndarray) -> float:
        return float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
        )

    _, raw_ids = raw.search(queries, 10)
    # 4-bit codes alone rank poorly; re-scoring the pool recovers the exact top 10.
    assert recall(ids) >= 0.95 > recall(raw_ids)


def _mapped_rss_kb(path: Path) -> int:
    """Resident kB of this process's mappings of ``path`` (Linux /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0] and len(line.split()) >= 5:
            inside = line.split()[-1] == str(path)
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_a_sample_of_a_mapped_file_leaves_its_pages_given_back(tmp_path: Path) -> None:
    # Training and calibration samples take every few rows: without giving the pages back,
    # the whole mapped file would stay resident through the train (at 600k sentence
    # windows, 0.9 GB that grew with the collection).
    from index.ann import _sample_rows

    path = tmp_path / "vectors.npy"
    np.save(path, clustered(20_000, seed=5))
    mapped = np.load(path, mmap_mode="r")
    ids = np.arange(0, 20_000, 3)
    rows = _sample_rows(mapped, ids)
    np.testing.assert_array_equal(rows, np.asarray(mapped[ids]))  # reading compares again
    rows = _sample_rows(mapped, ids)
    assert rows.dtype == np.float32 and rows.flags.c_contiguous
    file_kb = path.stat().st_size // 1024
    assert _mapped_rss_kb(path) < file_kb // 10, (_mapped_rss_kb(path), file_kb)
    # Without the release the same read keeps most of the file resident: the check can fail.
    np.ascontiguousarray(mapped[ids])
    assert _mapped_rss_kb(path) > file_kb // 2
