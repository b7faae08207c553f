"""English questions read in the documents' words: inflections, numbered things, function
words, question kinds and what a count counts.

Real glossary (search/data/glossary.json), real query plans, real analyser.
"""

from __future__ import annotations

import pytest

from search.glossary import english_stems, glossary
from search.query import plan_query
from search.question import (
    Analyser,
    AnswerType,
    content_terms,
    counted_thing,
    lexical_coverage,
    numbered_forms,
    roman,
)

T = AnswerType


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    return Analyser(glossary())


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("reports", "report"),
        ("activities", "activity"),
        ("processes", "process"),
        ("drafting", "draft"),
        ("guiding", "guide"),
        ("planned", "plan"),
        ("supplied", "supply"),
        ("proposed", "propose"),
    ],
)
def test_english_stems_include_the_dictionary_form(word: str, stem: str) -> None:
    assert stem in english_stems(word)


def test_inflected_words_and_phrases_find_their_vietnamese() -> None:
    g = glossary()
    assert g.english_term("drafting") == g.vietnamese_terms("draft")
    assert g.english_term("carrying out") == g.vietnamese_terms("carry out")
    assert g.english_term("reviewing") == g.vietnamese_terms("review")
    assert g.english_term("unheardofword") is None


def test_roman_numerals() -> None:
    assert [roman(n) for n in (1, 2, 4, 9, 14, 40)] == ["i", "ii", "iv", "ix", "xiv", "xl"]
    assert "hoc ky ii" in numbered_forms(["hoc ky"], 2)
    assert "ky hop thu 10" in numbered_forms(["ky hop"], 10)


@pytest.mark.parametrize(
    ("question", "written", "not_written"),
    [
        # An ordinal before its noun: "second semester" is "học kỳ II", never "học kỳ I".
        (
            "How many weeks long is the second semester?",
            "Học kỳ II có 17 tuần.",
            "Học kỳ I có 18 tuần.",
        ),
        # Up to two words between the ordinal and its noun.
        ("Who attends the 14th Party Congress?", "Đại hội XIV của Đảng", "Đại hội XIII"),
        # The noun before its number.
        ("What must be done in phase 2?", "Giai đoạn 2 (2026-2030)", "Giai đoạn 1"),
        ("first quarter report", "báo cáo quý I", "báo cáo quý II"),
        ("first-graders return to school", "lớp 1 tựu trường", "lớp 2 tựu trường"),
    ],
)
def test_numbered_things_read_as_documents_number_them(
    question: str, written: str, not_written: str
) -> None:
    groups = content_terms(question, english=True)
    numbered = [g for g in groups if any(alt[-1].isdigit() or " i" in alt for alt in g)]
    assert numbered, groups
    assert lexical_coverage(numbered, written) == 1.0
    assert lexical_coverage(numbered, not_written) == 0.0


def test_an_ordinal_without_a_numbered_noun_is_no_topic() -> None:
    # "the first 6 months": the number belongs to "months", not to "first" ("tháng I").
    assert content_terms("What was done in the first 6 months?", english=True) == [["thang"]]


@pytest.mark.parametrize(
    "question",
    [
        "How many weeks does the school year have?",
        "What must the Department of Finance do under the plan?",
        "At least how much must be spent on each project?",
        "What is the agency asked to do about it?",
    ],
)
def test_english_function_words_are_no_topic(question: str) -> None:
    # Every topic group has a rendering: no untranslatable function word counts against
    # the evidence ("many", "do", "under", "each", "asked").
    assert all(content_terms(question, english=True)), content_terms(question, english=True)


def test_english_do_is_not_vietnamese_typed_bare() -> None:
    # "do" is "đó"/"đô" typed without diacritics, but never in an English question.
    assert content_terms("Phải làm gì ở đo thi", typed_plain=True)  # still read as Vietnamese
    assert content_terms("What do they do?", english=True) == []


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [
        # "who" after a noun is a relative pronoun, not the question's "who".
        (
            "By what date must the districts approve the list of people who receive support?",
            T.DATE,
        ),
        ("Who leads the housing support programme?", T.AGENCY_LEAD),
        ("And who approves the list?", T.AGENCY_LEAD),
        ("The list is approved by whom?", T.AGENCY_LEAD),
        # A minimum, a maximum or a target asks for a figure.
        ("What minimum lifespan must a supported house have?", T.QUANTITY),
        ("What contribution to growth is targeted for 2030?", T.QUANTITY),
        # A duration or a frequency is a figure too.
        ("How long does the province take to re-issue the certificate?", T.QUANTITY),
        ("How often must the results be reported?", T.QUANTITY),
        # An office named in a count is not the person asked for.
        ("How many members may be proposed for the chairman's certificate of merit?", T.QUANTITY),
        ("Who is the chairman of the steering committee?", T.PERSON),
        # Months and weeks are asked for as dates.
        ("From which month to which month is the environment monitored?", T.DATE),
        # "Where … come from" asks for a source, not a place.
        ("Where does the money for the monitoring come from?", T.OTHER),
        ("Where is the ceremony held?", T.PLACE),
    ],
)
def test_english_answer_types(analyser: Analyser, text: str, answer_type: AnswerType) -> None:
    assert analyser.analyse(plan_query(text)).answer_type is answer_type, text


@pytest.mark.parametrize(
    ("question", "english", "counted"),
    [
        ("At how many river mouths is the water monitored?", True, "cua song"),
        # The head of an English noun phrase is its last word.
        ("How many standard house designs must be prepared?", True, "thiet ke"),
        ("How many samples in total are taken?", True, "mau"),
        # Vietnamese names it right after "bao nhiêu", head first; "của" ends it, "cửa" not.
        ("Tỉnh quan trắc tại bao nhiêu cửa sông năm 2026?", False, "cua song"),
        ("Năm học có bao nhiêu tuần thực học?", False, "tuan"),
        ("Tối đa bao nhiêu cá nhân được đề nghị?", False, "ca nhan"),
    ],
)
def test_what_a_count_counts(question: str, english: bool, counted: str) -> None:
    assert counted in counted_thing(question, english)


def test_a_count_of_nothing_named_counts_nothing() -> None:
    assert counted_thing("Tỷ lệ che phủ rừng là bao nhiêu?", False) == []
    assert counted_thing("What is the forest cover rate?", True) == []


def test_english_agencies_of_every_level(analyser: Analyser) -> None:
    def agencies(text: str) -> tuple[str, ...]:
        return analyser.analyse(plan_query(text)).agencies

    assert agencies("What must the Ministry of Finance do?") == ("Bộ Tài chính",)
    assert agencies("What must Vietnam Television do?") == ("Đài Truyền hình Việt Nam",)
    assert agencies("What must commune People's Committees do?") == ("UBND cấp xã",)
