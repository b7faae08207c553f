"""The assignment files of an index version: written as JSON and .npy, read back whole
for the API and without execution records for the answers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from index.assignments import (
    ASSIGNMENTS_JSON,
    ASSIGNMENTS_NPY,
    assignment_files,
    load_assignments,
    load_table,
)

DECISION = [
    ["QUYẾT ĐỊNH", 1, 0],
    ["Điều 1. Giao Sở Tài chính (STC) chủ trì, phối hợp với Sở Nội vụ rà soát biên chế.", 1, None],
    [
        "Điều 2. Chánh Văn phòng UBND tỉnh, Giám đốc Sở Tài chính chịu trách nhiệm thi hành "
        "Quyết định này./.",
        1,
        None,
    ],
]


def _embed(texts: list[str]) -> np.ndarray:
    # One distinct vector a task, so that rows can be told apart after filtering.
    return np.array([[float(len(t)), float(i)] for i, t in enumerate(texts)], dtype=np.float32)


def _version(tmp_path: Path) -> Path:
    doc = SimpleNamespace(doc_id="qd-1", blocks=DECISION)
    files = assignment_files([doc], {"qd-1": [b[0] for b in DECISION]}, _embed, dim=2)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_answers_read_no_execution_records_and_keep_vectors_aligned(tmp_path: Path) -> None:
    version = _version(tmp_path)
    table = load_table(version)
    assert {a.role for a in table.records} == {"lead", "cooperate", "execute"}
    assert table.abbreviations == {"STC": "Sở Tài chính"}
    everything, all_vectors = load_assignments(version, execution=True)
    items, vectors = load_assignments(version)
    assert [a.role for a in items] == ["lead", "cooperate"]
    assert vectors is not None and all_vectors is not None
    assert len(vectors) == len(items)
    for a, row in zip(items, vectors, strict=True):
        assert (all_vectors[everything.index(a)] == row).all()
    # No pickle: plain JSON and an .npy that loads without it.
    json.loads((version / ASSIGNMENTS_JSON).read_text(encoding="utf-8"))
    np.load(version / ASSIGNMENTS_NPY, allow_pickle=False)


def test_the_table_filters_by_agency_abbreviation_document_and_task_words(tmp_path: Path) -> None:
    table = load_table(_version(tmp_path))
    by_name = table.select(agency="so tai chinh")
    assert {a.role for a in by_name} == {"lead", "execute"}
    assert table.select(agency="STC") == by_name
    assert [a.agency for a in table.select(agency="ubnd tinh")] == ["Văn phòng UBND tỉnh"]
    assert table.select(doc_ids=set()) == []
    assert {a.agency for a in table.select(q="ra soat bien che")} == {"Sở Tài chính", "Sở Nội vụ"}


def test_a_version_written_before_records_had_their_fields_still_loads(tmp_path: Path) -> None:
    old = {
        "format": 1,
        "assignments": [
            {
                "doc_id": "kh",
                "agency": "Sở Y tế",
                "role": "lead",
                "task": "kiểm tra an toàn thực phẩm",
                "text": "Sở Y tế chủ trì kiểm tra an toàn thực phẩm",
                "section": "III",
                "page": 1,
                "stated_in": "Sở Y tế",
                "chunk": 3,
                "deadline": "",
            }
        ],
        "abbreviations": {},
    }
    (tmp_path / ASSIGNMENTS_JSON).write_text(json.dumps(old), encoding="utf-8")
    items, vectors = load_assignments(tmp_path)
    assert vectors is None
    assert (items[0].agency, items[0].lead, items[0].partners) == ("Sở Y tế", "", [])
    assert load_table(tmp_path).select(agency="so y te") == items
    assert load_table(tmp_path / "absent").records == []
