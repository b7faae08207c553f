"""The assignment files of an index version: who does what, with the tasks' vectors.

Extraction is :mod:`ingest.assignments` (it reads documents); this is the
index's file format for it, written by the write pipeline (:mod:`index.build`)
and read back by the answerer and the document API.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import ingest
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


# The code and data records are made by: records of a document whose blocks did not
# change are taken from the previous version only when these files are byte for byte
# the same (a new release extracts them again).
_EXTRACTOR_FILES = [
    Path(ingest.__file__).parent / name
    for name in ("assignments.py", "structure.py", "tables.py", "text.py", "data/agencies.txt")
] + [Path(__file__)]


@functools.cache
def extractor_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _EXTRACTOR_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _previous_records(
    previous_dir: Path | None, kept: Collection[str]
) -> tuple[dict[str, list[int]], list[dict[str, Any]], dict[str, dict[str, str]], Any]:
    """What the previous version's file holds for the documents in ``kept``: (doc id ->
    its record numbers, the records as stored, doc id -> its abbreviations, the task
    vectors or None); empty when the file was made by other code or has no vectors."""
    empty: tuple[dict[str, list[int]], list[dict[str, Any]], dict[str, dict[str, str]], Any] = (
        {},
        [],
        {},
        None,
    )
    if previous_dir is None or not kept:
        return empty
    path = previous_dir / ASSIGNMENTS_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vectors = np.load(previous_dir / ASSIGNMENTS_NPY, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return empty
    records = data.get("assignments", [])
    if data.get("extractor") != extractor_fingerprint() or len(vectors) != len(records):
        return empty
    by_doc: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if record["doc_id"] in kept:
            by_doc.setdefault(record["doc_id"], []).append(i)
    by_document = data.get("document_abbreviations", {})
    return by_doc, records, {d: by_document.get(d, {}) for d in kept}, vectors


def carried_documents(previous_dir: Path | None, kept: Collection[str]) -> frozenset[str]:
    """The documents of ``kept`` whose records :func:`assignment_files` copies from the
    previous version: all of them when this extractor made its file, else none (then every
    document is read again, so its blocks are needed)."""
    return frozenset(_previous_records(previous_dir, kept)[2])


def assignment_files(
    documents: Sequence[Any],
    chunk_texts: dict[str, list[str]],
    embed_passages: Callable[[list[str]], np.ndarray],
    dim: int,
    previous_dir: Path | None = None,
    kept: Collection[str] = (),
) -> dict[str, bytes]:
    """The assignment files for a new index version.

    ``documents`` are stored documents (``doc_id`` and ``blocks``; read one at a time).
    Those in ``kept`` have the blocks and chunks they had in the previous version: their
    records, abbreviations and task vectors are copied from it when the same extractor
    made them (:func:`extractor_fingerprint`), so a re-ingest that changed a few
    documents reads only those. The others are extracted; their task vectors are
    re-used from the previous version (same embedder) by task text, so only new tasks
    are embedded.
    """
    old_rows, old_records, old_abbreviations, old_vectors = _previous_records(previous_dir, kept)
    records: list[dict[str, Any]] = []
    rows: list[int | str] = []  # per record: its row in the previous file, or its task
    abbreviations: dict[str, str] = {}
    by_document: dict[str, dict[str, str]] = {}
    for doc in documents:
        if doc.doc_id in old_abbreviations:
            for i in old_rows.get(doc.doc_id, []):
                records.append(old_records[i])
                rows.append(i)
            own = old_abbreviations[doc.doc_id]
        else:
            found = extract_assignments(doc.doc_id, doc.blocks)
            locate_chunks(found, chunk_texts.get(doc.doc_id, []))
            for a in found:
                records.append(a.to_json())
                rows.append(a.task)
            names = [*KNOWN_AGENCIES, *{a.agency for a in found}]
            own = document_abbreviations([str(b[0]) for b in doc.blocks], names)
        abbreviations.update(own)
        if own:
            by_document[doc.doc_id] = own
    known: dict[str, np.ndarray] = {}
    tasks = {r for r in rows if isinstance(r, str)}
    if previous_dir is not None and tasks:
        old, vectors = load_assignments(previous_dir, execution=True)
        if vectors is not None:
            known = {a.task: vectors[i] for i, a in enumerate(old) if a.task in tasks}
    missing = sorted(tasks - set(known))
    if missing:
        known.update(zip(missing, embed_passages(missing), strict=True))
    out = np.zeros((len(records), dim), dtype=np.float32)
    for j, row in enumerate(rows):
        out[j] = known[row] if isinstance(row, str) else old_vectors[row]
    payload = {
        "format": ASSIGNMENTS_FORMAT,
        "extractor": extractor_fingerprint(),
        "assignments": records,
        "abbreviations": abbreviations,
        "document_abbreviations": by_document,
    }
    return {
        ASSIGNMENTS_JSON: json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        ASSIGNMENTS_NPY: _npy_bytes(out),
    }
