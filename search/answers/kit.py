"""The seam of the answer kinds: one protocol, one context object, and the shared toolkit."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.assignments import load_assignments
from index.store import Snapshot, StoredChunk, StoredDocument
from index.stores import window_index
from ingest.assignments import (
    Assignment,
)
from ingest.text import fold
from search.answers.model import (
    AnswerSettings,
    Passage,
    _Candidate,
    _DocInfo,
    _Scored,
    matches_filters,
    passage_url,
)
from search.answers.text import _documents, _names_place, _numbered
from search.calibration import Calibration
from search.engine import SearchEngine
from search.filters import Filters
from search.glossary import folded_phrase
from search.query import QueryPlan
from search.question import (
    Question,
    lexical_coverage,
)


def _of_province(doc: StoredDocument, provinces: set[str]) -> bool:
    """Whether ``doc`` is one of these provinces' own: it names no other province, or its
    issuer (the letterhead's body) is the province's."""
    named = {fold(p) for p in doc.provinces}
    if named and named <= provinces:
        return True
    issuer = fold(str(doc.header.get("issuer") or ""))
    return any(p in issuer for p in provinces)


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
class Shared:
    """What every answer kind of one :class:`~search.answer.Answerer` reads through: the
    engine, the settings and calibration, and the caches of documents, assignments and
    clause vectors (one copy, whichever kind fills it)."""

    engine: SearchEngine
    settings: AnswerSettings
    calibration: Calibration
    cache: _VectorCache = field(default_factory=_VectorCache)
    assignments: dict[Path, tuple[list[Assignment], np.ndarray | None]] = field(
        default_factory=dict
    )
    docs: OrderedDict[tuple[Path, str], _DocInfo] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class AnswerContext:
    """One question as every kind reads it: analysed once, with its passages."""

    q: Question
    qvec: np.ndarray
    snap: Snapshot
    passages: list[Passage]
    filters: Filters | None
    lang: str
    plan: QueryPlan


class AnswerKind(Protocol):
    """One kind of answer: the best candidate for the question, or None."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None: ...


class Toolkit:
    """The index reading every kind shares: documents, passages, citations, vectors."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    @property
    def engine(self) -> SearchEngine:
        return self.shared.engine

    @property
    def settings(self) -> AnswerSettings:
        return self.shared.settings

    @property
    def calibration(self) -> Calibration:
        return self.shared.calibration

    @calibration.setter
    def calibration(self, value: Calibration) -> None:
        # The evaluation refits it and sets it on the answerer: every kind reads the new one.
        self.shared.calibration = value

    @property
    def _cache(self) -> _VectorCache:
        return self.shared.cache

    @property
    def _lock(self) -> threading.Lock:
        return self.shared.lock

    @property
    def _docs(self) -> OrderedDict[tuple[Path, str], _DocInfo]:
        return self.shared.docs

    @property
    def _assignments(self) -> dict[Path, tuple[list[Assignment], np.ndarray | None]]:
        return self.shared.assignments

    def assignments(self, snap: Snapshot) -> tuple[list[Assignment], np.ndarray | None]:
        with self._lock:
            if snap.path not in self._assignments:
                # One snapshot's at a time: a new version replaces the old one's records.
                self._assignments.clear()
                self._assignments[snap.path] = load_assignments(snap.path)
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

    def _plan_docs(
        self, q: Question, snap: Snapshot, filters: Filters | None
    ) -> dict[str, StoredDocument]:
        docs = {d.doc_id: d for d in _documents(snap) if matches_filters(d, filters)}
        if q.provinces:
            wanted = {fold(p) for p in q.provinces}
            docs = {i: d for i, d in docs.items() if wanted & {fold(p) for p in d.provinces}}
            # "… trong kế hoạch của TP Hồ Chí Minh": the province's own documents answer,
            # not a national resolution that lists it among a dozen others, when it has any.
            own = {i: d for i, d in docs.items() if _of_province(d, wanted)}
            if own and not q.doc_numbers:
                docs = own
        return docs

    @staticmethod
    def _holding(
        info: _DocInfo, phrases: Sequence[str], seen: set[tuple[str, int]], most: int = 4
    ) -> list[StoredChunk]:
        """Chunks of ``info`` not in ``seen`` that hold ``phrases``, rarest phrases first."""
        wanted = [p for p in phrases if f" {p} " in info.folded]
        if not wanted:
            return []
        if info.folded_chunks is None:
            info.folded_chunks = [f" {folded_phrase(c.text)} " for c in info.chunks[:2000]]
        folded = list(zip(info.chunks, info.folded_chunks, strict=False))
        df = {p: sum(p in text for _, text in folded) for p in wanted}
        scored = []
        for c, text in folded:
            if (info.doc.doc_id, c.ordinal) in seen:
                continue
            score = sum(1.0 / df[p] for p in wanted if df[p] and f" {p} " in text)
            if score > 0:
                scored.append((score, c.ordinal, c))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [c for _, _, c in scored[:most]]

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

    def _pool(
        self, snap: Snapshot, passages: list[Passage], phrases: Sequence[str] = ()
    ) -> list[Passage]:
        """The best passages, and every passage of the documents they come from (up to
        ``doc_chunks`` each): a signature, a date line or an agreement's terms may sit in a
        passage that ranks low for the question's words. From a longer document, the
        passages that hold the question's rarest ``phrases`` (folded word pairs such as
        "hieu luc"): the clause that says when a decision takes effect is one short line
        among many that repeat the decision's subject."""
        top = passages[: self.settings.clause_passages]
        out = list(top)
        seen = {(p.doc_id, p.ordinal) for p in out}
        for doc_id in dict.fromkeys(p.doc_id for p in top[:3]):
            info = self._doc(snap, doc_id)
            if info is None:
                continue
            if len(info.chunks) > self.settings.doc_chunks:
                for c in self._holding(info, phrases, seen):
                    seen.add((doc_id, c.ordinal))
                    fetched = self._passage(snap, c)
                    if fetched is not None:
                        out.append(fetched)
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

    def _titles_matching(self, snap: Snapshot, terms: Sequence[Sequence[str]]) -> list[str]:
        if not terms:
            return []
        return [d.doc_id for d in _documents(snap) if lexical_coverage(terms, d.title) >= 0.6]

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
