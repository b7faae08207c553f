"""Where ``GET /api/tasks/{task_id}`` reads a queued write (issue 25, ``serve --workers N``).

* one contract for both boards (process memory and the SQLite file);
* the file across processes: a task put by another process is read here, and one left
  queued or running by a process that has gone reads as failed, ``write_interrupted``;
* two apps on one index and one task file (what two workers are): a write accepted by
  one is polled to its end on the other;
* ``policy-search serve --workers 2`` as a real subprocess: every poll of a queued
  upload, on fresh connections that both workers answer, finds the task.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workers import serve, served_by, worker_processes

from web.tasks import INTERRUPTED, MemoryTaskBoard, SqliteTaskBoard, TaskBoard

REPO = Path(__file__).resolve().parents[2]
TEXT = (
    "Kế hoạch trồng rừng ngập mặn ven biển năm 2026. "
    "Sở Nông nghiệp và Môi trường chủ trì khảo sát bãi bồi và chọn giống cây."
)


def _view(task_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"task_id": task_id, "kind": "upload", "status": status, "created": 1.0, **extra}


@pytest.fixture(params=["memory", "sqlite"])
def board(request: pytest.FixtureRequest, tmp_path: Path) -> TaskBoard:
    if request.param == "memory":
        return MemoryTaskBoard(keep=3)
    return SqliteTaskBoard(tmp_path / "runtime" / "tasks.sqlite", keep=3)


def test_a_board_gives_each_tasks_latest_view(board: TaskBoard) -> None:
    assert board.get("nope") is None
    board.put(_view("a", "queued"))
    assert board.get("a") == _view("a", "queued")
    board.put(_view("a", "running", started=2.0))
    board.put(_view("a", "done", started=2.0, finished=3.0, index_version="v1"))
    assert board.get("a") == _view("a", "done", started=2.0, finished=3.0, index_version="v1")


def test_a_board_forgets_the_oldest_finished_tasks_never_an_unfinished_one(
    board: TaskBoard,
) -> None:
    board.put(_view("waiting", "queued"))
    for i in range(5):
        board.put(_view(f"t{i}", "done", finished=float(i)))
        time.sleep(0.01)  # the file orders finished tasks by when they were put
    assert [board.get(f"t{i}") is not None for i in range(5)] == [False, False, True, True, True]
    assert board.get("waiting") == _view("waiting", "queued")


def test_the_file_is_one_board_for_every_process(tmp_path: Path) -> None:
    path = tmp_path / "tasks.sqlite"
    here = SqliteTaskBoard(path)
    # Another process puts one finished task and one it leaves running, then ends.
    script = (
        "import sys; from pathlib import Path; from web.tasks import SqliteTaskBoard\n"
        "b = SqliteTaskBoard(Path(sys.argv[1]))\n"
        "b.put({'task_id': 'done', 'kind': 'delete', 'status': 'done', 'created': 1.0})\n"
        "b.put({'task_id': 'cut', 'kind': 'upload', 'status': 'running', 'created': 1.0,"
        " 'started': 2.0})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", script, str(path)], env=env, check=True, timeout=60)
    assert here.get("done") == {
        "task_id": "done",
        "kind": "delete",
        "status": "done",
        "created": 1.0,
    }
    cut = here.get("cut")
    assert cut is not None
    assert cut["status"] == "failed" and cut["error"] == INTERRUPTED
    assert cut["error"]["error"] == "write_interrupted" and cut["started"] == 2.0
    # A task running in a process that is alive (this one) stays running.
    here.put(_view("live", "running"))
    assert SqliteTaskBoard(path).get("live") == _view("live", "running")


def test_a_write_accepted_by_one_app_is_polled_to_its_end_on_another(
    index_copy: Path, make_client: Any, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    shared = tmp_path / "runtime" / "tasks.sqlite"
    first, _, _ = make_client(index_copy, task_file=shared)
    second, _, _ = make_client(index_copy, task_file=shared)
    r = first.post(
        "/api/documents?wait=false",
        files=[("files", ("Rừng ngập mặn.txt", TEXT.encode(), "text/plain"))],
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    deadline = time.monotonic() + 180
    while True:
        polled = second.get(f"/api/tasks/{task_id}", headers=admin_headers)
        assert polled.status_code == 200, polled.text
        if polled.json()["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, polled.json()
        time.sleep(0.2)
    done = polled.json()
    assert done["status"] == "done", done
    assert [(f["filename"], f["status"]) for f in done["files"]] == [("Rừng ngập mặn.txt", "added")]
    assert done["index_version"] == first.get("/api/health").json()["index_version"]
    assert done == first.get(f"/api/tasks/{task_id}", headers=admin_headers).json()
    # Without the shared file, the other app has never heard of it.
    alone, _, _ = make_client(index_copy)
    assert alone.get(f"/api/tasks/{task_id}", headers=admin_headers).status_code == 404


# --- serve --workers 2 ---------------------------------------------------------------------

ADMIN = "task-board-admin-key-0123456789"


@pytest.fixture
def two_workers(index_copy: Path) -> Iterator[tuple[int, Any]]:
    settings = {
        "POLICY_SEARCH_ADMIN_KEYS": ADMIN,
        "POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS": "0",
        "POLICY_SEARCH_RATE_LIMIT_PER_KEY": "0",
    }
    unset = ("POLICY_SEARCH_TASK_FILE", "POLICY_SEARCH_RATE_LIMIT_FILE")
    with serve(index_copy, settings, unset) as (port, server):
        yield port, server


def _request(
    port: int, workers: list[Any], method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, Any, int | None]:
    """(status, JSON body, which worker answered) on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers={"X-API-Key": ADMIN, **headers})
        r = conn.getresponse()
        data = r.read()
        assert conn.sock is not None
        served = served_by(workers, conn.sock.getsockname()[1])
        return r.status, json.loads(data) if data else None, served
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_with_two_workers_finds_a_queued_write_whichever_worker_is_polled(
    two_workers: tuple[int, Any], index_copy: Path
) -> None:
    port, server = two_workers
    deadline = time.monotonic() + 240
    workers: list[Any] = []

    def up() -> bool:
        try:
            return _request(port, workers, "GET", "/api/health")[0] == 200
        except OSError:
            return False

    while len(workers) < 2 or not up():
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.5)
        workers = worker_processes(server)
    boundary = "policy-search-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="rung-ngap-man.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + TEXT.encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, task, _ = _request(
        port,
        workers,
        "POST",
        "/api/documents?wait=false",
        body,
        **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 202, task
    assert (index_copy / "runtime" / f"tasks-{port}.sqlite").is_file()
    polls: list[tuple[int, str, int | None]] = []
    while time.monotonic() < deadline:
        status, view, worker = _request(port, workers, "GET", f"/api/tasks/{task['task_id']}")
        polls.append((status, view.get("status", view.get("error")), worker))
        answered_by = {w for _, _, w in polls if w is not None}
        if polls[-1][1] in ("done", "failed") and answered_by == {0, 1}:
            break
        time.sleep(0.3)
    assert all(s == 200 for s, _, _ in polls), polls
    assert polls[-1][1] == "done", polls
    assert {w for _, _, w in polls} == {0, 1}, polls
