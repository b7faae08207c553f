"""A page of results: the passages from ``offset``, how many passages match, what was read.

:func:`search_page` is the one entry point. The ranked list itself is the
engine's (hybrid: words and meaning); around it a page says

* ``total``: how many passages under the filters contain every content word of
  the query (question words dropped; a word typed with its marks must match
  with the same marks, one typed without them matches any marks; an English
  word matches through its Vietnamese renderings). It is a count a person can
  check by reading, unlike "every passage has some similarity";
* ``next_offset``: where the next page starts, ``None`` at the end of what may
  be paged (the passages under the filters, or a next page of the same ``k``
  that would reach past ``POLICY_SEARCH_MAX_RESULTS``, which is a 422);
* ``restored``: the query as searched when its diacritics were restored
  ("quan ly chat thai" -> "quản lý chất thải"), so the page can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from index.lexical import LexicalIndex
from index.store import Snapshot, StoredDocument
from index.stores import lexical_index
from ingest.text import fold, tokenize
from search.answer import content_terms, passage_url
from search.engine import SearchEngine, SearchResult
from search.filters import Filters, allowed_chunks, chunk_doc_ids
from search.query import QueryKind, QueryPlan


@dataclass
class ResultPage:
    query: str
    results: list[SearchResult]
    offset: int
    next_offset: int | None
    total: int
    total_documents: int
    restored: str | None
    kind: str
    urls: list[str]  # each result's passage on the web page
    highlight: list[str]  # phrases to mark in the passages (see highlight_terms)
    documents: dict[str, StoredDocument]  # the results' documents, by id


def _present(index: LexicalIndex, field: str, phrase: str) -> np.ndarray:
    """Chunks whose ``field`` holds ``phrase`` (its syllables side by side, through bigrams)."""
    model = index.models.get(field)
    words = phrase.split()
    terms = words if len(words) == 1 else [f"{a} {b}" for a, b in pairwise(words)]
    found = np.ones(index.n, dtype=bool)
    for term in terms:
        ids = model.get_tokens_ids([term]) if model is not None else []
        if not ids:
            return np.zeros(index.n, dtype=bool)
        found &= np.asarray(model.get_scores_from_ids(ids)) > 0  # type: ignore[union-attr]
    return found


def _restored(plan: QueryPlan) -> str | None:
    if plan.kind is QueryKind.VI_PLAIN and plan.dense_text != plan.text:
        return plan.dense_text
    return None


def _terms(plan: QueryPlan) -> tuple[list[list[str]], dict[str, str]]:
    """The query's content-word groups (folded) and each folded word as written.

    A query typed without diacritics is read as restored ("do thi" -> "đô thị"): bare,
    "do" and "thi" would both be taken for function words ("đó", "thì").
    """
    restored = _restored(plan)
    text = restored or plan.text
    groups = content_terms(text, typed_plain=True if restored else None)
    # The analyser adds the documents' synonyms of a phrase ("chất thải" is also "rác
    # thải"); a page counts and marks the words typed, so only those are kept.
    typed = f" {' '.join(fold(w) for w in tokenize(text))} "
    groups = [[p for p in g if f" {p} " in typed] or g for g in groups]
    return groups, {fold(w): w for w in tokenize(text)}


def highlight_terms(plan: QueryPlan) -> list[str]:
    """What a page should mark in passages: the query's content words and adjacent pairs.

    Written with their marks when the query had them or they were restored (so the page
    marks "thải" and never "thái"), folded when typed without and not restored (any
    marks match), and as Vietnamese renderings for English words ("waste" -> "chat thai").
    """
    groups, written = _terms(plan)
    with_marks = plan.kind is QueryKind.VI or _restored(plan) is not None
    out: list[str] = []
    for group in groups:
        for phrase in group:
            if with_marks:
                phrase = " ".join(written.get(w, w) for w in phrase.split())
            if phrase not in out:
                out.append(phrase)
    return out


def matching_passages(snapshot: Snapshot, plan: QueryPlan, filters: Filters | None) -> np.ndarray:
    """Boolean mask over chunk ids: passages with every content word of ``plan``."""
    index = lexical_index(snapshot)
    groups, written = _terms(plan)
    if plan.kind is not QueryKind.EN:
        # Single words: "chất thải" is counted when both words are there, in any order.
        words = {w for g in groups if len(g) == 1 for w in g[0].split()}
        groups = [[w] for w in sorted(words)]
    if not groups or index.n == 0:
        return np.zeros(index.n, dtype=bool)
    mask = np.ones(index.n, dtype=bool)
    for group in groups:
        hit = np.zeros(index.n, dtype=bool)
        for phrase in group:
            original = written.get(phrase, phrase)
            if plan.kind is QueryKind.VI and original != phrase:
                # Typed with marks: "thải" is not "thái", "đô" is not "độ".
                hit |= _present(index, "syllable", original)
            else:
                hit |= _present(index, "folded", phrase)
        mask &= hit
    allowed = allowed_chunks(snapshot, filters)
    return mask if allowed is None else mask & allowed


def search_page(
    engine: SearchEngine,
    query: str,
    k: int | None = None,
    offset: int = 0,
    filters: Filters | None = None,
    restore: bool = True,
) -> ResultPage:
    clean = engine.clean_query(query)
    k = engine.check_k(k)
    offset = engine.check_offset(offset, k)
    filters = engine.check_filters(filters)
    # One snapshot for the results, the totals and the passage links of this page.
    snap = engine.snapshot()
    plan = engine.plan(clean, filters, snap, restore=restore)
    results = engine.run(plan, k, snap, offset)
    matched = matching_passages(snap, plan, filters)
    ids = np.flatnonzero(matched)
    documents = len(set(chunk_doc_ids(snap)[ids].tolist())) if len(ids) else 0
    allowed = allowed_chunks(snap, filters)
    available = len(snap) if allowed is None else int(allowed.sum())
    end = offset + len(results)
    cap = engine.settings.max_results
    # The next page of the same k must fit under the cap too (else it would be a 422).
    more = len(results) == k and end < available and end + k <= cap
    restored = _restored(plan)
    ordinals = {c.id: c.ordinal for c in snap.chunks([r.chunk_id for r in results])}
    return ResultPage(
        query=clean,
        results=results,
        offset=offset,
        next_offset=end if more else None,
        total=len(ids),
        total_documents=documents,
        restored=restored,
        kind=plan.kind.value,
        urls=[passage_url(r.doc_id, ordinals[r.chunk_id]) for r in results],
        highlight=highlight_terms(plan),
        documents={d: doc for d in {r.doc_id for r in results} if (doc := snap.document(d))},
    )
