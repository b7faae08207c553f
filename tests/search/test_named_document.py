"""A query that is only a document's number is answered by that document, by its header.

Real index of tests/official.py (real embedder, FAISS, BM25) through the real answerer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_search.settings import Settings
from search import named_document
from search.answer import Answerer
from search.engine import SearchEngine


@pytest.fixture(scope="module")
def answerer(official_index: Path, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    return Answerer(SearchEngine(Settings(index_dir=official_index), embedder))


@pytest.mark.parametrize("query", ["nd 08/2022", "Nghị định 08/2022/NĐ-CP", "08/2022/nd-cp"])
def test_a_typed_number_is_answered_by_its_document(answerer: Answerer, query: str) -> None:
    result = answerer.ask(query)
    answer = result.answer
    assert answer is not None and result.kind == "document", result.to_json()
    assert answer.document is not None and answer.document.number == "08/2022/NĐ-CP"
    assert answer.text.startswith("Nghị định số 08/2022/NĐ-CP ngày 10/01/2022 của Chính phủ")
    assert "BẢO VỆ MÔI TRƯỜNG" in answer.text.upper()
    # The citation is the document's opening passage, listed first.
    assert answer.citations == [1]
    first = result.passages[0]
    assert first.doc_id == answer.document.doc_id and first.url.endswith("#p0")
    assert result.confidence is not None and result.confidence >= result.threshold


def test_whole_number_is_surer_than_a_bare_one(answerer: Answerer) -> None:
    whole = answerer.ask("Quyết định 1658/QĐ-TTg")
    assert whole.kind == "document" and whole.answer is not None
    assert whole.answer.document is not None and whole.answer.document.number == "1658/QĐ-TTg"
    assert whole.confidence == named_document.WHOLE
    bare = answerer.ask("nd 08/2022")
    assert bare.confidence is not None and bare.confidence <= whole.confidence


def test_a_number_two_documents_carry_is_not_one_document(answerer: Answerer) -> None:
    # 1658/QĐ-TTg and 1658/QĐ-UBND: "1658" alone names neither.
    result = answerer.ask("1658")
    assert result.kind != "document"


def test_a_question_about_the_document_is_read_from_it_not_answered_by_its_name(
    answerer: Answerer,
) -> None:
    result = answerer.ask("Quyết định 1658/QĐ-TTg đặt mục tiêu gì?")
    assert result.kind != "document"


def test_english_words_get_an_english_description(answerer: Answerer) -> None:
    result = answerer.ask("decree 08/2022/NĐ-CP")
    assert result.answer is not None and result.kind == "document"
    assert result.answer.text.startswith("Decree No. 08/2022/NĐ-CP of 2022-01-10 issued by")


@pytest.mark.parametrize(
    "query",
    [
        "Sở Tài nguyên và Môi trường có nhiệm vụ gì trong Kế hoạch 123/KH-UBND?",
        "So Tai nguyen va Moi truong co nhiem vu gi trong Ke hoach 123/KH-UBND?",
    ],
)
def test_a_question_naming_an_agency_and_a_number_asks_for_the_agencys_part(
    answerer: Answerer, query: str
) -> None:
    # Once the agency and the number are set aside nothing is left but "nhiệm vụ gì", yet
    # the question asks what the plan gives the agency, not which document 123 is.
    result = answerer.ask(query, threshold=0.0)
    assert result.kind != "document", result.to_json()
    assert result.answer is not None
    assert "chất thải rắn sinh hoạt" in result.answer.text
