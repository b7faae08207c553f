"""Answers with numbered citations, taken from the documents, never generated.

:class:`Answerer` is the one entry point: ``ask(question)`` retrieves
passages through :class:`~search.engine.SearchEngine`, reads the question
with :mod:`search.question`, and answers by what it asks for:

* **what must agency X do**: the tasks under X's own heading of each plan
  (lead tasks first, then the ones X carries out, advises on or cooperates
  on), each cited; tasks of other agencies that name X are listed apart
  ("also cooperates on …"), never as X's own (:mod:`ingest.assignments`);
* **who leads / who is the focal point for Y**: the lead and cooperating
  agencies of the task that best matches Y, from the same assignments;
* **a set of documents** ("agreements with Japanese cities"): one line per
  document, each cited, with every such document among the passages;
* **a figure, a date, a person, a place, what an agreement contains, or
  anything else**: the one clause of the best passages that answers
  (:mod:`search.spans`), with the exact figure, date or name marked
  (``exact``/``exact_span``) and the whole sentence as ``evidence``. A "bao
  nhiêu" question is answered by a clause with a figure, a "khi nào" question
  by one with a date.

Every answer has a ``confidence`` (:mod:`search.calibration`); below the
threshold, or when the question names something no document mentions,
``answer`` is ``None`` and the nearest passages are still returned, so a
reader sees that nothing answered rather than the least bad passage dressed
up as an answer. Labels ("Chủ trì" / "Lead") follow ``lang``, the reader's
interface language, whatever the language of the question.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.assignments import load_assignments
from index.references import reference_table
from index.store import Snapshot, StoredChunk, StoredDocument
from index.stores import window_index
from ingest.assignments import (
    ADVISE,
    COOPERATE,
    FOCAL,
    LEAD,
    RESPONSIBLE,
    Assignment,
)
from ingest.metadata import PROVINCES
from ingest.text import fold
from search import named_document
from search.calibration import Calibration, Features, load_calibration
from search.engine import SearchEngine, SearchResult
from search.filters import Filters, document_matches
from search.glossary import folded_phrase
from search.lookup import Target, lookup_targets, lookup_words
from search.query import QueryPlan
from search.question import (
    AnswerType,
    Question,
    analyser_for,
    content_terms,
    is_english,
    lexical_coverage,
)
from search.spans import (
    Clause,
    Span,
    clauses,
    dates,
    people,
    proper_names,
    quantities,
    sentences,
)

__all__ = [
    "Answer",
    "AnswerItem",
    "Answerer",
    "AskResult",
    "Passage",
    "content_terms",
    "is_english",
    "lexical_coverage",
]

LANGS = ("vi", "en")
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        FOCAL: "Đầu mối",
        LEAD: "Chủ trì",
        RESPONSIBLE: "Thực hiện",
        ADVISE: "Tham mưu",
        COOPERATE: "Phối hợp",
        "task": "Nhiệm vụ",
        "tasks_of": "Nhiệm vụ của {agency}",
        "also": "Cùng tham gia, trong nhiệm vụ của cơ quan khác",
        "stated_in": "mục {agency}",
        "documents": "Các văn bản",
        "in": "Trong",
        "elsewhere": "Trong các văn bản khác",
    },
    "en": {
        FOCAL: "Focal point",
        LEAD: "Lead",
        RESPONSIBLE: "Responsible",
        ADVISE: "Advising",
        COOPERATE: "Cooperating",
        "task": "Task",
        "tasks_of": "Tasks of {agency}",
        "also": "Also cooperates on, in other agencies' tasks",
        "stated_in": "section {agency}",
        "documents": "Documents",
        "in": "In",
        "elsewhere": "In other documents",
    },
}
# Own tasks are listed lead first: the agency's own responsibility, then its support.
_ROLE_ORDER = {FOCAL: 0, LEAD: 1, RESPONSIBLE: 2, ADVISE: 3, COOPERATE: 4}
_MAX_ANSWER_CHARS = 400
# Cue words of what an agreement contains, and of a document's signature.
_AGREEMENT_CUE = re.compile(
    r"\b(?:theo (?:thoa thuan|bien ban ghi nho)|hai ben (?:se|cung)|cac ben se"
    r"|se (?:phoi hop|hop tac|nghien cuu|thuc day|dau tu|ho tro|tich cuc)|phat dong|tai tro)\b"
)
_SIGNATURE = re.compile(r"^(?:tm|kt|tl|q)\. ")
_SIGN_QUESTION = re.compile(
    r"\b(?:ai ky|nguoi ky|ky boi|ky ke hoach|who signed|signed by|signer|signatory)\b"
)
_SIGNATURE_SECTION = "Chữ ký"
# Lines that cite documents rather than set anything out: the legal bases, the proposal.
_BASIS_LINE = re.compile(
    r"(?:can cu|theo de nghi|xet de nghi|theo to trinh|(?:ban hanh )?kem theo)\b"
)
# "… số 107/TTr-SGDĐT ngày ", "… số 254/QĐ-UBND, ngày ": a cited document's number.
_AFTER_NUMBER = re.compile(r"\bso:?\s*\d+[\w./-]*/[\w./-]+,?\s*(?:ngay|,)?\s*$")
# "ban hành ngày nào", "ký ngày nào", "issued when": the date of a document is asked.
_ASKS_ISSUE = re.compile(r"\b(?:ban hanh|ky ngay|ky vao|issued|signed on|dated|so hieu)\b")
_AGREEMENT_WORDS = re.compile(
    r"\b(?:ky ket|hop tac|thoa thuan|ghi nho|cooperation|agreement|memorand\w*|partnership)\b"
)
# A signer's name closing a signature block: two to five capitalised syllables.
_UPPER = "A-ZĐÀ-ỸÁÉÍÓÚÝ"
_SIGNED_NAME = re.compile(rf"((?:[{_UPPER}][a-zđà-ỹ]+\s+){{1,4}}[{_UPPER}][a-zđà-ỹ]+)\s*$")
# The offices printed above a signature ("PHÓ CHỦ TỊCH", "THỦ TƯỚNG", "GIÁM ĐỐC").
_OFFICE = re.compile(
    r"(?:PHÓ\s+)?(?:CHỦ TỊCH|THỦ TƯỚNG|BỘ TRƯỞNG|THỨ TRƯỞNG|GIÁM ĐỐC|CỤC TRƯỞNG|VỤ TRƯỞNG|"
    r"TRƯỞNG BAN|CHÁNH VĂN PHÒNG|TỔNG GIÁM ĐỐC|BÍ THƯ|HIỆU TRƯỞNG)"
)
# Share of what a figure or date question asks about (its single content words) that the
# answering clause and its lead-in must hold. On the corpus sets every right figure or date
# clause holds at least half; clauses picked for questions the documents cannot answer
# mostly hold under a third.
FOCUS_FLOOR = 0.4
_TYPED = (AnswerType.QUANTITY, AnswerType.DATE, AnswerType.PERSON, AnswerType.PLACE)
_PLACES = frozenset(folded_phrase(p) for p in PROVINCES)


def _unique_sentences(text: str) -> list[Clause]:
    seen: dict[str, Clause] = {}
    for c in clauses(text):
        seen.setdefault(c.sentence, c)
    return [c for c in seen.values() if len(c.sentence) >= 12]


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
class AnswerItem:
    """One line of an answer: a task, an agency, a document; with its own citations."""

    text: str
    citations: list[int]
    role: str | None = None  # lead | cooperate | ... for agencies and tasks
    agency: str | None = None
    doc_id: str | None = None
    own: bool | None = None  # a task of the asked agency (True) or of another that names it
    # True for a line from another document than the one the answer comes from: listed
    # apart, never merged into one document's list.
    other_document: bool | None = None


@dataclass
class AnswerDocument:
    """The document an answer comes from, as its header names it."""

    doc_id: str
    title: str
    number: str = ""  # "0125/KH-UBND"
    issuer: str = ""  # "Ủy ban nhân dân tỉnh Đắk Lắk"
    doc_type: str = ""  # "Kế hoạch", "Quyết định"; else the ingest's kind ("plan", "news")
    date: str = ""

    @classmethod
    def of(cls, doc: StoredDocument) -> AnswerDocument:
        header = doc.header or {}
        return cls(
            doc_id=doc.doc_id,
            title=doc.title,
            number=str(header.get("number") or ""),
            issuer=str(header.get("issuer") or ""),
            doc_type=str(header.get("document_type") or doc.doc_type or ""),
            date=str(header.get("date") or doc.date or ""),
        )


@dataclass
class Answer:
    text: str
    citations: list[int]
    type: str = AnswerType.OTHER.value
    confidence: float = 0.0
    exact: str | None = None  # the figure, date or name that answers, as written
    exact_span: tuple[int, int] | None = None  # where ``exact`` sits in ``text``
    evidence: str | None = None  # the whole sentence the short answer was cut from
    items: list[AnswerItem] = field(default_factory=list)
    document: AnswerDocument | None = None  # where the answer comes from; None for a set

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["exact_span"] = list(self.exact_span) if self.exact_span else None
        return d


@dataclass
class AskResult:
    question: str
    answer: Answer | None
    passages: list[Passage]
    # responsibility | tasks | set | cited | sentence | document | none: how answered
    kind: str = "none"
    analysis: Question | None = None
    confidence: float | None = None  # of the best candidate, also when below the threshold
    threshold: float = 0.0
    lang: str = "vi"
    features: Features | None = field(default=None, repr=False)  # what the confidence read

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer.to_json() if self.answer else None,
            "passages": [p.to_json() for p in self.passages],
            "lang": self.lang,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "threshold": self.threshold,
        }
        if self.analysis is not None:
            out["analysis"] = self.analysis.to_json()
        return out


def passage_url(doc_id: str, ordinal: int) -> str:
    """Where the web page shows the passage, highlighted, in its document."""
    return f"/doc/{doc_id}#p{ordinal}"


def _english_words(text: str) -> bool:
    """Whether ``text`` holds English words beside a document number ("decision 2820").

    Numbers and the short codes typed before them ("qd", "nd", "kh") are no language."""
    words = [w for w in text.split() if len(w) > 3 and not any(ch.isdigit() for ch in w)]
    return bool(words) and is_english(" ".join(words))


def matches_filters(doc: StoredDocument, filters: Filters | None) -> bool:
    return filters is None or filters.is_empty() or document_matches(doc, filters)


def shorten(text: str, keep: Span | None = None, limit: int = _MAX_ANSWER_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, never before ``keep``."""
    text = re.sub(r"^[-–•+*]\s*", "", " ".join(text.split()))
    if len(text) <= limit:
        return text
    if keep is not None and keep.end > limit - 2:
        start = max(0, keep.start - limit // 2)
        start = text.rfind(" ", 0, start) + 1 if start else 0
        end = text.find(" ", min(len(text), start + limit))
        end = len(text) if end < 0 else end
        return ("… " if start else "") + text[start:end].strip() + (" …" if end < len(text) else "")
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


class _VectorCache:
    """Passage vectors of clauses, kept across questions (the corpus repeats)."""

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
    """How many passages are read for a clause answer, and the lexical weight in its score."""

    clause_passages: int = 6
    lexical_weight: float = 0.15
    retrieve_depth: int = 12  # passages retrieved to pick candidates from (at least k)
    set_depth: int = 50  # passages read to find every document of a set answer
    max_items: int = 12
    doc_chunks: int = 60  # a document this long or shorter is read whole for a clause answer


@dataclass
class _Candidate:
    features: Features
    answer: Answer
    cited: list[tuple[str, int]]  # (doc_id, ordinal) of each citation, in citation order
    kind: str
    # Passages that are no chunk of the index (a document's signature block), by their key.
    extra: dict[tuple[str, int], Passage] = field(default_factory=dict)


@dataclass
class _Scored:
    sim: float
    cov: float
    bonus: float
    clause: Clause
    passage: Passage
    span: Span | None
    focus: float = 1.0  # share of what is asked about in the clause and its lead-in


@dataclass
class _DocInfo:
    doc: StoredDocument
    chunks: list[StoredChunk]  # in order
    folded: str  # the whole text folded, padded with spaces
    capitals: frozenset[str]  # folded words written with a capital somewhere in the document


class Answerer:
    def __init__(
        self,
        engine: SearchEngine,
        settings: AnswerSettings | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings or AnswerSettings()
        self.calibration = calibration or load_calibration()
        self._cache = _VectorCache()
        self._assignments: dict[Path, tuple[list[Assignment], np.ndarray | None]] = {}
        self._docs: OrderedDict[tuple[Path, str], _DocInfo] = OrderedDict()
        self._lock = threading.Lock()

    # -- index data ----------------------------------------------------------

    def assignments(self, snap: Snapshot) -> tuple[list[Assignment], np.ndarray | None]:
        with self._lock:
            if snap.path not in self._assignments:
                self._assignments = {snap.path: load_assignments(snap.path)}
            return self._assignments[snap.path]

    def _doc(self, snap: Snapshot, doc_id: str) -> _DocInfo | None:
        key = (snap.path, doc_id)
        with self._lock:
            if key in self._docs:
                self._docs.move_to_end(key)
                return self._docs[key]
        doc = snap.document(doc_id)
        if doc is None:
            return None
        chunks = sorted(snap.doc_chunks(doc_id), key=lambda c: c.ordinal)
        # The letterhead (issuer, place and date) and the signature are no passage of the
        # document model, yet they say whose document it is: "tỉnh Đắk Lắk" may be printed
        # only in "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK" and "Đắk Lắk, ngày …".
        frame = [
            *doc.provinces,
            str(doc.header.get("issuer") or ""),
            str(doc.header.get("place") or ""),
        ]
        # Headings too: a section's heading ("18. Đề nghị Ủy ban Mặt trận …") is in no
        # passage's text, only in its section path.
        headings = dict.fromkeys(c.section for c in chunks)
        text = " ".join([doc.title, *frame, *headings, *(c.text for c in chunks)])
        capitals = frozenset(
            fold(w) for w in re.findall(r"[^\W_]+", text) if w[:1].isupper() or w.isupper()
        )
        info = _DocInfo(doc, chunks, f" {folded_phrase(text)} ", capitals)
        with self._lock:
            self._docs[key] = info
            while len(self._docs) > 256:
                self._docs.popitem(last=False)
        return info

    # -- asking --------------------------------------------------------------

    def search(self, plan: QueryPlan, k: int, snap: Snapshot) -> list[SearchResult]:
        return self.engine.run(plan, k, snap)

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | None = None,
        lang: str | None = None,
        threshold: float | None = None,
    ) -> AskResult:
        """Answer ``question`` from the top ``k`` passages (``lang``: the labels' language,
        default the question's; ``threshold``: the confidence below which ``answer`` is
        null, default the calibrated one; the evaluation asks with 0 to see every candidate)."""
        clean = self.engine.clean_query(question)
        k = self.engine.check_k(k)
        filters = self.engine.check_filters(filters)
        snap = self.engine.snapshot()
        # An unaccented question is matched and embedded as the retriever reads it, with
        # its diacritics restored: "quan ly chat thai" as "quản lý chất thải".
        plan = self.engine.plan(clean, filters, snap)
        q = analyser_for(snap).analyse(plan)
        chosen = lang if lang in LANGS else None
        lang = chosen or ("en" if q.english else "vi")
        depth = max(k, self.settings.set_depth if q.answer_type is AnswerType.SET else 0)
        depth = max(depth, self.settings.retrieve_depth)
        results = self.search(plan, min(depth, self.engine.settings.max_k), snap)
        ordinals = {c.id: c.ordinal for c in snap.chunks([r.chunk_id for r in results])}
        retrieved = [
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
        candidate = None
        if q.answer_type is AnswerType.SET and plan.lookup.numbers:
            # "Which plans implement 1658/QĐ-TTg?": the documents that cite it.
            candidate = self._citing_set(q, plan, qvec, snap, filters)
        if candidate is None:
            # A question about a document named by its number ("mục tiêu của QĐ 1658") is
            # answered from that document, not from one that cites it.
            targets = lookup_targets(snap, plan.lookup)
            named = {t.doc_id for t in targets}
            own = [p for p in retrieved if p.doc_id in named]
            asked = _without_number(q, lookup_words(plan.lookup)) if own else q
            if (
                targets
                and not asked.terms
                and not q.agencies
                and q.answer_type is not AnswerType.SET
            ):
                # Nothing typed but the number ("qd 2820"): the answer is the document. A
                # question that names an agency asks what the document gives it.
                # A number has no language: "qd 2820" is not English for want of marks.
                by_number = chosen or ("en" if _english_words(clean) else "vi")
                found = self._named_document(
                    clean, q, snap, targets, retrieved, k, filters, by_number
                )
                if found is not None:
                    return found
            candidate = self._answer(asked, qvec, snap, own or retrieved, filters, lang)
        threshold = self.calibration.threshold if threshold is None else threshold
        shown = retrieved[:k]
        if q.answer_type is AnswerType.SET:
            shown = _diversified(retrieved, k)
        if candidate is None:
            return AskResult(clean, None, _numbered(shown), analysis=q, lang=lang,
                             threshold=threshold)  # fmt: skip
        if candidate.features.family == "clause":
            # A sentence for a question whose type was not read, or a figure question answered
            # without a figure, is a guess whatever its similarity (search/calibration.py).
            answer = candidate.answer
            typed = answer.type not in _UNTYPED and answer.exact is not None
            candidate.features = replace(candidate.features, typed=1.0 if typed else 0.0)
        confidence = self.calibration.confidence(candidate.features)
        candidate.answer.confidence = round(confidence, 4)
        if confidence < threshold:
            return AskResult(
                clean, None, _numbered(shown), "none", q, confidence, threshold, lang,
                candidate.features,
            )  # fmt: skip
        passages = self._cite(snap, shown, retrieved, candidate)
        if candidate.kind not in ("set", "cited") and candidate.cited:
            info = self._doc(snap, candidate.cited[0][0])
            candidate.answer.document = AnswerDocument.of(info.doc) if info else None
        return AskResult(
            clean, candidate.answer, passages, candidate.kind, q, confidence, threshold, lang,
            candidate.features,
        )  # fmt: skip

    def _named_document(
        self,
        clean: str,
        q: Question,
        snap: Snapshot,
        targets: Sequence[Target],
        retrieved: list[Passage],
        k: int,
        filters: Filters | None,
        lang: str,
    ) -> AskResult | None:
        """The answer naming the one document a bare number designates (search/named_document)."""
        target = named_document.single_target(targets)
        info = self._doc(snap, target.doc_id) if target is not None else None
        if target is None or info is None or not matches_filters(info.doc, filters):
            return None
        first = min(info.chunks, key=lambda c: c.ordinal, default=None)
        cited = self._passage(snap, first) if first is not None else None
        if cited is None:
            return None
        confidence = named_document.confidence(target)
        answer = Answer(
            text=named_document.describe(info.doc, lang),
            citations=[1],
            type="document",
            confidence=confidence,
            document=AnswerDocument.of(info.doc),
        )
        rest = [p for p in retrieved if (p.doc_id, p.ordinal) != (cited.doc_id, cited.ordinal)]
        passages = _numbered([cited, *rest[: max(0, k - 1)]])
        return AskResult(
            clean, answer, passages, "document", q, confidence, self.calibration.threshold, lang
        )

    def _answer(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        filters: Filters | None,
        lang: str,
    ) -> _Candidate | None:
        """The best candidate, or None when the question names a place, body or document
        that the candidate's own documents never mention: an answer about Kobe does not
        answer a question about Osaka, however close the sentences are."""
        if self._names_unknown(q, snap, passages):
            return None
        found = self._best(q, qvec, snap, passages, filters, lang)
        if found is None or found.kind in ("set", "cited"):
            return found
        return None if self._evidence_misses(q, snap, found) else found

    def _evidence_misses(self, q: Question, snap: Snapshot, found: _Candidate) -> bool:
        wanted = [*q.entities, *(folded_phrase(n) for n in q.doc_numbers)]
        wanted += [folded_phrase(p) for p in [*q.provinces, *q.places]]
        if not q.english:
            wanted += list(q.names)
        if not wanted:
            return False
        infos = [self._doc(snap, d) for d in dict.fromkeys(d for d, _ in found.cited)]
        text = " ".join(i.folded for i in infos if i is not None)
        return any(f" {w} " not in text for w in wanted)

    def _best(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        filters: Filters | None,
        lang: str,
    ) -> _Candidate | None:
        t = q.answer_type
        found: _Candidate | None = None
        if t is AnswerType.AGENCY_TASKS:
            found = self._agency_tasks(q, qvec, snap, passages, filters, lang)
        elif t in (AnswerType.AGENCY_LEAD, AnswerType.FOCAL):
            found = self._responsibility(q, qvec, snap, passages, filters, lang)
        elif t is AnswerType.SET:
            found = self._document_set(q, qvec, snap, passages, lang)
        elif t is AnswerType.OTHER and (q.years or _bare(q)):
            # "tỷ lệ dân số nông thôn dùng nước sạch 2030", "licensed industrial parks in
            # Dong Nai": a topic (and a year) with no question word asks for the figure the
            # documents give for it, when they give one, unless a sentence without a
            # figure answers better ("Vingroup education cooperation").
            figure = self._clause(replace(q, answer_type=AnswerType.QUANTITY), qvec, snap, passages)
            sentence = self._clause(q, qvec, snap, passages)
            if figure is None or sentence is None:
                return figure or sentence
            better = self.calibration.confidence(sentence.features) > (
                self.calibration.confidence(figure.features) + 0.05
            )
            return sentence if better else figure
        elif t is AnswerType.PERSON and _asks_signer(folded_phrase(q.text)):
            found = self._signer(q, qvec, snap, passages)
        if found is not None:
            return found
        if t in (AnswerType.AGENCY_TASKS, AnswerType.SET):
            return None
        # No plan assigns it ("ai tài trợ hợp tác … với Đồng Nai"): a sentence may still say.
        return self._clause(q, qvec, snap, passages)

    def _names_unknown(self, q: Question, snap: Snapshot, passages: list[Passage]) -> bool:
        """True when the question names a province, person or thing no retrieved document does.

        "Dân số Hà Nội", "World Cup 2018", "thủ đô của Pháp": the documents say nothing
        about them, whatever passage scores best.
        """
        if not passages:
            return True
        docs = [
            d for d in (self._doc(snap, i) for i in dict.fromkeys(p.doc_id for p in passages)) if d
        ]
        for province in q.provinces:
            key = f" {folded_phrase(province)} "
            if not any(key in d.folded for d in docs):
                return True
        for place in q.places:
            if not any(_names_place(d, place) for d in docs):
                return True
        # An English capitalised word may be a name or a word the glossary lacks: only
        # Vietnamese names decide. A name is written with a capital: "Pháp" is not the
        # "pháp" of "giải pháp".
        for name in () if q.english else q.names:
            if not any(name in d.capitals for d in docs):
                return True
        for number in q.doc_numbers:
            if not any(f" {folded_phrase(number)} " in d.folded for d in docs):
                return True
        return any(not any(f" {e} " in d.folded for d in docs) for e in q.entities)

    # -- agency answers ------------------------------------------------------

    def _plan_docs(
        self, q: Question, snap: Snapshot, filters: Filters | None
    ) -> dict[str, StoredDocument]:
        docs = {d.doc_id: d for d in _documents(snap) if matches_filters(d, filters)}
        if q.provinces:
            wanted = {fold(p) for p in q.provinces}
            docs = {i: d for i, d in docs.items() if wanted & {fold(p) for p in d.provinces}}
        return docs

    def _agency_tasks(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        filters: Filters | None,
        lang: str,
    ) -> _Candidate | None:
        items, vectors = self.assignments(snap)
        docs = self._plan_docs(q, snap, filters)
        names = {folded_phrase(a) for a in q.agencies}
        mine = [a for a in items if folded_phrase(a.agency) in names and a.doc_id in docs]
        mine = [a for a in mine if a.chunk is not None]
        own = [a for a in mine if folded_phrase(a.stated_in) in names]
        also = [a for a in mine if folded_phrase(a.stated_in) not in names]
        # "Sở X chủ trì những gì": only what it leads; "… phối hợp …": what it supports.
        if q.role == LEAD:
            own = [a for a in own if a.role in (LEAD, FOCAL)]
        elif q.role == COOPERATE:
            own = [a for a in own if a.role == COOPERATE]
        if not own and not also:
            return None
        labels = LABELS[lang]
        agency = next(a.agency for a in (own or also))
        # One document answers: the one retrieval ranks first among those that give the
        # agency tasks (else the one with most of them). Other documents' tasks follow,
        # marked as such, never merged into that document's list.
        main = _main_document(own or also, passages)
        # One line per clause; a clause that makes the agency focal point and lead shows both.
        lines: dict[tuple[str, str], list[Assignment]] = {}
        for a in sorted(own, key=lambda a: (a.doc_id, a.chunk or 0)):
            lines.setdefault((a.doc_id, a.text), []).append(a)
        ordered = sorted(
            lines.values(),
            key=lambda group: (
                group[0].doc_id != main,
                min(_ROLE_ORDER.get(a.role, 9) for a in group),
                group[0].doc_id,
                group[0].chunk or 0,
            ),
        )
        answer_items: list[AnswerItem] = []
        cited: list[tuple[str, int]] = []
        for group in ordered[: self.settings.max_items]:
            a = group[0]
            roles = sorted({x.role for x in group}, key=lambda r: _ROLE_ORDER.get(r, 9))
            n = _cite_index(cited, (a.doc_id, a.chunk or 0))
            answer_items.append(
                AnswerItem(
                    a.text, [n], roles[0], a.agency, a.doc_id, own=True,
                    other_document=a.doc_id != main,
                )
            )  # fmt: skip
        seen_also: set[tuple[str, str]] = set()
        for a in sorted(also, key=lambda a: (a.doc_id != main, a.doc_id, a.chunk or 0)):
            if (a.doc_id, a.text) in seen_also or (a.doc_id, a.text) in lines:
                continue
            seen_also.add((a.doc_id, a.text))
            n = _cite_index(cited, (a.doc_id, a.chunk or 0))
            answer_items.append(
                AnswerItem(
                    a.text, [n], a.role, a.stated_in, a.doc_id, own=False,
                    other_document=a.doc_id != main,
                )
            )  # fmt: skip
        text = _tasks_text(agency, answer_items, labels, docs)
        answer = Answer(
            text=text,
            citations=sorted({n for i in answer_items for n in i.citations}),
            type=AnswerType.AGENCY_TASKS.value,
            items=answer_items,
        )
        # How well the listed tasks match the question beyond the agency's name ("Sở X làm
        # gì về chất thải"), and whether retrieval found the agency's own section.
        listed = own or also
        index_of = {id(a): i for i, a in enumerate(items)}
        rows = [index_of[id(a)] for a in listed if id(a) in index_of]
        sim = float((vectors[rows] @ qvec).max()) if vectors is not None and rows else 0.0
        topic = clause_terms(q)
        coverage = max((lexical_coverage(topic, a.text) for a in listed), default=0.0)
        features = Features(
            family="tasks",
            sim=sim,
            coverage=coverage if topic else 1.0,
            english=q.english,
            margin=len(own) / max(len(own) + len(also), 1),
            focus=1.0 if own else 0.0,
            rank=max((_rank(passages, a.doc_id, a.chunk) for a in listed), default=0.0),
        )
        return _Candidate(features, answer, cited, "tasks")

    def _responsibility(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        filters: Filters | None,
        lang: str,
    ) -> _Candidate | None:
        items, vectors = self.assignments(snap)
        if not items or vectors is None:
            return None
        docs = self._plan_docs(q, snap, filters)
        keep = [i for i, a in enumerate(items) if a.chunk is not None and a.doc_id in docs]
        if q.agencies:
            # "Sở Xây dựng phối hợp với cơ quan nào …": only clauses that involve Sở Xây dựng.
            names = {folded_phrase(a) for a in q.agencies}
            clauses_with = {
                (a.doc_id, a.text)
                for a in items
                if folded_phrase(a.agency) in names or folded_phrase(a.stated_in) in names
            }
            keep = [i for i in keep if (items[i].doc_id, items[i].text) in clauses_with]
        if not keep:
            return None
        focal = q.answer_type is AnswerType.FOCAL
        if focal:
            # "Which agency is the focal point": the plans name it ("là cơ quan đầu mối").
            focal_only = [i for i in keep if items[i].role == FOCAL]
            keep = focal_only or keep
        sims = vectors[keep] @ qvec
        best: tuple[float, float, float, Assignment] | None = None
        scores: dict[tuple[str, str], float] = {}
        for i, sim in zip(keep, sims, strict=True):
            a = items[i]
            cov = max(lexical_coverage(q.terms, a.task), lexical_coverage(q.terms, a.text))
            bonus = 0.0
            if focal and a.role == FOCAL:
                bonus += 0.05
            if q.role == "lead" and a.role in (LEAD, FOCAL):
                bonus += 0.02  # "who leads …": a task it leads over one it merely carries out
            elif q.role in (ADVISE, COOPERATE) and a.role == q.role:
                bonus += 0.02  # "who advises on …": the advising task
            score = float(sim) + self.settings.lexical_weight * cov + bonus
            key = (a.doc_id, a.text)
            scores[key] = max(scores.get(key, score), score)
            if best is None or score > best[0]:
                best = (score, float(sim), cov, a)
        assert best is not None
        top, sim, cov, chosen = best
        runner_up = max(
            (v for k, v in scores.items() if k != (chosen.doc_id, chosen.text)), default=top - 0.1
        )
        clause = [a for a in items if a.doc_id == chosen.doc_id and a.text == chosen.text]
        leads = list(dict.fromkeys(a.agency for a in clause if a.role in (LEAD, FOCAL)))
        helpers = list(
            dict.fromkeys(a.agency for a in clause if a.role == COOPERATE and a.agency not in leads)
        )
        others = list(
            dict.fromkeys(
                a.agency for a in clause if a.agency not in leads and a.agency not in helpers
            )
        )
        labels = LABELS[lang]
        n = 1
        cited = [(chosen.doc_id, chosen.chunk or 0)]
        parts = []
        answer_items = []
        if leads:
            role = FOCAL if focal and any(a.role == FOCAL for a in clause) else LEAD
            parts.append(f"{labels[LEAD]}: " + ", ".join(f"{a} [{n}]" for a in leads))
            answer_items += [AnswerItem(a, [n], role, a, chosen.doc_id) for a in leads]
        if helpers:
            parts.append(f"{labels[COOPERATE]}: " + ", ".join(f"{a} [{n}]" for a in helpers))
            answer_items += [AnswerItem(a, [n], COOPERATE, a, chosen.doc_id) for a in helpers]
        if others and not leads:
            role_of = {a: next(x.role for x in clause if x.agency == a) for a in others}
            for role in sorted(set(role_of.values()), key=lambda r: _ROLE_ORDER.get(r, 9)):
                named = [a for a in others if role_of[a] == role]
                label = labels.get(role, labels[RESPONSIBLE])
                parts.append(f"{label}: " + ", ".join(f"{a} [{n}]" for a in named))
            answer_items += [AnswerItem(a, [n], role_of[a], a, chosen.doc_id) for a in others]
        quote = shorten(chosen.text, limit=300)
        text = ". ".join(parts) + f". {labels['task']}: “{quote}” [{n}]"
        answer = Answer(
            text=text,
            citations=[n],
            type=q.answer_type.value,
            exact=next(iter(leads or helpers or others), None),
            evidence=chosen.text,
            items=answer_items,
        )
        if answer.exact:
            start = text.find(answer.exact)
            answer.exact_span = (start, start + len(answer.exact)) if start >= 0 else None
        # A plan that names its focal agency ("là cơ quan đầu mối") answers a focal-point
        # question by its structure, as an agency's own section answers for its tasks.
        family = "focal" if focal and chosen.role == FOCAL else "agency"
        features = Features(
            family=family,
            sim=sim,
            coverage=cov,
            english=q.english,
            margin=top - runner_up,
            focus=lexical_coverage(_focus_terms(clause_terms(q)), chosen.task or chosen.text),
            rank=_rank(passages, chosen.doc_id, chosen.chunk or 0),
        )
        return _Candidate(features, answer, cited, "responsibility")

    # -- who signed ----------------------------------------------------------

    def _signer(
        self, q: Question, qvec: np.ndarray, snap: Snapshot, passages: list[Passage]
    ) -> _Candidate | None:
        """ "Ai ký quyết định …": the signer of the document the question is about.

        The signature closes an official document ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / name")
        and is no passage of the index (the document model sets it apart from the body),
        so a sentence search never finds it: the answer is read from the document's
        header, or from its signature block, and cited as a passage of its own.
        """
        terms = clause_terms(q)
        firsts: dict[str, Passage] = {}
        for p in passages:
            firsts.setdefault(p.doc_id, p)
        # The question describes the document it asks about ("kế hoạch phát động phong
        # trào thi đua …"): of the best-ranked documents, the one whose title says most.
        options: list[tuple[float, int, Passage, _DocInfo, tuple[str, str, str]]] = []
        for pos, p in enumerate(firsts.values()):
            info = self._doc(snap, p.doc_id)
            if info is None or not self._doc_matches(q, info):
                continue
            signed = _signature_of(snap, info.doc)
            if signed is not None:
                title = f"{info.doc.title} {info.doc.header.get('title') or ''}"
                options.append((lexical_coverage(terms, title), -pos, p, info, signed))
            if len(options) == 3:
                break
        for _, _, p, info, signed in sorted(options, key=lambda o: o[:2], reverse=True)[:1]:
            name, title, block = signed
            ordinal = len(info.chunks)  # the signature follows the body
            passage = Passage(
                n=0,
                doc_id=p.doc_id,
                title=info.doc.title,
                section=_SIGNATURE_SECTION,
                page=None,
                text=block,
                score=0.0,
                url=f"/doc/{p.doc_id}#signature",
                chunk_id=-1,
                ordinal=ordinal,
            )
            best = [x for x in passages if x.doc_id == p.doc_id]
            cov = lexical_coverage(terms, f"{info.doc.title} {' '.join(x.text for x in best)}")
            others = [x.score for x in passages if x.doc_id != p.doc_id]
            margin = p.score - max(others) if others else 0.1
            sim = float(np.asarray(snap.vectors[p.chunk_id], np.float32) @ qvec)
            text = f"{title} {name}".strip() if title else name
            answer = Answer(
                text=text,
                citations=[1],
                type=q.answer_type.value,
                evidence=" ".join(block.split()),
                exact=name,
                exact_span=(len(text) - len(name), len(text)),
            )
            features = Features(
                family="signer",
                sim=sim,
                coverage=cov,
                english=q.english,
                margin=margin,
                focus=1.0,
                rank=_rank(passages, p.doc_id, None),
            )
            key = (p.doc_id, ordinal)
            return _Candidate(features, answer, [key], "signer", {key: passage})
        return None

    # -- clause answers ------------------------------------------------------

    def _sentence_vectors(
        self, snap: Snapshot, passage: Passage, sentences: list[str]
    ) -> np.ndarray:
        """Vectors of a passage's sentences: its sentence windows when the index has them."""
        windows = window_index(snap)
        if windows is not None:
            rows = windows.rows_of(passage.chunk_id)
            if rows.stop - rows.start == len(sentences):
                return np.asarray(windows.vectors[rows], dtype=np.float32)
        if len(sentences) == 1:
            return np.asarray(snap.vectors[passage.chunk_id : passage.chunk_id + 1], np.float32)
        return self._cache.get_many(sentences, self.engine.embedder.embed_passages)

    def _clause(
        self, q: Question, qvec: np.ndarray, snap: Snapshot, passages: list[Passage]
    ) -> _Candidate | None:
        t = q.answer_type
        terms = clause_terms(q)
        focus_terms = _focus_terms(terms)
        tense = _tense(folded_phrase(q.text))
        sign = t is AnswerType.PERSON and bool(_SIGN_QUESTION.search(folded_phrase(q.text)))
        asks_issue = bool(_ASKS_ISSUE.search(folded_phrase(q.text)))
        # "Quyết định 876/QĐ-TTg ngày nào": the cited document is the one asked about.
        asked_numbers = [folded_phrase(n) for n in q.doc_numbers]
        scored: list[_Scored] = []
        for passage in self._pool(snap, passages):
            info = self._doc(snap, passage.doc_id)
            if info is None or not self._doc_matches(q, info):
                continue
            sims = self._sentence_vectors(snap, passage, sentences(passage.text)) @ qvec
            # What an agreement contains is a whole sentence ("Theo thỏa thuận, các bên sẽ A;
            # B; C"); a figure or a date is one clause of it.
            units = _unique_sentences(passage.text) if t is AnswerType.AGREEMENT else None
            for c in units or clauses(passage.text):
                if len(c.text) < 8:
                    continue
                span = _typed_span(t, c, terms, q.text)
                if t in _TYPED and span is None:
                    continue  # a "bao nhiêu" question wants a figure, "khi nào" a date
                if (
                    span is not None
                    and not asks_issue
                    and _cites_document(c, span)
                    and not any(n in folded_phrase(c.text) for n in asked_numbers)
                ):
                    continue  # another document's number and date, not what is asked
                context = f"{c.context} {c.text}"
                if q.years and not _years_agree(q.years, context):
                    continue
                if t is AnswerType.QUANTITY and not _tense_agrees(
                    tense, f"{passage.section} {context}"
                ):
                    continue  # the current count does not answer for the target, nor back
                # The section path says what a passage is about ("VI. Nguồn vốn thực hiện");
                # the sentence around a list clause says what the list is about.
                cov = 0.7 * lexical_coverage(terms, f"{passage.section} {context}")
                cov += 0.3 * lexical_coverage(terms, f"{passage.section} {c.sentence}")
                bonus = 0.05 * _heading_match(terms, passage.section)
                if span is not None and terms:
                    # The figure or name that the question's words surround, not its neighbour.
                    bonus += 0.02 * _near(terms, c.text, span) / len(terms)
                if t is AnswerType.AGREEMENT:
                    folded = folded_phrase(c.text)
                    bonus += 0.03 * bool(_AGREEMENT_CUE.search(folded))
                if sign and _SIGNATURE.match(fold(c.text)):
                    cov = max(cov, 0.75)
                    bonus += 0.05
                sim = float(sims[min(c.index, len(sims) - 1)])
                # The heading a list sits under says what its clauses are about.
                focus = (
                    lexical_coverage(focus_terms, f"{passage.section} {context}")
                    if focus_terms
                    else 1.0
                )
                scored.append(_Scored(sim, cov, bonus, c, passage, span, focus))
        if t in (AnswerType.QUANTITY, AnswerType.DATE):
            # What is counted or dated must be in the clause that gives the figure or date
            # (or its lead-in): a figure beside other words answers another question.
            scored = [s for s in scored if s.focus >= FOCUS_FLOOR]
        if t is AnswerType.DATE and _ASKS_DAY.search(folded_phrase(q.text)):
            # "trước ngày nào" wants a day: a clause that gives only a year answers it
            # only when no clause gives a day.
            days = [s for s in scored if s.span is not None and _is_day(s.span.text)]
            scored = days or scored
        if not scored:
            return None
        best = max(scored, key=self._score)
        runner_up = max(
            (self._score(s) for s in scored if s.clause.sentence != best.clause.sentence),
            default=self._score(best) - 0.1,
        )
        answer = self._clause_answer(q, best.clause, best.span)
        cited = [(best.passage.doc_id, best.passage.ordinal)]
        if t is AnswerType.AGREEMENT:
            answer, cited = self._agreement_answer(scored, best, answer)
        family = "clause"
        if t is AnswerType.AGREEMENT and _AGREEMENT_CUE.search(folded_phrase(best.clause.text)):
            # The document states its terms ("theo thỏa thuận, các bên sẽ …"): evidence of its
            # own kind, calibrated apart from sentences that merely share the question's words.
            family = "agreement"
        features = Features(
            family=family,
            sim=best.sim,
            coverage=best.cov,
            english=q.english,
            margin=self._score(best) - runner_up,
            focus=best.focus,
            rank=_rank(passages, best.passage.doc_id, best.passage.ordinal),
        )
        return _Candidate(features, answer, cited, "sentence")

    def _pool(self, snap: Snapshot, passages: list[Passage]) -> list[Passage]:
        """The best passages, and every passage of the documents they come from (up to
        ``doc_chunks`` each): a signature, a date line or an agreement's terms may sit in a
        passage that ranks low for the question's words."""
        top = passages[: self.settings.clause_passages]
        out = list(top)
        seen = {(p.doc_id, p.ordinal) for p in out}
        for doc_id in dict.fromkeys(p.doc_id for p in top[:3]):
            info = self._doc(snap, doc_id)
            if info is None or len(info.chunks) > self.settings.doc_chunks:
                continue
            for c in info.chunks:
                if (doc_id, c.ordinal) not in seen:
                    seen.add((doc_id, c.ordinal))
                    fetched = self._passage(snap, c)
                    if fetched is not None:
                        out.append(fetched)
        return out

    def _score(self, s: _Scored) -> float:
        return s.sim + self.settings.lexical_weight * s.cov + s.bonus

    @staticmethod
    def _doc_matches(q: Question, info: _DocInfo) -> bool:
        for province in q.provinces:
            if f" {folded_phrase(province)} " not in info.folded:
                return False
        if not all(_names_place(info, place) for place in q.places):
            return False
        if not all(f" {e} " in info.folded for e in q.entities):
            return False
        return q.english or all(name in info.capitals for name in q.names)

    def _clause_answer(self, q: Question, clause: Clause, span: Span | None) -> Answer:
        display = clause.display
        offset = len(display) - len(clause.text)
        keep = Span(span.start + offset, span.end + offset, span.text) if span else None
        text = shorten(display, keep)
        answer = Answer(
            text=text,
            citations=[1],
            type=q.answer_type.value,
            evidence=" ".join(clause.sentence.split()),
        )
        if span is not None:
            answer.exact = span.text
            start = text.find(span.text)
            answer.exact_span = (start, start + len(span.text)) if start >= 0 else None
        return answer

    def _agreement_answer(
        self, scored: list[_Scored], best: _Scored, answer: Answer
    ) -> tuple[Answer, list[tuple[str, int]]]:
        """What an agreement contains: the best clause and the document's other content
        clauses ("hai bên sẽ …", "theo biên bản ghi nhớ …"), in document order."""
        doc_id = best.passage.doc_id
        top = self._score(best)
        same = [
            s
            for s in scored
            if s.passage.doc_id == doc_id
            and s is not best
            and _AGREEMENT_CUE.search(folded_phrase(s.clause.text))
            and self._score(s) >= top - 0.04
        ]
        picked = [best, *sorted(same, key=self._score, reverse=True)[:2]]
        picked.sort(key=lambda s: (s.passage.ordinal, s.clause.index))
        if len(picked) == 1:
            return answer, [(doc_id, best.passage.ordinal)]
        items = []
        cites: list[tuple[str, int]] = []
        for s in picked:
            n = _cite_index(cites, (s.passage.doc_id, s.passage.ordinal))
            items.append(AnswerItem(shorten(s.clause.display, limit=300), [n], doc_id=doc_id))
        text = "\n".join(f"• {i.text} [{i.citations[0]}]" for i in items)
        merged = Answer(
            text=text,
            citations=sorted({n for i in items for n in i.citations}),
            type=answer.type,
            evidence=answer.evidence,
            items=items,
        )
        return merged, cites

    # -- document sets -------------------------------------------------------

    def _document_set(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        lang: str,
    ) -> _Candidate | None:
        """One line per document that answers: its title, cited to its opening passage.

        A document answers when it names what the question names and contains most of
        its words; retrieval decides the order.
        """
        del lang  # a title is the document's own words, in its language
        matchable = [g for g in q.terms if g]
        lines: list[tuple[float, float, _DocInfo]] = []
        seen: set[str] = set()
        # A document whose title says what is asked counts even if none of its passages
        # was retrieved ("các kế hoạch hành động về tăng trưởng xanh").
        titled = [
            p
            for doc_id in self._titles_matching(snap, matchable)
            if doc_id not in {x.doc_id for x in passages}
            and (p := self._fetch(snap, doc_id, 0)) is not None
        ]
        for p in [*passages, *titled]:
            if p.doc_id in seen:
                continue
            seen.add(p.doc_id)
            info = self._doc(snap, p.doc_id)
            if info is None or not self._doc_matches(q, info):
                continue
            cov = lexical_coverage(matchable, info.folded) if matchable else 0.0
            if cov < 0.6:
                continue
            sims = self._sentence_vectors(snap, p, sentences(p.text)) @ qvec
            lines.append((float(sims.max()), cov, info))
        if not lines:
            return None
        items = []
        cites: list[tuple[str, int]] = []
        for _, _, info in lines[: self.settings.max_items]:
            lead = min((c.ordinal for c in info.chunks), default=0)
            n = _cite_index(cites, (info.doc.doc_id, lead))
            items.append(AnswerItem(info.doc.title, [n], doc_id=info.doc.doc_id))
        text = "\n".join(f"• {i.text} [{i.citations[0]}]" for i in items)
        answer = Answer(
            text=text,
            citations=sorted({n for i in items for n in i.citations}),
            type=AnswerType.SET.value,
            items=items,
        )
        sim, cov, _ = max(lines, key=lambda x: x[0])
        features = Features(
            family="set",
            sim=sim,
            coverage=cov,
            english=q.english,
            margin=min(1.0, len(lines) / 5),
            focus=sum(c for _, c, _ in lines) / len(lines),
            rank=max((_rank(passages, i.doc.doc_id, None) for _, _, i in lines), default=0.0),
        )
        return _Candidate(features, answer, cites, "set")

    def _citing_set(
        self,
        q: Question,
        plan: QueryPlan,
        qvec: np.ndarray,
        snap: Snapshot,
        filters: Filters | None,
    ) -> _Candidate | None:
        """One line per document that cites a number the question names (in its bases or
        body, whether the cited document is indexed or not), cited to the passage that
        mentions it; plans only when the question asks for plans and some plan cites it."""
        table = reference_table(snap)
        citations = [
            c for n in plan.lookup.numbers for c in table.citing(n.seq, n.year, n.code, n.key)
        ]
        docs = []
        for citation in {c.doc_id: c for c in citations}.values():
            doc = snap.document(citation.doc_id)
            if doc is not None and (filters is None or document_matches(doc, filters)):
                docs.append((doc, citation))
        if _PLANS_ASKED.search(folded_phrase(q.text)):
            plans = [(d, c) for d, c in docs if _is_plan(d)]
            docs = plans or docs
        if not docs:
            return None
        items = []
        cites: list[tuple[str, int]] = []
        sims = []
        for doc, citation in docs[: self.settings.max_items]:
            info = self._doc(snap, doc.doc_id)
            if info is None:
                continue
            mention = folded_phrase(citation.number)
            chunk = next(
                (c for c in info.chunks if mention in folded_phrase(c.text)),
                min(info.chunks, key=lambda c: c.ordinal, default=None),
            )
            if chunk is None:
                continue
            passage = self._passage(snap, chunk)
            if passage is not None:
                sims.append(
                    float(
                        (
                            self._sentence_vectors(snap, passage, sentences(passage.text)) @ qvec
                        ).max()
                    )
                )
            n = _cite_index(cites, (doc.doc_id, chunk.ordinal))
            items.append(AnswerItem(doc.title, [n], doc_id=doc.doc_id))
        if not items:
            return None
        answer = Answer(
            text="\n".join(f"• {i.text} [{i.citations[0]}]" for i in items),
            citations=sorted({n for i in items for n in i.citations}),
            type=AnswerType.SET.value,
            items=items,
        )
        # The documents name the number itself: every word of what is asked about is there.
        features = Features(
            family="set",
            sim=max(sims, default=0.0),
            coverage=1.0,
            english=q.english,
            margin=min(1.0, len(items) / 5),
        )
        return _Candidate(features, answer, cites, "cited")

    def _titles_matching(self, snap: Snapshot, terms: Sequence[Sequence[str]]) -> list[str]:
        if not terms:
            return []
        return [d.doc_id for d in _documents(snap) if lexical_coverage(terms, d.title) >= 0.6]

    # -- citations -----------------------------------------------------------

    def _cite(
        self,
        snap: Snapshot,
        shown: list[Passage],
        retrieved: list[Passage],
        candidate: _Candidate,
    ) -> list[Passage]:
        """Passages led by the cited ones, in citation order; the answer renumbered to match.

        A cited passage that retrieval did not return (an agency's section) is fetched.
        """
        pool = {(p.doc_id, p.ordinal): p for p in retrieved}
        cited: list[Passage] = []
        for doc_id, ordinal in candidate.cited:
            p = (
                pool.get((doc_id, ordinal))
                or candidate.extra.get((doc_id, ordinal))
                or self._fetch(snap, doc_id, ordinal)
            )
            if p is not None:
                cited.append(p)
        ids = {(p.doc_id, p.ordinal) for p in cited}
        rest = [p for p in shown if (p.doc_id, p.ordinal) not in ids]
        return _numbered(cited + rest[: max(0, len(shown) - len(cited))])

    def _fetch(self, snap: Snapshot, doc_id: str, ordinal: int) -> Passage | None:
        info = self._doc(snap, doc_id)
        chunk = next((c for c in info.chunks if c.ordinal == ordinal), None) if info else None
        return None if chunk is None else self._passage(snap, chunk)

    def _passage(self, snap: Snapshot, chunk: StoredChunk) -> Passage | None:
        info = self._doc(snap, chunk.doc_id)
        if info is None:
            return None
        doc_id = chunk.doc_id
        return Passage(
            n=0,
            doc_id=doc_id,
            title=info.doc.title,
            section=chunk.section,
            page=chunk.page,
            text=chunk.text,
            score=0.0,
            url=passage_url(doc_id, chunk.ordinal),
            chunk_id=chunk.id,
            ordinal=chunk.ordinal,
        )


def _cites_document(clause: Clause, span: Span) -> bool:
    """True when a figure or date belongs to a document the clause cites, not to what the
    clause sets out. Vietnamese administrative writing cites a document as "<kind> số
    <number> ngày <date>": the bases ("Căn cứ Luật …; Căn cứ Quyết định số … ngày …"), the
    proposal ("Theo đề nghị của … tại Tờ trình số … ngày …") and an attachment's caption
    ("Kèm theo Quyết định số … ngày …") are such citations. A date right after a
    document number is that document's date, and a figure in a basis or a proposal is one
    of its article or document numbers."""
    if _BASIS_LINE.match(fold(clause.sentence.lstrip(" (-–•*"))):
        return True
    before = fold(clause.text[: span.start])[-40:]
    return bool(_AFTER_NUMBER.search(before))


def _asks_signer(folded: str) -> bool:
    """Who signed a document ("ai ký quyết định …"), not who concluded an agreement ("ai
    ký kết hợp tác …", "who signed the cooperation"): the parties of an agreement are named
    in its text, not in a signature block."""
    return bool(_SIGN_QUESTION.search(folded)) and not _AGREEMENT_WORDS.search(folded)


def _signature_of(snap: Snapshot, doc: StoredDocument) -> tuple[str, str, str] | None:
    """(signer, title, signature block) of an official document: the header's signer when
    the header reader found one, else the first block the document model reads as a
    signature whose last words are a name ("KT. CHỦ TỊCH PHÓ CHỦ TỊCH Hoàng Việt Phương")."""
    blocks = [" ".join(str(b[0]).split()) for b in snap.blocks_of(doc.doc_id)
              if len(b) > 3 and isinstance(b[3], dict) and b[3].get("kind") == "signature"]  # fmt: skip
    signer = str(doc.header.get("signer") or "")
    if signer:
        title = str(doc.header.get("signer_title") or "")
        key = fold(signer)
        block = next((b for b in blocks if key in fold(b)), "")
        if not block:
            block = " ".join(x for x in (doc.header.get("signature_block", ""), signer) if x)
        return signer, title, block.replace(" / ", " ")
    for block in blocks:
        m = _SIGNED_NAME.search(block)
        if m is None:
            continue
        name = m.group(1)
        office = block[: m.start(1)].split(".")[-1].strip()
        office = office.rsplit("  ", 1)[-1]
        # "KT. CHỦ TỊCH PHÓ CHỦ TỊCH": the signer's own office is the last one printed.
        titles = _OFFICE.findall(office)
        title = titles[-1].strip().capitalize() if titles else ""
        return name, title, block
    return None


def _rank(passages: Sequence[Passage], doc_id: str, ordinal: int | None) -> float:
    """1 / (1 + position) of the passage (``ordinal`` None: of the document's best passage)
    among the retrieved ``passages``; 0 when retrieval did not return it."""
    for i, p in enumerate(passages):
        if p.doc_id == doc_id and (ordinal is None or p.ordinal == ordinal):
            return 1.0 / (1 + i)
    return 0.0


def _focus_terms(terms: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """What a question asks about: what is counted, dated or done ("xe buýt", "báo cáo"),
    each word once (without the adjacent pairs that repeat a Vietnamese question's words;
    an English word's Vietnamese renderings stay one group) and without years."""
    singles = {alt for g in terms for alt in g if " " not in alt}
    return [
        g
        for g in terms
        if g
        and not (len(g) == 1 and " " in g[0] and set(g[0].split()) <= singles)
        and not any(alt.isdigit() for alt in g)
    ]


def _documents(snap: Snapshot) -> list[StoredDocument]:
    """The version's documents without their blocks, read once per version."""

    def load(s: Snapshot) -> list[StoredDocument]:
        return [replace(d, blocks=[]) for d in s.documents()]

    docs: list[StoredDocument] = snap.derived("answer-documents", load)
    return docs


# Question types that ask for no span: a clause answering them is matched by its words only.
_UNTYPED = (AnswerType.OTHER.value, AnswerType.PLACE.value)


def _numbered(passages: list[Passage]) -> list[Passage]:
    out = []
    for i, p in enumerate(passages):
        out.append(Passage(**{**asdict(p), "n": i + 1}))
    return out


def _without_number(q: Question, words: frozenset[str]) -> Question:
    """``q`` without the document number it names: the number picked the document (as a
    province does), and a sentence of it that repeats the number ("Số: 1658/QĐ-TTg")
    answers nothing."""
    terms = tuple(g for g in q.terms if not all(set(alt.split()) <= words for alt in g))
    return replace(q, doc_numbers=(), terms=terms)


# A question for plans ("những kế hoạch nào", "which plans"), folded.
_PLANS_ASKED = re.compile(r"\b(?:ke hoach|plans?)\b")


def _is_plan(doc: StoredDocument) -> bool:
    return doc.header.get("document_type") == "Kế hoạch" or doc.doc_type == "plan"


def _cite_index(cited: list[tuple[str, int]], key: tuple[str, int]) -> int:
    if key not in cited:
        cited.append(key)
    return cited.index(key) + 1


def _diversified(passages: list[Passage], k: int) -> list[Passage]:
    """The best passage of each document first, then the rest, cut to ``k``."""
    firsts: dict[str, Passage] = {}
    for p in passages:
        firsts.setdefault(p.doc_id, p)
    lead = list(firsts.values())
    rest = [p for p in passages if p not in lead]
    return (lead + rest)[:k]


_QUESTION_WORDS = re.compile(
    r"\b(?:ai|gi|nao|dau|sao|the nao|nhu the nao|bao gio|khong|what|who|which|where|when|why"
    r"|how|whom|whose|is|are|does|do|did)\b"
)


def _bare(q: Question) -> bool:
    """A topic typed as a search, with no question word ("số khu công nghiệp đồng nai")."""
    return not _QUESTION_WORDS.search(folded_phrase(q.text))


def _names_place(info: _DocInfo, place: str) -> bool:
    """The document names ``place`` ("Nhật Bản"), capitalised as a name is."""
    words = folded_phrase(place).split()
    return f" {' '.join(words)} " in info.folded and all(w in info.capitals for w in words)


def _heading_match(terms: Sequence[Sequence[str]], section: str) -> float:
    """Share of the words of a passage's own heading that the question uses: "nguồn vốn
    thực hiện" asks for what sits under "VI. Nguồn vốn thực hiện"."""
    heading = section.split(" › ")[-1] if section else ""
    words = [w for w in folded_phrase(heading).split() if not w.isdigit() and len(w) > 1]
    if len(words) < 2:
        return 0.0
    asked = {w for g in terms for p in g for w in p.split()}
    return sum(1 for w in words if w in asked) / len(words)


def _years_agree(years: tuple[str, ...], text: str) -> bool:
    """A clause about 2050 does not answer a question about 2030; one with no year may."""
    found = set(re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text))
    return not found or bool(found & set(years))


# How plans tell a target from the present state, folded: "phấn đấu đến năm 2030 đạt 50%",
# "mục tiêu", "chỉ tiêu" against "hiện nay", "hiện có", "đã đạt", "tính đến".
_TARGET_WORDS = re.compile(
    r"\b(?:muc tieu|phan dau|chi tieu|den nam|toi nam|vao nam|se dat|phai dat|dinh huong"
    r"|targets?|goals?|aims?|by (?:19|20)\d\d|will)\b"
)
_CURRENT_WORDS = re.compile(
    r"\b(?:hien nay|hien co|hien tai|hien da|da co|da dat|dang co|tinh den|hien"
    r"|currently|current|now|so far|existing|at present|to date|already)\b"
)


def _tense(folded: str) -> str | None:
    """ "target" or "current" when the text says only one of them, else None."""
    target = bool(_TARGET_WORDS.search(folded))
    current = bool(_CURRENT_WORDS.search(folded))
    return "target" if target and not current else "current" if current and not target else None


def _tense_agrees(asked: str | None, text: str) -> bool:
    """A clause that states only the present does not answer for a target, and back; one
    that says neither (or both) may answer either."""
    said = _tense(folded_phrase(text))
    return asked is None or said is None or said == asked


def _near(terms: Sequence[Sequence[str]], text: str, span: Span) -> float:
    """How closely the question's words surround ``span``: per term, 1 inside it, falling to
    0 at 80 characters away; a word behind a semicolon or bracket belongs to another part of
    the sentence and counts as 40 characters further, behind a comma 15 ("sơ kết giữa kỳ
    vào năm 2025, tổng kết thực hiện vào năm 2030")."""
    lowered = fold(text)
    hard = [m.start() for m in re.finditer(r"[;()]", text)]
    soft = [m.start() for m in re.finditer(r",", text)]

    def apart(a: int, b: int) -> int:
        """Extra distance for the punctuation between positions ``a`` and ``b``."""
        lo, hi = min(a, b), max(a, b)
        return 40 * sum(lo < c < hi for c in hard) + 15 * sum(lo < c < hi for c in soft)

    score = 0.0
    for group in terms:
        best = 0.0
        for phrase in group:
            # A term is folded words joined by spaces; in the text they may be joined by a
            # slash or a hyphen too: "882 qd ttg" is "882/QĐ-TTg", the number a question names.
            words = r"[^\w,;()]+".join(re.escape(w) for w in phrase.split())
            for m in re.finditer(rf"(?<!\w){words}(?!\w)", lowered):
                if m.start() >= span.start and m.end() <= span.end:
                    distance = 0
                elif m.end() <= span.start:
                    distance = span.start - m.end()
                else:
                    distance = max(0, m.start() - span.end)
                distance += apart(m.start(), span.start)
                best = max(best, 1.0 - min(distance, 80) / 80)
        score += best
    return score


_ASKS_DAY = re.compile(r"\b(?:ngay nao|ngay may|what date|which day|what day|date)\b")
_ASKS_YEAR = re.compile(r"\b(?:nam nao|nam may|which year|what year|year)\b")
_ASKS_GEO = re.compile(
    r"\b(?:tinh nao|thanh pho nao|nuoc nao|quoc gia nao|dia phuong nao|vung nao|city|province"
    r"|prefecture|country|region)\b"
)
_AGENCY_WORDS = ("Sở ", "Bộ ", "UBND", "Ủy ban", "Ban ", "Tập đoàn", "Cục ")
_UNITS = {
    "area": (
        re.compile(r"\b(?:dien tich|area|hectares?|hecta)\b"),
        re.compile(r"\b(?:ha|km|m2)\b"),
    ),
    "percent": (
        re.compile(r"\b(?:ty le|ty trong|phan tram|share|percent\w*|rate|proportion)\b"),
        re.compile(r"%"),
    ),
}


# What a Vietnamese count question counts: the words after "bao nhiêu" ("bao nhiêu học sinh").
_COUNTED = re.compile(r"\bbao nhieu\s+([a-z]+(?:\s+[a-z]+)?)")
# Words after "bao nhiêu" that name a measure, an amount or a unit, not a thing counted: any
# figure may answer them ("bao nhiêu phần trăm", "bao nhiêu tiền", "bao nhiêu lâu", "ha").
_MEASURES = frozenset(
    [
        "phan",
        "tien",
        "ty",
        "trieu",
        "nghin",
        "ngan",
        "dong",
        "lan",
        "lau",
        "nhieu",
        "la",
        "the",
        "thi",
        "duoc",
        "so",
        "muc",
        "met",
        "ha",
        "hecta",
        "km",
        "kg",
        "tan",
        "lit",
    ]
)
# Classifiers written between a number and what it counts: "100 lượt người".
_CLASSIFIERS = frozenset(["luot", "chiec", "cai", "con"])


def _counts_other(text: str, span: Span, counted: str) -> bool:
    """Whether the figure ``span`` counts something other than ``counted`` (folded words):
    the words after its number name another thing ("18 tuần" for "học sinh"). A figure
    followed by a sign or by nothing counts nothing in particular ("60%")."""
    digits = list(re.finditer(r"\d", span.text))
    tail = span.text[digits[-1].end() :] if digits else ""
    after = fold(tail + " " + text[span.end : span.end + 60]).lower()
    first = re.match(r"[\s).,]*([a-z0-9]+)", after)
    if first is None or len(first.group(1)) < 2 or not first.group(1).isalpha():
        return False  # "60%", "30 m2", "336/năm": a sign or a unit symbol
    words = re.findall(r"[a-z]+", after)[:5]
    if not words:
        return False
    want = counted.split()
    if words[0] in _CLASSIFIERS:
        words = words[1:]
    if want[0] in _CLASSIFIERS:
        want = want[1:] or want
    return words[: len(want)] != want and words[:1] != want[:1]


def _is_day(text: str) -> bool:
    """A date to the day: "15/12/2026", "ngày 30 tháng 11"."""
    return bool(re.search(r"\d[/-]\d|ngày\s+\d", text, re.IGNORECASE))


def _unit_fits(question: str, span: Span) -> bool | None:
    """Whether ``span``'s unit is the one the question asks for (an area in ha, a share in
    %); None when the question names no unit."""
    asked = folded_phrase(question)
    for wants, unit in _UNITS.values():
        if wants.search(asked):
            return bool(unit.search(fold(span.text)))
    return None


def clause_terms(q: Question) -> list[list[str]]:
    """The question's words a clause is scored by, each a group of folded alternatives.

    A province the question names picks the document (_doc_matches); inside it, a
    sentence need not repeat the name ("Hiện đã có 33 khu công nghiệp …"). A document
    number the question names counts as one term ("882 qd ttg").
    """
    provinces = {folded_phrase(p) for p in q.provinces}
    terms = [list(g) for g in q.terms if not (len(g) == 1 and g[0] in provinces)]
    return terms + [[folded_phrase(n)] for n in q.doc_numbers]


def _typed_span(
    t: AnswerType, clause: Clause, terms: Sequence[Sequence[str]], question: str = ""
) -> Span | None:
    """The figure, date, name or place in ``clause`` that answers a question of type ``t``."""
    text = clause.text
    if t is AnswerType.QUANTITY:
        found = quantities(text)
    elif t is AnswerType.DATE:
        found = dates(text)
    elif t is AnswerType.PERSON:
        found = people(text)
    elif t is AnswerType.PLACE:
        named = {p for g in terms for p in g}
        found = [s for s in proper_names(text, _PLACES) if folded_phrase(s.text) not in named]
    else:
        return None
    if not found:
        return None
    asked = folded_phrase(question)
    if t is AnswerType.QUANTITY:
        fitting = [s for s in found if _unit_fits(question, s) is not False]
        counted = _COUNTED.search(asked)
        if counted and counted.group(1).split()[0] not in _MEASURES:
            # "bao nhiêu học sinh": a figure that counts something else ("18 tuần") is not
            # the answer; a clause whose every figure does is no answer at all.
            fitting = [s for s in fitting if not _counts_other(text, s, counted.group(1))]
            if not fitting:
                return None
    elif t is AnswerType.DATE:
        # "ngày nào" wants a day ("Ngày 30/10"), "năm nào" a year ("vào năm 2025").
        if _ASKS_DAY.search(asked):
            fitting = [s for s in found if _is_day(s.text)]
        elif _ASKS_YEAR.search(asked):
            fitting = [s for s in found if re.search(r"(?:năm|year)\s+\d{4}", s.text, re.I)]
        else:
            fitting = found
    elif t is AnswerType.PLACE and _ASKS_GEO.search(asked):
        # "tỉnh nào", "which city": a place, not an agency.
        fitting = [s for s in found if not s.text.startswith(_AGENCY_WORDS)]
    else:
        fitting = found
    found = fitting or found
    return max(found, key=lambda s: (_near(terms, text, s), -s.start))


def _main_document(assignments: Sequence[Assignment], passages: Sequence[Passage]) -> str:
    """The document of ``assignments`` that retrieval ranks first; else the one with most."""
    docs = {a.doc_id for a in assignments}
    for p in passages:
        if p.doc_id in docs:
            return p.doc_id
    counts: dict[str, int] = {}
    for a in assignments:
        counts[a.doc_id] = counts.get(a.doc_id, 0) + 1
    return min(counts, key=lambda d: (-counts[d], d))


def _tasks_text(
    agency: str,
    items: list[AnswerItem],
    labels: dict[str, str],
    docs: dict[str, StoredDocument],
) -> str:
    """The agency's own tasks, then the tasks of others that name it, from the answering
    document; then, apart and each with its document's title, those of other documents."""

    def line(i: AnswerItem, where: bool) -> str:
        role = labels.get(i.role or "", i.role or "")
        if not i.own:
            role += f" ({labels['stated_in'].format(agency=i.agency)})"
        doc = docs.get(i.doc_id or "")
        title = f" ({labels['in']} “{shorten(doc.title, limit=60)}”)" if where and doc else ""
        return f"• {role}: “{i.text}”{title} [{i.citations[0]}]"

    here = [i for i in items if not i.other_document]
    elsewhere = [i for i in items if i.other_document]
    lines = [labels["tasks_of"].format(agency=agency) + ":"]
    lines += [line(i, False) for i in here if i.own]
    also = [i for i in here if not i.own]
    if also:
        lines.append(labels["also"] + ":")
        lines += [line(i, False) for i in also]
    if elsewhere:
        lines.append(labels["elsewhere"] + ":")
        lines += [line(i, True) for i in elsewhere]
    return "\n".join(lines)
