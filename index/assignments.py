"""The assignment files of an index version: who does what, with the tasks' vectors.

Extraction is :mod:`ingest.assignments` (it reads documents); this is the
index's file format for it, written by the write pipeline (:mod:`index.build`)
and read back by the answerer and the document API.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.assignments import (
    EXECUTE,
    KNOWN_AGENCIES,
    Assignment,
    document_abbreviations,
    extract_assignments,
    locate_chunks,
)
from ingest.text import fold

# Files of an index version (written by index.build through NewVersion.extra_files).
ASSIGNMENTS_JSON = "assignments.json"
ASSIGNMENTS_NPY = "assignments.npy"  # row i: passage vector of assignment i's task
# 2: records carry lead, partners, output, section path, source span and ``via``, and
# execution records (role ``execute``) are stored. Format 1 files still load.
ASSIGNMENTS_FORMAT = 2


def load_agency_names(version_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Agencies an index version's documents assign tasks to or name as sections, and the
    abbreviations they define ({"STC": "Sở Tài chính"}); empty for older versions."""
    path = version_dir / ASSIGNMENTS_JSON
    if not path.exists():
        return [], {}
    data = json.loads(path.read_text(encoding="utf-8"))
    names: dict[str, None] = {}
    for a in data["assignments"]:
        names[a["agency"]] = None
        names[a["stated_in"]] = None
    return list(names), dict(data.get("abbreviations", {}))


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, dtype=np.float32))
    return buf.getvalue()


def load_assignments(
    version_dir: Path, execution: bool = False
) -> tuple[list[Assignment], np.ndarray | None]:
    """The assignments of an index version and their task vectors ([] for older versions).

    Without ``execution``, the records of an execution article ("… chịu trách nhiệm thi
    hành Quyết định này") are left out: they say who carries a decision out, not a task,
    and an agency's task list must not fill with them."""
    path = version_dir / ASSIGNMENTS_JSON
    if not path.exists():
        return [], None
    data = json.loads(path.read_text(encoding="utf-8"))
    items = [Assignment.from_json(a) for a in data["assignments"]]
    npy = version_dir / ASSIGNMENTS_NPY
    vectors = np.load(npy) if npy.exists() else None
    if vectors is not None and len(vectors) != len(items):
        vectors = None
    if not execution:
        keep = [i for i, a in enumerate(items) if a.role != EXECUTE]
        if len(keep) < len(items):
            items = [items[i] for i in keep]
            vectors = vectors[keep] if vectors is not None else None
    return items, vectors


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Folded words, "UBND" read as "Ủy ban nhân dân" (how plans abbreviate it)."""
    return " ".join(_WORD.findall(fold(text))).replace("ubnd", "uy ban nhan dan").split()


def _holds(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


@dataclass
class AssignmentTable:
    """Every record of an index version (execution records included), to filter."""

    records: list[Assignment]
    abbreviations: dict[str, str]  # {"STC": "Sở Tài chính"}, as the documents define them

    def __post_init__(self) -> None:
        self._agency_words = {a.agency: _words(a.agency) for a in self.records}
        self._task_words = [set(_words(a.task)) for a in self.records]
        self._abbreviations = {fold(k): fold(v) for k, v in self.abbreviations.items()}

    def select(
        self,
        agency: str | None = None,
        doc_ids: Collection[str] | None = None,
        q: str | None = None,
    ) -> list[Assignment]:
        """Records in stored order whose agency holds ``agency`` as whole words, folded (or
        is the agency a document's abbreviation stands for), in ``doc_ids``, and whose task
        has every word of ``q``."""
        wanted = _words(agency) if agency else []
        by_abbreviation = self._abbreviations.get(fold(agency or "").strip())
        terms = set(_words(q)) if q else set()
        out = []
        for a, task_words in zip(self.records, self._task_words, strict=True):
            if doc_ids is not None and a.doc_id not in doc_ids:
                continue
            if terms and not terms <= task_words:
                continue
            if wanted and not (
                _holds(self._agency_words[a.agency], wanted)
                or (by_abbreviation is not None and fold(a.agency) == by_abbreviation)
            ):
                continue
            out.append(a)
        return out


def load_table(version_dir: Path) -> AssignmentTable:
    """The records and abbreviations of an index version (empty for versions without)."""
    path = version_dir / ASSIGNMENTS_JSON
    if not path.exists():
        return AssignmentTable([], {})
    data = json.loads(path.read_text(encoding="utf-8"))
    return AssignmentTable(
        [Assignment.from_json(a) for a in data["assignments"]],
        dict(data.get("abbreviations", {})),
    )


def assignment_files(
    documents: Sequence[Any],
    chunk_texts: dict[str, list[str]],
    embed_passages: Callable[[list[str]], np.ndarray],
    dim: int,
    previous_dir: Path | None = None,
) -> dict[str, bytes]:
    """The assignment files for a new index version.

    ``documents`` are stored documents (``doc_id`` and ``blocks``); extraction is
    cheap and re-run for all of them, while task vectors are re-used from the
    previous version (same embedder) by task text, so only new tasks are embedded.
    """
    items: list[Assignment] = []
    abbreviations: dict[str, str] = {}
    for doc in documents:
        found = extract_assignments(doc.doc_id, doc.blocks)
        locate_chunks(found, chunk_texts.get(doc.doc_id, []))
        items.extend(found)
        names = [*KNOWN_AGENCIES, *{a.agency for a in found}]
        abbreviations.update(document_abbreviations([str(b[0]) for b in doc.blocks], names))
    known: dict[str, np.ndarray] = {}
    if previous_dir is not None:
        old, old_vectors = load_assignments(previous_dir)
        if old_vectors is not None:
            known = {a.task: old_vectors[i] for i, a in enumerate(old)}
    missing = sorted({a.task for a in items} - set(known))
    if missing:
        known.update(zip(missing, embed_passages(missing), strict=True))
    vectors = (
        np.stack([known[a.task] for a in items]) if items else np.zeros((0, dim), dtype=np.float32)
    )
    payload = {
        "format": ASSIGNMENTS_FORMAT,
        "assignments": [a.to_json() for a in items],
        "abbreviations": abbreviations,
    }
    return {
        ASSIGNMENTS_JSON: json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        ASSIGNMENTS_NPY: _npy_bytes(vectors),
    }
