"""Who leads, or is the focal point for, a task: the record's lead and partners."""

from __future__ import annotations

import numpy as np

from index.store import Snapshot
from ingest.assignments import (
    ADVISE,
    COOPERATE,
    FOCAL,
    LEAD,
    RESPONSIBLE,
    Assignment,
)
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import (
    _ROLE_ORDER,
    LABELS,
    Answer,
    AnswerItem,
    Passage,
    _Candidate,
    shorten,
)
from search.answers.text import _focus_terms, _rank, clause_terms
from search.calibration import Features
from search.filters import Filters
from search.glossary import folded_phrase
from search.question import (
    AnswerType,
    Question,
    lexical_coverage,
)


class Responsibility(Toolkit):
    """Who leads, or is the focal point for, a task: the record's lead and partners."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        return self._responsibility(ctx.q, ctx.qvec, ctx.snap, ctx.passages, ctx.filters, ctx.lang)

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
