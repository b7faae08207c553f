"""The documents that cite the number a question names ("which plans implement 1658")."""

from __future__ import annotations

import numpy as np

from index.references import reference_table
from index.store import Snapshot
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import Answer, AnswerItem, _Candidate
from search.answers.text import _PLANS_ASKED, _cite_index, _is_plan
from search.calibration import Features
from search.filters import Filters, document_matches
from search.glossary import folded_phrase
from search.query import QueryPlan
from search.question import (
    AnswerType,
    Question,
)
from search.spans import (
    sentences,
)


class CitingSet(Toolkit):
    """The documents that cite the number a question names ("which plans implement 1658")."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        return self._citing_set(ctx.q, ctx.plan, ctx.qvec, ctx.snap, ctx.filters)

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
