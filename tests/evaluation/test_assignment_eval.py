"""`policy-search eval --assignments` on a tiny labelled fixture, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evaluation.assignments import agency_key, lead_matches, task_matches

PLAN = """III. TỔ CHỨC THỰC HIỆN

1. Sở Tài chính: Bố trí kinh phí thực hiện kế hoạch trong dự toán năm 2026.

2. Sở Y tế

- Chủ trì, phối hợp với Sở Tài chính kiểm tra an toàn thực phẩm tại các chợ đầu mối.

- Phối hợp với Công an tỉnh điều tra các vụ ngộ độc thực phẩm đông người.

Trên đây là Kế hoạch kiểm tra an toàn thực phẩm năm 2026 của tỉnh.

Nơi nhận:

- Bộ Y tế;
"""

LABELS = [
    ("Bố trí kinh phí thực hiện kế hoạch trong dự toán năm 2026", "Sở Tài chính"),
    ("kiểm tra an toàn thực phẩm tại các chợ đầu mối", "Sở Y tế"),
    ("điều tra các vụ ngộ độc thực phẩm đông người", "Công an tỉnh"),
    # Stated nowhere in the plan: a miss the harness must count.
    ("Tổ chức tập huấn cho người kinh doanh thực phẩm", "Sở Công Thương"),
]


def _fixture(tmp_path: Path) -> tuple[Path, Path]:
    docs = tmp_path / "plans" / "docs"
    docs.mkdir(parents=True)
    (docs / "ke-hoach.md").write_text(PLAN, encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    rows = [
        {"set": "plans", "file": "ke-hoach.md", "task": t, "lead": lead, "partners": []}
        for t, lead in LABELS
    ]
    labels.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    return tmp_path / "plans", labels


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policy_search.cli", "eval", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_precision_and_recall_per_document_through_the_cli(tmp_path: Path) -> None:
    plans, labels = _fixture(tmp_path)
    proc = _run("--assignments", str(plans), "--labels", str(labels), "--markdown")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| plans")]
    # 3 of 4 labels found; the 3 predicted in-charge pairs are right (the closing line and
    # the recipients give none, Sở Y tế only cooperates on the investigation).
    assert rows == ["| plans | ke-hoach.md | 4 | 3 | 1.00 | 0.75 |"]
    assert "| all | overall | 4 | 3 | 1.00 | 0.75 |" in proc.stdout


def test_an_absent_path_is_said_and_the_rest_is_scored(tmp_path: Path) -> None:
    plans, labels = _fixture(tmp_path)
    missing = tmp_path / "admindocs"
    proc = _run("--assignments", str(plans), str(missing), "--labels", str(labels))
    assert proc.returncode == 0, proc.stderr
    assert f"absent: {missing}" in proc.stdout
    assert "ke-hoach.md" in proc.stdout
    proc = _run("--assignments", str(missing), "--labels", str(labels))
    assert proc.returncode == 1
    assert "no labelled document" in proc.stdout


def test_matching_rules() -> None:
    assert agency_key("Giám đốc Sở Y tế") == "so y te"
    assert lead_matches("UBND các xã, phường", "Ủy ban nhân dân các xã, phường")
    assert lead_matches(
        "Bộ Khoa học và Công nghệ, Bộ Thông tin và Truyền thông", "Bộ Khoa học và Công nghệ"
    )
    assert not lead_matches("Sở Y tế", "Sở Tài chính")
    assert not lead_matches("Bộ Y tế", "Y")  # a one-word name is no containment match
    assert task_matches(
        "kiểm tra an toàn thực phẩm tại các chợ",
        "Chủ trì kiểm tra an toàn thực phẩm tại các chợ đầu mối.",
    )
    assert not task_matches(
        "kiểm tra an toàn thực phẩm tại các chợ", "Tổ chức tập huấn về an toàn thực phẩm."
    )


DECISION = """QUYẾT ĐỊNH

Điều 1. Giao Sở Công Thương chủ trì, phối hợp với Sở Y tế kiểm tra các cơ sở giết mổ gia cầm trước ngày 30/6/2026.

Điều 2. Chánh Văn phòng UBND tỉnh, Giám đốc Sở Công Thương, Chủ tịch UBND các huyện và các cơ quan có liên quan chịu trách nhiệm thi hành Quyết định này./.
"""


def test_execution_labels_and_record_fields_are_scored_apart(tmp_path: Path) -> None:
    docs = tmp_path / "admindocs" / "docs"
    docs.mkdir(parents=True)
    (docs / "quyet-dinh.md").write_text(DECISION, encoding="utf-8")
    base = {"set": "admindocs", "file": "quyet-dinh.md"}
    execute = {**base, "task": "chịu trách nhiệm thi hành Quyết định này", "role": "execute"}
    rows = [
        {
            **base,
            "task": "kiểm tra các cơ sở giết mổ gia cầm",
            "lead": "Sở Công Thương",
            "partners": ["Sở Y tế"],
            "deadline": "trước ngày 30/6/2026",
        },
        {**execute, "lead": "Văn phòng UBND tỉnh"},
        {**execute, "lead": "Sở Công Thương"},
        {**execute, "lead": "UBND các huyện"},
        {**execute, "lead": "Sở Tư pháp"},  # not listed: a miss
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    proc = _run("--assignments", str(tmp_path / "admindocs"), "--labels", str(labels))
    assert proc.returncode == 0, proc.stderr
    lead_part, execution_part = proc.stdout.split("execution articles")
    # The execution article's records are no task of Sở Công Thương's: one label, one pair.
    assert "quyet-dinh.md" in lead_part and " 1     1  1.00  1.00" in lead_part
    assert "record fields, on the labels met: deadline 1 of 1, partners 1 of 1" in lead_part
    assert " 4     3  1.00  0.75" in execution_part
