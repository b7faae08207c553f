"""A page of results: hits from ``offset``, how many can be paged, what the hits are.

:func:`search_page` is the one entry point. The ranked list itself is the
engine's (hybrid: words and meaning), made the same depth for every page
(:meth:`~search.engine.SearchEngine.page_depth`, ``POLICY_SEARCH_MAX_RESULTS``),
so pages are slices of one list: never a repeat, never a gap. Around it a page says

* ``total``: how many hits can be paged (passages; documents when grouped by
  document), and ``total_documents``, the documents among them;
* ``with_all_words``: how many passages under the filters contain every content
  word of the query (question words dropped; a word typed with its marks must
  match with the same marks, one typed without them matches any marks; an
  English word matches through its Vietnamese renderings), a count a person can
  check by reading; ``lexical_match`` is false when no passage matched any word
  of the query, so every hit is one of meaning only;
* ``facets``: the documents of the hits per type, province, issuer, printed
  document type and year;
* ``next_offset``: where the next page starts, ``None`` at the end of what may
  be paged (the hits, or a next page of the same ``k`` that would reach past
  ``POLICY_SEARCH_MAX_RESULTS``, which is a 422);
* ``restored``: the query as searched when its diacritics were restored
  ("quan ly chat thai" -> "quản lý chất thải"), so the page can say so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.store import Snapshot, StoredDocument
from index.stores import Records, Store, lexical_index
from ingest.text import fold, tokenize
from search.answer import content_terms, passage_url
from search.engine import SearchEngine, SearchResult
from search.filters import Filters, allowed_chunks, chunk_doc_ids
from search.lexical import LexicalRetriever
from search.lookup import phrase_mask
from search.query import QueryKind, QueryPlan


@dataclass
class ResultPage:
    query: str
    results: list[SearchResult]
    offset: int
    next_offset: int | None
    total: int  # hits that can be paged: passages, or documents when grouped
    total_documents: int  # documents of those hits
    with_all_words: int  # passages under the filters with every content word of the query
    with_all_words_documents: int  # the documents of those passages
    lexical_match: bool  # False: no passage matched a word of the query, only meanings
    restored: str | None
    kind: str
    urls: list[str]  # each result's passage on the web page
    highlight: list[str]  # phrases to mark in the passages (see highlight_terms)
    documents: dict[str, StoredDocument]  # the results' documents, by id
    facets: dict[str, dict[str, int]]  # documents of the hits per type, province, ...
    groups: list[DocumentGroup] | None = None  # group="document": the page's documents


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
                hit |= phrase_mask(index, "syllable", original)
            else:
                hit |= phrase_mask(index, "folded", phrase)
        mask &= hit
    allowed = allowed_chunks(snapshot, filters)
    return mask if allowed is None else mask & allowed


@dataclass(frozen=True)
class DocumentFacts:
    """What a result list says of a document beside its passages, and what facets count."""

    title: str
    doc_type: str
    date: str
    provinces: tuple[str, ...]
    number: str
    issuer: str
    document_type: str
    source: str

    @property
    def year(self) -> str:
        return self.date[:4] if self.date else ""


def document_facts(snapshot: Records) -> dict[str, DocumentFacts]:
    """Every document's facts, read once per version: facets never read the database per hit."""

    def load(s: Records) -> dict[str, DocumentFacts]:
        docs: list[StoredDocument] = s.derived("documents", lambda s: s.documents())
        return {
            d.doc_id: DocumentFacts(
                title=d.title,
                doc_type=d.doc_type or "unknown",
                date=d.date or "",
                provinces=tuple(d.provinces),
                number=str((d.header or {}).get("number", "")),
                issuer=str((d.header or {}).get("issuer", "")),
                document_type=str((d.header or {}).get("document_type", "")),
                source=d.source,
            )
            for d in docs
        }

    facts: dict[str, DocumentFacts] = snapshot.derived("document_facts", load)
    return facts


QUERY_FACETS = ("type", "province", "issuer", "document_type", "year")


def query_facets(
    doc_ids: Sequence[str], facts: dict[str, DocumentFacts]
) -> dict[str, dict[str, int]]:
    """Documents among ``doc_ids`` per type, province, issuer, printed type and year,
    most first (a value a document lacks is not counted)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in QUERY_FACETS}
    for doc_id in doc_ids:
        f = facts.get(doc_id)
        if f is None:
            continue
        counts["type"][f.doc_type] += 1
        counts["province"].update(dict.fromkeys(f.provinces, 1))
        for name, value in (
            ("issuer", f.issuer),
            ("document_type", f.document_type),
            ("year", f.year),
        ):
            if value:
                counts[name][value] += 1
    return {
        name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in counts.items()
    }


@dataclass
class DocumentGroup:
    doc_id: str
    score: float  # its best passage's
    results: list[SearchResult]


# Passages shown under each document of a result list grouped by document.
GROUP_PASSAGES = 3


def lexical_match(store: Store, plan: QueryPlan, filters: Filters | None) -> bool:
    """Whether any passage under the filters matched a word of the query (the BM25 side)."""
    return bool(LexicalRetriever(store).search(plan, 1, allowed_chunks(store, filters)))


def by_date(
    ranking: list[tuple[int, float]], doc_of: np.ndarray, facts: dict[str, DocumentFacts]
) -> list[tuple[int, float]]:
    """The same hits, newest document first (undated ones last); a document's passages
    together and in rank order, documents of one date in rank order. Sorting the hits, not
    each page, keeps pages slices of one list."""
    first: dict[str, int] = {}
    for i, (cid, _) in enumerate(ranking):
        first.setdefault(doc_of[cid], i)

    def date(hit: tuple[int, float]) -> str:
        f = facts.get(doc_of[hit[0]])
        return f.date if f else ""

    out = sorted(ranking, key=lambda h: first[doc_of[h[0]]])
    out.sort(key=date, reverse=True)  # stable: equal dates keep rank order
    out.sort(key=lambda h: not date(h))
    return out


def search_page(
    engine: SearchEngine,
    query: str,
    k: int | None = None,
    offset: int = 0,
    filters: Filters | None = None,
    restore: bool = True,
    group: str | None = None,
    sort: str = "relevance",
) -> ResultPage:
    """One page of the ranking of ``query``: passages, or documents with ``group="document"``.

    Every page ranks the same candidates (:meth:`SearchEngine.page_depth` deep), so the
    pages of one query never repeat or skip a hit, and ``total`` is how many can be paged.
    ``sort="date"`` orders those same hits by their document's date (:func:`by_date`).
    """
    clean = engine.clean_query(query)
    k = engine.check_k(k)
    offset = engine.check_offset(offset, k)
    filters = engine.check_filters(filters)
    # One snapshot for the results, the totals and the passage links of this page.
    snap = engine.snapshot()
    plan = engine.plan(clean, filters, snap, restore=restore)
    ranking = engine.ranking(plan, engine.page_depth(k), snap)
    doc_of = chunk_doc_ids(snap)
    if sort == "date":
        ranking = by_date(ranking, doc_of, document_facts(snap))
    ranked_docs = list(dict.fromkeys(doc_of[cid] for cid, _ in ranking))
    groups: list[DocumentGroup] | None = None
    if group == "document":
        best: dict[str, list[tuple[int, float]]] = {}
        for cid, score in ranking:
            best.setdefault(doc_of[cid], []).append((cid, score))
        chosen = ranked_docs[offset : offset + k]
        hits = [h for d in chosen for h in best[d][:GROUP_PASSAGES]]
        results = engine.results(hits, snap)
        by_doc: dict[str, list[SearchResult]] = {}
        for r in results:
            by_doc.setdefault(r.doc_id, []).append(r)
        groups = [DocumentGroup(d, by_doc[d][0].score, by_doc[d]) for d in chosen if d in by_doc]
        total, shown = len(ranked_docs), len(chosen)
    else:
        results = engine.results(ranking[offset : offset + k], snap)
        total, shown = len(ranking), len(results)
    matched_ids = np.flatnonzero(matching_passages(snap, plan, filters))
    end = offset + shown
    cap = engine.settings.max_results
    # The next page of the same k must fit under the cap too (else it would be a 422).
    more = shown == k and end < total and end + k <= cap
    ordinals = {c.id: c.ordinal for c in snap.chunks([r.chunk_id for r in results])}
    return ResultPage(
        query=clean,
        results=results,
        offset=offset,
        next_offset=end if more else None,
        total=total,
        total_documents=len(ranked_docs),
        with_all_words=len(matched_ids),
        with_all_words_documents=len(set(doc_of[matched_ids].tolist())),
        lexical_match=lexical_match(engine.backend.open(snap), plan, filters),
        restored=_restored(plan),
        kind=plan.kind.value,
        urls=[passage_url(r.doc_id, ordinals[r.chunk_id]) for r in results],
        highlight=highlight_terms(plan),
        documents={d: doc for d in {r.doc_id for r in results} if (doc := snap.document(d))},
        facets=query_facets(ranked_docs, document_facts(snap)),
        groups=groups,
    )
