"""Bounded extraction: each file is parsed in a child process with time and memory limits.

PDF, DOCX and HTML parsers are large C and Python libraries fed with files
from strangers. A file that makes one of them loop, allocate without end or
crash must cost one child process, not the server: the child runs under an
address-space limit (``RLIMIT_AS``) and a CPU limit, it is killed at the
wall-clock deadline, and every way it can end becomes an
:class:`~ingest.models.IngestProblem` with a reason a person can act on.

Children are forked by a small helper process (``python -m ingest.sandbox``)
that imports each parser once, on first need, and does nothing else: a file costs a fork
(tens of milliseconds) rather than an interpreter start (seconds, for
PyMuPDF), and no child inherits the server's threads, FAISS index or model.
Requests and results travel as JSON lines, never pickle, so a child that a
hostile file took over cannot run code in the server.

Nothing outlives its parent: a child is killed by the kernel when its helper
dies, and the helper when its server dies (``PR_SET_PDEATHSIG``; see
:mod:`ingest.children`, which also reaps a helper that was killed). A helper
whose server closed its request pipe kills the child it is watching and
exits, rather than letting a hostile file burn CPU until its own deadline.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import re
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingest.children import ServerStopping, die_with_parent, spawn
from ingest.models import Block, DocumentHeader, DocumentMeta, IngestProblem, ParsedDocument
from ingest.pipeline import too_large

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# How libraries word an allocation that the address-space limit refused.
_MEMORY_WORDS = re.compile(
    r"MemoryError|malloc|unable to allocate|out of memory|cannot allocate", re.I
)


@dataclass(frozen=True)
class ExtractionLimits:
    timeout_s: float = 60.0
    memory_mb: int = 1024
    max_pdf_pages: int = 1000
    max_chars: int = 500_000
    max_file_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> ExtractionLimits:
        return cls(
            timeout_s=settings.extraction_timeout_s,
            memory_mb=settings.extraction_memory_mb,
            max_pdf_pages=settings.max_pdf_pages,
            max_chars=settings.max_document_chars,
            max_file_bytes=settings.max_file_bytes,
        )

    @property
    def max_result_bytes(self) -> int:
        # Blocks, text and JSON escapes: a generous bound on what max_chars can produce.
        return self.max_chars * 12 + (1 << 20)


def _to_json(doc: ParsedDocument) -> dict[str, Any]:
    return {
        "meta": asdict(doc.meta),
        "blocks": [b.stored() for b in doc.blocks],
        "content_hash": doc.content_hash,
        "root": doc.root,
        "warnings": doc.warnings,
    }


def _from_json(data: dict[str, Any]) -> ParsedDocument:
    return ParsedDocument(
        meta=DocumentMeta(
            **{**data["meta"], "header": DocumentHeader.from_json(data["meta"].get("header"))}
        ),
        blocks=[Block.from_stored(b) for b in data["blocks"]],
        content_hash=data["content_hash"],
        root=data["root"],
        warnings=[str(w) for w in data["warnings"]],
    )


# --- the helper process and its children -------------------------------------------------


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _arm_limits(limits: dict[str, Any]) -> None:
    """Limit the next file's memory and CPU, counted from what this child already uses.

    Soft limits only: a child reads several files, and an unprivileged process
    cannot raise a hard limit again for the next one. Exceeding either ends the
    child (MemoryError, SIGXCPU); the helper reports it and forks a fresh one.
    """
    # On top of what the preloaded parsers already mapped, so the setting means
    # "this file may cost N MiB" whatever the libraries' own baseline is.
    cap = _vm_size_bytes() + limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + limits["timeout_s"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _child_main(out_fd: int, request: dict[str, Any]) -> None:
    """In the forked child: parse the request's files in order, one JSON line each to ``out_fd``.

    The limits are armed again before every file; after a file that ran out of
    memory the child stops (its heap is not to be trusted), and the helper
    forks another for the files left.
    """
    limits = request["limits"]
    # Parsers that print must not write into the helper's reply channel.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    from ingest.extract import PdfExtractor
    from ingest.pipeline import parse_file

    PdfExtractor.max_pages = limits["max_pdf_pages"]
    for item in request["files"]:
        _arm_limits(limits)
        out: dict[str, Any]
        try:
            result = parse_file(
                Path(item["path"]), Path(item["root"]), max_chars=limits["max_chars"]
            )
            if isinstance(result, IngestProblem):
                out = (
                    {"memory": True}
                    if _MEMORY_WORDS.search(result.reason)
                    else {"problem": result.reason}
                )
            else:
                out = {"document": _to_json(result)}
        except MemoryError:
            out = {"memory": True}
        # No raw line break inside: JSON escapes them, so one line is one file.
        data = json.dumps(out, ensure_ascii=False).encode() + b"\n"
        view = memoryview(data)
        while view:
            view = view[os.write(out_fd, view) :]
        if out.get("memory"):
            return


def _files(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The files of a request: ``files``, or one ``path`` and ``root``."""
    if "files" in request:
        return list(request["files"])
    return [{"path": request["path"], "root": request["root"]}]


def _run_batch(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """In the helper: one outcome per file of ``request``, in order, from forked children.

    A child reads the files one after another (a fork per batch, not per
    file); each file has its own deadline and result size limit. When one of
    them kills its child or is stopped, that file gets its verdict and a fresh
    child takes the rest.
    """
    limits = request["limits"]
    todo = _files(request)
    while todo:
        yield from _run_child({"files": todo, "limits": limits}, done := [0])
        todo = todo[done[0] :]


def _run_child(request: dict[str, Any], done: list[int]) -> Iterator[dict[str, Any]]:
    """Fork one child for ``request``'s files; yield an outcome per file until it ends.

    ``done[0]``: how many files got an outcome (the child may stop early).
    """
    limits = request["limits"]
    r, w = os.pipe()
    helper = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        code = 0
        try:
            die_with_parent(helper)
            _child_main(w, request)
        except BaseException:
            code = 70
        os._exit(code)
    os.close(w)
    pending = bytearray()
    outcome: dict[str, Any] | None = None
    stopped = False  # the child stopped on purpose (after running out of memory)
    deadline = time.monotonic() + float(limits["timeout_s"])
    while done[0] < len(request["files"]):
        line_end = pending.find(b"\n")
        if line_end >= 0:
            line, pending = bytes(pending[:line_end]), pending[line_end + 1 :]
            try:
                parsed = json.loads(line)
            except ValueError:
                parsed = None
            done[0] += 1
            deadline = time.monotonic() + float(limits["timeout_s"])
            stopped = isinstance(parsed, dict) and bool(parsed.get("memory"))
            yield parsed if isinstance(parsed, dict) else {"problem": "bad reply from extractor"}
            continue
        if len(pending) > limits["max_result_bytes"]:
            outcome = {"problem": "the extracted text is larger than the limits allow"}
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome = {"timeout": True}
            break
        # The server sends nothing while it waits for this reply: stdin turning readable
        # means it closed the pipe (it died, or gave up on us). Stop the child and go.
        ready, _, _ = select.select([r, sys.stdin.fileno()], [], [], remaining)
        if sys.stdin.fileno() in ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.exit(0)
        if not ready:
            continue
        data = os.read(r, 1 << 20)
        if not data:
            break  # the child ended
        pending += data
    os.close(r)
    if outcome is not None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if done[0] == len(request["files"]):
        return
    if stopped and outcome is None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return  # the files left go to a fresh child (_run_batch)
    if outcome is None:
        # The child died on this file without a verdict.
        if os.WIFSIGNALED(status):
            outcome = {"signal": os.WTERMSIG(status)}
        else:
            outcome = {"exit": os.WEXITSTATUS(status)}
    done[0] += 1
    yield outcome


def _run_one(request: dict[str, Any]) -> dict[str, Any]:
    """In the helper: the outcome of the one file of ``request``."""
    return next(_run_batch(request))


# Imported by the helper before it forks, so every child starts with the parser loaded.
_PARSER_MODULES = {".pdf": "pymupdf", ".docx": "docx", ".html": "bs4", ".htm": "bs4"}


def _preload(suffix: str) -> None:
    name = _PARSER_MODULES.get(suffix)
    if name is None or name in sys.modules:
        return
    with contextlib.suppress(ImportError):
        module = __import__(name)
        if name == "pymupdf":
            module.TOOLS.mupdf_display_errors(False)


def _serve() -> None:
    """Helper main loop: one JSON request per line on stdin, one JSON reply line per file."""
    die_with_parent()  # a server killed with -9 takes its helper (and so its child) along
    import ingest.pipeline  # noqa: F401  (loaded once, inherited by every child)

    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        for item in _files(request):
            _preload(Path(item["path"]).suffix.lower())
        for reply in _run_batch(request):
            out.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            out.flush()


# --- the server side ----------------------------------------------------------------------


class _Helper:
    """The one helper process of this server, started on first use, restarted if it dies."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self._proc = spawn(
            [sys.executable, "-m", "ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(_PACKAGE_ROOT),
        )
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def request(self, request: dict[str, Any], wait_s: float) -> dict[str, Any]:
        return self.requests(request, 1, wait_s)[0]

    def requests(self, request: dict[str, Any], n: int, wait_s: float) -> list[dict[str, Any]]:
        """Send ``request`` (``n`` files) and read a reply for each, ``wait_s`` at most apiece."""
        stopped = {"problem": "the extraction helper stopped; try again"}
        with self._lock:
            try:
                proc = self._start()
            except ServerStopping:
                return [stopped] * n
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
            except BrokenPipeError:
                self._stop()
                return [stopped] * n
            fd = proc.stdout.fileno()
            buf = bytearray()
            replies: list[dict[str, Any]] = []
            deadline = time.monotonic() + wait_s
            while len(replies) < n:
                line_end = buf.find(b"\n")
                if line_end >= 0:
                    reply = json.loads(bytes(buf[:line_end]))
                    del buf[: line_end + 1]
                    ok = isinstance(reply, dict)
                    replies.append(reply if ok else {"problem": "bad reply from extractor"})
                    deadline = time.monotonic() + wait_s
                    continue
                remaining = deadline - time.monotonic()
                ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
                if not ready:
                    self._stop()
                    return replies + [{"timeout": True}] + [stopped] * (n - len(replies) - 1)
                data = os.read(fd, 1 << 20)
                if not data:
                    self._stop()
                    return replies + [stopped] * (n - len(replies))
                buf += data
            return replies

    def close(self) -> None:
        with self._lock:
            self._stop()


_HELPER = _Helper()
# Helpers for batches of files (ingest): the first is the one single files use.
_POOL: list[_Helper] = [_HELPER]
_POOL_LOCK = threading.Lock()


def _helpers(n: int) -> list[_Helper]:
    with _POOL_LOCK:
        while len(_POOL) < n:
            _POOL.append(_Helper())
        return _POOL[:n]


class SandboxedParser:
    """``parse(path, root)`` like :func:`ingest.pipeline.parse_file`, in a bounded child."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()

    def __call__(self, path: Path, root: Path | None = None) -> ParsedDocument | IngestProblem:
        root = root if root is not None else path.parent
        refused = self._refused(path)
        if refused is not None:
            return refused
        limits = {**asdict(self.limits), "max_result_bytes": self.limits.max_result_bytes}
        request = {"path": str(path.resolve()), "root": str(root.resolve()), "limits": limits}
        # The helper's first start imports the parsers (seconds on a busy machine).
        reply = _HELPER.request(request, wait_s=self.limits.timeout_s + 60)
        return self._result(path, reply)

    def map(
        self, items: Sequence[tuple[Path, Path]], workers: int = 2, batch: int = 16
    ) -> Iterator[ParsedDocument | IngestProblem]:
        """``self(path, root)`` of every item, in order, from ``workers`` helpers at once.

        Each helper forks one child per ``batch`` files rather than one per
        file; every file keeps its own limits (time, memory, CPU, result size).
        Results come as their batch finishes, so the caller can chunk and embed
        the first documents while the next ones are read.
        """
        limits = {**asdict(self.limits), "max_result_bytes": self.limits.max_result_bytes}
        wait_s = self.limits.timeout_s + 60
        free: queue.Queue[_Helper] = queue.Queue()
        for helper in _helpers(max(1, workers)):
            free.put(helper)

        def run(chunk: Sequence[tuple[Path, Path]]) -> list[ParsedDocument | IngestProblem]:
            # A file over the size limit is refused from its size, as one at a time is.
            early = [self._refused(path) for path, _ in chunk]
            sent = [item for item, no in zip(chunk, early, strict=True) if no is None]
            files = [{"path": str(p.resolve()), "root": str(r.resolve())} for p, r in sent]
            replies: list[dict[str, Any]] = []
            if files:
                helper = free.get()
                try:
                    replies = helper.requests(
                        {"files": files, "limits": limits}, len(files), wait_s
                    )
                finally:
                    free.put(helper)
            answers = iter(replies)
            return [
                no if no is not None else self._result(path, next(answers))
                for (path, _), no in zip(chunk, early, strict=True)
            ]

        chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for results in pool.map(run, chunks):
                yield from results

    def _refused(self, path: Path) -> IngestProblem | None:
        """Why ``path`` is not even sent to a child (unreadable, too large), or None."""
        try:
            size = path.stat().st_size
        except OSError as exc:
            return IngestProblem(path, f"cannot read file: {exc.strerror or exc}")
        if size > self.limits.max_file_bytes:
            return too_large(path, size, self.limits.max_file_bytes)
        return None

    def _result(self, path: Path, reply: dict[str, Any]) -> ParsedDocument | IngestProblem:
        if "document" in reply:
            return _from_json(reply["document"])
        return IngestProblem(path, self._reason(reply))

    def _reason(self, reply: dict[str, Any]) -> str:
        lim = self.limits
        if "problem" in reply:
            return str(reply["problem"])
        if reply.get("timeout"):
            return (
                f"text extraction took longer than {lim.timeout_s:g} s and was stopped "
                "(POLICY_SEARCH_EXTRACTION_TIMEOUT_S)"
            )
        if reply.get("memory"):
            return (
                f"text extraction needed more than {lim.memory_mb} MiB of memory and was "
                "stopped (POLICY_SEARCH_EXTRACTION_MEMORY_MB); a decompression bomb?"
            )
        sig = reply.get("signal")
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return (
                f"text extraction used more than {lim.timeout_s:g} s of CPU and was stopped "
                "(POLICY_SEARCH_EXTRACTION_TIMEOUT_S)"
            )
        if sig is not None:
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            return f"the file crashed the text extractor ({name})"
        return f"text extraction ended without a result (exit code {reply.get('exit')})"


if __name__ == "__main__":
    _serve()
