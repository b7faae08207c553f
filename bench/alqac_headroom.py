"""How far ALQAC article ranking can go with the signals this search has.

    python -m bench.alqac_headroom [--alqac PATH] [--cache DIR] [--top 20]

For every ALQAC development question (as written and without diacritics) the
hybrid retriever, as the engine serves it, gives its ``--top`` best articles.
Each candidate article gets the scores the search already computes (hybrid,
lexical, dense chunk and best sentence) and a few it could compute cheaply
(coverage of the question's words and word pairs by the article and its
title, article length, whether the question names the article's law). Then:

* each list alone and an *oracle* that picks, per question, the best of the
  lexical, dense and hybrid orders: the ceiling of any fusion of these lists;
* a linear re-ranker over all the features, weights found by coordinate ascent
  on MRR@10 of ``alqac:tune`` and read once on ``alqac:check``;
* the single feature that helped on both halves (word-pair coverage) at the
  weight chosen on ``alqac:tune``.

Uses the evaluation's cached index and vectors (``policy-search eval --alqac
--cache DIR`` builds them; this builds them too when absent). Prints one table.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.common import print_table
from evaluation.retrieval import (
    ALQAC_DEFAULT,
    CachedEmbedder,
    alqac_index,
    alqac_set,
    half,
    passage_cache_path,
    query_cache_path,
)
from index.embed import make_embedder
from index.stores import LocalStore
from ingest.pipeline import make_doc_id
from ingest.text import fold, tokenize
from search.hybrid import HybridRetriever
from search.lexical import LexicalRetriever, accent_model
from search.lookup import law_documents
from search.query import plan_query
from search.retrieve import LookupRetriever

Candidate = dict[str, float]
FEATURES = (
    "hybrid", "inv_rank", "lexical", "dense", "window", "dense_mean",
    "title_words", "title_pairs", "words", "pairs", "law", "length",
)  # fmt: skip


def _grams(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    words = [fold(t) for t in tokenize(text)]
    return set(words), set(itertools.pairwise(words))


def _article_title(title: str) -> str:
    m = re.search(r"Điều\s+\d+\w*\.?\s*(.*)$", title)
    return m.group(1) if m else title


def candidates(alqac: Path, cache: Path, top: int) -> list[tuple[str, str, str, list[Candidate]]]:
    """(kind, half, question id, candidate articles with features and ``relevant``)."""
    docs, questions = alqac_set(alqac)
    inner = make_embedder("e5-st")
    embedder = CachedEmbedder(
        inner, query_cache_path(cache, inner, "alqac"), passage_cache_path(cache, inner, "alqac")
    )
    store = LocalStore(alqac_index(docs, cache, embedder))
    hybrid = LookupRetriever(HybridRetriever(store, embedder), store)
    lexical = LexicalRetriever(store)
    accents = accent_model(store)
    doc_of = store.chunk_doc_ids()
    chunks_of: dict[str, list[int]] = {}
    for cid, doc in enumerate(doc_of):
        chunks_of.setdefault(doc, []).append(cid)
    documents = {d.doc_id: d for d in store.documents()}
    out: list[tuple[str, str, str, list[Candidate]]] = []
    for q in questions:
        plan = plan_query(q.query, accents)
        hits = hybrid.retrieve(plan, 50)
        if not hits:
            out.append((q.kind, half(q.qid), q.qid, []))
            continue
        vector = embedder.embed_queries([plan.dense_text])[0]
        laws = law_documents(store, plan.lookup)
        relevant = {make_doc_id(Path(f"{r}.txt"), Path()) for r in q.relevant}
        best: dict[str, tuple[int, float]] = {}
        for cid, score in hits:
            best.setdefault(doc_of[cid], (len(best), score))
        lex_best: dict[str, float] = {}
        lex_hits = lexical.retrieve(plan, 300)
        for cid, score in lex_hits:
            lex_best.setdefault(doc_of[cid], score)
        lex_top = lex_hits[0][1] if lex_hits else 1.0
        q_words, q_pairs = _grams(plan.dense_text)
        cands = []
        for doc, (rank, score) in list(best.items())[:top]:
            ids = np.asarray(chunks_of[doc], dtype=np.int64)
            dense = store.chunk_vectors(ids) @ vector
            window = store.window_best(vector, ids)
            window = np.where(np.isfinite(window), window, dense)
            t_words, t_pairs = _grams(_article_title(documents[doc].title))
            words, pairs = _grams("\n".join(str(b[0]) for b in documents[doc].blocks))
            cands.append(
                {
                    "relevant": float(doc in relevant),
                    "rank": float(rank),
                    "hybrid": score / hits[0][1],
                    "inv_rank": 1 / (rank + 1),
                    "lexical": lex_best.get(doc, 0.0) / lex_top,
                    "dense": float(dense.max()),
                    "window": float(window.max()),
                    "dense_mean": float(dense.mean()),
                    "title_words": len(t_words & q_words) / max(1, len(t_words)),
                    "title_pairs": len(t_pairs & q_pairs) / max(1, len(t_pairs)),
                    "words": len(q_words & words) / max(1, len(q_words)),
                    "pairs": len(q_pairs & pairs) / max(1, len(q_pairs)),
                    "law": 1.0 if doc in laws else (-1.0 if laws else 0.0),
                    "length": math.log(1 + len(words)),
                }
            )
        for name in ("dense", "window"):  # relative to the question's best candidate
            top_score = max(c[name] for c in cands)
            for c in cands:
                c[name] -= top_score
        out.append((q.kind, half(q.qid), q.qid, cands))
    embedder.save()
    return out


Score = Callable[[Candidate], float]


def _rank(cands: list[Candidate], score: Score) -> int | None:
    order = sorted(cands, key=lambda c: (-score(c), c["rank"]))[:10]
    return next((i + 1 for i, c in enumerate(order) if c["relevant"]), None)


def _mrr(ranks: Sequence[int | None]) -> tuple[float, float]:
    return (
        float(np.mean([1 / r if r else 0.0 for r in ranks])),
        float(np.mean([r == 1 for r in ranks])),
    )


def _linear(weights: dict[str, float]) -> Score:
    return lambda c: sum(w * c[f] for f, w in weights.items())


def fit(
    rows: list[tuple[str, str, str, list[Candidate]]], base: str = "hybrid"
) -> dict[str, float]:
    """Weights by coordinate ascent on MRR@10 of the tuning half (``base`` fixed at 1)."""
    tune = [c for _, h, _, c in rows if h == "tune"]

    def objective(w: dict[str, float]) -> float:
        return _mrr([_rank(c, _linear(w)) for c in tune])[0]

    weights = {f: 0.0 for f in FEATURES} | {base: 1.0}
    best = objective(weights)
    for _ in range(3):
        for feature in FEATURES:
            if feature == base:
                continue
            for step in (-2, -1, -0.5, -0.25, -0.1, -0.05, 0.05, 0.1, 0.25, 0.5, 1, 2):
                trial = weights | {feature: weights[feature] + step}
                score = objective(trial)
                if score > best + 1e-6:
                    best, weights = score, trial
    return {f: w for f, w in weights.items() if w}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alqac", type=Path, default=Path(ALQAC_DEFAULT))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/policy-search-eval"))
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    rows = candidates(args.alqac, args.cache, args.top)

    def ranks_of(score: Score) -> dict[tuple[str, str], list[int | None]]:
        by: dict[tuple[str, str], list[int | None]] = {}
        for kind, h, _, cands in rows:
            rank = _rank(cands, score) if cands else None
            by.setdefault((kind, h), []).append(rank)
        return by

    def oracle(cands: list[Candidate]) -> int | None:
        found = [
            _rank(cands, s)
            for s in (
                lambda c: -c["rank"],
                lambda c: c["lexical"],
                lambda c: c["dense"] + c["window"],
            )
        ]
        return min((r for r in found if r), default=None)

    pairs_weight = max(
        (0.25, 0.5, 1.0, 1.5, 2.0, 3.0),
        key=lambda w: _mrr(
            [_rank(c, _linear({"hybrid": 1, "pairs": w})) for _, h, _, c in rows if h == "tune"]
        )[0],
    )
    weights = fit(rows)
    variants: list[tuple[str, Callable[[list[Candidate]], int | None]]] = [
        ("hybrid (served)", lambda c: _rank(c, lambda x: -x["rank"])),
        ("lexical alone", lambda c: _rank(c, lambda x: x["lexical"])),
        ("dense alone", lambda c: _rank(c, lambda x: x["dense"] + x["window"])),
        ("oracle: best of the three per question", oracle),
        (f"hybrid + {pairs_weight} x word-pair coverage", lambda c: _rank(
            c, _linear({"hybrid": 1, "pairs": pairs_weight}))),
        ("linear re-ranker, all features", lambda c: _rank(c, _linear(weights))),
    ]  # fmt: skip
    table = []
    for name, ranker in variants:
        line = [name]
        for kind in ("vi", "vi_plain"):
            for h in ("tune", "check"):
                ranks = [ranker(c) if c else None for k, hh, _, c in rows if (k, hh) == (kind, h)]
                mrr, hit1 = _mrr(ranks)
                line.append(f"{mrr:.3f} / {hit1:.3f}")
        table.append(line)
    print_table(
        f"ALQAC, the hybrid's top {args.top} articles per question; MRR@10 / hit@1",
        ["ranking", "vi tune", "vi check", "plain tune", "plain check"],
        table,
    )
    print("linear weights (fitted on alqac:tune):", {f: round(w, 2) for f, w in weights.items()})


if __name__ == "__main__":
    main()
