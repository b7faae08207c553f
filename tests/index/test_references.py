"""References resolved per index version: a document added later resolves the references
that were waiting for it, and one removed leaves them unresolved again."""

from __future__ import annotations

from pathlib import Path

from official import DECISION_TTG, PLAN

from index.build import build_index
from index.references import reference_table
from index.store import Snapshot, current_path


def _table(index_dir: Path):  # type: ignore[no-untyped-def]
    path = current_path(index_dir)
    assert path is not None
    snap = Snapshot(path)
    return snap, reference_table(snap)


def test_references_follow_the_version(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.txt").write_text(PLAN, encoding="utf-8")
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder)
    snap, table = _table(index_dir)
    (plan,) = [d.doc_id for d in snap.documents()]
    refs = {r["number"]: r["doc_id"] for r in table.references[plan]}
    assert refs == {"1658/QĐ-TTg": None, "08/2022/NĐ-CP": None, "02/2022/TT-BTNMT": None}
    # Not indexed, the decision is still found cited, by a short form too.
    assert [c.doc_id for c in table.citing("1658", code="QD")] == [plan]
    assert table.citing("1658", code="NQ") == []

    (docs / "decision.txt").write_text(DECISION_TTG, encoding="utf-8")
    build_index([docs], index_dir, embedder)  # incremental: the plan is not read again
    snap, table = _table(index_dir)
    decision = next(d.doc_id for d in snap.documents() if d.doc_id != plan)
    refs = {r["number"]: r["doc_id"] for r in table.references[plan]}
    assert refs["1658/QĐ-TTg"] == decision
    assert [c.doc_id for c in table.cited_by[decision]] == [plan]
    assert table.documents_numbered("1658", key="1658/QD-TTG") == [decision]

    (docs / "decision.txt").unlink()
    build_index([docs], index_dir, embedder)
    snap, table = _table(index_dir)
    assert {r["doc_id"] for r in table.references[plan]} == {None}
    assert table.cited_by == {}
