"""Uploads that hit the file system's limits: long names, a full disk, an unwritable folder.

Every one ends in a JSON answer, leaves no stray file in ``uploads/`` and no
staging folder, keeps the previous index version serving, and lets the valid
files of the batch through when only one file is at fault.

The full disk is a real one where the tests may mount a small tmpfs (as root);
elsewhere the process's file-size limit (``RLIMIT_FSIZE``) makes the kernel
refuse the writes instead. Everything else is the real app on a real index.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import pytest
from fsfull import file_size_limit, small_disk

from index.store import current_path
from web.admin import STAGING, sweep_staging

TOPIC = "Kế hoạch nuôi cá hồi.txt"
TOPIC_TEXT = (
    "Kế hoạch phát triển nghề nuôi cá hồi vân ở thị xã Sa Pa năm 2026. "
    "Sở Nông nghiệp và Môi trường chủ trì hướng dẫn kỹ thuật nuôi cá nước lạnh."
)
OTHER = "Kế hoạch trồng chè Shan tuyết.txt"
OTHER_TEXT = (
    "Kế hoạch phát triển vùng chè Shan tuyết cổ thụ ở Hoàng Su Phì, tỉnh Hà Giang. "
    "Sở Công Thương phối hợp xây dựng thương hiệu chè."
)


def _files(*items: tuple[str, bytes]) -> list:
    return [("files", (name, data, "text/plain")) for name, data in items]


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _no_staging_left(upload_dir: Path) -> None:
    assert not list((upload_dir / STAGING).glob("*")), list((upload_dir / STAGING).glob("*"))


def _doc_ids(client) -> set[str]:  # type: ignore[no-untyped-def]
    return {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}


def test_a_long_multibyte_name_is_cut_at_255_bytes_and_the_batch_goes_on(
    index_copy, make_client, admin_headers
):
    client, _, settings = make_client(index_copy)
    long_name = "ệ" * 149 + ".txt"  # 149 characters, 451 bytes
    r = client.post(
        "/api/documents",
        files=_files((long_name, OTHER_TEXT.encode()), (TOPIC, TOPIC_TEXT.encode())),
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["status"] for f in body["files"]] == ["added", "added"], body
    stored = [p.name for p in settings.uploads_path.iterdir() if p.suffix == ".txt"]
    assert len(stored) == 2
    assert all(len(name.encode()) <= 255 for name in stored)
    assert max(stored, key=len).startswith("ệ" * 80) and max(stored, key=len).endswith(".txt")
    _no_staging_left(settings.uploads_path)


def test_a_name_the_file_system_refuses_is_that_files_rejection(
    index_copy, make_client, admin_headers, tmp_path
):
    # A real ENAMETOOLONG: the upload folder sits so deep that a 253-byte name pushes the
    # staged file's path past PATH_MAX (4096 bytes), while short names still fit.
    deep = tmp_path
    while len(str(deep).encode()) < 3810:
        deep = deep / ("d" * min(200, 3810 - len(str(deep).encode()) - 1))
    deep.mkdir(parents=True)
    client, _, _ = make_client(index_copy, upload_dir=deep)
    version = current_path(index_copy)
    r = client.post(
        "/api/documents",
        files=_files(("ệ" * 149 + ".txt", OTHER_TEXT.encode()), (TOPIC, TOPIC_TEXT.encode())),
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    refused, added = r.json()["files"]
    assert refused["status"] == "rejected" and "file name" in refused["reason"], refused
    assert str(deep) not in refused["reason"]  # no server path in what a client reads
    assert added["status"] == "added"
    assert current_path(index_copy) != version
    assert _listing(deep) == {STAGING, TOPIC}
    _no_staging_left(deep)


# --- a full disk -----------------------------------------------------------------------


@pytest.fixture(params=["tmpfs", "rlimit"])
def full_disk(request, corpus_index, tmp_path, make_client, admin_headers):  # type: ignore[no-untyped-def]
    """(client, settings, fill) on an index whose disk has room for small files, not for a
    new index version; ``fill()`` is a context in which that holds."""
    kind = request.param
    index = tmp_path / "disk" / "index"
    with contextlib.ExitStack() as stack:
        if kind == "tmpfs":
            # Room for the index, one more version (the upload below) and 400 KiB: not for
            # the version after that.
            size = sum(f.stat().st_size for f in corpus_index.rglob("*") if f.is_file())
            stack.enter_context(small_disk(tmp_path / "disk", 2 * size + 400 * 1024))
        shutil.copytree(corpus_index, index, symlinks=True)
        client, _, settings = make_client(index)
        # The extraction helper starts now, outside any limit it would inherit.
        r = client.post(
            "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
        )
        assert r.status_code == 200, r.text

        def fill():  # type: ignore[no-untyped-def]
            return contextlib.nullcontext() if kind == "tmpfs" else file_size_limit(64 * 1024)

        yield client, settings, fill
        stack.close()


def test_a_full_disk_while_staging_is_507_and_leaves_nothing(full_disk, admin_headers) -> None:  # type: ignore[no-untyped-def]
    client, settings, fill = full_disk
    uploads = settings.uploads_path
    version, files = current_path(settings.index_dir), _listing(uploads)
    big = ("Kế hoạch dài.txt", ("Nội dung kế hoạch thử nghiệm. " * 40_000).encode())
    with fill():
        r = client.post(
            "/api/documents",
            files=_files((OTHER, OTHER_TEXT.encode()), big),
            headers=admin_headers,
        )
    assert r.status_code == 507, r.text
    assert r.json()["error"] == "insufficient_storage"
    assert set(r.json()) == {"error", "detail"}
    assert str(uploads) not in r.json()["detail"]
    assert current_path(settings.index_dir) == version
    assert _listing(uploads) == files
    _no_staging_left(uploads)


def test_a_full_disk_while_writing_the_index_puts_the_uploads_back(  # type: ignore[no-untyped-def]
    full_disk, admin_headers
) -> None:
    client, settings, fill = full_disk
    uploads = settings.uploads_path
    version, files = current_path(settings.index_dir), _listing(uploads)
    before = _doc_ids(client)
    changed = TOPIC_TEXT.replace("cá hồi vân", "cá tầm Xibêri")
    with fill():
        r = client.post(
            "/api/documents",
            files=_files((TOPIC, changed.encode()), (OTHER, OTHER_TEXT.encode())),
            headers=admin_headers,
        )
    assert r.status_code in (503, 507), r.text
    assert r.json()["error"] in ("insufficient_storage", "storage_unavailable")
    assert current_path(settings.index_dir) == version
    # The replaced file has its old bytes back and the new one is gone: uploads/ is
    # exactly what the serving version names.
    assert _listing(uploads) == files
    assert (uploads / TOPIC).read_text(encoding="utf-8") == TOPIC_TEXT
    assert not list(settings.index_dir.glob("versions/.tmp-*"))
    _no_staging_left(uploads)
    assert _doc_ids(client) == before
    hit = client.get("/api/search", params={"q": "nuôi cá hồi vân Sa Pa", "k": 1}).json()
    assert "cá hồi vân" in hit["results"][0]["text"]
    # With room again, the same upload goes through.
    r = client.post(
        "/api/documents",
        files=_files((TOPIC, changed.encode()), (OTHER, OTHER_TEXT.encode())),
        headers=admin_headers,
    )
    assert r.status_code in (200, 507), r.text  # a tmpfs may still lack room for two versions


def test_an_upload_folder_that_cannot_be_written_is_503(index_copy, make_client, admin_headers):
    blocker = index_copy / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    client, _, _ = make_client(index_copy, upload_dir=blocker / "uploads")
    version = current_path(index_copy)
    r = client.post(
        "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "storage_unavailable"
    assert str(index_copy) not in r.json()["detail"]
    assert current_path(index_copy) == version


def test_staging_folders_of_dead_uploads_are_swept(index_copy, make_client, admin_headers):
    client, _, settings = make_client(index_copy)
    staging = settings.uploads_path / STAGING
    dead = staging / uuid.uuid4().hex  # an upload killed mid-way: its lock died with it
    dead.mkdir(parents=True)
    (dead / ".lock").touch()
    (dead / TOPIC).write_text(TOPIC_TEXT, encoding="utf-8")
    old = staging / f".new-{uuid.uuid4().hex}"  # killed while creating its folder
    old.mkdir()
    os.utime(old, (1, 1))
    young = staging / f".new-{uuid.uuid4().hex}"  # being created right now: left alone
    young.mkdir()
    r = client.post(
        "/api/documents", files=_files((OTHER, OTHER_TEXT.encode())), headers=admin_headers
    )
    assert r.status_code == 200, r.text
    assert [p.name for p in staging.iterdir()] == [young.name]
    young.rmdir()
    assert sweep_staging(settings.uploads_path) == []


def test_an_uploads_source_is_its_file_name_or_its_url(index_copy, make_client, admin_headers):
    client, _, _ = make_client(index_copy)
    html = (
        "<html><head><title>Tin hợp tác</title>"
        '<link rel="canonical" href="https://baotinh.vn/hop-tac-123.html"></head>'
        "<body><h1>Tỉnh ký kết hợp tác phát triển du lịch</h1>"
        "<p>Hai bên thống nhất phối hợp xúc tiến đầu tư du lịch xanh.</p></body></html>"
    )
    r = client.post(
        "/api/documents",
        files=_files((TOPIC, TOPIC_TEXT.encode()), ("Tin hợp tác.html", html.encode())),
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    docs = {d["doc_id"]: d for d in client.get("/api/documents").json()["documents"]}
    assert docs["ke-hoach-nuoi-ca-hoi"]["source"] == TOPIC
    assert docs["tin-hop-tac"]["source"] == "https://baotinh.vn/hop-tac-123.html"
    for doc in docs.values():  # corpus documents too: a URL or a name, never a path
        assert not doc["source"].startswith("/") and "uploads" not in doc["source"], doc
    hits = client.get("/api/search", params={"q": "nuôi cá hồi Sa Pa", "k": 3}).json()
    assert hits["results"][0]["source"] == TOPIC
