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
dies (``PR_SET_PDEATHSIG``), and a helper whose server went away (its
request pipe closed) kills the child it is watching and exits, rather than
letting a hostile file burn CPU until its own deadline.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import re
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
        "blocks": [[b.text, b.page, b.heading_level] for b in doc.blocks],
        "content_hash": doc.content_hash,
        "root": doc.root,
        "warnings": doc.warnings,
    }


def _from_json(data: dict[str, Any]) -> ParsedDocument:
    return ParsedDocument(
        meta=DocumentMeta(
            **{**data["meta"], "header": DocumentHeader.from_json(data["meta"].get("header"))}
        ),
        blocks=[Block(text=t, page=p, heading_level=h) for t, p, h in data["blocks"]],
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


PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; else nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(70)


def _child_main(out_fd: int, request: dict[str, Any]) -> None:
    """In the forked child: limit itself, parse one file, write JSON to ``out_fd``."""
    limits = request["limits"]
    # On top of what the preloaded parsers already mapped, so the setting means
    # "this file may cost N MiB" whatever the libraries' own baseline is.
    cap = _vm_size_bytes() + limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = math.ceil(limits["timeout_s"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # Parsers that print must not write into the helper's reply channel.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    from ingest.extract import PdfExtractor
    from ingest.pipeline import parse_file

    PdfExtractor.max_pages = limits["max_pdf_pages"]
    out: dict[str, Any]
    try:
        result = parse_file(
            Path(request["path"]), Path(request["root"]), max_chars=limits["max_chars"]
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
    data = json.dumps(out, ensure_ascii=False).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(out_fd, view) :]


def _run_one(request: dict[str, Any]) -> dict[str, Any]:
    """In the helper: fork a child for one file and watch it."""
    limits = request["limits"]
    r, w = os.pipe()
    helper = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        code = 0
        try:
            _die_with_parent(helper)
            _child_main(w, request)
        except BaseException:
            code = 70
        os._exit(code)
    os.close(w)
    deadline = time.monotonic() + float(limits["timeout_s"])
    chunks: list[bytes] = []
    total = 0
    outcome: dict[str, Any] | None = None
    while True:
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
            break
        total += len(data)
        if total > limits["max_result_bytes"]:
            outcome = {"problem": "the extracted text is larger than the limits allow"}
            break
        chunks.append(data)
    os.close(r)
    if outcome is not None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if outcome is not None:
        return outcome
    if chunks:
        try:
            parsed = json.loads(b"".join(chunks))
            if isinstance(parsed, dict):
                return parsed
        except ValueError:
            pass
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status)}


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
    """Helper main loop: one JSON request per line on stdin, one JSON reply per line."""
    import ingest.pipeline  # noqa: F401  (loaded once, inherited by every child)

    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        _preload(Path(request["path"]).suffix.lower())
        reply = _run_one(request)
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
        self._proc = subprocess.Popen(
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
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
            except BrokenPipeError:
                self._stop()
                return {"problem": "the extraction helper stopped; try again"}
            fd = proc.stdout.fileno()
            buf = bytearray()
            deadline = time.monotonic() + wait_s
            while not buf.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
                if not ready:
                    self._stop()
                    return {"timeout": True}
                data = os.read(fd, 1 << 20)
                if not data:
                    self._stop()
                    return {"problem": "the extraction helper stopped; try again"}
                buf += data
            reply = json.loads(bytes(buf))
            return reply if isinstance(reply, dict) else {"problem": "bad reply from extractor"}

    def close(self) -> None:
        with self._lock:
            self._stop()


_HELPER = _Helper()


class SandboxedParser:
    """``parse(path, root)`` like :func:`ingest.pipeline.parse_file`, in a bounded child."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()

    def __call__(self, path: Path, root: Path | None = None) -> ParsedDocument | IngestProblem:
        root = root if root is not None else path.parent
        try:
            size = path.stat().st_size
        except OSError as exc:
            return IngestProblem(path, f"cannot read file: {exc.strerror or exc}")
        if size > self.limits.max_file_bytes:
            return too_large(path, size, self.limits.max_file_bytes)
        limits = {**asdict(self.limits), "max_result_bytes": self.limits.max_result_bytes}
        request = {"path": str(path.resolve()), "root": str(root.resolve()), "limits": limits}
        # The helper's first start imports the parsers (seconds on a busy machine).
        reply = _HELPER.request(request, wait_s=self.limits.timeout_s + 60)
        if "document" in reply:
            doc = _from_json(reply["document"])
            return doc
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
