"""Synthetic data for the benchmarks, shaped like the real thing.

Vectors: e5 passage embeddings are not spread over the sphere; they sit in a
narrow cone (mean pairwise cosine ~0.8 on XQuAD) with a few strong
directions. :func:`clustered_vectors` keeps that shape: it takes the mean
and principal directions of *real* embeddings and draws topics around the
mean, then chunks around topics, in the real covariance's coordinates.
Recall and latency measured on them are therefore closer to real ones than
on uniform random vectors, but they are still synthetic, and the benchmark
output says so.

Text: :func:`vietnamese_passages` recombines real sentences of the corpus and
of XQuAD-vi into passages, so tokenisation and BM25 see Vietnamese.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np


def clustered_vectors(
    n: int,
    anchors: np.ndarray,
    seed: int = 0,
    topic_size: int = 40,
    topic_spread: float = 0.9,
    chunk_spread: float = 0.6,
    block: int = 100_000,
) -> Iterator[np.ndarray]:
    """``n`` unit vectors in blocks, clustered in topics of ~``topic_size`` like ``anchors``."""
    rng = np.random.default_rng(seed)
    mu, basis = _shape(anchors)
    n_topics = max(1, n // topic_size)
    topics = (mu + topic_spread * (rng.standard_normal((n_topics, len(basis))) @ basis)).astype(
        np.float32
    )
    done = 0
    while done < n:
        m = min(block, n - done)
        which = rng.integers(0, n_topics, size=m)
        noise = rng.standard_normal((m, len(basis)), dtype=np.float32) @ basis
        x = topics[which] + chunk_spread * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield x
        done += m


def _shape(anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``anchors`` and their principal axes, scaled by the real spread along each."""
    anchors = np.asarray(anchors, dtype=np.float64)
    mu = anchors.mean(axis=0)
    _, s, vt = np.linalg.svd(anchors - mu, full_matrices=False)
    return mu, ((s / np.sqrt(len(anchors)))[:, None] * vt).astype(np.float32)


def window_counts(n: int, seed: int = 0) -> np.ndarray:
    """Sentence windows of each of ``n`` chunks: none for 10% (one-sentence chunks), else 2-4.

    2.7 a chunk on average; the bundled corpus has 2.8 (182 for 64 chunks).
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 5, size=n)
    counts[rng.random(n) < 0.1] = 0
    return counts


def window_vectors(
    chunks: np.ndarray,
    counts: np.ndarray,
    anchors: np.ndarray,
    seed: int = 0,
    spread: float = 0.4,
    block: int = 100_000,
) -> Iterator[np.ndarray]:
    """Vectors of each chunk's windows (``counts[i]`` for chunk ``i``), drawn around the chunk.

    A sentence is near its chunk but not on it: the same real covariance as
    :func:`clustered_vectors`, at a smaller spread.
    """
    rng = np.random.default_rng(seed)
    _, basis = _shape(anchors)
    owners = np.repeat(np.arange(len(chunks)), counts)
    for start in range(0, len(owners), block):
        rows = owners[start : start + block]
        noise = rng.standard_normal((len(rows), len(basis)), dtype=np.float32) @ basis
        x = np.asarray(chunks[rows], dtype=np.float32) + spread * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield x


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if len(s.strip()) > 20]


def vietnamese_passages(
    sentences: Sequence[str], n: int, seed: int = 0, per_passage: tuple[int, int] = (3, 8)
) -> Iterator[str]:
    """``n`` passages of 3-8 real Vietnamese sentences drawn at random."""
    rng = np.random.default_rng(seed)
    lo, hi = per_passage
    for _ in range(n):
        picks = rng.integers(0, len(sentences), size=int(rng.integers(lo, hi + 1)))
        yield " ".join(sentences[i] for i in picks)
