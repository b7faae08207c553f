"""The question analyser: answer types, entities in every form, content words, hints.

Real glossary (search/data/glossary.json), real query plans; no index needed
except where a test says so.
"""

from __future__ import annotations

import pytest

from search.glossary import glossary
from search.query import QueryKind, plan_query
from search.question import (
    Analyser,
    AnswerType,
    Question,
    content_terms,
    lexical_coverage,
    named_entities,
)

T = AnswerType


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    # The agencies of the corpus plan, as ingest names them, extend the glossary file.
    names = ["Sở Tài chính", "Sở Xây dựng", "Sở Du lịch", "Các bên liên quan khác"]
    return Analyser(glossary().with_agencies(names, {"STC": "Sở Tài chính"}), tuple(names))


def ask(analyser: Analyser, text: str) -> Question:
    return analyser.analyse(plan_query(text, None))


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [
        # what must an agency do: in Vietnamese, unaccented, English, short forms
        ("Nhiệm vụ của Sở Tài chính là gì?", T.AGENCY_TASKS),
        ("nhiem vu so tai chinh", T.AGENCY_TASKS),
        ("What are the Department of Finance's tasks?", T.AGENCY_TASKS),
        ("sở gtvt nhiệm vụ tăng trưởng xanh", T.AGENCY_TASKS),
        ("DONRE tasks in the plan", T.AGENCY_TASKS),
        # who leads / is responsible for something
        ("Ai chủ trì quản lý chất thải đô thị?", T.AGENCY_LEAD),
        ("ai chu tri quan ly chat thai do thi", T.AGENCY_LEAD),
        ("who leads urban waste management?", T.AGENCY_LEAD),
        ("cơ quan chủ trì giảm phát thải trong giao thông vận tải", T.AGENCY_LEAD),
        ("Sở Xây dựng phối hợp với cơ quan nào trong quản lý chất thải đô thị?", T.AGENCY_LEAD),
        # focal agency
        ("Cơ quan nào là đầu mối về tăng trưởng xanh?", T.FOCAL),
        ("green growth focal agency", T.FOCAL),
        # quantities and targets
        ("Tỷ lệ xe buýt sử dụng năng lượng sạch đến năm 2030 là bao nhiêu?", T.QUANTITY),
        ("ty le xe buyt nang luong sach 2030", T.QUANTITY),
        ("How many industrial parks are planned in Dong Nai?", T.QUANTITY),
        # a count that names a year or a school year still asks for a figure
        ("How many weeks does the 2024-2025 school year have?", T.QUANTITY),
        ("Năm học 2024-2025 có bao nhiêu tuần thực học?", T.QUANTITY),
        # a duration or a frequency, even of a "thời hạn"
        ("Thời hạn giải quyết thủ tục cấp lại giấy phép là bao lâu?", T.QUANTITY),
        ("thoi han giai quyet thu tuc cap lai giay phep la bao lau", T.QUANTITY),
        ("Báo cáo được gửi định kỳ bao lâu một lần?", T.QUANTITY),
        # dates and deadlines
        ("Hạn gửi báo cáo hằng năm là khi nào?", T.DATE),
        ("han gui bao cao tang truong xanh", T.DATE),
        ("When did Lao Cai and Vingroup sign their memorandum?", T.DATE),
        # an agency asked about with "trong thời gian nào" / "quý nào": when, not its tasks
        ("Các sở phải hoàn thành việc kiểm kê trong thời gian nào?", T.DATE),
        ("Sở Tài chính trình phương án vào quý nào?", T.DATE),
        ("So Tai chinh trinh phuong an vao quy nao", T.DATE),
        # people
        ("Ai ký kế hoạch hành động tăng trưởng xanh của tỉnh Lào Cai?", T.PERSON),
        ("phó thị trưởng kobe", T.PERSON),
        ("Who signed the green growth cooperation with the city of Kobe?", T.PERSON),
        # an office asked with "nào" / "which": the person holding it
        ("Phó Thủ tướng nào trực tiếp chỉ đạo việc tổ chức hội nghị?", T.PERSON),
        ("pho thu tuong nao truc tiep chi dao viec to chuc hoi nghi", T.PERSON),
        ("Which Deputy Prime Minister directs the conference?", T.PERSON),
        ("Đồng chí nào phụ trách công tác bầu cử?", T.PERSON),
        # ... but a possessive asks for what the office holds
        ("Which Prime Minister's decision is the plan based on?", T.OTHER),
        # places
        ("Đồng Nai ký kết hợp tác với thành phố nào của Nhật Bản?", T.PLACE),
        ("which provinces merged into Can Tho", T.PLACE),
        # what an agreement contains
        ("Đồng Nai và Kobe hợp tác trong lĩnh vực nào?", T.AGREEMENT),
        ("What did Vingroup agree with Lao Cai?", T.AGREEMENT),
        # sets of documents
        ("what did provinces sign with Japanese cities?", T.SET),
        ("các kế hoạch hành động về tăng trưởng xanh", T.SET),
        ("memoranda signed", T.SET),
        # anything else
        ("Nguồn vốn thực hiện kế hoạch lấy từ đâu?", T.OTHER),
    ],
)
def test_answer_types(analyser: Analyser, text: str, answer_type: AnswerType) -> None:
    assert ask(analyser, text).answer_type is answer_type, text


@pytest.mark.parametrize(
    "text",
    [
        "Nhiệm vụ của Sở Tài chính",
        "nhiem vu cua so tai chinh",
        "tasks of the Department of Finance",
        "finance department role",
        "DOF duties",
        "STC làm gì",  # an abbreviation a document defines
        "ngành tài chính phải làm gì",
    ],
)
def test_agency_in_every_form(analyser: Analyser, text: str) -> None:
    assert ask(analyser, text).agencies == ("Sở Tài chính",)


def test_acronyms_count_only_in_capitals(analyser: Analyser) -> None:
    # "DOC" is the construction department; "doc" typed unaccented is "dọc" or "đọc".
    assert ask(analyser, "DOC tasks").agencies == ("Sở Xây dựng",)
    assert ask(analyser, "doc ke hoach tang truong xanh").agencies == ()


def test_index_agencies_get_english_names_from_the_term_list() -> None:
    extended = glossary().with_agencies(["Sở Du lịch"])
    tourism = next(a for a in extended.agencies if a.name == "Sở Du lịch")
    assert "tourism department" in [e.lower() for e in tourism.english]
    unknown = glossary().with_agencies(["Sở Quản lý Hạ tầng Số"])
    made_up = next(a for a in unknown.agencies if a.name == "Sở Quản lý Hạ tầng Số")
    assert "Department of management infrastructure digital" in made_up.english


def test_entities(analyser: Analyser) -> None:
    q = ask(analyser, "Quyết định số 1658/QĐ-TTg được ban hành ngày nào?")
    assert q.doc_numbers == ("1658/qd-ttg",) and q.years == ()
    q = ask(analyser, "Tỷ lệ che phủ rừng của Lào Cai năm 2030 là bao nhiêu?")
    assert q.provinces == ("Lào Cai",) and q.years == ("2030",)
    # A span of years asks about both ends: "kết thúc trước ngày 18/01/2025" answers a
    # question about the 2024-2025 school year.
    assert ask(analyser, "Năm học 2024-2025 kết thúc khi nào?").years == ("2024", "2025")
    assert ask(analyser, "kế hoạch giai đoạn 2021 – 2025").years == ("2021", "2025")
    assert ask(analyser, "Hạn nộp là ngày 15-2025?").years == ()
    q = ask(analyser, "What did Lao Cai and Vingroup agree?")
    assert q.provinces == ("Lào Cai",) and q.names == ("vingroup",)
    assert ask(analyser, "lao cai vingroup hop tac").names == ("vingroup",)
    assert ask(analyser, "Which Japanese city did Dong Nai sign with?").places == ("Nhật Bản",)
    assert ask(analyser, "các thỏa thuận với nhật bản").places == ("Nhật Bản",)
    # A one-word country is also a word: only capitalised.
    assert ask(analyser, "thủ đô của Pháp").places == ("Pháp",)
    assert ask(analyser, "giải pháp tăng trưởng xanh").places == ()
    # "Thai" is a country's adjective in English, "thải" a Vietnamese word.
    assert ask(analyser, "ai chu tri quan ly chat thai").places == ()


def test_roles(analyser: Analyser) -> None:
    assert ask(analyser, "who advises on the climate change response plan").role == "advise"
    assert ask(analyser, "Ai chủ trì mua sắm công xanh?").role == "lead"
    assert ask(analyser, "Which agency is the focal point for green growth?").role == "focal"
    # "Trách nhiệm của Sở X" asks for all its tasks, not only those it leads.
    assert ask(analyser, "Trách nhiệm của Sở Tài chính là gì?").role is None


def test_english_role_words_and_names_reach_the_lexical_side_in_vietnamese(
    analyser: Analyser,
) -> None:
    q = ask(analyser, "who leads urban waste management?")
    assert q.kind is QueryKind.EN
    assert "chủ trì" in q.vietnamese and "chat thai" in q.vietnamese
    assert "Sở Tài chính" in ask(analyser, "What are the Department of Finance's tasks?").vietnamese
    # A short form is searched by the written name too; the written name is not repeated.
    assert "Sở Giao thông vận tải" in ask(analyser, "sở gtvt làm gì").vietnamese
    assert ask(analyser, "Sở Tài chính làm gì").vietnamese == ""


def test_terms_leave_out_entities_and_role_phrases(analyser: Analyser) -> None:
    q = ask(analyser, "Sở Xây dựng phối hợp với cơ quan nào trong quản lý chất thải đô thị?")
    flat = {p for g in q.terms for p in g}
    assert "xay dung" not in flat and "phoi" not in flat  # the agency, the role phrase
    assert {"chat thai", "do thi", "quan ly"} <= flat
    # "hợp" of "hợp tác" is a topic word even though "phối hợp" is a role phrase.
    assert ["hop tac"] in content_terms("Hai tỉnh hợp tác về năng lượng")


def test_vietnamese_synonyms_count_once() -> None:
    groups = content_terms("các thỏa thuận với nhật bản")
    agreement = next(g for g in groups if "thoa thuan" in g)
    assert "bien ban ghi nho" in agreement
    assert lexical_coverage([agreement], "Hai bên ký biên bản ghi nhớ hợp tác") == 1.0


def test_english_multiword_terms_and_plurals() -> None:
    groups = content_terms("What Human Development Index does Lao Cai aim for by 2030?")
    assert ["chi so phat trien con nguoi", "hdi"] in groups
    assert ["bao cao"] in content_terms("annual green growth reports")


@pytest.mark.parametrize(
    ("question", "plain", "entities"),
    [
        ("Thành phố Đà Nẵng quan trắc gì?", False, ["da nang"]),
        ("Công ty Hòa Phát được giao nhiệm vụ gì", False, ["hoa phat"]),
        ("cong ty hoa phat lam gi", True, ["hoa phat"]),
        ("What must the city of Osaka do?", False, ["osaka"]),
        ("How many parks does Osaka Prefecture have?", False, ["osaka"]),
        ("Sở Xây dựng TP. Hồ Chí Minh chủ trì việc gì", False, ["ho chi minh"]),
        # Not names: a question word, a list of bodies, words that only look like heads.
        ("thanh pho nao cua nhat ban", True, []),
        ("UBND các huyện, thành phố, thị xã phải làm gì", False, []),
        ("co quan tham muu ke hoach", True, []),
        ("Ban quan ly Khu kinh te tinh co nhiem vu gi?", True, []),
        ("pho bi thu tinh uy lao cai du le ky", True, []),
    ],
)
def test_named_entities_follow_administrative_writing(
    question: str, plain: bool, entities: list[str]
) -> None:
    assert named_entities(question, plain) == entities
