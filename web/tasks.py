"""The writer: every upload and delete of one server, in one queue, applied in order by one thread.

Why a queue and a process of its own for the writes' embedding (issue 25):
the server embeds queries in one embedder process (index/embed_process.py),
whose calls are serialised. An upload sent its chunks through that same
process, 256 at a time, so a search that arrived meanwhile waited for the
whole slice: 8-14 s during a 44-chunk upload, and 28 of 30 searches timed
out during a 474-chunk one. Measured with ``python -m bench.bench_writes``
(500-chunk upload, one search every 0.25 s, 2 cores; docs/writes.md):

* shared embedder (before): search p95 during the upload 11 s against 91 ms
  idle (121x);
* writes embedded in a second embedder process at the lowest CPU priority
  (``nice`` 19, ``POLICY_SEARCH_WRITE_NICE``), queries in the server's own
  embedder at normal priority: 96 ms against 113 ms idle (0.85x), the upload
  as fast as before (36.7 s against 36.5 s). Whenever a query's embedding and
  the upload's want a core, the kernel runs the query's; the upload takes the
  cores the searches leave idle.

A priority queue in front of the one embedder process was the other way. It
cannot interrupt a forward pass, so a query would still wait for the slice
being embedded; slices small enough to keep that wait near a query's own
time (a few chunks) would make every upload slower, and the answerer's
sentence embeddings would wait behind them too. The process costs the memory
of a second copy of the model while writes come in; it is stopped after
:data:`IDLE_S` seconds without one.
At nice 19 an upload only gets the CPU nothing else wants: on a machine whose
cores other programs keep busy it is slow (16 minutes at a load of 8 on 2
cores); ``POLICY_SEARCH_WRITE_NICE`` lowers the value.

One thread applies the writes, in the order they came: an upload and a delete
of the same document end as they were sent, and the index's writer lock
(which the ``policy-search ingest`` command takes too) is only ever wanted by
one write of this server at a time. A file's text is extracted before the
lock is taken (web/admin.py), so a slow file no longer keeps other writers out.

Every change of a task's state is published to a :class:`TaskBoard`, which
``GET /api/tasks/{task_id}`` reads: :class:`MemoryTaskBoard` (the last
:data:`KEEP` tasks of this process) or :class:`SqliteTaskBoard`, one file that
every worker of ``serve --workers N`` writes and reads, so a task is found
whichever worker answers the poll. An upload answered with 200 (the
synchronous default) is in the index version it names; one answered with 202
is in the index once its task says ``done``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from index.embed import Embedder, ProgressFn
from index.embed_base import ForwardsSentences, gives_sentences
from index.embed_process import ProcessEmbedder

log = logging.getLogger("policy-search")

TaskKind = Literal["upload", "delete"]
TaskStatus = Literal["queued", "running", "done", "failed"]
# Writes waiting at most (a full queue is answered 503 at once): each queued upload
# holds its files in a staging folder.
MAX_QUEUED = 64
# Finished tasks remembered for GET /api/tasks/{id}.
KEEP = 1000
# The writes' embedder process stops after this long without a write (its model's memory
# is given back; the next write starts it again, a few seconds).
IDLE_S = 120.0


class QueueFull(Exception):
    """:data:`MAX_QUEUED` writes already wait."""


@dataclass
class Task:
    """One write: queued, then running in the writer thread, then done or failed."""

    id: str
    kind: TaskKind
    run: Callable[[], Any]
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    future: Future[Any] = field(default_factory=Future)
    # Called once the task is over, whatever the outcome (the upload's staging folder),
    # before its caller hears the outcome.
    cleanup: Callable[[], None] | None = None
    doc_id: str | None = None  # a delete's document

    @property
    def status(self) -> TaskStatus:
        if not self.future.done():
            return "queued" if self.started is None else "running"
        return "failed" if self.future.exception() is not None else "done"


# --- where GET /api/tasks/{task_id} reads a task ----------------------------------------------

# A task's view: the JSON object GET /api/tasks/{task_id} answers (web/admin.py makes it).
TaskView = dict[str, Any]
# What a task still queued or running says when the process that accepted it is gone.
INTERRUPTED = {
    "status": 503,
    "error": "write_interrupted",
    "detail": "the server process running this write stopped before it finished; nothing "
    "was changed (a write is applied whole or not at all): send it again",
}


class TaskBoard(Protocol):
    """The tasks' latest views, by id."""

    def put(self, view: TaskView) -> None:
        """Record ``view`` (its ``task_id``) as the task's state now."""

    def get(self, task_id: str) -> TaskView | None:
        """The task's latest view, or None for an id never put (or forgotten)."""


def _final(view: TaskView) -> bool:
    return view.get("status") in ("done", "failed")


class MemoryTaskBoard:
    """The views in this process's memory: the last :data:`KEEP` finished tasks and every
    unfinished one."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._views: OrderedDict[str, TaskView] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, view: TaskView) -> None:
        with self._lock:
            self._views[view["task_id"]] = view
            self._views.move_to_end(view["task_id"])
            finished = [k for k, v in self._views.items() if _final(v)]
            for task_id in finished[: max(0, len(finished) - self.keep)]:
                del self._views[task_id]

    def get(self, task_id: str) -> TaskView | None:
        with self._lock:
            return self._views.get(task_id)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the number: treat as alive
        return True
    return True


class SqliteTaskBoard:
    """The views in one SQLite file that every worker of a server opens (WAL).

    Each row keeps the process that runs the task: a task still queued or running
    whose process is gone (a worker killed or restarted) reads as failed with
    ``write_interrupted``, never as running forever. A board that cannot be written
    does not stop the write (logged); one that cannot be read answers as if the id
    were unknown, after logging why.
    """

    def __init__(self, path: Path, keep: int = KEEP, busy_timeout_s: float = 2.0) -> None:
        self.path = path
        self.keep = keep
        self._busy_ms = int(busy_timeout_s * 1000)
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, "
                "final INTEGER NOT NULL, updated REAL NOT NULL, view TEXT NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS tasks_final ON tasks (final, updated)")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def put(self, view: TaskView) -> None:
        final = _final(view)
        try:
            conn = self._conn()
            conn.execute(
                "INSERT OR REPLACE INTO tasks (id, pid, final, updated, view) "
                "VALUES (?, ?, ?, ?, ?)",
                (view["task_id"], os.getpid(), int(final), time.time(), json.dumps(view)),
            )
            if final:
                conn.execute(
                    "DELETE FROM tasks WHERE final = 1 AND id NOT IN "
                    "(SELECT id FROM tasks WHERE final = 1 ORDER BY updated DESC LIMIT ?)",
                    (self.keep,),
                )
        except sqlite3.Error:
            log.exception("recording task %s in %s", view.get("task_id"), self.path)

    def get(self, task_id: str) -> TaskView | None:
        try:
            row = (
                self._conn()
                .execute("SELECT pid, final, view FROM tasks WHERE id = ?", (task_id,))
                .fetchone()
            )
        except sqlite3.Error:
            log.exception("reading task %s from %s", task_id, self.path)
            return None
        if row is None:
            return None
        pid, final, text = row
        view: TaskView = json.loads(text)
        if not final and not _alive(pid):
            view.update(status="failed", finished=None, error=dict(INTERRUPTED))
        return view


def task_board(path: Path | None) -> TaskBoard:
    """The board of a server: the shared file when one is set, else process memory."""
    return MemoryTaskBoard() if path is None else SqliteTaskBoard(path)


class Writer:
    """The queue of one app's writes and the thread that applies them.

    ``embedder_spec``: the embedder of the writes' own process, started at
    CPU priority ``nice`` (see the module's note); None to embed with the
    server's embedder (tests, ``embedder_process`` off). Each change of a task's
    state is put on ``board`` as ``view(task)``.
    """

    def __init__(
        self,
        embedder_spec: str | None,
        nice: int = 19,
        board: TaskBoard | None = None,
        view: Callable[[Task], TaskView] | None = None,
    ) -> None:
        self.embedder_spec = embedder_spec
        self.nice = nice
        self.board: TaskBoard = board if board is not None else MemoryTaskBoard()
        self._view = view
        self._embedder: ProcessEmbedder | None = None
        self._queue: queue.Queue[Task] = queue.Queue()
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # --- the queue ----------------------------------------------------------------------

    def submit(
        self,
        kind: TaskKind,
        run: Callable[[], Any],
        cleanup: Callable[[], None] | None = None,
        doc_id: str | None = None,
    ) -> Task:
        """Queue ``run`` (called in the writer thread); its task. Raises :class:`QueueFull`."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the writer is closed")
            if self.queued >= MAX_QUEUED:
                raise QueueFull(f"{MAX_QUEUED} writes already waiting")
            task = Task(uuid.uuid4().hex, kind, run, cleanup=cleanup, doc_id=doc_id)
            self._tasks[task.id] = task
            self._forget_locked()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="writer", daemon=True)
                self._thread.start()
            # Put before the writer thread can see it, so "queued" never overwrites "running".
            self._publish(task)
            self._queue.put(task)
        return task

    def _publish(self, task: Task) -> None:
        if self._view is None:
            return
        try:
            self.board.put(self._view(task))
        except Exception:  # a task's record must never fail its write
            log.exception("publishing task %s", task.id)

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    @property
    def queued(self) -> int:
        return sum(1 for t in self._tasks.values() if t.started is None)

    def stats(self) -> dict[str, int]:
        with self._lock:
            tasks = list(self._tasks.values())
        counts = {status: 0 for status in ("queued", "running", "done", "failed")}
        for task in tasks:
            counts[task.status] += 1
        return counts

    def _forget_locked(self) -> None:
        while len(self._tasks) > KEEP:
            oldest = next((k for k, t in self._tasks.items() if t.finished is not None), None)
            if oldest is None:
                return
            del self._tasks[oldest]

    def _work(self) -> None:
        while True:
            try:
                task = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                self._stop_embedder()
                continue
            task.started = time.time()
            self._publish(task)
            result: Any = None
            error: BaseException | None = None
            try:
                result = task.run()
            except BaseException as exc:  # the task reports it; the writer goes on
                error = exc
            if task.cleanup is not None:
                try:
                    task.cleanup()
                except Exception:
                    log.exception("cleaning up after write task %s", task.id)
            task.finished = time.time()
            if error is None:
                task.future.set_result(result)
            else:
                task.future.set_exception(error)
            self._publish(task)

    # --- the writes' embedder -----------------------------------------------------------

    def embedder(self, server: Embedder) -> Embedder:
        """What a write embeds with: ``server`` (the server's embedder) when this writer has
        no process of its own, else :class:`WriteEmbedder` (called from the writer thread)."""
        if self.embedder_spec is None:
            return server
        return WriteEmbedder(self, server)

    def process(self) -> ProcessEmbedder:
        """The writes' embedder process, started on first use."""
        assert self.embedder_spec is not None
        if self._embedder is None:
            self._embedder = ProcessEmbedder(self.embedder_spec, nice=self.nice)
        return self._embedder

    def _stop_embedder(self) -> None:
        embedder, self._embedder = self._embedder, None
        if embedder is not None:
            embedder.close()

    def close(self) -> None:
        """Refuse new writes and stop the writes' embedder process (after the running write)."""
        with self._lock:
            self._closed = True
        if self._embedder is not None:
            self._embedder.close()


class WriteEmbedder(ForwardsSentences):
    """The server's embedder as a write's pipeline sees it (name, size, what it can do),
    whose work (token counts, vectors) goes to the writes' own process.

    The process starts at the first call, so a delete or an upload of unchanged bytes,
    which embed nothing, never starts it.
    """

    def __init__(self, writer: Writer, server: Embedder) -> None:
        self.name, self.dim, self.max_tokens = server.name, server.dim, server.max_tokens
        self._server = server
        self._writer = writer

    @property
    def inner(self) -> ProcessEmbedder:
        return self._writer.process()

    @property
    def gives_sentences(self) -> bool:
        return gives_sentences(self._server)

    def token_count(self, text: str) -> int:
        return self.inner.token_count(text)

    def embed_passages(
        self, texts: Sequence[str], progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.inner.embed_passages(texts, progress=progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


__all__ = [
    "IDLE_S",
    "INTERRUPTED",
    "KEEP",
    "MAX_QUEUED",
    "MemoryTaskBoard",
    "QueueFull",
    "SqliteTaskBoard",
    "Task",
    "TaskBoard",
    "TaskView",
    "WriteEmbedder",
    "Writer",
    "task_board",
]
