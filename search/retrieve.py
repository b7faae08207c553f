"""Retrievers: a query plan in, ranked chunk ids out, behind one protocol.

:class:`DenseRetriever` (here), :class:`~search.windows.WindowRetriever` (chunks and
their sentences), :class:`~search.lexical.LexicalRetriever` and
:class:`~search.hybrid.HybridRetriever` all read one :class:`~index.stores.Store`
(the version folder, or Milvus): the algorithms live here, the store only answers
primitive searches, so retrieval runs the same on every store. They take the :class:`~search.query.QueryPlan` the
engine built once per query (normalised text, kind, restored diacritics, filters)
and never plan the query again; the plan's filters restrict them to the chunks of
the documents that pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import numpy as np

from index.embed import Embedder
from index.stores import Records, Store
from search.filters import Filters, allowed_chunks, chunk_doc_ids
from search.lookup import law_documents, lookup_targets, mention_chunks
from search.query import QueryPlan


class Retriever(Protocol):
    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, at most ``k``, all passing ``plan.filters``."""
        ...


class DenseRetriever:
    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def query_vector(self, text: str) -> np.ndarray:
        """The query vector of ``text``, a plan's ``dense_text`` (already normalised)."""
        return self.embedder.embed_queries([text])[0]

    def search(
        self,
        text: str,
        k: int,
        mask: np.ndarray | None = None,
        vector: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best chunks for ``text`` (whose query vector may be given, already embedded)."""
        vector = self.query_vector(text) if vector is None else vector
        return self.store.search_dense(vector, k, mask)

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        return self.search(plan.dense_text, k, allowed_chunks(self.store, plan.filters))


# Added to the score of a passage of a law the query names ("Theo Luật Cư trú, ..."), as a
# share of the best score of the ranking. On ALQAC's tuning half every value from 0.05 to 10
# scored the same (MRR@10 0.9336 against 0.9327 without): the middle of that plateau, short
# of a restriction, so a passage of another law that matches far better can still lead
# (docs/official-documents.md). Passages asked of the retrieval when the query names a law,
# so that the law's best are among them.
LAW_BOOST = 0.2
LAW_DEPTH = 50


def _boosted(
    ranking: list[tuple[int, float]], docs: frozenset[str], doc_of: np.ndarray, boost: float
) -> list[tuple[int, float]]:
    """``ranking`` with the passages of ``docs`` raised by ``boost`` times the best score."""
    top = max((abs(s) for _, s in ranking), default=0.0)
    out = [(cid, s + boost * top if doc_of[cid] in docs else s) for cid, s in ranking]
    return sorted(out, key=lambda item: (-item[1], item[0]))


class LookupRetriever:
    """The fast paths of the plan's lookup (:mod:`search.lookup`) before ``inner``'s ranking.

    A document the query names by its number comes first with its best passage (the
    best of ``inner``'s ranking, else of ``inner`` asked within that document); an
    article named with its law ("Điều 5 Luật ...") comes first with its chunks. The
    rest of the ranking follows as ``inner`` gave it, the passages of a law the query
    names ("Theo Luật Cư trú, ...") raised by ``law_boost``. Filters still apply.
    """

    def __init__(self, inner: Retriever, store: Records, law_boost: float | None = None) -> None:
        self.inner = inner
        self.store = store
        self.law_boost = LAW_BOOST if law_boost is None else law_boost

    def retrieve(self, plan: QueryPlan, k: int) -> list[tuple[int, float]]:
        laws = law_documents(self.store, plan.lookup)
        ranking = self.inner.retrieve(plan, max(k, LAW_DEPTH) if laws else k)
        doc_of = chunk_doc_ids(self.store)
        if laws:
            ranking = _boosted(ranking, laws, doc_of, self.law_boost)[:k]
        targets = lookup_targets(self.store, plan.lookup)
        mask = allowed_chunks(self.store, plan.filters)
        # A bare reference: the passages that mention it, after the named document's own.
        mentions = mention_chunks(self.store, plan.lookup, mask)
        if not targets and not mentions:
            return ranking
        position = {cid: i for i, (cid, _) in enumerate(ranking)}
        # (named exactly first, rank in inner's ranking, inner's score): the order pinned.
        keyed: list[tuple[tuple[bool, int, float], int]] = []
        for target in targets:
            if target.chunks:
                for c in target.chunks:
                    if mask is None or mask[c]:
                        keyed.append(((False, position.get(c, len(ranking)), float(c)), c))
                continue
            best = next((cid for cid, _ in ranking if doc_of[cid] == target.doc_id), None)
            if best is not None:
                keyed.append(((not target.exact, position[best], 0.0), best))
                continue
            found = self._best_in(plan, target.doc_id)
            if found is not None:
                keyed.append(((not target.exact, len(ranking), -found[1]), found[0]))
        # Mentions as typed first, then in inner's order.
        mentioned = sorted(
            mentions, key=lambda m: (not m[1], position.get(m[0], len(ranking)), m[0])
        )
        pinned = [cid for _, cid in sorted(keyed, key=lambda x: x[0])]
        pinned += [cid for cid, _ in mentioned]
        pinned = list(dict.fromkeys(pinned))[:k]
        if not pinned:
            return ranking
        # Pinned passages score above the best of the rest, in their order.
        top = max((s for _, s in ranking), default=0.0)
        step = 1e-3
        head = [(cid, top + step * (len(pinned) - i)) for i, cid in enumerate(pinned)]
        chosen = set(pinned)
        return (head + [(cid, s) for cid, s in ranking if cid not in chosen])[:k]

    def _best_in(self, plan: QueryPlan, doc_id: str) -> tuple[int, float] | None:
        """``inner``'s best passage of ``doc_id`` for ``plan`` (None: filtered out)."""
        filters = plan.filters or Filters()
        if filters.doc_id not in (None, doc_id):
            return None
        within = replace(plan, filters=replace(filters, doc_id=doc_id))
        found = self.inner.retrieve(within, 1)
        return found[0] if found else None
