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

from collections.abc import Sequence
from dataclasses import replace

from index.store import Snapshot
from search import named_document
from search.answers.citing_set import CitingSet
from search.answers.clause import ClauseAnswer
from search.answers.document_set import DocumentSet
from search.answers.kit import AnswerContext, AnswerKind, Shared, Toolkit
from search.answers.lead import Responsibility
from search.answers.model import (
    LANGS,
    Answer,
    AnswerDocument,
    AnswerItem,
    AnswerSettings,
    AskResult,
    Passage,
    _Candidate,
    _english_words,
    matches_filters,
    passage_url,
)
from search.answers.signer import Signer
from search.answers.tasks import AgencyTasks
from search.answers.text import (
    _UNTYPED,
    _asks_signer,
    _bare,
    _diversified,
    _names_place,
    _numbered,
    _without_number,
)
from search.calibration import Calibration, load_calibration
from search.engine import SearchEngine, SearchResult
from search.filters import Filters
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


class Answerer(Toolkit):
    """The one entry point: reads the question once and asks the kind it calls for."""

    def __init__(
        self,
        engine: SearchEngine,
        settings: AnswerSettings | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        super().__init__(
            Shared(engine, settings or AnswerSettings(), calibration or load_calibration())
        )
        # One instance of each kind, all reading through the same shared caches.
        self.tasks: AnswerKind = AgencyTasks(self.shared)
        self.lead: AnswerKind = Responsibility(self.shared)
        self.signer: AnswerKind = Signer(self.shared)
        self.clause: AnswerKind = ClauseAnswer(self.shared)
        self.document_set: AnswerKind = DocumentSet(self.shared)
        self.citing_set: AnswerKind = CitingSet(self.shared)

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
            candidate = self.citing_set.answer(
                AnswerContext(q, qvec, snap, retrieved, filters, lang, plan)
            )
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
                # Nothing typed but the number ("qd 2820"): the answer is the document. An
                # agency named with it ("nhiệm vụ của Sở X trong Công điện 224") asks for
                # its tasks there.
                # A number has no language: "qd 2820" is not English for want of marks.
                by_number = chosen or ("en" if _english_words(clean) else "vi")
                found = self._named_document(
                    clean, q, snap, targets, retrieved, k, filters, by_number
                )
                if found is not None:
                    return found
            candidate = self._answer(
                AnswerContext(asked, qvec, snap, own or retrieved, filters, lang, plan)
            )
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

    def _answer(self, ctx: AnswerContext) -> _Candidate | None:
        """The best candidate, or None when the question names a place, body or document
        that the candidate's own documents never mention: an answer about Kobe does not
        answer a question about Osaka, however close the sentences are."""
        q, snap = ctx.q, ctx.snap
        if self._names_unknown(q, snap, ctx.passages):
            return None
        found = self._best(ctx)
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

    def _best(self, ctx: AnswerContext) -> _Candidate | None:
        """The candidate of the kind the question asks for, else the best clause."""
        q = ctx.q
        t = q.answer_type
        found: _Candidate | None = None
        if t is AnswerType.AGENCY_TASKS:
            found = self.tasks.answer(ctx)
        elif t in (AnswerType.AGENCY_LEAD, AnswerType.FOCAL):
            found = self.lead.answer(ctx)
        elif t is AnswerType.SET:
            found = self.document_set.answer(ctx)
        elif t is AnswerType.OTHER and (q.years or _bare(q)):
            # "tỷ lệ dân số nông thôn dùng nước sạch 2030", "licensed industrial parks in
            # Dong Nai": a topic (and a year) with no question word asks for the figure the
            # documents give for it, when they give one, unless a sentence without a
            # figure answers better ("Vingroup education cooperation").
            figure = self.clause.answer(replace(ctx, q=replace(q, answer_type=AnswerType.QUANTITY)))
            sentence = self.clause.answer(ctx)
            if figure is None or sentence is None:
                return figure or sentence
            better = self.calibration.confidence(sentence.features) > (
                self.calibration.confidence(figure.features) + 0.05
            )
            return sentence if better else figure
        elif t is AnswerType.PERSON and _asks_signer(folded_phrase(q.text)):
            found = self.signer.answer(ctx)
        if found is not None:
            return found
        if t in (AnswerType.AGENCY_TASKS, AnswerType.SET):
            return None
        # No plan assigns it ("ai tài trợ hợp tác … với Đồng Nai"): a sentence may still say.
        return self.clause.answer(ctx)

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
