"""The assignment files of an index version: who does what, with the tasks' vectors.

Extraction is :mod:`ingest.assignments` (it reads documents); this is the
index's file format for it, written by the write pipeline (:mod:`index.build`)
and read back by the answerer and the document API.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.assignments import (
    KNOWN_AGENCIES,
    Assignment,
    document_abbreviations,
    extract_assignments,
    locate_chunks,
)

# Files of an index version (written by index.build through NewVersion.extra_files).
ASSIGNMENTS_JSON = "assignments.json"
ASSIGNMENTS_NPY = "assignments.npy"  # row i: passage vector of assignment i's task


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


def load_assignments(version_dir: Path) -> tuple[list[Assignment], np.ndarray | None]:
    """The assignments of an index version and their task vectors ([] for older versions)."""
    path = version_dir / ASSIGNMENTS_JSON
    if not path.exists():
        return [], None
    data = json.loads(path.read_text(encoding="utf-8"))
    items = [Assignment.from_json(a) for a in data["assignments"]]
    npy = version_dir / ASSIGNMENTS_NPY
    vectors = np.load(npy) if npy.exists() else None
    if vectors is not None and len(vectors) != len(items):
        vectors = None
    return items, vectors


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
        "format": 1,
        "assignments": [a.to_json() for a in items],
        "abbreviations": abbreviations,
    }
    return {
        ASSIGNMENTS_JSON: json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        ASSIGNMENTS_NPY: _npy_bytes(vectors),
    }
