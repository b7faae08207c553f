"""An index folder copied by a tool that follows links still takes uploads (never a 500)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
