"""What must agency X do: its tasks under its own heading, lead tasks first."""

from __future__ import annotations

import numpy as np

from index.store import Snapshot
from ingest.assignments import (
    COOPERATE,
    FOCAL,
    LEAD,
    Assignment,
)
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import _ROLE_ORDER, LABELS, Answer, AnswerItem, Passage, _Candidate
from search.answers.text import _cite_index, _main_document, _rank, _tasks_text, clause_terms
from search.calibration import Features
from search.filters import Filters
from search.glossary import folded_phrase
from search.question import (
    AnswerType,
    Question,
    lexical_coverage,
)


class AgencyTasks(Toolkit):
    """What must agency X do: its tasks under its own heading, lead tasks first."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        return self._agency_tasks(ctx.q, ctx.qvec, ctx.snap, ctx.passages, ctx.filters, ctx.lang)

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
