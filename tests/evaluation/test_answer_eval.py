"""`policy-search eval --answers`: the counts, the AUROC, leave-one-document-out, the
shared answer set, and the harnesses' new home outside the runtime package.

The counting tests build outcomes by hand (answers with known confidences and known
rightness), so every number they check is computed here on paper; the slow test asks
the real answerer over a real index and checks that the harness's tallies follow what
its judge decided, question by question.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.answers import (
    EVAL_DIR_DEFAULT,
    FORMS,
    SHARED_SET,
    AnswerQuestion,
    Outcome,
    auroc,
    document_groups,
    held_out_by_document,
    judge,
    load_answer_set,
    question_doc_id,
    run_set,
    shared_folders,
    tally,
)
from index.embed import Embedder
from ingest.chunk import SECTION_SEP
from ingest.pipeline import make_doc_id
from policy_search.settings import Settings
from search.answer import Answer, Answerer, AskResult, Passage
from search.calibration import Features, choose_l2, fit
from search.engine import SearchEngine
from search.glossary import folded_phrase

REPO = Path(__file__).resolve().parents[2]


# --- the move -------------------------------------------------------------------------------


def test_the_harnesses_live_in_the_evaluation_package_not_in_search() -> None:
    for name in ("evaluation.retrieval", "evaluation.answers", "evaluation.headers"):
        assert Path(importlib.import_module(name).__file__ or "").parent == REPO / "evaluation"
    for gone in ("eval.py", "answer_eval.py", "header_eval.py"):
        assert not (REPO / "search" / gone).exists(), gone


# --- AUROC ----------------------------------------------------------------------------------


def test_auroc_is_the_share_of_right_wrong_pairs_ranked_in_order() -> None:
    # Pairs (right, wrong): 0.9>0.7, 0.9>0.4, 0.8>0.7, 0.8>0.4 win; 0.4<0.7 loses;
    # 0.4=0.4 ties (half): 4.5 of 6.
    assert auroc([0.9, 0.8, 0.4], [0.7, 0.4]) == pytest.approx(0.75)
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5]) == 0.5
    assert auroc([], [0.3]) is None
    assert auroc([0.3], []) is None


# --- counting -------------------------------------------------------------------------------


def _outcome(
    qid: str,
    conf: float | None,
    right: bool,
    gold: str = "quantity",
    form: str = "vi",
    doc: str = "a.md",
    sim: float = 0.5,
) -> Outcome:
    """An ask whose candidate (None when ``conf`` is None) the judge found ``right``."""
    q = AnswerQuestion(qid, gold, form, f"question {qid}", doc=doc)
    answer = None if conf is None else Answer(f"answer {qid}", [1], confidence=conf)
    features = None if conf is None else Features("clause", sim, 0.5, form == "en")
    result = AskResult(q.query, answer, [], confidence=conf, features=features)
    return Outcome(q, result, right_if_shown=right)


def test_tally_counts_what_a_user_sees_at_the_threshold() -> None:
    outcomes = [
        _outcome("r1", 0.9, True),  # shown, right
        _outcome("r2", 0.3, True),  # right candidate below the threshold: abstained
        _outcome("w1", 0.95, False),  # shown, wrong: confident-wrong
        _outcome("w2", 0.2, False),  # wrong candidate held back: abstained
        _outcome("n1", None, False),  # no candidate at all: abstained
        _outcome("u1", 0.1, False, gold="unanswerable"),  # correct abstention: right
        _outcome("u2", 0.7, False, gold="offtopic"),  # answered a null question: wrong
    ]
    t = tally(outcomes, threshold=0.5)
    assert t.asks == 7
    assert t.right == 2  # r1 and the abstention on u1
    assert t.abstained == 4  # r2, w2, n1, u1
    assert t.confident_wrong == 2  # w1, u2
    assert t.right + t.abstained + t.confident_wrong - 1 == t.asks  # u1 is right and abstained
    assert t.wrong_any == 4  # w1, w2, u1, u2: every candidate that is not a right answer
    assert (t.answerable, t.answerable_right) == (5, 1)
    assert (t.no_answer, t.no_answer_abstained) == (2, 1)
    assert (t.shown, t.shown_right) == (3, 1)
    assert t.precision == pytest.approx(1 / 3)
    # Right candidates 0.9, 0.3 against wrong 0.95, 0.2, 0.1, 0.7: 0.9 beats 3, 0.3 beats 2.
    assert t.auroc == pytest.approx(5 / 8)


def test_tally_uses_an_outcomes_own_threshold_when_it_brings_one() -> None:
    a = _outcome("a", 0.6, True)
    a.threshold = 0.7  # fitted with its document held out: 0.6 is below it
    t = tally([a, _outcome("b", 0.6, True)], threshold=0.5)
    assert (t.right, t.abstained) == (1, 1)


# --- leave one document out -----------------------------------------------------------------


def _two_documents() -> list[Outcome]:
    out = []
    for doc in ("a.md", "b.md", "c.md"):
        for i in range(8):
            right = i % 2 == 0
            # Right answers sit closer to the question, with overlap: a real fit, not a step.
            sim = 0.8 + 0.02 * i if right else 0.78 + 0.015 * i
            for form in ("vi", "en"):
                out.append(_outcome(f"{doc}-{i}", 0.5, right, form=form, doc=doc, sim=sim))
    return out


def test_a_held_out_document_is_scored_without_its_own_outcomes() -> None:
    outcomes = _two_documents()
    held = held_out_by_document(outcomes)
    assert [o.question for o in held] == [o.question for o in outcomes]
    # Flip every label of document a: a's scores must not move, b's and c's must.
    flipped = [
        Outcome(o.question, o.result, not o.right_if_shown) if o.question.doc == "a.md" else o
        for o in outcomes
    ]
    again = held_out_by_document(flipped)

    def conf(found: list[Outcome], doc: str) -> list[float]:
        return [o.confidence for o in found if o.question.doc == doc]

    assert conf(again, "a.md") == pytest.approx(conf(held, "a.md"))
    assert conf(again, "b.md") != pytest.approx(conf(held, "b.md"))
    # And a's confidences are those of the model fitted on b and c alone, its L2 strength
    # cross-validated with each document in one fold.
    train = [o for o in outcomes if o.question.doc != "a.md"]
    samples = [(o.result.features, o.right_if_shown) for o in train]
    model = fit(samples, 0.5, choose_l2(samples, document_groups(train)))
    assert conf(held, "a.md") == pytest.approx(
        [model.confidence(o.result.features) for o in outcomes if o.question.doc == "a.md"]
    )
    assert all(o.threshold is not None for o in held)
    # The originals are untouched: the held-out run works on copies.
    assert {o.confidence for o in outcomes} == {0.5}


def test_the_corpus_dev_outcomes_are_in_every_fold() -> None:
    """--held-out-by-document repeats the shipped fit (corpus dev + this set) without one
    document: the extra outcomes train every fold and are never scored."""
    outcomes = _two_documents()
    extra = [
        Outcome(replace(o.question, qid=f"x{o.question.qid}", doc=""), o.result, True)
        for o in outcomes
    ]
    held = held_out_by_document(outcomes, extra=extra)
    assert [o.question for o in held] == [o.question for o in outcomes]
    train = [*extra, *(o for o in outcomes if o.question.doc != "a.md")]
    samples = [(o.result.features, o.right_if_shown) for o in train]
    model = fit(samples, 0.5, choose_l2(samples, document_groups(train)))
    assert [o.confidence for o in held if o.question.doc == "a.md"] == pytest.approx(
        [model.confidence(o.result.features) for o in outcomes if o.question.doc == "a.md"]
    )
    alone = held_out_by_document(outcomes)
    assert [o.confidence for o in held] != pytest.approx([o.confidence for o in alone])


# --- the judge on a question about one document ----------------------------------------------


def _passage(n: int, doc_id: str, text: str) -> Passage:
    return Passage(n, doc_id, "title", "", None, text, 1.0, "", chunk_id=n, ordinal=0)


def test_a_fact_from_another_document_is_not_the_answer() -> None:
    q = AnswerQuestion("d1", "date", "vi", "Hạn nộp?", facts=("31/3/2026",), doc="ke-hoach-a.md")
    assert question_doc_id(q) == make_doc_id(Path("x/ke-hoach-a.md"), Path("x"))
    own = _passage(1, "ke-hoach-a", "Hồ sơ gửi trước ngày 31/3/2026.")
    other = _passage(2, "ke-hoach-b", "Hồ sơ gửi trước ngày 31/3/2026.")
    cited_own = AskResult(q.query, Answer("31/3/2026", [1]), [own, other])
    cited_other = AskResult(q.query, Answer("31/3/2026", [2]), [own, other])
    assert judge(q, cited_own) == (True, [])
    right, problems = judge(q, cited_other)
    assert not right and any("cites no passage of ke-hoach-a.md" in p for p in problems)


# --- the shared answer set ------------------------------------------------------------------


# The development set, and the check set written later on documents the first leaves out
# (never tuned on: the answer rules and the confidence were not fitted to it).
HELDOUT_SET = REPO / "evalsets" / "answers_shared_heldout.json"
# A second development set on five more documents, written to tune English questions on
# more than one set's words (docs/answers.md, "English questions").
DEV2_SET = REPO / "evalsets" / "answers_shared_dev2.json"
SETS = pytest.mark.parametrize(
    "path", [SHARED_SET, HELDOUT_SET, DEV2_SET], ids=["dev", "heldout", "dev2"]
)


def _items(path: Path = SHARED_SET) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


@SETS
def test_the_shared_set_has_three_forms_a_document_each_and_no_answer_questions(
    path: Path,
) -> None:
    items = _items(path)
    questions = load_answer_set(path)
    assert len(questions) == 3 * len(items)
    assert {q.form for q in questions} == set(FORMS)
    assert len({i["id"] for i in items}) == len(items)
    docs = {i["doc"] for i in items if i["doc"]}
    assert len(docs) >= 5
    null = [i for i in items if i["type"] in ("unanswerable", "offtopic")]
    assert 0.12 <= len(null) / len(items) <= 0.25
    assert all(i["doc"] for i in items if i["type"] != "offtopic")
    assert all(i.get("facts") for i in items if i["type"] not in ("unanswerable", "offtopic"))


def test_the_check_set_uses_no_document_of_the_development_sets() -> None:
    dev = {i["doc"] for i in _items(SHARED_SET) if i["doc"]}
    dev2 = {i["doc"] for i in _items(DEV2_SET) if i["doc"]}
    check = {i["doc"] for i in _items(HELDOUT_SET) if i["doc"]}
    assert check and dev2 and not dev & check and not dev2 & check and not dev & dev2


@pytest.mark.skipif(
    not (REPO / EVAL_DIR_DEFAULT).is_dir(), reason="the shared documents are not on this machine"
)
@SETS
def test_every_fact_of_the_shared_set_is_written_in_its_document(path: Path) -> None:
    folders = shared_folders(REPO / EVAL_DIR_DEFAULT)
    missing = []
    for item in _items(path):
        if not item["doc"]:
            continue
        (doc,) = [f / item["doc"] for f in folders if (f / item["doc"]).is_file()]
        text = f" {folded_phrase(doc.read_text(encoding='utf-8'))} "
        needles = [*item.get("facts", ()), item.get("exact", ""), item.get("lead", "")]
        needles += [item.get("agency", "")]
        # A needle may list alternatives (" | "); each must be in the document.
        missing += [
            f"{item['id']}: {alt}"
            for n in needles
            if n
            for alt in n.split(" | ")
            if f" {folded_phrase(alt)} " not in text
        ]
    assert missing == []


# --- the CLI --------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "policy_search.cli", "eval", "--answers", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def test_a_missing_eval_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "eval" / "plans" / "docs").mkdir(parents=True)
    run = _cli(
        "--answers-collection",
        "shared",
        "--eval-dir",
        str(tmp_path / "eval"),
        "--corpus",
        str(REPO / "corpus"),
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert "admindocs/docs" in run.stderr and "--eval-dir" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


def test_held_out_by_document_needs_the_shared_collection(tmp_path: Path) -> None:
    run = _cli("--held-out-by-document", "--corpus", str(REPO / "corpus"), cwd=tmp_path)
    assert run.returncode == 1
    assert "--answers-collection shared" in run.stderr
    assert "Traceback" not in run.stderr


# --- the real answerer on a real index ------------------------------------------------------

PLAN = """KẾ HOẠCH PHÒNG, CHỐNG THIÊN TAI NĂM 2026 CỦA TỈNH BẮC KẠN

Bắc Kạn, ngày 12 tháng 01 năm 2026

I. MỤC TIÊU

Giảm thiểu thiệt hại về người và tài sản do thiên tai gây ra; tổ chức diễn tập ứng phó \
lũ quét tại 06 xã vùng núi.

II. TỔ CHỨC THỰC HIỆN

1. Sở Nông nghiệp và Môi trường

Chủ trì xây dựng phương án ứng phó với lũ quét, sạt lở đất; tổng hợp báo cáo gửi Ủy ban \
nhân dân tỉnh trước ngày 15/12/2026.

2. Sở Y tế

Chuẩn bị thuốc, vật tư y tế và đội cấp cứu lưu động tại các xã vùng lũ.
"""

NOTICE = """THÔNG BÁO LỊCH TIẾP CÔNG DÂN THÁNG 3 NĂM 2026 CỦA UBND HUYỆN NA RÌ

Chủ tịch Ủy ban nhân dân huyện tiếp công dân định kỳ vào ngày 10/3/2026 tại trụ sở Ban \
tiếp công dân huyện.
"""


@pytest.mark.slow
def test_the_harness_tallies_what_its_judge_decides_on_real_answers(
    tmp_path: Path, embedder: Embedder
) -> None:
    from index.build import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ke-hoach-thien-tai.md").write_text(PLAN, encoding="utf-8")
    (docs / "thong-bao-tiep-dan.txt").write_text(NOTICE, encoding="utf-8")
    build_index([docs], tmp_path / "index", embedder)
    answerer = Answerer(SearchEngine(Settings(index_dir=tmp_path / "index"), embedder))
    plan, notice = "ke-hoach-thien-tai.md", "thong-bao-tiep-dan.txt"
    questions = [
        AnswerQuestion(
            "deadline",
            "date",
            "vi",
            "Hạn gửi báo cáo phương án ứng phó lũ quét của Bắc Kạn là ngày nào?",
            facts=("15/12/2026",),
            doc=plan,
        ),
        # The gold names the other document: whatever the answerer says, the harness
        # must not count it right (the date is only in the plan).
        AnswerQuestion(
            "wrong-doc",
            "date",
            "vi",
            "Hạn gửi báo cáo phương án ứng phó lũ quét của Bắc Kạn là ngày nào?",
            facts=("15/12/2026",),
            doc=notice,
        ),
        AnswerQuestion("off", "offtopic", "vi", "Cách nấu phở bò ngon?", doc=""),
    ]
    outcomes = run_set(answerer, questions)
    by_id = {o.question.qid: o for o in outcomes}
    # The judge on each real answer, as the harness recorded it.
    for o in outcomes:
        assert (o.right_if_shown, o.problems) == judge(o.question, o.result)
    assert not by_id["wrong-doc"].right_if_shown
    if by_id["wrong-doc"].result.answer is not None:
        assert any("cites no passage of" in p for p in by_id["wrong-doc"].problems)
    # The retrieval found the plan: the answerable question has its passage.
    assert any(p.doc_id == "ke-hoach-thien-tai" for p in by_id["deadline"].result.passages)
    threshold = answerer.calibration.threshold
    t = tally(outcomes, threshold)
    shown = [o for o in outcomes if o.result.answer is not None and o.confidence >= threshold]
    assert t.shown == len(shown)
    assert t.abstained == len(outcomes) - len(shown)
    assert t.right == sum(o.right_at(threshold) for o in outcomes)
    assert t.confident_wrong == sum(not o.right_at(threshold) for o in shown)
    assert t.right + t.confident_wrong + t.abstained - t.no_answer_abstained == t.asks
    assert t.no_answer_abstained == (0 if by_id["off"] in shown else 1)


def test_an_in_line_agency_label_makes_the_task_its_own() -> None:
    # "5. Sở X: task" inside a passage whose section path ends at the heading before it.
    from search.answer import AnswerItem

    text = (
        "3. Sở Nội vụ\n- Phối hợp với Công an tỉnh kiểm tra văn thư.\n"
        "5. Sở Thông tin và Truyền thông: Phối hợp với Công an tỉnh kiểm tra trên không gian mạng."
    )
    section = f"III. PHÂN CÔNG NHIỆM VỤ{SECTION_SEP}3. Sở Nội vụ"
    p = Passage(1, "d", "t", section, None, text, 1.0, "", chunk_id=1, ordinal=0)
    q = AnswerQuestion("t", "agency_tasks", "vi", "?", agency="Sở Thông tin và Truyền thông")

    def answer(task: str) -> Answer:
        return Answer(task, [1], items=[AnswerItem(task, [1], own=True)])

    from evaluation.answers import own_task_violations

    ok = answer("Phối hợp với Công an tỉnh kiểm tra trên không gian mạng.")
    assert own_task_violations(q.agency, ok, {1: p}) == []
    # Sở Nội vụ's own bullet is not Sở Thông tin và Truyền thông's.
    bad = answer("Phối hợp với Công an tỉnh kiểm tra văn thư.")
    assert own_task_violations(q.agency, bad, {1: p}) == ["own task [1] sits under Sở Nội vụ"]


def test_a_task_belongs_to_the_nearest_agency_label_before_it() -> None:
    # Sub-numbered agency labels the section path does not record ("2.3. Sở Tài chính:"),
    # a label whose item runs on into a second sentence, and a neighbour's label that
    # closes the section heading's part.
    from evaluation.answers import own_task_violations
    from search.answer import AnswerItem

    text = (
        "2.2. Sở Xây dựng:\n- Chủ trì lập Đề án hỗ trợ nhà ở.\n"
        "2.3. Sở Tài chính:\n- Thẩm định dự toán kinh phí.\n- Hướng dẫn quận, huyện giải ngân.\n"
        "4. Sở Tư pháp: Kiểm tra việc thi hành Luật. Phối hợp tham mưu ban hành Quy chế."
    )
    section = f"III. Tổ chức thực hiện{SECTION_SEP}2. Các Sở, ngành có liên quan"
    p = Passage(1, "d", "t", section, None, text, 1.0, "", chunk_id=1, ordinal=0)

    def violations(agency: str, task: str) -> list[str]:
        answer = Answer(task, [1], items=[AnswerItem(task, [1], own=True)])
        return own_task_violations(agency, answer, {1: p})

    assert violations("Sở Tài chính", "Thẩm định dự toán kinh phí.") == []
    assert violations("Sở Tài chính", "Hướng dẫn quận, huyện giải ngân.") == []
    assert violations("Sở Tư pháp", "Phối hợp tham mưu ban hành Quy chế.") == []
    assert violations("Sở Tài chính", "Chủ trì lập Đề án hỗ trợ nhà ở.") == [
        "own task [1] sits under Sở Xây dựng"
    ]
    # Under a "3. Sở Nội vụ" section heading, the "4. Sở Tư pháp:" item is not Sở Nội vụ's.
    inner = Passage(1, "d", "t", "III. Nhiệm vụ › 3. Sở Nội vụ", None, text, 1.0, "", 1, 0)
    answer = Answer("x", [1], items=[AnswerItem("Kiểm tra việc thi hành Luật.", [1], own=True)])
    assert own_task_violations("Sở Nội vụ", answer, {1: inner}) == [
        "own task [1] sits under Sở Tư pháp"
    ]


def test_a_line_of_another_document_listed_apart_is_not_the_documents_own() -> None:
    plan = Passage(1, "ke-hoach-a", "A", "II › 1. Sở Y tế", None, "- Khám sàng lọc.", 1.0, "",
                   chunk_id=1, ordinal=0)  # fmt: skip
    other = Passage(2, "chi-thi-b", "B", "II › 3. Sở Y tế", None, "- Kiểm tra an toàn thực phẩm.",
                    1.0, "", chunk_id=2, ordinal=0)  # fmt: skip
    from search.answer import AnswerItem

    def result(apart: bool) -> AskResult:
        items = [
            AnswerItem("Khám sàng lọc.", [1], own=True, doc_id="ke-hoach-a"),
            AnswerItem("Kiểm tra an toàn thực phẩm.", [2], own=True, doc_id="chi-thi-b",
                       other_document=apart),
        ]  # fmt: skip
        answer = Answer("Nhiệm vụ của Sở Y tế", [1, 2], type="agency_tasks", items=items)
        return AskResult("q", answer, [plan, other])

    q = AnswerQuestion("t", "agency_tasks", "vi", "?", agency="Sở Y tế", doc="ke-hoach-a.md")
    assert judge(q, result(apart=True)) == (True, [])
    right, problems = judge(q, result(apart=False))
    assert not right and problems == ["own task [2] comes from chi-thi-b, not ke-hoach-a.md"]


@pytest.mark.slow
def test_the_shared_collection_runs_end_to_end_with_documents_held_out(tmp_path: Path) -> None:
    # A small stand-in for ../shared/eval: the two folders, two documents, a corpus of one.
    eval_dir = tmp_path / "eval"
    (eval_dir / "plans" / "docs").mkdir(parents=True)
    (eval_dir / "admindocs" / "docs").mkdir(parents=True)
    (eval_dir / "plans" / "docs" / "ke-hoach-thien-tai.md").write_text(PLAN, encoding="utf-8")
    (eval_dir / "admindocs" / "docs" / "thong-bao.txt").write_text(NOTICE, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tin.txt").write_text(
        "Trà Vinh phát triển du lịch sinh thái ven biển.\n", encoding="utf-8"
    )
    items = [
        {
            "id": "deadline",
            "type": "date",
            "doc": "ke-hoach-thien-tai.md",
            "facts": ["15/12/2026"],
            "vi": "Hạn gửi báo cáo phương án ứng phó lũ quét của Bắc Kạn là ngày nào?",
            "en": "When is Bac Kan's flash-flood response report due?",
        },
        {
            "id": "drill",
            "type": "quantity",
            "doc": "ke-hoach-thien-tai.md",
            "facts": ["06 xã"],
            "vi": "Bắc Kạn diễn tập ứng phó lũ quét tại bao nhiêu xã?",
            "en": "In how many communes does Bac Kan hold flash-flood drills?",
        },
        {
            "id": "meeting",
            "type": "date",
            "doc": "thong-bao.txt",
            "facts": ["10/3/2026"],
            "vi": "Chủ tịch UBND huyện Na Rì tiếp công dân ngày nào?",
            "en": "On what day does the Na Ri district chairman receive citizens?",
        },
        {
            "id": "none",
            "type": "unanswerable",
            "doc": "thong-bao.txt",
            "vi": "Huyện Na Rì có bao nhiêu đơn khiếu nại năm 2025?",
            "en": "How many complaints did Na Ri district receive in 2025?",
        },
    ]
    answer_set = tmp_path / "set.json"
    answer_set.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    args = ["--answers-collection", "shared", "--eval-dir", str(eval_dir)]
    args += ["--answer-set", str(answer_set), "--corpus", str(corpus)]
    args += ["--cache", str(tmp_path / "cache"), "--held-out-by-document"]
    run = _cli(*args, cwd=tmp_path, timeout=900)  # loads the model and builds an index
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "set: 4 questions × 3 forms" in out
    assert "set: what a user sees, per form (the shipped calibration)" in out
    assert "set, held out by document: what a user sees" in out
    for doc in ("ke-hoach-thien-tai.md", "thong-bao.txt"):
        assert doc in out
    assert "confident-wrong" in out and "AUROC" in out
    # Each table row of the per-form tables counts the 4 asks of its form.
    rows = [line for line in out.splitlines() if line.startswith(("Vietnamese ", "English "))]
    assert rows and all(line.split()[1] == "4" for line in rows)
    assert (tmp_path / "cache").is_dir()
    assert "held out ke-hoach-thien-tai.md: 6 asks" in run.stderr
