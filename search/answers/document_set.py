"""A set of documents ("agreements with Japanese cities"): one line each."""

from __future__ import annotations

import numpy as np

from index.store import Snapshot
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import Answer, AnswerItem, Passage, _Candidate, _DocInfo
from search.answers.text import _cite_index, _rank
from search.calibration import Features
from search.question import (
    AnswerType,
    Question,
    lexical_coverage,
)
from search.spans import (
    sentences,
)


class DocumentSet(Toolkit):
    """A set of documents ("agreements with Japanese cities"): one line each."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        return self._document_set(ctx.q, ctx.qvec, ctx.snap, ctx.passages, ctx.lang)

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
