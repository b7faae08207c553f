"""Uploads and deletes with the milvus backend: searches see them when the call returns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="milvus tests need pymilvus: pip install '.[milvus]'")
pytest.importorskip("milvus_lite", reason="milvus tests need milvus-lite (local Milvus)")


def test_uploads_and_deletes_are_published_to_milvus(
    corpus_index: Path, tmp_path: Path, make_client, admin_headers
) -> None:
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    client, _, _ = make_client(
        index, index_backend="milvus", milvus_uri=str(tmp_path / "milvus.db")
    )
    text = "Kế hoạch nuôi cá hồi vân ở thị xã Sa Pa. Sở Nông nghiệp chủ trì hướng dẫn kỹ thuật."
    r = client.post(
        "/api/documents",
        files=[("files", ("ca-hoi.txt", text.encode(), "text/plain"))],
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    r = client.get("/api/search", params={"q": "nuôi cá hồi ở Sa Pa", "k": 1})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["doc_id"] == "ca-hoi"

    r = client.delete("/api/documents/ca-hoi", headers=admin_headers)
    assert r.status_code == 200, r.text
    r = client.get("/api/search", params={"q": "nuôi cá hồi ở Sa Pa", "k": 5})
    assert r.status_code == 200, r.text
    assert "ca-hoi" not in [x["doc_id"] for x in r.json()["results"]]
