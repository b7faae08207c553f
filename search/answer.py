"""Short answers with numbered citations, extracted from the best passages.

:class:`Answerer` is the one entry point: ``ask(question)`` retrieves
passages through :class:`~search.engine.SearchEngine`, then either

* answers a who-is-responsible question from the assignments extracted at
  ingest (:mod:`ingest.assignments`): the lead agency and the cooperating
  ones, each cited to the passage that states it; or
* picks the one sentence or list item of the top passages that best answers
  the question.

Nothing is generated: every answer is text of the documents. When the best
candidate is not relevant enough the answer is ``None`` and the nearest
passages are still returned, so a reader sees that nothing answered rather
than the least bad passage dressed up as an answer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.assignments import load_assignments
from index.store import Snapshot, StoredDocument
from ingest.assignments import COOPERATE, FOCAL, LEAD, Assignment
from ingest.text import fold, has_diacritics, tokenize, tokenize_folded
from search.engine import SearchEngine, SearchResult
from search.filters import Filters, document_matches
from search.glossary import vietnamese_terms
from search.query import QueryKind, QueryPlan, detect_kind


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Question and function words: they say what kind of answer is wanted, not what about.
# Written with diacritics: folded, "thì" and "đó" would also drop "thị" and "đô".
_STOP = _words(
    """ai gì nào đâu bao nhiêu giờ khi sao vì tại thế như là có không của và các những được
    trong cho với về để thì mà này đó hãy biết ở từ đến theo trên dưới một phải sẽ đã
    đang cần nên bởi hoặc hơn rất cũng chỉ còn cái việc ra vào lại tỉnh
    what who whom whose which how when where why the a an of is are was were be in on for to
    and or does do did by with from at as that this these those it its there their any
    tell me about please"""
)
_ROLE_WORDS = _words(
    """chủ trì phối hợp phụ trách trách nhiệm chịu đầu mối tham mưu cơ quan đơn vị sở ban ngành
    lead leads leading responsible charge agency agencies department departments cooperate
    cooperates cooperating coordinate coordinates support supports involved focal point"""
)
_STOP_FOLDED = frozenset(fold(w) for w in _STOP | _ROLE_WORDS)
_WHO_PATTERNS = [
    re.compile(p)
    for p in (
        r"\bai\b", r"\bco quan nao\b", r"\bdon vi nao\b", r"\bso nao\b", r"\bnganh nao\b",
        r"\bchu tri\b", r"\bphu trach\b", r"\bchiu trach nhiem\b", r"\btrach nhiem\b",
        r"\bdau moi\b", r"\bwho\b", r"\bwhich (?:agency|department|body|office)\b",
        r"\bresponsible\b", r"\bin charge\b",
    )
]  # fmt: skip
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[A-ZĐÀ-Ỹ\"“(])")
_MAX_ANSWER_CHARS = 400


@dataclass
class Passage:
    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    text: str
    score: float
    url: str
    chunk_id: int = field(repr=False)
    ordinal: int = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("chunk_id")
        d.pop("ordinal")
        return d


@dataclass
class Answer:
    text: str
    citations: list[int]


@dataclass
class AskResult:
    question: str
    answer: Answer | None
    passages: list[Passage]
    kind: str = "none"  # responsibility | sentence | none: how the answer was found

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": asdict(self.answer) if self.answer else None,
            "passages": [p.to_json() for p in self.passages],
        }


def passage_url(doc_id: str, ordinal: int) -> str:
    """Where the web page shows the passage, highlighted, in its document."""
    return f"/doc/{doc_id}#p{ordinal}"


def is_english(question: str) -> bool:
    # The retriever's own detector: a hint-word test took "chat thai do thi" for English ("do").
    return detect_kind(question) is QueryKind.EN


def is_responsibility_question(question: str) -> bool:
    f = fold(question)
    return any(p.search(f) for p in _WHO_PATTERNS)


def content_terms(question: str, typed_plain: bool | None = None) -> list[list[str]]:
    """What the question is about, as groups of alternative folded phrases.

    Vietnamese: each topic syllable, and each adjacent pair (so "chất thải"
    counts more than "chất" and "thải" apart). English: each topic word's
    Vietnamese renderings from :mod:`search.glossary`, or the word itself
    (names such as "Dong Nai" fold to the documents' spelling).

    ``typed_plain``: ``question`` was typed without diacritics and has had
    them restored (:mod:`index.accents`); default: it has no diacritics now.
    """
    english = is_english(question)
    # Without diacritics "do" may be "đô" or "đó", "quan" the "quan" of "cơ quan": only
    # then are folded stop words used. A restored word has its marks back ("quản"), so
    # only the words restoration left bare ("nao": the corpus never asks) are folded.
    plain = not has_diacritics(question) if typed_plain is None else typed_plain
    # In English, a word the glossary does not know matches the documents only when it is a
    # name ("Dong Nai", "Kobe") or a number: "pho" must not match "phổ biến".
    names = {fold(w.lower()) for w in re.findall(r"\b[A-Z][^\W_]*|\b\w*\d\w*", question)}
    groups: list[list[str]] = []
    run: list[str] = []
    for word in tokenize(question):
        tok = fold(word)
        bare = plain and not has_diacritics(word)
        if word in _STOP or word in _ROLE_WORDS or (bare and tok in _STOP_FOLDED):
            run = []
            continue
        vi = vietnamese_terms(tok) if english else None
        if vi is not None:
            run = []
            if vi:
                groups.append(vi)
            continue
        if english and tok not in names:
            run = []
            groups.append([])  # still a topic of the question: it counts, unmatched
            continue
        groups.append([tok])
        if run:
            groups.append([f"{run[-1]} {tok}"])
        run.append(tok)
    return groups


def _terms(plan: QueryPlan) -> list[list[str]]:
    # Only a restored question needs telling that it was typed bare; English has no marks.
    return content_terms(plan.dense_text, typed_plain=plan.kind is QueryKind.VI_PLAIN or None)


def lexical_coverage(terms: list[list[str]], text: str) -> float:
    """Share of term groups with at least one phrase present in ``text``."""
    if not terms:
        return 0.0
    padded = " " + " ".join(tokenize_folded(text)) + " "
    hit = sum(1 for group in terms if any(f" {phrase} " in padded for phrase in group))
    return hit / len(terms)


def split_sentences(text: str) -> list[str]:
    """List items and sentences of a passage, as displayed."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        out.extend(s.strip() for s in _SENTENCE_SPLIT.split(line) if len(s.strip()) >= 12)
    return out


def _shorten(text: str, limit: int = _MAX_ANSWER_CHARS) -> str:
    text = re.sub(r"^[-–•+*]\s*", "", " ".join(text.split()))
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def matches_filters(doc: StoredDocument, filters: Filters | None) -> bool:
    return filters is None or filters.is_empty() or document_matches(doc, filters)


class _VectorCache:
    """Passage vectors of sentences, kept across questions (the corpus repeats)."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get_many(self, texts: list[str], embed: Any) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._items]
        if missing:
            vectors = embed(missing)
            with self._lock:
                for t, v in zip(missing, vectors, strict=True):
                    self._items[t] = np.asarray(v, dtype=np.float32)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        with self._lock:
            return np.stack([self._items[t] for t in texts])


@dataclass
class AnswerSettings:
    """Thresholds, calibrated on the corpus questions in tests/search/test_answer.py."""

    # A sentence answers when its similarity to the question clears ``min_similarity``
    # or when it contains most of the question's words and clears ``min_similarity_lexical``.
    min_similarity: float = 0.86
    min_similarity_lexical: float = 0.80
    min_coverage: float = 0.5
    lexical_weight: float = 0.15
    sentence_passages: int = 3
    # An English question's similarities sit lower; its word overlap decides.
    min_similarity_english: float = 0.74


class Answerer:
    def __init__(self, engine: SearchEngine, settings: AnswerSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or AnswerSettings()
        self._cache = _VectorCache()
        self._assignments: dict[Path, tuple[list[Assignment], np.ndarray | None]] = {}
        self._lock = threading.Lock()

    # -- retrieval -----------------------------------------------------------

    def assignments(self, snap: Snapshot) -> tuple[list[Assignment], np.ndarray | None]:
        with self._lock:
            if snap.path not in self._assignments:
                self._assignments = {snap.path: load_assignments(snap.path)}
            return self._assignments[snap.path]

    def search(self, plan: QueryPlan, k: int, snap: Snapshot) -> list[SearchResult]:
        return self.engine.run(plan, k, snap)

    # -- answering -----------------------------------------------------------

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None) -> AskResult:
        clean = self.engine.clean_query(question)
        k = self.engine.check_k(k)
        filters = self.engine.check_filters(filters)
        snap = self.engine.snapshot()
        # One plan for retrieval and answering: an unaccented question is matched and
        # embedded as the retriever reads it, with its diacritics restored.
        plan = self.engine.plan(clean, filters, snap)
        results = self.search(plan, k, snap)
        ordinals = {c.id: c.ordinal for c in snap.chunks([r.chunk_id for r in results])}
        passages = [
            Passage(
                n=i + 1,
                doc_id=r.doc_id,
                title=r.title,
                section=r.section,
                page=r.page,
                text=r.text,
                score=r.score,
                url=passage_url(r.doc_id, ordinals[r.chunk_id]),
                chunk_id=r.chunk_id,
                ordinal=ordinals[r.chunk_id],
            )
            for i, r in enumerate(results)
        ]
        qvec = self.engine.embedder.embed_queries([plan.dense_text])[0]
        if is_responsibility_question(plan.dense_text):
            found = self._responsibility(plan, qvec, snap, passages, filters)
            if found is not None:
                return AskResult(question, found[0], found[1], kind="responsibility")
        answer = self._best_sentence(plan, qvec, passages)
        return AskResult(question, answer, passages, kind="sentence" if answer else "none")

    def _relevant(self, similarity: float, coverage: float, english: bool) -> bool:
        s = self.settings
        if english:
            return coverage >= s.min_coverage and similarity >= s.min_similarity_english
        return similarity >= s.min_similarity or (
            coverage >= s.min_coverage and similarity >= s.min_similarity_lexical
        )

    def _best_sentence(
        self, plan: QueryPlan, qvec: np.ndarray, passages: list[Passage]
    ) -> Answer | None:
        candidates = [
            (p, s)
            for p in passages[: self.settings.sentence_passages]
            for s in split_sentences(p.text)
        ]
        if not candidates:
            return None
        vectors = self._cache.get_many(
            [s for _, s in candidates], self.engine.embedder.embed_passages
        )
        sims = vectors @ qvec
        terms = _terms(plan)
        best: tuple[float, float, float, Passage, str] | None = None
        for (p, s), sim in zip(candidates, sims, strict=True):
            cov = lexical_coverage(terms, s)
            score = float(sim) + self.settings.lexical_weight * cov
            if best is None or score > best[0]:
                best = (score, float(sim), cov, p, s)
        assert best is not None
        _, sim, cov, passage, sentence = best
        if not self._relevant(sim, cov, plan.kind is QueryKind.EN):
            return None
        return Answer(text=_shorten(sentence), citations=[passage.n])

    def _responsibility(
        self,
        plan: QueryPlan,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        filters: Filters | None,
    ) -> tuple[Answer, list[Passage]] | None:
        english = plan.kind is QueryKind.EN
        items, vectors = self.assignments(snap)
        if not items or vectors is None:
            return None
        docs = {d.doc_id: d for d in snap.documents()}
        keep = [
            i
            for i, a in enumerate(items)
            if a.chunk is not None and a.doc_id in docs and matches_filters(docs[a.doc_id], filters)
        ]
        if not keep:
            return None
        terms = _terms(plan)
        wants_focal = bool(re.search(r"\bdau moi\b|\bfocal\b", fold(plan.dense_text)))
        sims = vectors[keep] @ qvec
        retrieved = {(p.doc_id, p.ordinal) for p in passages}
        scored = []
        for i, sim in zip(keep, sims, strict=True):
            a = items[i]
            cov = max(lexical_coverage(terms, a.task), lexical_coverage(terms, a.text))
            bonus = 0.01 if (a.doc_id, a.chunk) in retrieved else 0.0
            if a.role == FOCAL and wants_focal:
                bonus += 0.05
            scored.append(
                (float(sim) + self.settings.lexical_weight * cov + bonus, float(sim), cov, a)
            )
        scored.sort(key=lambda x: -x[0])
        _, sim, cov, best = scored[0]
        if not self._relevant(sim, cov, english):
            return None
        clause = [a for a in items if a.doc_id == best.doc_id and a.text == best.text]
        leads = list(dict.fromkeys(a.agency for a in clause if a.role in (LEAD, FOCAL)))
        helpers = list(
            dict.fromkeys(a.agency for a in clause if a.role == COOPERATE and a.agency not in leads)
        )
        others = list(
            dict.fromkeys(
                a.agency for a in clause if a.agency not in leads and a.agency not in helpers
            )
        )
        passages = self._with_passage(snap, passages, best)
        n = next(p.n for p in passages if (p.doc_id, p.ordinal) == (best.doc_id, best.chunk))
        labels = (
            ("Lead", "Cooperating", "Responsible", "Task")
            if english
            else ("Chủ trì", "Phối hợp", "Thực hiện", "Nhiệm vụ")
        )
        parts = []
        if leads:
            parts.append(f"{labels[0]}: " + ", ".join(f"{a} [{n}]" for a in leads))
        if helpers:
            parts.append(f"{labels[1]}: " + ", ".join(f"{a} [{n}]" for a in helpers))
        if others and not leads:
            parts.append(f"{labels[2]}: " + ", ".join(f"{a} [{n}]" for a in others))
        text = ". ".join(parts) + f". {labels[3]}: “{_shorten(best.text, 300)}”"
        return Answer(text=text, citations=[n]), passages

    def _with_passage(
        self, snap: Snapshot, passages: list[Passage], a: Assignment
    ) -> list[Passage]:
        """``passages`` led by the one stating ``a`` (fetched if it was not retrieved)."""
        cited = next((p for p in passages if (p.doc_id, p.ordinal) == (a.doc_id, a.chunk)), None)
        if cited is None:
            chunk = next(c for c in snap.doc_chunks(a.doc_id) if c.ordinal == a.chunk)
            doc = snap.document(a.doc_id)
            assert doc is not None
            cited = Passage(
                n=1,
                doc_id=a.doc_id,
                title=doc.title,
                section=chunk.section,
                page=chunk.page,
                text=chunk.text,
                score=0.0,
                url=passage_url(a.doc_id, chunk.ordinal),
                chunk_id=chunk.id,
                ordinal=chunk.ordinal,
            )
        out = [cited, *(p for p in passages if p is not cited)]
        for i, p in enumerate(out):
            p.n = i + 1
        return out
