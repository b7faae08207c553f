"""Write API: ``POST /api/documents`` (upload) and ``DELETE /api/documents/{doc_id}``.

Both are synchronous: when the call returns, the new index version is the
current one and searches see the change. Each file of an upload is checked
(name, type, size), parsed in the extraction sandbox (time, memory, pages,
characters) and either ingested or rejected with its own reason; the other
files go on. Everything is checked before anything is embedded, and a batch
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

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from index.ann import AnnConfig
from index.build import BuildReport, Upload, apply_changes
from index.fs_errors import storage_failure
from index.store import IndexBusy, IndexUnavailable, current_path
from ingest.extract import supported_suffixes
from ingest.pipeline import make_doc_id
from ingest.sandbox import ExtractionLimits, SandboxedParser
from search.engine import SearchEngine
from web.errors import ApiError, ErrorModel, documented, error_response
from web.security import require_admin

router = APIRouter(tags=["documents"], dependencies=[Depends(require_admin)])

FileStatus = Literal["added", "updated", "unchanged", "rejected"]


class FileResult(BaseModel):
    filename: str = Field(description="The file's name as sent.")
    status: FileStatus
    doc_id: str | None = Field(None, description="The document's id (null when rejected).")
    reason: str | None = Field(None, description="Why the file was rejected.")
    warnings: list[str] = Field(default_factory=list, description="Read, but something was off.")


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
    255 bytes of UTF-8 (the stem is cut, whole characters only; the suffix is kept)."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".").strip()
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        if not dot or len(suffix) >= 10:
            return ""
        room = MAX_NAME_BYTES - len((dot + suffix).encode())
        stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip()
        name = stem + dot + suffix if stem else ""
    return name


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.engine
    return engine


def _reject(name: str, reason: str) -> FileResult:
    return FileResult(filename=name, status="rejected", reason=reason)


def _no_file_error(results: list[FileResult], too_large: bool) -> JSONResponse:
    detail = "no file could be ingested: " + "; ".join(
        f"{r.filename or '(no name)'}: {r.reason}" for r in results
    )
    return error_response(
        413 if too_large else 422,
        "no_file_ingested",
        detail,
        files=[r.model_dump() for r in results],
    )


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


@router.post(
    "/api/documents",
    response_model=UploadResponse,
    summary="Add or replace documents (admin key)",
    description="Multipart form, field `files`, one or more PDF, TXT, MD, HTML or DOCX files. "
    "Synchronous: the documents are searchable when the call returns. Each file is ingested "
    "or rejected with its own reason; the response is 200 when at least one file was "
    "ingested, 413 (every file too large) or 422 (no usable file) otherwise. A file with the "
    "name of an earlier upload replaces that document.",
    responses={
        **documented(401, 403, 409, 503, 507),
        413: _UPLOAD_ERR,
        422: _UPLOAD_ERR,
    },
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_documents(request: Request) -> Any:
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
        return await run_in_threadpool(_ingest_uploads, engine, uploads)
    finally:
        await form.close()


def _ingest_uploads(engine: SearchEngine, uploads: list[UploadFile]) -> Any:
    settings = engine.settings
    upload_dir = settings.uploads_path.resolve()
    try:
        staging = _Staging(upload_dir)
    except OSError as exc:
        _raise_storage(exc, upload_dir)
        raise
    try:
        return _stage_and_apply(engine, uploads, upload_dir, staging)
    finally:
        staging.close()


def _stage_and_apply(
    engine: SearchEngine, uploads: list[UploadFile], upload_dir: Path, staging: _Staging
) -> Any:
    settings = engine.settings
    suffixes = supported_suffixes()
    results: list[FileResult] = []
    staged: list[tuple[int, Upload]] = []
    names: set[str] = set()
    too_large: list[bool] = []
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
        elif size > settings.max_upload_bytes:
            big = True
            results.append(
                _reject(
                    sent,
                    f"the file is {size} bytes; the limit is {settings.max_upload_bytes} "
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
            staged.append((len(results), Upload(staged=path, dest=upload_dir / name)))
            results.append(FileResult(filename=sent, status="rejected", reason="pending"))
        too_large.append(big)
    if not staged:
        return _no_file_error(results, too_large=all(too_large))
    adds = [u for _, u in staged]
    try:
        placed = _Placed(adds, staging.path / ".placed")
    except OSError as exc:
        _raise_storage(exc, upload_dir)
        raise
    before = current_path(settings.index_dir)
    try:
        report = _apply(engine, add=adds)
    except BaseException:
        if current_path(settings.index_dir) == before:
            placed.restore()  # no new version names them: uploads/ as it was
        raise
    problems = {str(p.path.resolve()): p.reason for p in report.problems}
    for index, item in staged:
        dest = item.dest.resolve()
        doc_id = make_doc_id(dest, dest.parent)
        result = results[index]
        if str(dest) in problems:
            result.reason = problems[str(dest)]
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
            result.warnings = report.warnings.get(doc_id, [])
    if all(r.status == "rejected" for r in results):
        return _no_file_error(results, too_large=all(too_large))
    return UploadResponse(
        files=results,
        index_version=report.version,
        documents=report.documents,
        chunks=report.chunks,
        embedded_chunks=report.embedded_chunks,
        seconds=round(report.seconds, 3),
    )


def _apply(
    engine: SearchEngine, add: list[Upload] | None = None, remove: list[str] | None = None
) -> BuildReport:
    settings = engine.settings
    try:
        return apply_changes(
            settings.index_dir,
            engine.embedder,
            add=add or [],
            remove_ids=remove or [],
            parser=SandboxedParser(ExtractionLimits.from_settings(settings)),
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
    description="Synchronous: the document is gone from search results when the call returns. "
    "An uploaded document's stored file is deleted too.",
    responses=documented(401, 403, 404, 409, 503, 507),
)
async def delete_document(doc_id: str, request: Request) -> Any:
    return await run_in_threadpool(_delete, _engine(request), doc_id)


def _delete(engine: SearchEngine, doc_id: str) -> Any:
    try:
        snapshot = engine.snapshot()
    except IndexUnavailable as exc:
        raise ApiError(503, "index_unavailable", str(exc)) from exc
    doc = snapshot.document(doc_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    report = _apply(engine, remove=[doc_id])
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
