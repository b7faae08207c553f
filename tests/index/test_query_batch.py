"""Concurrent queries share forward passes of the real default embedder."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from index.embed import Embedder, ProgressFn
from index.query_batch import BatchingEmbedder

QUESTIONS = [
    "ai chủ trì quản lý chất thải đô thị",
    "who leads urban waste management?",
    "hợp tác với Lào",
    "kế hoạch phát triển kinh tế số",
    "Đồng Nai ký kết với Kobe",
    "xe buýt điện",
    "chuyển đổi số trong y tế",
    "ở đâu có khu công nghiệp",
    "ý kiến của Sở Tài chính",
    "cong nghe thong tin",
]


class Gate:
    """The real embedder behind a gate: the first pass waits until the test opens it.

    That holds the first caller inside its pass while the others queue, so
    what the batcher does with a queue is tested deterministically.
    """

    def __init__(self, inner: Embedder, fail_on: str | None = None) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.opened = threading.Event()
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        self.calls.append(["passages", *texts])
        return self.inner.embed_passages(texts, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            assert self.opened.wait(30)
        if self.fail_on in texts:
            raise RuntimeError(f"cannot embed {self.fail_on!r}")
        return self.inner.embed_queries(texts)


def _run_concurrently(batcher: BatchingEmbedder, gate: Gate, texts: list[str]) -> list:
    """Embed texts[0] first (held at the gate), then the rest from their own threads."""
    results: list = [None] * len(texts)

    def worker(i: int) -> None:
        try:
            results[i] = batcher.embed_queries([texts[i]])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    threads[0].start()
    while not gate.calls:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 30
    while len(batcher._queue) < len(texts) - 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.opened.set()
    for t in threads:
        t.join(30)
    return results


def test_queued_queries_share_one_pass_and_keep_their_vectors(embedder) -> None:
    gate = Gate(embedder)
    batcher = BatchingEmbedder(gate, max_batch=32)
    results = _run_concurrently(batcher, gate, QUESTIONS)
    # The first query alone, then the nine that queued behind it together.
    assert [len(c) for c in gate.calls] == [1, len(QUESTIONS) - 1]
    assert (batcher.passes, batcher.queries) == (2, len(QUESTIONS))
    # Whatever thread asked, one thread ran the model (one OpenMP team).
    assert gate.threads == {"embedder"}
    for question, got in zip(QUESTIONS, results, strict=True):
        alone = embedder.embed_queries([question])
        assert got.shape == (1, embedder.dim)
        # Padding is masked: a query's vector does not depend on its batch-mates.
        assert float(got[0] @ alone[0]) > 0.999, question


def test_max_batch_bounds_each_pass(embedder) -> None:
    gate = Gate(embedder)
    batcher = BatchingEmbedder(gate, max_batch=4)
    results = _run_concurrently(batcher, gate, QUESTIONS)
    sizes = [len(c) for c in gate.calls]
    assert sizes[0] == 1 and max(sizes) <= 4 and sum(sizes) == len(QUESTIONS)
    assert len(sizes) == 1 + 3  # 9 queued queries in passes of at most 4
    assert all(r.shape == (1, embedder.dim) for r in results)


def test_a_failing_pass_fails_its_callers_only_and_the_next_pass_works(embedder) -> None:
    gate = Gate(embedder, fail_on=QUESTIONS[3])
    batcher = BatchingEmbedder(gate)
    results = _run_concurrently(batcher, gate, QUESTIONS)
    assert isinstance(results[0], np.ndarray)  # its own pass, before the bad one
    failed = [r for r in results[1:] if isinstance(r, Exception)]
    assert len(failed) == len(QUESTIONS) - 1
    assert all("cannot embed" in str(r) for r in failed)
    again = batcher.embed_queries([QUESTIONS[1]])
    assert float(again[0] @ embedder.embed_queries([QUESTIONS[1]])[0]) > 0.999


def test_multi_text_calls_and_empty_calls(embedder) -> None:
    batcher = BatchingEmbedder(embedder)
    out = batcher.embed_queries(QUESTIONS[:3])
    assert out.shape == (3, embedder.dim)
    assert batcher.embed_queries([]).shape == (0, embedder.dim)
    assert batcher.name == embedder.name and batcher.dim == embedder.dim
    with pytest.raises(ValueError):
        BatchingEmbedder(embedder, max_batch=0)


def test_passages_run_on_the_worker_alone(embedder) -> None:
    gate = Gate(embedder)
    batcher = BatchingEmbedder(gate)
    held = threading.Thread(target=batcher.embed_queries, args=([QUESTIONS[0]],))
    held.start()
    while not gate.calls:
        time.sleep(0.001)
    out: dict[str, np.ndarray] = {}
    passages = ["Sở Xây dựng phối hợp quản lý chất thải rắn.", "Xe buýt điện ở Hà Nội."]
    workers = [
        threading.Thread(target=lambda: out.update(p=batcher.embed_passages(passages))),
        threading.Thread(target=lambda: out.update(q=batcher.embed_queries(QUESTIONS[1:3]))),
    ]
    for t in workers:
        t.start()
    while len(batcher._queue) < 2:
        time.sleep(0.001)
    gate.opened.set()
    for t in [held, *workers]:
        t.join(30)
    assert gate.calls[1:] == [["passages", *passages], QUESTIONS[1:3]]
    assert gate.threads == {"embedder"}
    direct = embedder.embed_passages(passages)
    assert np.all(np.sum(out["p"] * direct, axis=1) > 0.999)
    assert out["q"].shape == (2, embedder.dim) and batcher.passes == 2
