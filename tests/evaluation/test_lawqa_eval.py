"""`policy-search eval --lawqa` on a tiny collection in lawqa's format, written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.lawqa import choose_documents, lawqa_set, shares_run, word_runs
from policy_search.cli import main

ARTICLES = {
    "a1": (
        "Điều kiện đăng ký thường trú tại chỗ ở hợp pháp",
        "Theo quy định, công dân có chỗ ở hợp pháp thuộc quyền sở hữu của mình thì được đăng ký "
        "thường trú tại chỗ ở hợp pháp đó, trừ trường hợp chỗ ở nằm trong khu vực cấm.",
    ),
    "a2": (
        "Mức phạt khi điều khiển xe máy không đội mũ bảo hiểm",
        "Người điều khiển xe mô tô, xe gắn máy không đội mũ bảo hiểm hoặc đội mũ bảo hiểm không "
        "cài quai đúng quy cách khi tham gia giao thông bị phạt tiền từ 400 nghìn đồng.",
    ),
    "a3": (
        "Thời hạn nộp tờ khai thuế thu nhập cá nhân",
        "Cá nhân trực tiếp quyết toán thuế thu nhập cá nhân nộp hồ sơ chậm nhất là ngày cuối "
        "cùng của tháng thứ tư kể từ ngày kết thúc năm dương lịch theo quy định của pháp luật.",
    ),
    "z1": ("Giới thiệu về nghề trồng lúa", "Nghề trồng lúa nước có lịch sử lâu đời ở đồng bằng."),
    "z2": ("Lễ hội mùa xuân", "Các lễ hội mùa xuân diễn ra khắp nơi sau dịp Tết Nguyên đán."),
}
QUESTIONS = [
    ("a1#0", "Công dân có chỗ ở hợp pháp thì có được đăng ký thường trú không?", "a1"),
    ("a2#0", "Không đội mũ bảo hiểm khi đi xe máy bị phạt bao nhiêu?", "a2"),
    ("a3#0", "Khi nào phải nộp hồ sơ quyết toán thuế thu nhập cá nhân?", "a3"),
]


@pytest.fixture
def lawqa(tmp_path: Path) -> Path:
    folder = tmp_path / "lawqa"
    (folder / "docs").mkdir(parents=True)
    for stem, (title, text) in ARTICLES.items():
        (folder / "docs" / f"{stem}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")

    def line(qid: str, question: str, doc: str) -> str:
        item = {"id": qid, "question": question, "doc": f"{doc}.md", "answer": ARTICLES[doc][1]}
        return json.dumps(item, ensure_ascii=False)

    dev = [line(*q) for q in QUESTIONS[:2]]
    (folder / "dev_questions.jsonl").write_text("\n".join(dev) + "\n", encoding="utf-8")
    (folder / "heldout_questions.jsonl").write_text(line(*QUESTIONS[2]) + "\n", encoding="utf-8")
    return folder


def _rows(out: str) -> dict[tuple[str, str, str], list[str]]:
    lines = [line for line in out.splitlines() if line.startswith("| lawqa")]
    cells = ([c.strip() for c in line.strip("|").split("|")] for line in lines)
    return {(c[0], c[1], c[2]): c for c in cells}


def test_twelve_word_runs() -> None:
    answer = word_runs(ARTICLES["a1"][1])
    # Twelve words in a row of the answer, inside another text: a match.
    inside = "Như đã nói, công dân có chỗ ở hợp pháp thuộc quyền sở hữu của mình thì được ghi."
    assert shares_run(inside, answer)
    # Eleven only: not.
    assert not shares_run("công dân có chỗ ở hợp pháp thuộc quyền sở hữu riêng", answer)


def test_questions_splits_and_document_choice(lawqa: Path) -> None:
    docs, questions = lawqa_set(lawqa)
    assert [(q.split, q.kind) for q in questions] == [
        ("dev", "vi"),
        ("dev", "vi_plain"),
        ("dev", "vi"),
        ("dev", "vi_plain"),
        ("heldout", "vi"),
        ("heldout", "vi_plain"),
    ]
    assert questions[1].query.startswith("Cong dan co cho o hop phap")
    files, kept = choose_documents(docs, questions, 3)
    # Half of 3 (rounded up) answering articles, the first questions', then distractors.
    assert [f.stem for f in files] == ["a1", "a2", "z1"]
    assert {q.doc_id for q in kept} == {"a1", "a2"}
    files, kept = choose_documents(docs, questions, None)
    assert len(files) == 5 and len(kept) == 6


def test_eval_lawqa_prints_document_and_passage_scores_with_bm25(
    lawqa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder
) -> None:
    cache = tmp_path / "cache"
    code = main(["eval", "--lawqa", str(lawqa), "--cache", str(cache), "--markdown"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| set | queries | method | n | hit@1 | MRR@10 | hit@10 | passage@5 |" in out
    rows = _rows(out)
    for split, n in (("lawqa:dev", "2"), ("lawqa:heldout", "1")):
        for kind in ("Vietnamese", "Vietnamese without diacritics"):
            hybrid, bm25 = rows[(split, kind, "hybrid")], rows[(split, kind, "bm25")]
            assert hybrid[3] == bm25[3] == n
            assert float(hybrid[6]) == 1.0  # five articles: always in the ten
            assert float(hybrid[7]) == 1.0  # the answer's own passage is among the five
            assert bm25[7] == "-"  # BM25 ranks whole articles: no passage column
    # Cached: a second run with fewer documents builds its own index, the first one stays.
    assert main(["eval", "--lawqa", str(lawqa), "--cache", str(cache), "--limit-docs", "2"]) == 0
    assert "lawqa:dev" in capsys.readouterr().out
    assert sorted(p.name.split("-")[2] for p in cache.glob("lawqa-index-*")) == ["2", "5"]


def test_eval_lawqa_without_the_data_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", "--lawqa", str(tmp_path / "nowhere"), "--cache", str(tmp_path / "c")])
    assert code == 1
    err = capsys.readouterr().err
    assert "lawqa not found" in err and "nowhere" in err and "--lawqa PATH" in err
