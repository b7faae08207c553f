"""Hybrid retrieval: lexical and dense lists fused with weights chosen per query kind."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from index.embed import Embedder
from index.stores import Store
from search.filters import allowed_chunks
from search.fusion import Fuser, Ranking, rrf, score_fusion
from search.lexical import LexicalRetriever
from search.query import QueryPlan
from search.question import retrieval_hints
from search.windows import dense_retriever

# Each side contributes this many candidates (or k, when larger) to the fusion.
DEPTH = 50

# Query embeddings are started here before BM25 runs, and collected after it. The
# threads only wait (on the embedder's batch, or its process): as many as queries can
# be in flight, so concurrent queries still meet in one batch.
_EMBEDDING = ThreadPoolExecutor(max_workers=64, thread_name_prefix="embed-query")


class HybridRetriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        fuse: Fuser = score_fusion,
        depth: int = DEPTH,
        windows: bool = True,
        method: str | None = None,
    ) -> None:
        self.store = store
        self.lexical = LexicalRetriever(store)
        self.dense = dense_retriever(store, embedder, windows, method)
        self.fuse = fuse
        self.depth = depth

    def retrieve(self, plan: QueryPlan, k: int) -> Ranking:
        # The plan's weights (per query kind) decide how much each list counts.
        mask = allowed_chunks(self.store, plan.filters)
        depth = max(k, self.depth)
        # With the embedder in its own process (POLICY_SEARCH_EMBEDDER_PROCESS) the query
        # is embedded while BM25 scores here; in-process it measured neither better nor worse.
        vector = (
            _EMBEDDING.submit(self.dense.query_vector, plan.dense_text)
            if plan.weights.dense > 0
            else None
        )
        # The analysed question (search/question.py): its entities and role words in the
        # documents' words for BM25, and the agency sections it asks about ranked first.
        hints = retrieval_hints(self.store, plan)
        plan = hints.plan
        lexical = self.lexical.search(plan, depth, mask) if plan.weights.lexical > 0 else []
        dense = (
            self.dense.search(plan.dense_text, depth, mask, vector.result())
            if vector is not None
            else []
        )
        lists = [(lexical, plan.weights.lexical), (dense, plan.weights.dense)]
        # The fusion reads each list's first ``self.depth`` only, whatever ``k``: its
        # scores (normalised per list) are then the same for every depth asked, and a
        # deeper ranking only adds passages after them (tail()).
        heads = [(ranking[: self.depth], weight) for ranking, weight in lists]
        fused = self.fuse(heads, self.depth if hints.reranks else k)
        if k > len(fused):
            fused += tail(lists, fused, k - len(fused))
        return hints.rerank(fused, k, self.store, plan.weights.lexical + plan.weights.dense)


def tail(lists: Sequence[tuple[Ranking, float]], head: Ranking, n: int) -> Ranking:
    """The ``n`` passages of ``lists`` after ``head``, by weighted reciprocal rank.

    Scored below the last of ``head`` in proportion to their reciprocal rank, so the
    ranking stays in order of score.
    """
    taken = {cid for cid, _ in head}
    deeper = [
        (cid, s) for cid, s in rrf([(r, w) for r, w in lists], len(taken) + n) if cid not in taken
    ][:n]
    if not deeper:
        return []
    floor = min((s for _, s in head), default=1.0)
    first = deeper[0][1]
    return [(cid, 0.999 * floor * s / first) for cid, s in deeper]
