"""The contract every answer kind keeps (search/answers/), on a real index through the real
embedder: each is an ``AnswerKind``; asked its own question it gives a candidate whose
citations all resolve to passages of the index, in order, with finite features; asked
with nothing retrieved or about nothing it knows, it gives None or a candidate, never
an error; and it reads the documents through the answerer's one shared cache."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from policy_search.settings import Settings
from search.answer import Answerer, Passage, passage_url
from search.answers.kit import AnswerContext, AnswerKind, Toolkit
from search.engine import SearchEngine
from search.question import analyser_for

pytestmark = pytest.mark.slow

# One question per kind, in the corpus's own terms; each kind answers its own.
ASKED = {
    "tasks": "Sở Tài chính có nhiệm vụ gì?",
    "lead": "Ai chủ trì quản lý chất thải rắn?",
    "signer": "Ai ký kế hoạch tăng trưởng xanh?",
    "clause": "Kế hoạch hợp tác được ký ngày nào?",
    "document_set": "Các thỏa thuận hợp tác với thành phố của Nhật Bản?",
    "citing_set": "Văn bản nào thực hiện Quyết định 1658/QĐ-TTg?",
}


@pytest.fixture(scope="module")
def answerer(corpus_index: Path, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    return Answerer(SearchEngine(Settings(index_dir=corpus_index), embedder))


def _context(answerer: Answerer, question: str, k: int = 12) -> AnswerContext:
    engine = answerer.engine
    snap = engine.snapshot()
    plan = engine.plan(engine.clean_query(question), None, snap)
    q = analyser_for(snap).analyse(plan)
    results = answerer.search(plan, k, snap)
    ordinals = {c.id: c.ordinal for c in snap.chunks([r.chunk_id for r in results])}
    passages = [
        Passage(i + 1, r.doc_id, r.title, r.section, r.page, r.text, r.score,
                passage_url(r.doc_id, ordinals[r.chunk_id]), r.chunk_id, ordinals[r.chunk_id])
        for i, r in enumerate(results)
    ]  # fmt: skip
    qvec = engine.embedder.embed_queries([plan.dense_text])[0]
    return AnswerContext(q, qvec, snap, passages, None, "vi", plan)


@pytest.mark.parametrize("name", sorted(ASKED))
def test_each_kind_answers_its_question_with_citations_that_resolve(
    answerer: Answerer, name: str
) -> None:
    kind = getattr(answerer, name)
    assert isinstance(kind, Toolkit) and callable(kind.answer)
    _: AnswerKind = kind  # the protocol, checked by mypy
    ctx = _context(answerer, ASKED[name])
    found = kind.answer(ctx)
    assert found is not None, (name, ctx.q.answer_type)
    assert found.answer.citations and found.cited
    assert sorted(set(found.answer.citations)) == list(range(1, len(found.cited) + 1))
    for doc_id, ordinal in found.cited:
        resolved = answerer._fetch(ctx.snap, doc_id, ordinal) or found.extra.get((doc_id, ordinal))
        assert resolved is not None, (doc_id, ordinal)
    assert bool(np.isfinite(found.features.vector()).all())


@pytest.mark.parametrize("name", sorted(ASKED))
def test_each_kind_survives_no_passages_and_an_unknown_subject(
    answerer: Answerer, name: str
) -> None:
    kind = getattr(answerer, name)
    ctx = _context(answerer, ASKED[name])
    empty = AnswerContext(ctx.q, ctx.qvec, ctx.snap, [], None, "vi", ctx.plan)
    for c in (empty, _context(answerer, "thủ đô của nước Pháp là gì?")):
        found = kind.answer(c)
        assert found is None or bool(np.isfinite(found.features.vector()).all())


def test_the_kinds_read_through_one_shared_cache(answerer: Answerer) -> None:
    kinds = [getattr(answerer, n) for n in ASKED]
    assert {id(k.shared) for k in kinds} == {id(answerer.shared)}
    ctx = _context(answerer, ASKED["clause"])
    info = answerer.clause._doc(ctx.snap, ctx.passages[0].doc_id)  # type: ignore[attr-defined]
    assert answerer.tasks._doc(ctx.snap, ctx.passages[0].doc_id) is info  # type: ignore[attr-defined]
    # A refitted calibration set on the answerer is the one every kind reads.
    before = answerer.calibration
    refit = copy.copy(before)
    answerer.calibration = refit
    try:
        assert all(k.calibration is refit for k in kinds)
    finally:
        answerer.calibration = before
