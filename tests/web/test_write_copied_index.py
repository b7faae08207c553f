"""An index folder copied by a tool that follows links still takes uploads (never a 500)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

TEXT = "Kế hoạch nuôi cá hồi vân ở thị xã Sa Pa. Sở Nông nghiệp chủ trì hướng dẫn kỹ thuật."


def _upload(client, headers):
    return client.post(
        "/api/documents",
        files=[("files", ("ca-hoi.txt", TEXT.encode(), "text/plain"))],
        headers=headers,
    )


def test_a_copied_index_accepts_uploads(corpus_index: Path, tmp_path, make_client, admin_headers):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=False)  # `current` becomes a folder
    assert not (index / "current").is_symlink()
    client, _, _ = make_client(index)
    r = _upload(client, admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["files"][0]["status"] == "added"
    assert (index / "current").is_symlink()
    hit = client.get("/api/search", params={"q": "nuôi cá hồi ở Sa Pa", "k": 1}).json()
    assert hit["results"][0]["doc_id"] == "ca-hoi"


def test_a_current_folder_that_is_no_version_is_a_clear_503(
    corpus_index: Path, tmp_path, make_client, admin_headers
):
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    client, _, _ = make_client(index)
    (index / "current").unlink()
    (index / "current").mkdir()  # what a broken copy leaves: a folder that is no version
    r = _upload(client, admin_headers)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "index_unavailable"
    assert "is a folder, not a link to a version" in r.json()["detail"]


# --- a `cp -r` copy names its own uploads (issue 25, §6) -------------------------------------

ORIGINAL = "Kế hoạch nuôi cá tầm ở huyện Sa Pa. Sở Nông nghiệp cấp giống cho các hộ nuôi."
REVISED = "Kế hoạch nuôi cá tầm ở huyện Bát Xát. Trung tâm khuyến nông cấp giống cá tầm."


def _upload_text(client, headers, text: str):
    return client.post(
        "/api/documents",
        files=[("files", ("ca-tam.txt", text.encode(), "text/plain"))],
        headers=headers,
    )


def _absolute_paths(index: Path) -> None:
    """Write upload paths as versions made before they were relative did: absolute."""
    version = (index / "current").resolve()
    db = sqlite3.connect(version / "chunks.sqlite")
    rows = db.execute("SELECT doc_id, path, root FROM documents").fetchall()
    for doc_id, path, root in rows:
        if not os.path.isabs(path):
            db.execute(
                "UPDATE documents SET path = ?, root = ? WHERE doc_id = ?",
                (str(index / path), str(index / root), doc_id),
            )
    db.commit()
    db.close()


@pytest.mark.parametrize("stored", ["relative", "absolute (an older index)"])
def test_a_cp_r_copy_replaces_serves_and_deletes_its_own_upload_files(
    stored: str, index_copy: Path, tmp_path, make_client, admin_headers
) -> None:
    original = index_copy
    client, _, _ = make_client(original)
    assert _upload_text(client, admin_headers, ORIGINAL).status_code == 200
    if stored != "relative":
        _absolute_paths(original)
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)  # what `cp -r` does: links stay links
    kept = (original / "uploads" / "ca-tam.txt").read_bytes()

    client, _, _ = make_client(copy)
    # The file route serves the copy's file: change it, and the route shows the change.
    (copy / "uploads" / "ca-tam.txt").write_text(ORIGINAL + " (bản sao)", encoding="utf-8")
    r = client.get("/api/documents/ca-tam/file")
    assert r.status_code == 200 and r.content.decode().endswith("(bản sao)")

    # Re-uploading the name replaces the copy's document (was: "already exists (from
    # /orig/uploads/ca-tam.txt)").
    r = _upload_text(client, admin_headers, REVISED)
    assert r.status_code == 200, r.text
    assert r.json()["files"][0]["status"] == "updated"
    assert (copy / "uploads" / "ca-tam.txt").read_text(encoding="utf-8") == REVISED
    assert client.get("/api/documents/ca-tam/file").content.decode() == REVISED

    # A delete removes the copy's file; the original index is untouched throughout.
    assert client.delete("/api/documents/ca-tam", headers=admin_headers).status_code == 200
    assert not (copy / "uploads" / "ca-tam.txt").exists()
    assert (original / "uploads" / "ca-tam.txt").read_bytes() == kept
    client, _, _ = make_client(original)
    assert client.get("/api/documents/ca-tam/file").content == kept


def test_a_current_link_to_a_missing_version_gets_a_503_naming_the_safe_fix(
    index_copy: Path, make_client
) -> None:
    (index_copy / "current").unlink()
    os.symlink("versions/missing", index_copy / "current")
    client, _, _ = make_client(index_copy)
    r = client.get("/api/search", params={"q": "nuôi cá"})
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert "names version 'missing', which is missing" in detail
    assert "`policy-search rollback`" in detail and "`policy-search restore BACKUP`" in detail
    assert "build one with `policy-search ingest`" not in detail
