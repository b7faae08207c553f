"""Answer-path rules that English questions exposed, checked on real components.

- A figure followed by what the question counts ("07 cửa sông" for "how many river
  mouths") is that count, not a neighbouring line's figure.
- A question that names a unit ("how many hectares") is not answered by a figure without
  it; one that names only a noun ("diện tích …") may be answered by a share of it.
- A step's number ("Bước 4: …") is a label, not a figure.
- A question about money ("tổng vốn", "how much investment") takes the amount in money,
  not the count of projects beside it.
- An agency named together with a document's number asks for the agency's tasks in it,
  in Vietnamese and in English: the answer is not the document's description.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_search.settings import Settings
from search.answer import Answerer
from search.answers.text import _counts, _typed_span
from search.engine import SearchEngine
from search.glossary import glossary
from search.query import plan_query
from search.question import Analyser, AnswerType, Question
from search.spans import clauses, quantities


def _question(text: str) -> Question:
    return Analyser(glossary()).analyse(plan_query(text))


@pytest.mark.parametrize(
    "question",
    [
        "At how many river mouths is the water monitored?",
        "Nước được quan trắc tại bao nhiêu cửa sông?",
    ],
)
def test_the_figure_of_what_is_counted(question: str) -> None:
    q = _question(question)
    assert q.answer_type is AnswerType.QUANTITY
    right, other = clauses(
        "Quan trắc tại 05 cửa sông cấp nước cho vùng nuôi tôm. "
        "Cửa sông Đáy: lấy mẫu 02 vị trí tại khu vực nước cấp."
    )[:2]
    for clause, counted in ((right, True), (other, False)):
        span = _typed_span(q.answer_type, clause, q.terms, q.text)
        if span is None:
            # "bao nhiêu cửa sông": a clause whose every figure counts something else
            # ("02 vị trí") gives no figure at all (_counts_other).
            assert not counted and "bao nhiêu" in q.text, clause.text
            continue
        assert _counts(q, clause.text, span) is counted, clause.text


def test_a_figure_that_carries_its_noun_or_a_bracket() -> None:
    q = _question("How many administrative procedures were announced?")
    (clause,) = clauses("Công bố ba (03) thủ tục hành chính được sửa đổi.")[:1]
    span = _typed_span(q.answer_type, clause, q.terms, q.text)
    assert span is not None and span.text == "03"
    assert _counts(q, clause.text, span)


@pytest.mark.parametrize(
    ("question", "text", "figure"),
    [
        (
            "How many hectares of shrimp farms are there?",
            "Lấy mẫu 01 vị trí tại vùng nuôi tôm.",
            None,
        ),
        ("Tỉnh có bao nhiêu hecta nuôi tôm?", "Lấy mẫu 01 vị trí tại vùng nuôi tôm.", None),
        (
            "How many hectares of shrimp farms are there?",
            "Vùng nuôi tôm rộng 1.200 ha.",
            "1.200 ha",
        ),
        (
            "diện tích cây trồng cạn tưới tiết kiệm nước 2030",
            "Phấn đấu ít nhất 30% diện tích cây trồng cạn được tưới tiết kiệm nước.",
            "ít nhất 30%",
        ),
    ],
)
def test_a_named_unit_must_be_the_figures(question: str, text: str, figure: str | None) -> None:
    q = _question(question)
    (clause,) = clauses(text)[:1]
    span = _typed_span(AnswerType.QUANTITY, clause, q.terms, q.text)
    assert (span.text if span else None) == figure


@pytest.mark.parametrize(
    "question",
    [
        "About how much total investment do the projects carry?",
        "Tổng vốn đầu tư của các dự án khoảng bao nhiêu?",
    ],
)
def test_money_is_asked_for_in_money(question: str) -> None:
    q = _question(question)
    (clause,) = clauses("Tổng vốn đầu tư của 45 dự án được khởi công là khoảng 12.500 tỷ đồng.")[:1]
    span = _typed_span(AnswerType.QUANTITY, clause, q.terms, q.text)
    assert span is not None and "12.500" in span.text


def test_ha_noi_is_no_unit() -> None:
    q = _question("Hà Nội có bao nhiêu khu công nghiệp?")
    (clause,) = clauses("Hà Nội hiện có 10 khu công nghiệp.")[:1]
    span = _typed_span(AnswerType.QUANTITY, clause, q.terms, q.text)
    assert span is not None and span.text.startswith("10")


def test_a_step_number_is_no_figure() -> None:
    assert quantities("Bước 4: Lập Đề án hỗ trợ nhà ở.") == []
    assert [s.text for s in quantities("Quy trình gồm 6 bước.")] == ["6"]


@pytest.fixture(scope="module")
def answerer(official_index: Path, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    return Answerer(SearchEngine(Settings(index_dir=official_index), embedder))


@pytest.mark.parametrize(
    "question",
    [
        "Sở Tài nguyên và Môi trường được giao nhiệm vụ gì trong 123/KH-UBND?",
        "What must the Department of Natural Resources and Environment do under 123/KH-UBND?",
    ],
)
def test_an_agency_named_with_a_number_gets_its_tasks(answerer: Answerer, question: str) -> None:
    result = answerer.ask(question, threshold=0.0)
    assert result.kind == "tasks", result.to_json()
    assert result.answer is not None
    assert "quản lý chất thải rắn sinh hoạt" in result.answer.text
