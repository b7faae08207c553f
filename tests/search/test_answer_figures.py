"""Figures and dates read from the clause that carries what is asked (issue 22, item 4):

- a period is a figure with its unit ("định kỳ 6 tháng"), an area glued to its unit ("30m2");
- a date question about the end of a period is not answered by its opening date, nor back;
- "tháng nào" wants a month, "từ tháng nào đến tháng nào" both ends.
"""

from __future__ import annotations

import pytest

from search.answers.text import _typed_span
from search.glossary import glossary
from search.query import plan_query
from search.question import Analyser, AnswerType, Question
from search.spans import clauses, dates, quantities


def _question(text: str) -> Question:
    return Analyser(glossary()).analyse(plan_query(text))


def _span(question: str, text: str, t: AnswerType) -> str | None:
    q = _question(question)
    (clause,) = clauses(text)[:1]
    span = _typed_span(t, clause, q.terms, q)
    return span.text if span else None


def test_a_period_and_an_area_keep_their_unit() -> None:
    assert [s.text for s in quantities("định kỳ 6 tháng báo cáo kết quả")] == ["6 tháng"]
    assert [s.text for s in quantities("tiêu chuẩn 3 cứng, diện tích là 30m2")] == [
        "3",
        "30m2",
    ]
    assert [s.text for s in quantities("sàn 30 m² trở lên")] == ["30 m²"]
    # A date stays a date: "ngày 30 tháng 11 năm 2025" gives no "30 tháng".
    assert quantities("Ngày 30 tháng 11 năm 2025") == []


def test_an_area_question_takes_the_area_not_the_count_beside_it() -> None:
    got = _span(
        "Nhà ở xây mới phải có diện tích sử dụng tối thiểu bao nhiêu?",
        "Nhà ở mới phải bảo đảm tiêu chuẩn 3 cứng, có diện tích sử dụng 30m2.",
        AnswerType.QUANTITY,
    )
    assert got == "30m2"


@pytest.mark.parametrize(
    ("question", "want"),
    [
        ("Học kỳ I kết thúc trước ngày nào?", "trước ngày 18/01/2025"),
        ("Before what date does the first semester end?", "trước ngày 18/01/2025"),
        ("Học kỳ I bắt đầu từ ngày nào?", "từ ngày 06/9/2024"),
    ],
)
def test_the_end_of_a_period_is_not_its_opening(question: str, want: str) -> None:
    text = "Học kỳ I: Bắt đầu từ ngày 06/9/2024 và kết thúc trước ngày 18/01/2025."
    assert _span(question, text, AnswerType.DATE) == want


def test_a_clause_with_only_the_other_end_gives_no_date() -> None:
    got = _span("Học kỳ I kết thúc trước ngày nào?", "Bắt đầu từ ngày 06/9/2024.", AnswerType.DATE)
    assert got is None


def test_a_month_question_wants_a_month_and_a_range_both_ends() -> None:
    assert _span("Khảo sát vào tháng nào?", "Kế hoạch khảo sát năm 2026.", AnswerType.DATE) is None
    text = "Thời gian quan trắc từ tháng 3 đến tháng 10 năm 2026."
    assert [d.text for d in dates(text)] == ["từ tháng 3 đến tháng 10 năm 2026"]
    question = "Quan trắc từ tháng nào đến tháng nào?"
    assert _span(question, text, AnswerType.DATE) == "từ tháng 3 đến tháng 10 năm 2026"
    one_end = "Thời gian quan trắc vào tháng 4 và tháng 8 năm 2026."
    assert _span(question, one_end, AnswerType.DATE) is None
