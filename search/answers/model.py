"""The answer's data: passages, answers, their items and documents, and the labels."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from index.store import StoredChunk, StoredDocument
from ingest.assignments import (
    ADVISE,
    COOPERATE,
    FOCAL,
    LEAD,
    RESPONSIBLE,
)
from search.calibration import Features
from search.filters import Filters, document_matches
from search.question import (
    AnswerType,
    Question,
    is_english,
)
from search.spans import (
    Clause,
    Span,
)

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
    # Each chunk's text folded and padded, made on the first question that needs it and kept
    # with the document (search/answers/kit.py, Toolkit._holding).
    folded_chunks: list[str] | None = None
