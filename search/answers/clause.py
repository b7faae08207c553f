"""A figure, date, person, place or sentence: the one clause that answers."""

from __future__ import annotations

import numpy as np

from index.store import Snapshot
from ingest.text import fold
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import Answer, AnswerItem, Passage, _Candidate, _Scored, shorten
from search.answers.text import (
    _AGREEMENT_CUE,
    _ASKS_DAY,
    _ASKS_ISSUE,
    _ASKS_PERIOD,
    _SIGN_QUESTION,
    _SIGNATURE,
    _TYPED,
    COUNTED_BONUS,
    FOCUS_FLOOR,
    _cite_index,
    _cites_document,
    _counts,
    _focus_terms,
    _heading_match,
    _is_day,
    _is_period,
    _near,
    _rank,
    _tense,
    _tense_agrees,
    _typed_span,
    _unique_sentences,
    _years_agree,
    clause_terms,
)
from search.calibration import Features
from search.glossary import folded_phrase
from search.lookup import lookup_targets
from search.question import (
    AnswerType,
    Question,
    lexical_coverage,
)
from search.spans import (
    Clause,
    Span,
    clauses,
    sentences,
)


class ClauseAnswer(Toolkit):
    """A figure, date, person, place or sentence: the one clause that answers."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        named = frozenset(t.doc_id for t in lookup_targets(ctx.snap, ctx.plan.lookup))
        return self._clause(ctx.q, ctx.qvec, ctx.snap, ctx.passages, named)

    def _clause(
        self,
        q: Question,
        qvec: np.ndarray,
        snap: Snapshot,
        passages: list[Passage],
        named: frozenset[str] = frozenset(),
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
        # Word pairs of what is asked ("hiệu lực", "thời hạn"), without numbers.
        phrases = [
            alt for g in terms for alt in g if " " in alt and not any(ch.isdigit() for ch in alt)
        ]
        for passage in self._pool(snap, passages, phrases):
            info = self._doc(snap, passage.doc_id)
            if info is None or not self._doc_matches(q, info):
                continue
            # A question naming this document by its number ("Quyết định 213/2025/QĐ-UBND về
            # cấp dự báo cháy rừng … có hiệu lực từ ngày nào") describes it with its title's
            # words, which the clause that answers ("Quyết định có hiệu lực …") need not repeat.
            title = folded_phrase(info.doc.title) if passage.doc_id in named else ""
            sims = self._sentence_vectors(snap, passage, sentences(passage.text)) @ qvec
            # What an agreement contains is a whole sentence ("Theo thỏa thuận, các bên sẽ A;
            # B; C"); a figure or a date is one clause of it.
            units = _unique_sentences(passage.text) if t is AnswerType.AGREEMENT else None
            for c in units or clauses(passage.text):
                if len(c.text) < 8:
                    continue
                span = _typed_span(t, c, terms, q)
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
                cov = 0.7 * lexical_coverage(terms, f"{title} {passage.section} {context}")
                # A table cell's column name tells which of the row's values is asked for;
                # the row as a whole is its context already.
                own = c.text.split(":", 1)[0] if c.row else c.sentence
                cov += 0.3 * lexical_coverage(terms, f"{title} {passage.section} {own}")
                bonus = 0.05 * _heading_match(terms, passage.section)
                if span is not None and terms:
                    # The figure or name that the question's words surround, not its neighbour.
                    bonus += 0.02 * _near(terms, c.text, span) / len(terms)
                if span is not None and t is AnswerType.QUANTITY and _counts(q, c.text, span):
                    bonus += COUNTED_BONUS  # "07 cửa sông" for "bao nhiêu cửa sông"
                if t is AnswerType.AGREEMENT:
                    folded = folded_phrase(c.text)
                    bonus += 0.03 * bool(_AGREEMENT_CUE.search(folded))
                if sign and _SIGNATURE.match(fold(c.text)):
                    cov = max(cov, 0.75)
                    bonus += 0.05
                sim = float(sims[min(c.index, len(sims) - 1)])
                # The heading a list sits under says what its clauses are about.
                focus = (
                    lexical_coverage(focus_terms, f"{title} {passage.section} {context}")
                    if focus_terms
                    else 1.0
                )
                scored.append(_Scored(sim, cov, bonus, c, passage, span, focus))
        if t in (AnswerType.QUANTITY, AnswerType.DATE):
            # What is counted or dated must be in the clause that gives the figure or date
            # (or its lead-in): a figure beside other words answers another question.
            scored = [s for s in scored if s.focus >= FOCUS_FLOOR]
        if t is AnswerType.DATE and _ASKS_PERIOD.search(folded_phrase(q.text)):
            # "từ tháng nào đến tháng nào" wants a period: a clause giving one date answers it
            # only when no clause gives a period.
            periods = [s for s in scored if s.span is not None and _is_period(s.span.text)]
            scored = periods or scored
        elif t is AnswerType.DATE and _ASKS_DAY.search(folded_phrase(q.text)):
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

    def _clause_answer(self, q: Question, clause: Clause, span: Span | None) -> Answer:
        display = clause.display
        # The clause ends what is shown, after its lead-in; a table cell sits inside its row.
        offset = display.rfind(clause.text) if clause.row else len(display) - len(clause.text)
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
