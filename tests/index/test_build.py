"""Building, incremental re-ingest, atomic versions and consistency checks, on real FAISS."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.store import IndexUnavailable, Snapshot, current_path, open_current


def _doc_ids(index_dir: Path) -> set[str]:
    return {d.doc_id for d in open_current(index_dir).documents()}


def test_corpus_index_parts_agree(corpus_index, embedder):
    snap = open_current(corpus_index)
    assert len(snap.documents()) == 5
    assert snap.manifest["counts"]["chunks"] == len(snap) == snap.vectors.shape[0]
    assert snap.manifest["embedder"] == embedder.name
    assert snap.manifest["dim"] == 384
    assert snap.manifest["chunker"]["chunk_tokens"] > 0
    norms = np.linalg.norm(np.asarray(snap.vectors), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)
    # Row i of the FAISS index is chunk i: searching a stored vector finds its own chunk.
    hits = snap.search_dense(np.asarray(snap.vectors[7]), 1)
    assert hits[0][0] == 7


def test_incremental_reingest_edit_add_delete(tmp_path, corpus_copy, embedder):
    index_dir = tmp_path / "idx"
    first = build_index([corpus_copy], index_dir, embedder)
    assert len(first.added) == 5 and first.embedded_chunks > 0

    first_snap = open_current(index_dir)
    before_001 = np.asarray(
        first_snap.vectors[[c.id for c in first_snap.doc_chunks("001_1239ce19dc31f053")]]
    )
    again = build_index([corpus_copy], index_dir, embedder)
    assert again.embedded_chunks == 0
    assert sorted(again.unchanged) == sorted(first.added)

    news = corpus_copy / "003_c37eb1d54eca6eb1.txt"
    # Edited in the body: text after "Thống kê truy cập" is page furniture and is dropped.
    news.write_text(
        news.read_text().replace(
            "Cổng TTĐT tỉnh", "Trà Vinh phát triển điện gió ngoài khơi.\n\nCổng TTĐT tỉnh"
        )
    )
    (corpus_copy / "004_0ae3777ec9422ce6.txt").unlink()
    (corpus_copy / "moi").mkdir()
    (corpus_copy / "moi" / "thoa-thuan.md").write_text(
        "# Bình Định ký kết hợp tác với Fukuoka\n\nSáng 5/3/2025, UBND tỉnh Bình Định ký kết "
        "biên bản ghi nhớ về năng lượng sạch với tỉnh Fukuoka.\n"
    )
    report = build_index([corpus_copy], index_dir, embedder)
    assert report.updated == ["003_c37eb1d54eca6eb1"]
    assert report.removed == ["004_0ae3777ec9422ce6"]
    assert report.added == ["moi-thoa-thuan"]
    assert len(report.unchanged) == 3
    snap = open_current(index_dir)
    assert _doc_ids(index_dir) == {
        "000_336029cc1bf055f9",
        "001_1239ce19dc31f053",
        "002_63641acebfdc804f",
        "003_c37eb1d54eca6eb1",
        "moi-thoa-thuan",
    }
    new_doc = snap.document("moi-thoa-thuan")
    assert new_doc is not None and new_doc.date == "2025-03-05"
    assert new_doc.provinces == ["Bình Định"]
    # Only the edited and added documents were embedded.
    edited_chunks = len(snap.doc_chunks("003_c37eb1d54eca6eb1"))
    assert report.embedded_chunks == edited_chunks + len(snap.doc_chunks("moi-thoa-thuan"))
    assert "điện gió ngoài khơi" in " ".join(
        c.text for c in snap.doc_chunks("003_c37eb1d54eca6eb1")
    )
    # Unchanged documents kept their vectors bit for bit: they were not embedded again.
    kept = snap.doc_chunks("001_1239ce19dc31f053")
    assert np.array_equal(np.asarray(snap.vectors[[c.id for c in kept]]), before_001)


def test_bad_files_are_reported_and_the_rest_is_indexed(tmp_path, corpus_copy, embedder):
    (corpus_copy / "hong.pdf").write_bytes(b"%PDF-1.4 broken")
    (corpus_copy / "rong.txt").write_bytes(b"")
    report = build_index([corpus_copy], tmp_path / "idx", embedder)
    reasons = {p.path.name: p.reason for p in report.problems}
    assert set(reasons) == {"hong.pdf", "rong.txt"}
    assert "empty" in reasons["rong.txt"]
    assert len(report.added) == 5


def test_file_that_turns_bad_keeps_its_last_good_version(tmp_path, corpus_copy, embedder):
    index_dir = tmp_path / "idx"
    build_index([corpus_copy], index_dir, embedder)
    (corpus_copy / "003_c37eb1d54eca6eb1.txt").write_bytes(b"\x00\x01binary")
    report = build_index([corpus_copy], index_dir, embedder)
    assert [p.path.name for p in report.problems] == ["003_c37eb1d54eca6eb1.txt"]
    assert "003_c37eb1d54eca6eb1" in _doc_ids(index_dir)


def test_half_written_version_is_ignored_and_cleaned(tmp_path, corpus_copy, embedder):
    index_dir = tmp_path / "idx"
    build_index([corpus_copy], index_dir, embedder)
    serving = current_path(index_dir)
    # What a build killed mid-write leaves behind: a temporary folder, never `current`.
    leftover = index_dir / "versions" / ".tmp-crashed"
    shutil.copytree(serving, leftover)
    (leftover / "dense.faiss").write_bytes(b"truncated")
    assert open_current(index_dir).path == serving
    build_index([corpus_copy], index_dir, embedder)
    assert not leftover.exists()


def test_inconsistent_version_is_refused(tmp_path, corpus_copy, embedder):
    index_dir = tmp_path / "idx"
    build_index([corpus_copy], index_dir, embedder)
    path = current_path(index_dir)
    db = sqlite3.connect(path / "chunks.sqlite")
    db.execute("DELETE FROM chunks WHERE id = (SELECT MAX(id) FROM chunks)")
    db.commit()
    db.close()
    with pytest.raises(IndexUnavailable, match="inconsistent"):
        Snapshot(path)


def test_embedder_mismatch_is_refused(corpus_index):
    snap = open_current(corpus_index)
    with pytest.raises(IndexUnavailable, match="built with embedder"):
        snap.check_embedder("st:some-other-model")


def test_no_pickle_in_index_files(corpus_index):
    version = current_path(corpus_index)
    names = sorted(p.name for p in version.iterdir())
    assert {"chunks.sqlite", "dense.faiss", "manifest.json", "vectors.npy"} <= set(names)
    # The lexical index and the accent model add their own .json and .npy files.
    assert {"lexical.json", "accents.json"} <= set(names)
    # Responsibility assignments extracted from plans, with their task vectors.
    assert {"assignments.json", "assignments.npy"} <= set(names)
    for name in names:
        assert name.endswith((".sqlite", ".faiss", ".json", ".npy")), name
        if name.endswith(".json"):
            json.loads((version / name).read_text())
        elif name.endswith(".npy"):
            np.load(version / name, allow_pickle=False)


def test_old_versions_are_collected(tmp_path, corpus_copy, embedder):
    index_dir = tmp_path / "idx"
    for _ in range(4):
        build_index([corpus_copy], index_dir, embedder)
    versions = [p for p in (index_dir / "versions").iterdir()]
    assert len(versions) == 2
    assert current_path(index_dir) in [v.resolve() for v in versions]
    assert os.path.islink(index_dir / "current")
