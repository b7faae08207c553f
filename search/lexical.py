"""Lexical retrieval: BM25 over the syllable and diacritic-folded fields.

The BM25 matrices are written at ingest time (:mod:`index.lexical`); the store
scores them (:meth:`index.stores.Store.lexical_search`). What is searched, and
how much each field counts, is decided here from the query plan: the syllables
as typed, their folded form, and the syllables of the query with its diacritics
restored, weighted per query kind.
"""

from __future__ import annotations

import numpy as np

from index.accents import AccentModel
from index.lexical import analyze
from index.store import Snapshot
from index.stores import LexicalQuery, Records, Store
from search.filters import allowed_chunks
from search.fusion import Ranking
from search.query import QueryPlan


def accent_model(store: Records) -> AccentModel:
    """The version's accent model (derived data, built from the indexed text at ingest)."""

    def load(s: Snapshot) -> AccentModel:
        return AccentModel.load(s.path) or AccentModel.from_texts(c.text for c in s.all_chunks())

    model: AccentModel = store.derived("accents", load)
    return model


def lexical_queries(plan: QueryPlan) -> list[LexicalQuery]:
    """The weighted BM25 field queries of ``plan``."""
    w = plan.weights
    return [
        (field, analyze(text, field), weight)
        for field, text, weight in (
            ("syllable", plan.lexical_text, w.syllable),
            ("folded", plan.lexical_text, w.folded),
            ("syllable", plan.dense_text, w.restored),
        )
        if weight > 0
    ]


class LexicalRetriever:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, plan: QueryPlan, k: int, mask: np.ndarray | None = None) -> Ranking:
        return self.store.lexical_search(lexical_queries(plan), k, mask)

    def retrieve(self, plan: QueryPlan, k: int) -> Ranking:
        return self.search(plan, k, allowed_chunks(self.store, plan.filters))
