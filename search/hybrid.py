"""Hybrid retrieval: lexical and dense lists fused with weights chosen per query kind."""

from __future__ import annotations

from index.embed import Embedder
from index.store import Snapshot
from search.filters import Filters, allowed_chunks
from search.fusion import Fuser, Ranking, score_fusion
from search.lexical import LexicalRetriever
from search.query import QueryKind, Weights, plan_query
from search.retrieve import DenseRetriever

# Each side contributes this many candidates (or k, when larger) to the fusion.
DEPTH = 50


class HybridRetriever:
    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        fuse: Fuser = score_fusion,
        weights: dict[QueryKind, Weights] | None = None,
        depth: int = DEPTH,
    ) -> None:
        self.snapshot = snapshot
        self.lexical = LexicalRetriever(snapshot)
        self.dense = DenseRetriever(snapshot, embedder)
        self.fuse = fuse
        self.weights = weights
        self.depth = depth

    def retrieve(self, query: str, k: int, filters: Filters | None = None) -> Ranking:
        plan = plan_query(query, self.lexical.accents, self.weights)
        mask = allowed_chunks(self.snapshot, filters)
        depth = max(k, self.depth)
        lexical = self.lexical.search(plan, depth, mask) if plan.weights.lexical > 0 else []
        dense = self.dense.search(plan.dense_text, depth, mask) if plan.weights.dense > 0 else []
        return self.fuse([(lexical, plan.weights.lexical), (dense, plan.weights.dense)], k)
