"""The answerer's text helpers: question kinds, topic terms, coverage, filters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from index.store import StoredDocument
from search.answer import (
    content_terms,
    is_english,
    lexical_coverage,
    matches_filters,
)  # fmt: skip
from search.answers.text import _typed_span, clause_terms
from search.filters import Filters
from search.query import plan_query
from search.question import analyse
from search.spans import clauses

DocMaker = Callable[..., StoredDocument]  # the make_doc fixture (conftest.py)


def test_question_kinds() -> None:
    assert is_english("who leads urban waste management?")
    assert not is_english("Ai chủ trì quản lý chất thải đô thị?")
    assert not is_english("quan ly chat thai")
    # "do" is an English word too; the syllables still read as Vietnamese.
    assert not is_english("ai chu tri quan ly chat thai do thi")


def test_terms_drop_question_and_role_words_and_map_english() -> None:
    # "chất thải" is one term with its synonym "rác thải" (search/data/glossary.json).
    assert content_terms("Ai chủ trì quản lý chất thải đô thị?") == [
        ["quan"],
        ["ly"],
        ["quan ly"],
        ["chat thai", "rac thai"],
        ["do"],
        ["thi"],
        ["do thi"],
    ]
    # Without diacritics the role phrase is matched folded ("chu tri"); "quan" alone is no
    # stop word any more ("cơ quan" is a phrase), so "quan ly" stays a topic.
    assert content_terms("ai chu tri quan ly chat thai") == [
        ["quan"],
        ["ly"],
        ["quan ly"],
        ["chat thai", "rac thai"],
    ]
    # Restored ("quan" -> "quản"), only the words left bare are checked folded; "nao" (no
    # accented form in the corpus) goes. "so" stays: typed bare it is as often "số" as "sở".
    restored = "Sở nao quản lý chất thải"
    assert content_terms(restored, typed_plain=True) == [
        ["so"],
        ["quan"],
        ["ly"],
        ["quan ly"],
        ["chat thai", "rac thai"],
    ]
    assert ["nao"] in content_terms(restored, typed_plain=False)
    assert content_terms("who leads urban waste management?") == [
        ["do thi"],
        ["chat thai", "rac thai"],
        ["quan ly"],
    ]
    # Names fold to the documents' spelling.
    assert ["dong"] in content_terms("Which Japanese city did Dong Nai sign with?")


def test_coverage_is_diacritic_insensitive_and_phrase_aware() -> None:
    terms = content_terms("who leads urban waste management?")
    assert lexical_coverage(terms, "Phối hợp trong quản lý chất thải đô thị") == 1.0
    assert lexical_coverage(terms, "quản lý rác thải") == 2 / 3
    assert lexical_coverage(terms, "chất lượng thải ra") == 0.0  # words apart are not the phrase
    assert lexical_coverage([], "anything") == 0.0


def test_post_filters(make_doc: DocMaker) -> None:
    doc = make_doc()
    assert matches_filters(doc, None) and matches_filters(doc, Filters())
    assert matches_filters(doc, Filters(province="dong nai", doc_type="agreement"))
    assert not matches_filters(doc, Filters(province="Cần Thơ"))
    assert not matches_filters(doc, Filters(doc_type="plan"))
    assert matches_filters(doc, Filters(date_from="2024", date_to="2024"))
    assert matches_filters(doc, Filters(date_from="2024-09", date_to="2024-09-10"))
    assert not matches_filters(doc, Filters(date_from="2024-10"))
    assert not matches_filters(doc, Filters(date_to="2023"))
    assert not matches_filters(make_doc(date=""), Filters(date_from="2020"))
    assert matches_filters(make_doc(date="2024"), Filters(date_from="2024-05", date_to="2024-06"))
    assert not matches_filters(doc, Filters(doc_id="other"))


# The plan's purpose line (corpus/004…): two decisions, each followed by its own date.
TWO_DECISIONS = (
    "Kế hoạch hành động của tỉnh nhằm cụ thể hóa những quan điểm, mục tiêu, định hướng, "
    "những giải pháp thực hiện Quyết định số 1658/QĐ-TTg ngày 01/10/2021 và Quyết định số "
    "882/QĐ-TTg ngày 22/7/2022 của Thủ tướng Chính phủ phê duyệt kế hoạch hành động quốc gia "
    "về tăng trưởng xanh giai đoạn 2021-2030."
)


@pytest.mark.parametrize(
    ("question", "date"),
    [
        ("date of decision 882/QD-TTg", "22/7/2022"),
        ("ngày ban hành quyết định 882/QĐ-TTg", "22/7/2022"),
        ("quyet dinh 882/qd-ttg ngay nao", "22/7/2022"),
        ("date of decision 1658/QD-TTg", "01/10/2021"),
        ("quyết định 1658/QĐ-TTg ngày nào", "01/10/2021"),
    ],
)
def test_the_date_of_a_named_decision_is_the_one_after_its_number(question: str, date: str) -> None:
    # The number is one term "882 qd ttg"; written "882/QĐ-TTg" it must still count as the
    # nearest of the question's words (it did not: the first date won every question).
    q = analyse(plan_query(question))
    (clause,) = clauses(TWO_DECISIONS)
    span = _typed_span(q.answer_type, clause, clause_terms(q), q.text)
    assert span is not None and date in span.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Sở Nội vụ tổng hợp, báo cáo (theo Hướng dẫn 7886/HD-BNV ngày 14/9/2025 của Bộ Nội vụ).",
        "Thực hiện theo Quyết định 22/2013/QĐ-TTg ngày 26/4/2013 của Thủ tướng Chính phủ.",
        "Thực hiện theo Công văn số 83/BKHCN-VP ngày 08/01/2025.",
    ],
)
def test_a_date_right_after_a_cited_documents_number_is_that_documents(sentence: str) -> None:
    from search.answers.text import _cites_document

    (clause,) = clauses(sentence)
    q = analyse(plan_query("Hạn báo cáo là ngày nào?"))
    span = _typed_span(q.answer_type, clause, clause_terms(q), q.text)
    assert span is not None and _cites_document(clause, span)


def test_a_deadline_is_not_a_cited_documents_date() -> None:
    from search.answers.text import _cites_document

    (clause,) = clauses("Các đơn vị gửi báo cáo về Sở Nội vụ trước ngày 15/12/2026.")
    q = analyse(plan_query("Hạn báo cáo là ngày nào?"))
    span = _typed_span(q.answer_type, clause, clause_terms(q), q.text)
    assert span is not None and span.text.endswith("15/12/2026")
    assert not _cites_document(clause, span)


def test_a_period_question_takes_the_period_of_its_clause() -> None:
    (clause,) = clauses(
        "Bắt đầu quan trắc ngày 01/3/2026, quan trắc từ tháng 3 đến tháng 10 năm 2026."
    )
    q = analyse(plan_query("Quan trắc thực hiện từ tháng nào đến tháng nào?"))
    span = _typed_span(q.answer_type, clause, clause_terms(q), q.text)
    assert span is not None and span.text == "từ tháng 3 đến tháng 10 năm 2026"
    q = analyse(plan_query("Ngày nào bắt đầu quan trắc?"))
    span = _typed_span(q.answer_type, clause, clause_terms(q), q.text)
    assert span is not None and span.text == "ngày 01/3/2026"


def test_a_sum_of_money_is_not_answered_by_another_figure() -> None:
    q = analyse(plan_query("Tổng kinh phí thực hiện kế hoạch là bao nhiêu tỷ đồng?"))
    (other,) = clauses("Tỷ trọng kinh phí từ doanh nghiệp đạt trên 60% trong 12 tháng.")
    assert _typed_span(q.answer_type, other, clause_terms(q), q.text) is None
    (money,) = clauses("Tổng kinh phí thực hiện kế hoạch khoảng 1.250 tỷ đồng.")
    span = _typed_span(q.answer_type, money, clause_terms(q), q.text)
    assert span is not None and "1.250 tỷ đồng" in span.text
