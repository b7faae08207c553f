"""Optional second stage: a sentence-transformers CrossEncoder re-orders the top hits.

Off unless ``POLICY_SEARCH_RERANKER`` names a model (a local folder or a model
in the local cache); nothing here is needed for search to work.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from index.stores import Records
from search.query import QueryPlan
from search.retrieve import Retriever


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a CrossEncoder; loaded on first use."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: Any = None
        self._lock = threading.Lock()

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(self.model_name, device="cpu")
            scores = self._model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(s) for s in scores]


class RerankingRetriever:
    """The ``depth`` best hits of ``inner``, re-ordered by the cross-encoder, cut to ``k``."""

    def __init__(
        self, inner: Retriever, snapshot: Records, reranker: CrossEncoderReranker, depth: int
    ) -> None:
        self.inner = inner
        self.snapshot = snapshot
        self.reranker = reranker
        self.depth = depth

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        hits = self.inner.retrieve(plan, max(k, self.depth))
        # Only the first ``depth`` are re-read, however deep a page asks: the order of
        # the top is then the same for every depth, and the rest follow in inner's order.
        head, rest = hits[: self.depth], hits[self.depth : k]
        chunks = self.snapshot.chunks([cid for cid, _ in head])
        scores = self.reranker.score(plan.text, [c.embed_text for c in chunks])
        ranked = sorted(
            zip((c.id for c in chunks), scores, strict=True), key=lambda item: (-item[1], item[0])
        )
        floor = min((s for _, s in ranked), default=0.0)
        return (ranked + [(cid, floor - 1.0 - i * 1e-6) for i, (cid, _) in enumerate(rest)])[:k]
