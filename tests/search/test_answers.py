"""The answer card on a real index of corpus/ with the real embedder.

Every agency section of the Lào Cai plan, asked in Vietnamese, without
diacritics and in English, lists that agency's own tasks from its own heading,
and never another agency's task as its own; the questions of issue 12 get the
figure, the agreement's terms and every document that counts; off-topic
questions get no answer; labels follow the reader's language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluation.retrieval import _plain
from index.embed import Embedder
from ingest.text import fold
from policy_search.settings import Settings
from search.answer import Answerer, AskResult, Passage
from search.engine import SearchEngine
from search.question import section_agency

pytestmark = pytest.mark.slow

PLAN = "004_0ae3777ec9422ce6"
KOBE = "001_1239ce19dc31f053"
HIROSHIMA = "002_63641acebfdc804f"
VINGROUP = "000_336029cc1bf055f9"

# Every agency section of "V. Tổ chức thực hiện": the name as the heading gives it, how an
# English reader names it, and a phrase of one of its own tasks.
SECTIONS = [
    ("Sở Kế hoạch và Đầu tư", "Department of Planning and Investment", "cơ quan đầu mối"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "Department of Agriculture and Rural Development", "kỹ thuật canh tác"),
    ("Sở Công Thương", "Department of Industry and Trade", "năng lượng tiết kiệm"),
    ("Sở Giao thông vận tải", "Department of Transport", "giao thông công cộng"),
    ("Sở Tài nguyên và Môi trường", "Department of Natural Resources and Environment", "khu dân cư"),
    ("Sở Xây dựng", "Department of Construction", "quy hoạch đô thị bền vững"),
    ("Sở Nội vụ", "Department of Home Affairs", "lồng ghép kiến thức"),
    ("Sở Tài chính", "Department of Finance", "mua sắm công xanh"),
    ("Sở Thông tin và Truyền thông", "Department of Information and Communications", "công nghệ thông tin"),
    ("Sở Văn hóa - Thể thao", "Department of Culture and Sports", "Lối sống xanh"),
    ("Sở Du lịch", "Department of Tourism", "du lịch sinh thái"),
    ("Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs", "kỹ năng nghề"),
    ("Sở Y tế", "Department of Health", "y tế dự phòng"),
    ("Sở Giáo dục và Đào tạo", "Department of Education and Training", "các cấp học"),
    ("Sở Khoa học và Công nghệ", "Department of Science and Technology", "thẩm định công nghệ"),
    ("Ban quản lý Khu kinh tế tỉnh", "Economic Zone Management Board", "khu công nghiệp sinh thái"),
    ("Các sở, ban, ngành, UBND các huyện, thành phố, thị xã", "district People's Committees", "chỉ tiêu tăng trưởng xanh"),
    (
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, các tổ chức chính trị - xã hội, tổ chức xã hội nghề nghiệp",
        "Fatherland Front",
        "cộng đồng doanh nghiệp",
    ),
    ("Các bên liên quan khác", "other stakeholders", "sáng kiến"),
]  # fmt: skip


@pytest.fixture(scope="module")
def answerer(corpus_index: Path, embedder: Embedder) -> Answerer:
    return Answerer(SearchEngine(Settings(index_dir=corpus_index), embedder))


def squash(text: str) -> str:
    return " ".join(fold(text).split())


def by_n(result: AskResult) -> dict[int, Passage]:
    return {p.n: p for p in result.passages}


# How a question names the sections whose headings are lists of bodies.
ASKED = {
    "Các sở, ban, ngành, UBND các huyện, thành phố, thị xã": "UBND các huyện",
    "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, các tổ chức chính trị - xã hội, tổ chức xã hội "
    "nghề nghiệp": "Ủy ban Mặt trận Tổ quốc tỉnh",
}


def forms(agency: str, english: str) -> list[str]:
    vi = f"Nhiệm vụ của {ASKED.get(agency, agency)} là gì?"
    return [vi, _plain(vi).lower(), f"What must the {english} do?"]


@pytest.mark.parametrize(("agency", "english", "task"), SECTIONS, ids=[s[0][:28] for s in SECTIONS])
def test_every_agency_section_lists_its_own_tasks_and_never_anothers(
    answerer: Answerer, agency: str, english: str, task: str
) -> None:
    for question in forms(agency, english):
        result = answerer.ask(question)
        answer = result.answer
        assert answer is not None and answer.type == "agency_tasks", question
        passages = by_n(result)
        own = [i for i in answer.items if i.own]
        assert own, question
        for item in own:
            (n,) = item.citations
            cited = passages[n]
            heading = section_agency(cited.section)
            # Its own heading, or a sentence outside any agency section naming it as the doer.
            assert heading == agency or (heading is None and squash(agency) in squash(cited.text))
            assert squash(item.text) in squash(cited.text)
        for item in answer.items:
            if not item.own:
                (n,) = item.citations
                assert section_agency(passages[n].section) != agency, question
        assert any(squash(task) in squash(i.text) for i in own), question
        # Lead tasks first: no own lead line after a cooperating one.
        roles = [i.role for i in own]
        if "cooperate" in roles and "lead" in roles:
            assert roles.index("lead") < roles.index("cooperate")


def test_finance_department_lists_the_planning_departments_funding_task_apart(
    answerer: Answerer,
) -> None:
    result = answerer.ask("nhiệm vụ của Sở Tài chính")
    assert result.answer is not None
    own = [i.text for i in result.answer.items if i.own]
    also = [i for i in result.answer.items if not i.own]
    assert any("mua sắm công xanh" in t for t in own)
    planning = [i for i in also if i.agency == "Sở Kế hoạch và Đầu tư"]
    assert planning and "cân đối, vận động, thu hút" in planning[0].text
    assert planning[0].role == "cooperate"
    text = result.answer.text
    assert text.index("mua sắm công xanh") < text.index("Cùng tham gia")


def test_construction_department_tasks_come_from_its_own_section(answerer: Answerer) -> None:
    result = answerer.ask("việc của Sở Xây dựng trong kế hoạch tăng trưởng xanh")
    assert result.answer is not None
    sections = {by_n(result)[i.citations[0]].section for i in result.answer.items if i.own}
    assert sections == {"V. Tổ chức thực hiện › 6. Sở Xây dựng"}


@pytest.mark.parametrize(
    "question",
    ["Ai phụ trách chuyển đổi số?", "ai phu trach chuyen doi so", "Who is in charge of digital transformation?"],
)  # fmt: skip
def test_no_agency_is_named_for_a_task_no_plan_assigns(answerer: Answerer, question: str) -> None:
    result = answerer.ask(question)
    if result.answer is not None:  # the IT tasks are the only honest answer
        assert "Sở Thông tin và Truyền thông" in result.answer.text
    assert "Lao động" not in (result.answer.text if result.answer else "")


@pytest.mark.parametrize(
    ("question", "figure", "clause"),
    [
        ("Tỷ lệ xe buýt sử dụng năng lượng sạch đến năm 2030 là bao nhiêu?", "10%", "xe buýt"),
        ("What share of buses should run on clean energy by 2030?", "10%", "xe buýt"),
        ("ty le xe buyt nang luong sach 2050", "40%", "xe buýt"),
        ("tỷ lệ đảm nhận vận tải hành khách công cộng 2030", "5%", "hành khách công cộng"),
        ("Đồng Nai có bao nhiêu khu công nghiệp được quy hoạch?", "39", "khu công nghiệp"),
    ],
)
def test_exact_figure_inside_a_long_target_list(
    answerer: Answerer, question: str, figure: str, clause: str
) -> None:
    result = answerer.ask(question)
    answer = result.answer
    assert answer is not None and answer.type == "quantity", question
    assert answer.exact is not None and figure in answer.exact
    assert answer.exact_span is not None
    start, end = answer.exact_span
    assert answer.text[start:end] == answer.exact
    assert clause in answer.text and "…" not in answer.text  # never cut before it answers
    # The evidence is the whole sentence, in the cited passage.
    (n,) = answer.citations
    assert answer.evidence is not None and len(answer.evidence) >= len(answer.text) - 40
    assert squash(answer.evidence) in squash(by_n(result)[n].text)
    # A "bao nhiêu" answer is a figure; a 2030 question does not get the 2050 target.
    assert re.search(r"\d", answer.exact)
    if "2030" in question:
        assert "2050" not in answer.text


@pytest.mark.parametrize(
    ("question", "date"),
    [
        ("Hạn gửi báo cáo tình hình thực hiện kế hoạch tăng trưởng xanh hằng năm là khi nào?", "30/11"),
        ("When did Lao Cai and Vingroup sign their memorandum?", "27/2"),
        ("tra vinh ban hanh ke hoach tang truong xanh ngay nao", "30/10"),
    ],
)  # fmt: skip
def test_a_when_question_is_answered_by_a_date(
    answerer: Answerer, question: str, date: str
) -> None:
    answer = answerer.ask(question).answer
    assert answer is not None and answer.type == "date"
    assert answer.exact is not None and date in answer.exact


def test_signer_of_the_plan(answerer: Answerer) -> None:
    answer = answerer.ask("Ai ký kế hoạch hành động tăng trưởng xanh của tỉnh Lào Cai?").answer
    assert answer is not None and answer.exact == "Trịnh Xuân Trường"


@pytest.mark.parametrize("question", ["Đồng Nai và Kobe hợp tác trong lĩnh vực nào?", "In which field do Dong Nai and Kobe cooperate?"])  # fmt: skip
def test_fields_of_the_kobe_agreement(answerer: Answerer, question: str) -> None:
    result = answerer.ask(question)
    assert result.answer is not None
    assert "khu công nghiệp" in result.answer.text
    assert {by_n(result)[n].doc_id for n in result.answer.citations} == {KOBE}


def test_what_vingroup_agreed_lists_the_agreements_terms(answerer: Answerer) -> None:
    result = answerer.ask("What did Vingroup agree with Lao Cai?")
    assert result.answer is not None and result.answer.type == "agreement"
    text = result.answer.text
    found = [t for t in ("Chương trình Chuyển đổi xanh", "xe buýt điện", "trạm sạc") if t in text]
    assert len(found) >= 2, text
    assert "hi vọng" not in text  # not the closing courtesy remark
    assert {by_n(result)[n].doc_id for n in result.answer.citations} == {VINGROUP}


@pytest.mark.parametrize(
    "question",
    ["what did provinces sign with Japanese cities?", "các thỏa thuận với nhật bản"],
)
def test_a_set_question_answers_one_line_per_document(answerer: Answerer, question: str) -> None:
    result = answerer.ask(question)
    answer = result.answer
    assert answer is not None and answer.type == "set"
    docs = [i.doc_id for i in answer.items]
    assert sorted(docs) == sorted([KOBE, HIROSHIMA])
    passages = by_n(result)
    for item in answer.items:
        (n,) = item.citations
        assert passages[n].doc_id == item.doc_id
    assert "Kobe" in answer.text and "Hiroshima" in answer.text
    # Every document of the answer is among the passages, ahead of a second passage of one.
    assert {p.doc_id for p in result.passages[:2]} == {KOBE, HIROSHIMA}


@pytest.mark.parametrize(
    "question",
    [
        "Giá vàng hôm nay bao nhiêu?",
        "gia vang hom nay",
        "Who won the World Cup in 2018?",
        "thủ đô của Pháp",
        "Dân số Hà Nội là bao nhiêu người?",
    ],
)
def test_off_topic_questions_get_no_answer_but_passages(answerer: Answerer, question: str) -> None:
    result = answerer.ask(question)
    assert result.answer is None
    assert result.passages
    assert result.confidence is None or result.confidence < result.threshold


def test_threshold_decides_what_is_shown(answerer: Answerer) -> None:
    strict = answerer.ask("Ai chủ trì quản lý chất thải đô thị?", threshold=1.0)
    assert strict.answer is None and strict.confidence is not None and strict.confidence > 0.5
    lenient = answerer.ask("Ai chủ trì quản lý chất thải đô thị?")
    assert lenient.answer is not None
    assert lenient.answer.confidence == pytest.approx(lenient.confidence, abs=1e-3)
    assert lenient.confidence >= lenient.threshold


def test_labels_follow_the_readers_language(answerer: Answerer) -> None:
    en_question = answerer.ask("who leads urban waste management?", lang="vi")
    assert en_question.answer is not None and en_question.answer.text.startswith("Chủ trì:")
    vi_question = answerer.ask("Ai chủ trì quản lý chất thải đô thị?", lang="en")
    assert vi_question.answer is not None and vi_question.answer.text.startswith("Lead:")
    assert "Cooperating: Sở Xây dựng" in vi_question.answer.text
    tasks = answerer.ask("nhiệm vụ của Sở Tài chính", lang="en")
    assert tasks.answer is not None and tasks.answer.text.startswith("Tasks of Sở Tài chính:")
    assert "Also cooperates on" in tasks.answer.text
    # Default: the question's language.
    default = answerer.ask("who leads urban waste management?")
    assert default.lang == "en" and default.answer is not None
    assert default.answer.text.startswith("Lead:")
