"""An LRU cache of query embeddings in front of any :class:`~index.embed.Embedder`.

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
from index.embed_base import ForwardsSentences


class CachedEmbedder(ForwardsSentences):
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
