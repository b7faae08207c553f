"""Lexical retrieval: BM25 over the syllable and diacritic-folded fields.

The index files are written at ingest time (:mod:`index.lexical`) and loaded
once per snapshot; versions built before they existed get an in-memory index.
"""

from __future__ import annotations

import numpy as np

from index.accents import AccentModel
from index.lexical import LexicalIndex, analyze
from index.store import Snapshot
from search.filters import allowed_chunks
from search.fusion import Ranking
from search.query import QueryPlan


def lexical_index(snapshot: Snapshot) -> LexicalIndex:
    def load(s: Snapshot) -> LexicalIndex:
        return LexicalIndex.load(s.path) or LexicalIndex.build(
            [c.embed_text for c in s.all_chunks()]
        )

    index: LexicalIndex = snapshot.derived("lexical", load)
    return index


def accent_model(snapshot: Snapshot) -> AccentModel:
    def load(s: Snapshot) -> AccentModel:
        return AccentModel.load(s.path) or AccentModel.from_texts(c.text for c in s.all_chunks())

    model: AccentModel = snapshot.derived("accents", load)
    return model


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> Ranking:
    """The ``k`` best positive scores (allowed by ``mask``) as (chunk id, score), best first."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    candidates = np.flatnonzero(scores > 0)
    if k <= 0 or not len(candidates):
        return []
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    return [(int(i), float(scores[i])) for i in order]


class LexicalRetriever:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.index = lexical_index(snapshot)
        self.accents = accent_model(snapshot)

    def scores(self, plan: QueryPlan) -> np.ndarray:
        """Weighted BM25 score of every chunk for ``plan``."""
        w = plan.weights
        total = np.zeros(self.index.n, dtype=np.float32)
        for field, text, weight in (
            ("syllable", plan.lexical_text, w.syllable),
            ("folded", plan.lexical_text, w.folded),
            ("syllable", plan.dense_text, w.restored),
        ):
            if weight > 0:
                total += weight * self.index.scores(field, analyze(text, field))
        return total

    def search(self, plan: QueryPlan, k: int, mask: np.ndarray | None = None) -> Ranking:
        return top_k(self.scores(plan), k, mask)

    def retrieve(self, plan: QueryPlan, k: int) -> Ranking:
        return self.search(plan, k, allowed_chunks(self.snapshot, plan.filters))
