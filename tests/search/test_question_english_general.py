"""English questions on documents nobody tuned on (issue 22, session 9): the rules added
while reading evalsets/answers_shared_dev2.json and answers_shared.json, each tested on
questions and sentences written here, not copied from those sets.

Real glossary (search/data/glossary.json), real query plans, real analyser, real clause
and span readers.
"""

from __future__ import annotations

import pytest

from search.answers.text import _cites_document, _without_number
from search.glossary import folded_phrase, glossary
from search.query import plan_query
from search.question import Analyser, AnswerType
from search.spans import clauses, dates

T = AnswerType


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    return Analyser(glossary())


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [
        # A threshold or a value asked outright is a figure question.
        ("From what value upwards must a donated asset be approved by the province?", T.QUANTITY),
        ("What amount of land is reserved for the new sports complex?", T.QUANTITY),
        # ... unless it asks who: "or more" names a threshold, the question a body.
        ("Contracts of one billion dong or more are approved by which agency?", T.AGENCY_LEAD),
        # An ordinal asked for: documents number sessions, rounds and phases.
        ("At which session did the provincial council pass the budget resolution?", T.QUANTITY),
        ("In which phase is the ring road upgraded?", T.QUANTITY),
        ("Nghị quyết được thông qua tại kỳ họp thứ mấy?", T.QUANTITY),
        # Asking for a body: an office named in the question is not the person asked for.
        ("Which body reports to the Prime Minister on the results every year?", T.AGENCY_LEAD),
        ("Which agency submits the draft to the provincial chairman?", T.AGENCY_LEAD),
        ("Who is the chairman of the provincial steering committee?", T.PERSON),
    ],
)
def test_english_answer_types(analyser: Analyser, text: str, answer_type: AnswerType) -> None:
    assert analyser.analyse(plan_query(text)).answer_type is answer_type, text


def test_plural_agency_heads_name_the_agency(analyser: Analyser) -> None:
    q = analyser.analyse(
        plan_query("What must provincial Departments of Health report each quarter?")
    )
    assert q.agencies == ("Sở Y tế",)
    assert q.answer_type is T.AGENCY_TASKS
    # The question's own text is kept as typed.
    assert "Departments" in q.text
    q = analyser.analyse(plan_query("What must the Ministries of Finance and Home Affairs do?"))
    assert "Bộ Tài chính" in q.agencies


@pytest.mark.parametrize(
    ("text", "role"),
    [
        # A noun: what the plan gives, not the agency's role.
        ("What must the Department of Construction do for housing support to poor families?", None),
        ("What must the Department of Finance do under the financial support scheme?", None),
        # A verb: the role asked about.
        ("Which agencies support the Department of Finance in the appraisal?", "cooperate"),
        ("Who supports the Department of Construction in the inspections?", "cooperate"),
        ("Does the Department of Health support the vaccination campaign?", "cooperate"),
    ],
)
def test_support_after_a_noun_is_no_role(analyser: Analyser, text: str, role: str | None) -> None:
    q = analyser.analyse(plan_query(text))
    assert q.role == role, text
    assert ("phối hợp" in q.vietnamese) is (role == "cooperate")


def test_index_centres_and_institutes_get_english_names() -> None:
    extended = glossary().with_agencies(
        ["Trung tâm Chuyển đổi số Thành phố", "Viện Khoa học Nông nghiệp"]
    )
    centre = next(a for a in extended.agencies if a.name == "Trung tâm Chuyển đổi số Thành phố")
    # The city's own centre: the English name names no city.
    assert "digital transformation center" in [e.lower() for e in centre.english]
    assert "digital transformation centre" in [e.lower() for e in centre.english]
    analyser = Analyser(extended)
    q = analyser.analyse(
        plan_query("What is the city's Digital Transformation Centre tasked with?")
    )
    assert q.agencies == ("Trung tâm Chuyển đổi số Thành phố",)
    assert q.answer_type is T.AGENCY_TASKS


@pytest.mark.parametrize(
    ("question", "vietnamese"),
    [
        ("When is the peak forest fire season?", ["cao điểm", "cháy rừng"]),
        ("How many hours a day must the watch teams stay on duty?", ["canh phòng", "trực"]),
        ("When does the decision take effect?", ["hiệu lực"]),
        ("Which assets were confiscated and transferred into public ownership?", ["tịch thu"]),
        ("What share of counterpart funds comes from the local budget?", ["vốn đối ứng"]),
        ("How many groups of solutions does the plan set out?", ["nhóm", "giải pháp"]),
        ("At forest fire danger level IV, what must the commune do?", ["cấp IV"]),
    ],
)
def test_general_administrative_english_reaches_the_documents_words(
    analyser: Analyser, question: str, vietnamese: list[str]
) -> None:
    # Folded, as BM25 and the coverage read it.
    said = f" {analyser.analyse(plan_query(question)).vietnamese} "
    for word in vietnamese:
        assert f" {folded_phrase(word)} " in said, (question, word, said)


def test_the_english_kind_of_a_named_number_is_not_a_topic(analyser: Analyser) -> None:
    q = analyser.analyse(
        plan_query("When does Decision 45/2025/QD-UBND on fire prevention take effect?")
    )
    words = frozenset({"decision", "45", "2025", "qd", "ubnd"})
    left = _without_number(q, words)
    flat = [alt for group in left.terms for alt in group]
    assert "quyet dinh" not in flat
    assert "hieu luc" in flat


def test_a_date_after_a_cited_number_without_so_is_the_cited_documents() -> None:
    line = (
        "Quyết định này quy định chi tiết Điều 12 Nghị định 45/2019/NĐ-CP ngày 20 tháng 5 "
        "năm 2019 của Chính phủ về phòng cháy rừng."
    )
    (clause,) = clauses(line)
    (span,) = dates(clause.text)
    assert _cites_document(clause, span)
    own = "Quyết định có hiệu lực thi hành kể từ ngày 15 tháng 12 năm 2025."
    (clause,) = clauses(own)
    (span,) = dates(clause.text)
    assert not _cites_document(clause, span)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A ratio of hours or a schedule is no day and month.
        ("Tổ canh phòng trực 16/24 giờ trong mùa khô.", []),
        ("Đội xung kích trực 8/24 giờ, từ 7 giờ đến 15 giờ.", []),
        ("Báo cáo gửi trước ngày 15/12 hằng năm.", ["trước ngày 15/12 hằng năm"]),
    ],
)
def test_a_pair_whose_second_number_is_no_month_is_no_date(text: str, expected: list[str]) -> None:
    assert [d.text for d in dates(text)] == expected
