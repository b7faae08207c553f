"""What the confidence reads from an answer (whether it carries the span its question asks
for, ``typed``) and when there is no answer (a company the documents never name). Real index of tests/official.py (real embedder, FAISS, BM25) through the
real answerer; the shipped calibration."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.answer import Answerer
from search.engine import SearchEngine
from search.settings import Settings


@pytest.fixture(scope="module")
def answerer(official_index: Path, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    return Answerer(SearchEngine(Settings(index_dir=official_index), embedder))


def test_a_figure_question_answered_with_its_figure_is_typed(answerer: Answerer) -> None:
    result = answerer.ask("Tỷ lệ che phủ rừng của Lào Cai ổn định ở mức bao nhiêu?", threshold=0)
    assert result.answer is not None and result.features is not None, result.to_json()
    assert result.features.family == "clause"
    assert result.answer.exact is not None and "60" in result.answer.exact
    assert result.features.typed == 1.0


def test_a_sentence_for_a_question_of_no_known_type_is_not_typed(answerer: Answerer) -> None:
    result = answerer.ask("Lào Cai quản lý chất thải rắn sinh hoạt ra sao?", threshold=0)
    assert result.answer is not None and result.features is not None, result.to_json()
    assert result.analysis is not None and result.analysis.answer_type.value == "other"
    assert result.features.family == "clause"
    assert result.features.typed == 0.0


def test_a_companys_name_keeps_its_lower_case_trade_words() -> None:
    from search.question import named_entities

    text = "Công ty cổ phần Thủy sản Minh Phú chịu trách nhiệm gì?"
    assert named_entities(text) == ["thuy san minh phu"]
    assert named_entities("Ngân hàng Chính sách xã hội có nhiệm vụ gì?") == ["chinh"]
    assert named_entities("Công ty Hòa Phát đầu tư gì ở Quảng Ngãi?") == ["hoa phat"]


def test_a_company_the_documents_never_name_gets_no_answer(answerer: Answerer) -> None:
    # "Môi trường" alone is in the plan; the company "Môi trường Xanh Lào Cai" is not, so
    # the plan's tasks are not that company's.
    query = (
        "Công ty cổ phần Môi trường Xanh Lào Cai có nhiệm vụ gì trong kế hoạch tăng trưởng xanh?"
    )
    result = answerer.ask(query, threshold=0)
    assert result.answer is None, result.to_json()
