"""Fusion of ranked lists from several retrievers into one.

Two rules behind the same signature, ``fuse(rankings, k) -> ranking``, where
``rankings`` are ``(ranking, weight)`` pairs and a ranking is ``(chunk id,
score)`` pairs, best first:

* :func:`rrf`: weighted reciprocal-rank fusion, which looks at ranks only;
* :func:`score_fusion`: weighted sum of scores min-max normalised per list,
  which keeps how far ahead the best hit of a list is.

A chunk that only one list found gets nothing from the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Ranking = list[tuple[int, float]]
Fuser = Callable[[Sequence[tuple[Ranking, float]], int], Ranking]

RRF_C = 60


def _top(scores: dict[int, float], k: int) -> Ranking:
    # Ties break on chunk id so results are reproducible.
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(k, 0)]


def rrf(rankings: Sequence[tuple[Ranking, float]], k: int, c: int = RRF_C) -> Ranking:
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        if weight <= 0:
            continue
        for rank, (cid, _) in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + weight / (c + rank + 1)
    return _top(scores, k)


def score_fusion(rankings: Sequence[tuple[Ranking, float]], k: int) -> Ranking:
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        if weight <= 0 or not ranking:
            continue
        values = [s for _, s in ranking]
        hi, lo = max(values), min(values)
        span = hi - lo
        for cid, s in ranking:
            # A list with one hit, or all hits equal, says "these match": full marks.
            norm = (s - lo) / span if span > 0 else 1.0
            scores[cid] = scores.get(cid, 0.0) + weight * norm
    return _top(scores, k)
