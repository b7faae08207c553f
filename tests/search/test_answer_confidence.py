"""What the confidence reads from an answer (whether it carries the span its question asks
for, ``typed``) and when there is no answer (a company the documents never name). Real index of tests/official.py (real embedder, FAISS, BM25) through the
real answerer; the shipped calibration."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_search.settings import Settings
from search.answer import Answerer
from search.engine import SearchEngine


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


SCHOOL_PLAN = """ỦY BAN NHÂN DÂN
TỈNH HÀ GIANG
Số: 77/KH-UBND

KẾ HOẠCH
THỜI GIAN NĂM HỌC 2025-2026

I. THỜI GIAN NĂM HỌC

Các trường tiểu học thực hiện 35 tuần thực học cho học sinh tiểu học (học kỳ I có 18 tuần,
học kỳ II có 17 tuần).
"""


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answerer:  # type: ignore[no-untyped-def]
    from index.build import build_index

    docs = tmp_path_factory.mktemp("school-docs")
    (docs / "ke-hoach-nam-hoc.txt").write_text(SCHOOL_PLAN, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("school-index")
    build_index([docs], index_dir, embedder)
    return Answerer(SearchEngine(Settings(index_dir=index_dir), embedder))


def test_a_count_of_something_the_plan_does_not_count_gets_no_answer(school: Answerer) -> None:
    # The clause names pupils and gives figures, but its figures count weeks.
    result = school.ask(
        "Hà Giang có bao nhiêu học sinh tiểu học trong năm học 2025-2026?", threshold=0
    )
    assert result.answer is None, result.to_json()
    weeks = school.ask("Năm học 2025-2026 ở Hà Giang có bao nhiêu tuần thực học?", threshold=0)
    assert weeks.answer is not None and weeks.answer.exact is not None
    assert "35" in weeks.answer.exact


def test_a_figure_counting_what_is_asked_still_answers(answerer: Answerer) -> None:
    from search.answers.text import _counts_other
    from search.spans import quantities

    text = "Thực hiện 35 tuần thực học (học kỳ I có 18 tuần, học kỳ II có 17 tuần)."
    spans = quantities(text)
    assert [_counts_other(text, s, "hoc sinh") for s in spans] == [True, True, True]
    assert not any(_counts_other(text, s, "tuan") for s in spans)
    visits = "đạt tối thiểu 100 lượt người/tháng"
    (span,) = quantities(visits)
    assert not _counts_other(visits, span, "luot nguoi")
    assert not _counts_other("ổn định ở mức 60%", quantities("ổn định ở mức 60%")[0], "hoc sinh")
    result = answerer.ask("Tỷ lệ che phủ rừng của Lào Cai ổn định ở mức bao nhiêu phần trăm?")
    assert result.answer is not None and "60" in (result.answer.exact or "")
