"""Write API: ``POST /api/documents`` (upload), ``DELETE /api/documents/{doc_id}`` and
``GET /api/tasks/{task_id}``.

Every write is a task of the server's one writer (web/tasks.py): queued, then
applied in order by one thread, its embedding in a process of its own at the
lowest CPU priority so that searches go first. Both write routes are
synchronous by default: when the call returns, the new index version is the
current one and searches see the change. With ``?wait=false`` they answer
202 with the task at once; ``GET /api/tasks/{task_id}`` then tells how it
went, with the same per-file verdicts. Each file of an upload is checked
(name, type, size), parsed in the extraction sandbox (time, memory, pages,
characters) and either ingested or rejected with its own reason; the other
files go on. Text is extracted before the index's writer lock is taken, so a
file that uses up its extraction time keeps no other writer waiting. Everything is checked before anything is embedded, and a batch
ends in a single new index version, or none when no file could be used.

Uploaded files are kept in ``POLICY_SEARCH_UPLOAD_DIR`` (default
``INDEX_DIR/uploads``), where rebuilds re-read them; a delete removes the
stored file too. A document that came from an ingested folder is removed
from the index, but comes back at that folder's next ``policy-search ingest``
unless its file is deleted as well.

Nothing is half-done. Files are staged in a folder of their own under
``uploads/.incoming`` (locked while the upload runs; a folder whose upload
died is swept by the next one). A name the file system refuses is that
file's rejection; a full disk or a folder the server may not write is a
507 or 503 JSON error. When the build fails, the files it had moved into
``uploads/`` are put back as they were, so no file is left that the index
does not name.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, computed_field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from index.ann import AnnConfig
from index.build import BuildReport, Upload, apply_changes
from index.embed import Embedder
from index.embed_process import EmbedderProcessError
from index.fs_errors import storage_failure
from index.store import IndexBusy, IndexUnavailable, current_path
from ingest.extract import supported_suffixes
from ingest.models import IngestProblem, ParsedDocument
from ingest.pipeline import make_doc_id
from ingest.reasons import reason_code
from ingest.sandbox import ExtractionLimits, SandboxedParser
from search.engine import SearchEngine
from web.errors import ApiError, ErrorModel, documented, retry_after
from web.security import require_admin
from web.tasks import QueueFull, Task, TaskKind, TaskStatus, Writer, task_board

log = logging.getLogger("policy-search")
T = TypeVar("T")

router = APIRouter(tags=["documents"], dependencies=[Depends(require_admin)])

FileStatus = Literal["added", "updated", "unchanged", "rejected"]


class FileResult(BaseModel):
    filename: str = Field(description="The file's name as sent.")
    status: FileStatus
    doc_id: str | None = Field(None, description="The document's id (null when rejected).")
    reason: str | None = Field(
        None, description="Why the file was rejected, in English words that may change."
    )
    warnings: list[str] = Field(default_factory=list, description="Read, but something was off.")

    @computed_field(  # type: ignore[prop-decorator]
        description="The reason's stable code (README, Upload rejections): what a client "
        "keys its message by; null when not rejected."
    )
    @property
    def reason_code(self) -> str | None:
        return reason_code(self.reason)[0] if self.reason else None

    @computed_field(  # type: ignore[prop-decorator]
        description='The values the reason names, e.g. {"size": "26222380", "limit": '
        '"20971520"} for too_large.'
    )
    @property
    def reason_args(self) -> dict[str, str]:
        return reason_code(self.reason)[1] if self.reason else {}


class UploadResponse(BaseModel):
    files: list[FileResult]
    index_version: str
    documents: int
    chunks: int
    embedded_chunks: int
    seconds: float


class UploadError(ErrorModel):
    """An upload in which no file could be used: the error, and each file's verdict."""

    files: list[FileResult] = Field(default_factory=list)


class DeleteResponse(BaseModel):
    doc_id: str
    removed: bool
    index_version: str
    documents: int
    chunks: int


class TaskError(BaseModel):
    """Why a write failed: the error the synchronous call would have answered."""

    status: int = Field(description="The HTTP status the synchronous call would have had.")
    error: str = Field(description="The error code (see README, Errors).")
    detail: str


class TaskResponse(BaseModel):
    """A queued write (``?wait=false``) and, once it ran, its outcome."""

    task_id: str
    kind: TaskKind = Field(description="upload or delete.")
    status: TaskStatus = Field(
        description="queued (waiting for the writes before it), running, done (in the index "
        "version named), failed (see error; nothing was changed)."
    )
    created: float = Field(description="When the write was accepted (Unix time, seconds).")
    started: float | None = None
    finished: float | None = None
    files: list[FileResult] = Field(
        default_factory=list,
        description="An upload's verdict on each file, as the synchronous call gives it: "
        "filled in when the task is done, or failed because no file could be used.",
    )
    doc_id: str | None = Field(None, description="A delete's document.")
    index_version: str | None = Field(
        None, description="The index version holding the change (when done)."
    )
    result: UploadResponse | DeleteResponse | None = Field(
        None, description="What the synchronous call would have answered with 200."
    )
    error: TaskError | None = None


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["files"],
                "properties": {
                    "files": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "format": "binary"},
                        "description": "One or more files: "
                        + ", ".join(sorted(supported_suffixes())),
                    }
                },
            }
        }
    },
}
_UPLOAD_ERR = {"model": UploadError}
# What file systems allow for one name (ext4, XFS, btrfs: 255 bytes, not characters;
# 149 x "ệ" is 447 bytes).
MAX_NAME_BYTES = 255
STAGING = ".incoming"
_LOCK = ".lock"
# A staging folder without a lock file this old was left by an upload that died early.
_STALE_S = 3600


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters or a leading dot, at most
    255 bytes of UTF-8.

    A longer name keeps its suffix; its stem is cut (whole characters only) and ends
    in ``~`` and 8 hex digits of the whole name's hash, so two names that differ only
    past the cut stay two files, with two document ids (cut alone, the second upload
    silently replaced the first). The same long name always gives the same stored name.
    """
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".").strip()
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        if not dot or len(suffix) >= 10:
            return ""
        mark = "~" + hashlib.sha256(name.encode()).hexdigest()[:8]
        room = MAX_NAME_BYTES - len((dot + suffix + mark).encode())
        stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip()
        name = stem + mark + dot + suffix if stem else ""
    return name


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.engine
    return engine


def _reject(name: str, reason: str) -> FileResult:
    return FileResult(filename=name, status="rejected", reason=reason)


def _no_file_error(results: list[FileResult], too_large: bool) -> ApiError:
    detail = "no file could be ingested: " + "; ".join(
        f"{r.filename or '(no name)'}: {r.reason}" for r in results
    )
    return ApiError(
        413 if too_large else 422,
        "no_file_ingested",
        detail,
        files=[r.model_dump() for r in results],
    )


# An absolute path of this machine inside a reason ("/srv/index/uploads/x.txt"): a client
# hears the file's name, never where the server keeps it.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~/:])/(?:[^\s/'\"()\[\],;]+/)+([^\s/'\"()\[\],;]*)")


def public_reason(reason: str) -> str:
    """``reason`` with every absolute path cut to its last component."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "(folder)", reason)


def storage_error(exc: BaseException, where: Path) -> ApiError | None:
    """507 for a full disk, 503 for a folder the server cannot write; None if not a
    file-system failure."""
    failure = storage_failure(exc, where)
    if failure is None:
        return None
    if failure.kind == "full":
        return ApiError(
            507,
            "insufficient_storage",
            f"the server's disk is full ({failure.reason}); nothing was changed",
        )
    return ApiError(
        503,
        "storage_unavailable",
        f"the server cannot write its upload or index folder ({failure.reason}); "
        "nothing was changed",
    )


def _raise_storage(exc: BaseException, where: Path) -> None:
    """Raise the 507/503 answer for a file-system failure; return for anything else."""
    error = storage_error(exc, where)
    if error is not None:
        raise error from exc


class _Staging:
    """A private folder under ``uploads/.incoming`` for one upload, locked while it lives.

    The lock (``flock`` on a file inside) dies with the process that holds it, so
    :func:`sweep_staging` can tell a folder left by a killed upload from a running one.
    """

    def __init__(self, upload_dir: Path) -> None:
        root = upload_dir / STAGING
        root.mkdir(parents=True, exist_ok=True)
        sweep_staging(upload_dir)
        name = uuid.uuid4().hex
        # Locked under a hidden name, then renamed: a sweeper never sees this folder
        # without its lock held (the lock stays with the open file across the rename).
        self.path = root / f".new-{name}"
        self.path.mkdir()
        self._fd: int | None = None
        try:
            self._fd = os.open(self.path / _LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            os.rename(self.path, root / name)
            self.path = root / name
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sweep_staging(upload_dir: Path) -> list[Path]:
    """Remove staging folders whose upload is gone: their lock is free, or they never got
    one (an upload killed while creating its folder) and are an hour old."""
    removed: list[Path] = []
    try:
        folders = [p for p in (upload_dir / STAGING).iterdir() if p.is_dir()]
    except OSError:
        return removed
    for folder in folders:
        lock = folder / _LOCK
        try:
            if folder.name.startswith("."):
                raise FileNotFoundError(folder)  # still being created, or never finished
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > _STALE_S:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live upload holds it
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def _stage(upload: UploadFile, dest: Path) -> None:
    upload.file.seek(0)
    try:
        with open(dest, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)
    except BaseException:
        with contextlib.suppress(OSError):
            dest.unlink()
        raise


class _Placed:
    """What the build will overwrite in ``uploads/``, kept (hard links) until it is known
    whether the new version was written, so a failed build leaves the folder as it was."""

    def __init__(self, uploads: list[Upload], keep: Path) -> None:
        self._saved: list[tuple[Path, Path | None]] = []
        keep.mkdir()
        for i, upload in enumerate(uploads):
            saved: Path | None = None
            if upload.dest.exists():
                saved = keep / str(i)
                try:
                    os.link(upload.dest, saved)
                except OSError:
                    shutil.copy2(upload.dest, saved)
            self._saved.append((upload.dest, saved))

    def restore(self) -> None:
        for dest, saved in self._saved:
            with contextlib.suppress(OSError):
                if saved is not None:
                    os.replace(saved, dest)
                else:
                    dest.unlink(missing_ok=True)


_WAIT = Query(
    True,
    description="true (the default): answer when the change is in the index. false: answer "
    "202 with the queued task at once; GET /api/tasks/{task_id} tells how it went.",
)
_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": TaskResponse,
        "description": "Queued (`wait=false`); the `Location` header names the task.",
    }
}
_WRITER_LOCK = threading.Lock()


def _writer(request: Request) -> Writer:
    """The app's one writer, made on the first write."""
    state = request.app.state
    with _WRITER_LOCK:
        writer: Writer | None = getattr(state, "writer", None)
        if writer is None:
            settings = _engine(request).settings
            # Writes embed in a process of their own where queries do (`serve`); where the
            # server embeds in-process (tests, a library user's app) they share its embedder.
            spec = settings.embedder_spec if settings.embedder_process else None
            writer = Writer(
                spec,
                settings.write_nice,
                board=task_board(settings.task_file),
                view=lambda task: task_view(task).model_dump(mode="json"),
            )
            state.writer = writer
            request.app.router.on_shutdown.append(writer.close)
    return writer


def _task_error(exc: BaseException) -> TaskError:
    if isinstance(exc, ApiError):
        return TaskError(status=exc.status, error=exc.error, detail=exc.detail)
    if isinstance(exc, IndexUnavailable):
        return TaskError(status=503, error="index_unavailable", detail=str(exc))
    if isinstance(exc, EmbedderProcessError):
        return TaskError(
            status=503,
            error="embedder_unavailable",
            detail="the embedding process stopped during the write; nothing was changed",
        )
    return TaskError(status=500, error="internal_error", detail="the server failed; this is a bug")


def task_view(task: Task) -> TaskResponse:
    """What GET /api/tasks/{task_id} answers for ``task``."""
    view = TaskResponse(
        task_id=task.id,
        kind=task.kind,
        status=task.status,
        created=task.created,
        started=task.started,
        finished=task.finished,
        doc_id=task.doc_id,
    )
    if view.status == "done":
        result = task.future.result()
        view.result = result
        view.index_version = result.index_version
        if isinstance(result, UploadResponse):
            view.files = result.files
    elif view.status == "failed":
        exc = task.future.exception()
        assert exc is not None
        view.error = _task_error(exc)
        if isinstance(exc, ApiError) and "files" in exc.extra:
            view.files = [FileResult(**f) for f in exc.extra["files"]]
    return view


def _logged(run: Callable[[], T], what: str) -> Callable[[], T]:
    """``run``, logging a failure that is a bug (with its traceback) before it is reported."""

    def logged() -> T:
        try:
            return run()
        except (ApiError, IndexUnavailable, EmbedderProcessError):
            raise
        except Exception:
            log.exception("write failed: %s", what)
            raise

    return logged


async def _queue(
    request: Request,
    kind: TaskKind,
    run: Callable[[], Any],
    wait: bool,
    cleanup: Callable[[], None] | None = None,
    doc_id: str | None = None,
) -> Any:
    """Queue a write; its outcome (``wait``) or 202 with its task."""
    try:
        task = _writer(request).submit(kind, _logged(run, kind), cleanup=cleanup, doc_id=doc_id)
    except QueueFull as exc:
        if cleanup is not None:
            cleanup()
        raise ApiError(
            503,
            "overloaded",
            f"the server is busy with writes ({exc}); try again shortly",
            retry_after(30),
        ) from exc
    if not wait:
        return JSONResponse(
            task_view(task).model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/api/tasks/{task.id}"},
        )
    # Shielded: a client that goes away must not cancel a write other clients queue behind.
    return await asyncio.shield(asyncio.wrap_future(task.future))


@router.post(
    "/api/documents",
    response_model=UploadResponse,
    summary="Add or replace documents (admin key)",
    description="Multipart form, field `files`, one or more PDF, TXT, MD, HTML or DOCX files. "
    "Synchronous by default: the documents are searchable when the call returns. Each file is "
    "ingested or rejected with its own reason; the response is 200 when at least one file was "
    "ingested, 413 (every file too large) or 422 (no usable file) otherwise. A file with the "
    "name of an earlier upload replaces that document. With `wait=false` the checked files "
    "are queued and the answer is 202 with the task (GET /api/tasks/{task_id}); a batch "
    "without a single acceptable file is still answered 413/422 at once. Writes are applied "
    "one at a time, in the order they came.",
    responses={
        **_ACCEPTED,
        **documented(401, 403, 409, 503, 507),
        413: _UPLOAD_ERR,
        422: _UPLOAD_ERR,
    },
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_documents(request: Request, wait: bool = _WAIT) -> Any:
    engine = _engine(request)
    settings = engine.settings
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(
            422,
            "bad_request",
            "send multipart/form-data with one or more files in the field 'files'",
        )
    try:
        form = await request.form(
            max_files=settings.max_upload_files, max_fields=16, max_part_size=64 * 1024
        )
    except (HTTPException, MultiPartException) as exc:
        message = str(getattr(exc, "detail", exc))
        if "Too many files" in message:
            raise ApiError(
                413,
                "too_many_files",
                f"more than {settings.max_upload_files} files in one upload "
                "(POLICY_SEARCH_MAX_UPLOAD_FILES)",
            ) from exc
        raise ApiError(422, "bad_request", f"unreadable multipart body ({message})") from exc
    except OSError as exc:
        # Parts over 1 MiB are spooled to the temporary folder while the body is read.
        _raise_storage(exc, Path(tempfile.gettempdir()))
        raise
    try:
        values = form.getlist("files")
        uploads = [v for v in values if isinstance(v, UploadFile)]
        if not uploads:
            raise ApiError(
                422,
                "bad_request",
                "no files: send one or more files in the multipart field 'files'",
            )
        batch = await run_in_threadpool(_stage_batch, engine, uploads)
    finally:
        await form.close()
    writer = _writer(request)
    return await _queue(
        request,
        "upload",
        functools.partial(_apply_batch, engine, writer, batch),
        wait,
        cleanup=batch.staging.close,
    )


@dataclass
class _Batch:
    """An upload's files, checked and staged, with a verdict slot for each file sent."""

    staging: _Staging
    upload_dir: Path
    results: list[FileResult]
    staged: list[tuple[int, Upload]]  # (index in results, upload)
    too_large: list[bool]


def _stage_batch(engine: SearchEngine, uploads: list[UploadFile]) -> _Batch:
    """Check every file and copy the acceptable ones into a staging folder of their own.

    Raises the 413/422 ``no_file_ingested`` error when none is acceptable.
    """
    settings = engine.settings
    upload_dir = settings.uploads_path.resolve()
    try:
        staging = _Staging(upload_dir)
    except OSError as exc:
        _raise_storage(exc, upload_dir)
        raise
    try:
        batch = _stage_files(settings.max_upload_bytes, uploads, upload_dir, staging)
    except BaseException:
        staging.close()
        raise
    if not batch.staged:
        staging.close()
        raise _no_file_error(batch.results, too_large=all(batch.too_large))
    return batch


def _stage_files(
    max_bytes: int, uploads: list[UploadFile], upload_dir: Path, staging: _Staging
) -> _Batch:
    suffixes = supported_suffixes()
    batch = _Batch(staging, upload_dir, [], [], [])
    results, too_large = batch.results, batch.too_large
    names: set[str] = set()
    for upload in uploads:
        sent = upload.filename or ""
        name = safe_filename(sent)
        size = upload.size if upload.size is not None else 0
        big = False
        if not name:
            results.append(_reject(sent, "the file has no usable name"))
        elif Path(name).suffix.lower() not in suffixes:
            results.append(
                _reject(
                    sent,
                    f"unsupported file type {Path(name).suffix or '(none)'}; supported: "
                    + ", ".join(sorted(suffixes)),
                )
            )
        elif size > max_bytes:
            big = True
            results.append(
                _reject(
                    sent,
                    f"the file is {size} bytes; the limit is {max_bytes} "
                    "bytes (POLICY_SEARCH_MAX_UPLOAD_BYTES)",
                )
            )
        elif name.lower() in names:
            results.append(_reject(sent, "the same file name twice in one upload"))
        elif size == 0:
            results.append(_reject(sent, "empty file"))
        else:
            path = staging.path / name
            try:
                _stage(upload, path)
            except OSError as exc:
                failure = storage_failure(exc, upload_dir)
                if failure is None or failure.kind != "name":
                    _raise_storage(exc, upload_dir)
                    raise
                # This file's name only: the rest of the batch goes on.
                results.append(
                    _reject(
                        sent,
                        f"the server's file system refuses this file name ({failure.reason}); "
                        "rename the file with a shorter name",
                    )
                )
                too_large.append(False)
                continue
            names.add(name.lower())
            batch.staged.append((len(results), Upload(staged=path, dest=upload_dir / name)))
            results.append(FileResult(filename=sent, status="rejected", reason="pending"))
        too_large.append(big)
    return batch


def _key(path: Path, root: Path) -> tuple[str, str]:
    return str(path.resolve()), str(root.resolve())


class _Extracted:
    """A parser whose answers for the staged files were read before the writer lock.

    Extraction is the one stage whose time a file controls (up to the extraction
    time limit, 60 s by default), so it runs before :func:`_apply` takes the lock:
    a slow file keeps no other writer (``policy-search ingest``) out. A file the
    build asks for that was not read ahead is read then, as without this.
    """

    def __init__(self, parser: SandboxedParser, items: list[tuple[Path, Path]]) -> None:
        self._parser = parser
        self._read: dict[tuple[str, str], ParsedDocument | IngestProblem] = {
            _key(p, r): result for (p, r), result in zip(items, parser.map(items), strict=True)
        }

    def __call__(self, path: Path, root: Path | None = None) -> ParsedDocument | IngestProblem:
        root = root if root is not None else path.parent
        found = self._read.pop(_key(path, root), None)
        return found if found is not None else self._parser(path, root)

    def map(self, items: Sequence[tuple[Path, Path]]) -> Iterator[ParsedDocument | IngestProblem]:
        return (self(p, r) for p, r in items)


def _apply_batch(engine: SearchEngine, writer: Writer, batch: _Batch) -> UploadResponse:
    """Extract, then embed and write the staged files as one new version (the writer thread)."""
    settings = engine.settings
    upload_dir, results = batch.upload_dir, batch.results
    adds = [u for _, u in batch.staged]
    # Where the build will read each upload from, under the root it will name.
    parser = _Extracted(
        SandboxedParser(ExtractionLimits.from_settings(settings)),
        [(u.staged, u.dest.resolve().parent) for u in adds],
    )
    try:
        placed = _Placed(adds, batch.staging.path / ".placed")
    except OSError as exc:
        _raise_storage(exc, upload_dir)
        raise
    before = current_path(settings.index_dir)
    try:
        report = _apply(engine, writer.embedder(engine.embedder), parser, add=adds)
    except BaseException:
        if current_path(settings.index_dir) == before:
            placed.restore()  # no new version names them: uploads/ as it was
        raise
    problems = {str(p.path.resolve()): p.reason for p in report.problems}
    for index, item in batch.staged:
        dest = item.dest.resolve()
        doc_id = make_doc_id(dest, dest.parent)
        result = results[index]
        if str(dest) in problems:
            result.reason = public_reason(problems[str(dest)])
        else:
            result.reason = None
            result.doc_id = doc_id
            result.status = (
                "added"
                if doc_id in report.added
                else "updated"
                if doc_id in report.updated
                else "unchanged"
            )
            result.warnings = [public_reason(w) for w in report.warnings.get(doc_id, [])]
    if all(r.status == "rejected" for r in results):
        raise _no_file_error(results, too_large=all(batch.too_large))
    return UploadResponse(
        files=results,
        index_version=report.version,
        documents=report.documents,
        chunks=report.chunks,
        embedded_chunks=report.embedded_chunks,
        seconds=round(report.seconds, 3),
    )


def _apply(
    engine: SearchEngine,
    embedder: Embedder,
    parser: Callable[[Path, Path], ParsedDocument | IngestProblem] | None = None,
    add: list[Upload] | None = None,
    remove: list[str] | None = None,
) -> BuildReport:
    settings = engine.settings
    try:
        return apply_changes(
            settings.index_dir,
            embedder,
            add=add or [],
            remove_ids=remove or [],
            parser=parser or SandboxedParser(ExtractionLimits.from_settings(settings)),
            lock_timeout=settings.ingest_lock_wait_s,
            # The same index shape as `policy-search ingest` builds with these settings.
            ann=AnnConfig.from_settings(settings),
            windows=settings.dense_windows,
            window_method=settings.window_method,
            # Published where searches read (Milvus) before the new version is current.
            publisher=engine.backend,
        )
    except IndexBusy as exc:
        raise ApiError(
            409,
            "busy",
            f"another ingest is running and did not finish within "
            f"{settings.ingest_lock_wait_s:g} s (POLICY_SEARCH_INGEST_LOCK_WAIT_S); try again",
        ) from exc
    except IndexUnavailable as exc:
        # Its cause may be a file-system error (a broken copy's missing manifest): the
        # index is what the client must hear about, not the disk.
        raise ApiError(503, "index_unavailable", str(exc)) from exc
    except Exception as exc:
        error = storage_error(exc, settings.index_dir)
        if error is None:
            raise
        raise error from exc


@router.delete(
    "/api/documents/{doc_id}",
    response_model=DeleteResponse,
    summary="Remove a document (admin key)",
    description="Synchronous by default: the document is gone from search results when the "
    "call returns. An uploaded document's stored file is deleted too. With `wait=false` the "
    "answer is 202 with the queued task (GET /api/tasks/{task_id}); an id that names no "
    "document then fails the task with `not_found`.",
    responses={**_ACCEPTED, **documented(401, 403, 404, 409, 503, 507)},
)
async def delete_document(doc_id: str, request: Request, wait: bool = _WAIT) -> Any:
    engine = _engine(request)
    run = functools.partial(_delete, engine, doc_id)
    return await _queue(request, "delete", run, wait, doc_id=doc_id)


def _delete(engine: SearchEngine, doc_id: str) -> DeleteResponse:
    try:
        snapshot = engine.snapshot()
    except IndexUnavailable as exc:
        raise ApiError(503, "index_unavailable", str(exc)) from exc
    doc = snapshot.document(doc_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    # Nothing is embedded: the server's embedder answers the pipeline's questions (its
    # name, what it can do), and the writes' process is not started for a delete.
    report = _apply(engine, engine.embedder, remove=[doc_id])
    if report.missing:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    upload_dir = engine.settings.uploads_path.resolve()
    stored = Path(doc.path).resolve()
    if upload_dir in stored.parents:
        # The document is gone from the index; a file that cannot be removed only costs
        # space (a rebuild would bring it back, so say nothing false: it is not indexed).
        with contextlib.suppress(OSError):
            stored.unlink(missing_ok=True)
    return DeleteResponse(
        doc_id=doc_id,
        removed=True,
        index_version=report.version,
        documents=report.documents,
        chunks=report.chunks,
    )


@router.get(
    "/api/tasks/{task_id}",
    response_model=TaskResponse,
    summary="How a queued write went (admin key)",
    description="The task of an upload or delete sent with `wait=false`: queued, running, "
    "done (with the per-file verdicts and the index version holding the change) or failed "
    "(with the error the synchronous call would have answered). The last 1000 finished "
    "tasks are kept, in a file every worker of `serve` shares (POLICY_SEARCH_TASK_FILE), so "
    "any worker answers; a task whose server process stopped before it finished is failed "
    "with `write_interrupted` (nothing was changed).",
    responses=documented(401, 403, 404),
)
async def get_task(task_id: str, request: Request) -> TaskResponse:
    view = await run_in_threadpool(_writer(request).board.get, task_id)
    if view is None:
        raise ApiError(404, "not_found", f"no task with id {task_id!r}")
    return TaskResponse.model_validate(view)
