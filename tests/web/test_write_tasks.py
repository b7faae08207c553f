"""Writes as queued tasks (issue 25): ``?wait=false`` -> 202 and ``GET /api/tasks/{id}``, the
writer lock free while a file is extracted, long names that stay apart, UTF-16 without a
byte-order mark, and rejections that never show where the server keeps its files.

The real app on a real index copy; the extraction sandbox and the writer thread are real.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hostile import make_hanging_pdf

from index.store import IndexBusy, current_path, writer_lock

TOPIC = "Kế hoạch nuôi cá hồi.txt"
TOPIC_ID = "ke-hoach-nuoi-ca-hoi"
TOPIC_TEXT = (
    "Kế hoạch phát triển nghề nuôi cá hồi vân ở thị xã Sa Pa năm 2026. "
    "Sở Nông nghiệp và Môi trường chủ trì hướng dẫn kỹ thuật nuôi cá nước lạnh."
)
# An absolute path of the machine ("/tmp/pytest-of-x/.../uploads/a.txt").
ABSOLUTE = re.compile(r"(^|[\s('\"])/[^\s/]+/")


def _files(*items: tuple[str, bytes]) -> list:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def _finished(client, task_id: str, headers: dict[str, str], limit_s: float = 120) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        r = client.get(f"/api/tasks/{task_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} not finished in {limit_s} s")


def _top(client, query: str, k: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/search", params={"q": query, "k": k})
    assert r.status_code == 200, r.text
    return [x["doc_id"] for x in r.json()["results"]]


def test_wait_false_answers_202_and_the_task_gives_the_files_and_version(
    index_copy, make_client, admin_headers
):
    client, _, _ = make_client(index_copy)
    r = client.post(
        "/api/documents?wait=false",
        files=_files((TOPIC, TOPIC_TEXT.encode()), ("x.exe", b"MZ")),
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    task = r.json()
    assert task["kind"] == "upload" and task["status"] in ("queued", "running")
    assert r.headers["location"] == f"/api/tasks/{task['task_id']}"
    done = _finished(client, task["task_id"], admin_headers)
    assert done["status"] == "done", done
    assert [(f["filename"], f["status"], f["doc_id"]) for f in done["files"]] == [
        (TOPIC, "added", TOPIC_ID),
        ("x.exe", "rejected", None),
    ]
    assert "unsupported file type .exe" in done["files"][1]["reason"]
    health = client.get("/api/health").json()
    assert done["index_version"] == health["index_version"]
    assert done["result"]["index_version"] == health["index_version"]
    assert done["finished"] >= done["started"] >= done["created"]
    assert _top(client, "nuôi cá hồi ở Sa Pa")[0] == TOPIC_ID

    # A delete the same way; then one of an id that names nothing fails as the call would.
    r = client.delete(f"/api/documents/{TOPIC_ID}?wait=false", headers=admin_headers)
    assert r.status_code == 202, r.text
    done = _finished(client, r.json()["task_id"], admin_headers)
    assert done["status"] == "done" and done["doc_id"] == TOPIC_ID
    assert done["result"]["removed"] is True
    assert TOPIC_ID not in _top(client, "nuôi cá hồi ở Sa Pa", k=10)
    r = client.delete(f"/api/documents/{TOPIC_ID}?wait=false", headers=admin_headers)
    failed = _finished(client, r.json()["task_id"], admin_headers)
    assert failed["status"] == "failed"
    assert failed["error"]["status"] == 404 and failed["error"]["error"] == "not_found"


def test_queued_writes_apply_in_the_order_they_came(index_copy, make_client, admin_headers):
    client, _, settings = make_client(index_copy)
    ids = []
    for text in (TOPIC_TEXT, TOPIC_TEXT.replace("cá hồi vân", "cá tầm Xibêri")):
        r = client.post(
            "/api/documents?wait=false",
            files=_files((TOPIC, text.encode())),
            headers=admin_headers,
        )
        ids.append(r.json()["task_id"])
    r = client.delete(f"/api/documents/{TOPIC_ID}?wait=false", headers=admin_headers)
    ids.append(r.json()["task_id"])
    tasks = [_finished(client, i, admin_headers) for i in ids]
    assert [t["status"] for t in tasks] == ["done", "done", "done"], tasks
    assert [t["files"][0]["status"] for t in tasks[:2]] == ["added", "updated"]
    assert (
        tasks[0]["finished"] <= tasks[1]["started"] and tasks[1]["finished"] <= tasks[2]["started"]
    )
    assert TOPIC_ID not in {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
    assert not (settings.uploads_path / TOPIC).exists()


def test_a_task_that_used_no_file_fails_with_each_files_verdict(
    index_copy, make_client, admin_headers
):
    client, embedder, _ = make_client(index_copy)
    version = current_path(index_copy)
    r = client.post(
        "/api/documents?wait=false",
        files=_files(("a.pdf", b"PK\x03\x04zip")),
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    failed = _finished(client, r.json()["task_id"], admin_headers)
    assert failed["status"] == "failed"
    assert failed["error"]["status"] == 422 and failed["error"]["error"] == "no_file_ingested"
    assert failed["files"][0]["status"] == "rejected"
    assert "ZIP archive" in failed["files"][0]["reason"]
    assert current_path(index_copy) == version and embedder.passage_calls == 0

    # A batch without a single acceptable file is refused at once, not queued.
    r = client.post(
        "/api/documents?wait=false", files=_files(("x.exe", b"MZ")), headers=admin_headers
    )
    assert r.status_code == 422 and r.json()["error"] == "no_file_ingested"


def test_tasks_need_the_admin_key_and_unknown_ones_are_404(
    index_copy, make_client, admin_headers, api_keys
):
    client, _, _ = make_client(index_copy)
    r = client.post(
        "/api/documents?wait=false",
        files=_files((TOPIC, TOPIC_TEXT.encode())),
        headers=admin_headers,
    )
    task_id = r.json()["task_id"]
    assert client.get(f"/api/tasks/{task_id}").status_code == 401
    search = {"Authorization": f"Bearer {api_keys['search']}"}
    assert client.get(f"/api/tasks/{task_id}", headers=search).status_code == 403
    r = client.get("/api/tasks/no-such-task", headers=admin_headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert _finished(client, task_id, admin_headers)["status"] == "done"


def test_a_file_that_uses_up_its_extraction_time_does_not_hold_the_writer_lock(
    index_copy, make_client, admin_headers, tmp_path
):
    """Extraction runs before the lock: another writer (``policy-search ingest``) gets it
    while the slow file is still being read. Today's code took the lock first."""
    client, _, _ = make_client(index_copy, extraction_timeout_s=6.0)
    hanging = tmp_path / "hangs.pdf"
    make_hanging_pdf(hanging)
    answer: dict[str, Any] = {}

    def upload() -> None:
        answer["r"] = client.post(
            "/api/documents",
            files=_files(("hangs.pdf", hanging.read_bytes())),
            headers=admin_headers,
        )

    sender = threading.Thread(target=upload)
    started = time.monotonic()
    sender.start()
    time.sleep(1.5)  # the upload is staged and its file in the extractor (6 s limit)
    try:
        with writer_lock(index_copy, timeout=2.0):
            got_lock_after = time.monotonic() - started
    except IndexBusy:
        got_lock_after = None
    sender.join(timeout=120)
    r = answer["r"]
    assert r.status_code == 422, r.text
    assert "took longer than 6 s" in r.json()["files"][0]["reason"]
    assert got_lock_after is not None, "the upload held the writer lock while extracting"
    assert got_lock_after < 5.0


def test_long_names_that_share_their_first_bytes_stay_two_documents(
    index_copy, make_client, admin_headers
):
    client, _, settings = make_client(index_copy)
    stem = "Kế hoạch " + "ệ" * 90  # 281 bytes before what tells them apart
    first, second = stem + " Lào Cai.txt", stem + " Yên Bái.txt"
    assert first.encode()[:251] == second.encode()[:251]
    ids = []
    for name, text in ((first, TOPIC_TEXT), (second, TOPIC_TEXT.replace("Sa Pa", "Mù Cang Chải"))):
        r = client.post(
            "/api/documents", files=_files((name, text.encode())), headers=admin_headers
        )
        assert r.status_code == 200, r.text
        f = r.json()["files"][0]
        assert f["status"] == "added", f
        ids.append(f["doc_id"])
    assert ids[0] != ids[1]
    stored = sorted(p.name for p in settings.uploads_path.iterdir() if p.suffix == ".txt")
    assert len(stored) == 2 and all(len(n.encode()) <= 255 for n in stored)
    listed = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
    assert set(ids) <= listed
    # The same long name again is the same document.
    r = client.post(
        "/api/documents",
        files=_files((first, TOPIC_TEXT.replace("2026", "2027").encode())),
        headers=admin_headers,
    )
    assert r.json()["files"][0] == {**r.json()["files"][0], "status": "updated", "doc_id": ids[0]}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(index_copy, make_client, admin_headers, encoding):
    client, _, _ = make_client(index_copy)
    r = client.post(
        "/api/documents",
        files=_files((TOPIC, TOPIC_TEXT.encode(encoding))),
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["files"][0]["status"] == "added"
    assert _top(client, "nuôi cá hồi ở Sa Pa")[0] == TOPIC_ID
    page = client.get(f"/api/documents/{TOPIC_ID}").json()
    assert "cá hồi vân" in str(page)


def test_rejections_name_files_never_server_paths(
    index_copy, make_client, admin_headers, corpus_dir: Path
):
    client, _, _ = make_client(index_copy)
    # A name whose id an ingested folder's document holds: refused, naming that document.
    r = client.post(
        "/api/documents",
        files=_files(("000_336029cc1bf055f9.txt", b"Van ban gia mao."), ("x.exe", b"MZ")),
        headers=admin_headers,
    )
    assert r.status_code == 422
    body = r.json()
    reason = body["files"][0]["reason"]
    assert "already exists" in reason and "000_336029cc1bf055f9.txt" in reason
    for text in (reason, body["detail"]):
        assert not ABSOLUTE.search(text), text
    assert str(corpus_dir) not in r.text and str(index_copy) not in r.text


def _nice_of_threads(pid: int) -> set[int]:
    """The nice value of every thread of ``pid`` (field 19 of /proc/PID/task/TID/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        values.add(int(stat[stat.rindex(")") + 2 :].split()[16]))
    return values


def test_uploads_embed_in_a_process_of_their_own_at_the_lowest_priority(
    index_copy, make_client, admin_headers
):
    """Where queries embed in a process (`serve`), uploads embed in another, at nice 19 (every
    thread): the kernel gives a query's embedding the cores first. The server's embedder
    (counting here) embeds no passage of the upload."""
    client, server_embedder, _ = make_client(index_copy, embedder_process=True)
    try:
        r = client.post(
            "/api/documents", files=_files((TOPIC, TOPIC_TEXT.encode())), headers=admin_headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["files"][0]["status"] == "added"
        assert server_embedder.passage_calls == 0
        writer = client.app.state.writer
        pid = writer.process().pid
        assert pid is not None and pid != os.getpid()
        assert _nice_of_threads(pid) == {19}
        assert os.getpriority(os.PRIO_PROCESS, os.getpid()) < 19
        assert _top(client, "nuôi cá hồi ở Sa Pa")[0] == TOPIC_ID
    finally:
        client.app.state.writer.close()
