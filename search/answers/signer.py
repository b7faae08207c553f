"""Who signed a document: read from its signature block."""

from __future__ import annotations

import numpy as np

from index.store import Snapshot
from search.answers.kit import AnswerContext, Toolkit
from search.answers.model import Answer, Passage, _Candidate, _DocInfo
from search.answers.text import _SIGNATURE_SECTION, _rank, _signature_of, clause_terms
from search.calibration import Features
from search.question import (
    Question,
    lexical_coverage,
)


class Signer(Toolkit):
    """Who signed a document: read from its signature block."""

    def answer(self, ctx: AnswerContext) -> _Candidate | None:
        return self._signer(ctx.q, ctx.qvec, ctx.snap, ctx.passages)

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
