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
"""

from __future__ import annotations

import re
import shutil
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
from index.store import IndexBusy, IndexUnavailable
from ingest.extract import supported_suffixes
from ingest.pipeline import make_doc_id
from ingest.sandbox import ExtractionLimits, SandboxedParser
from search.engine import SearchEngine
from web.security import ERROR_SCHEMA, ApiError, require_admin

router = APIRouter(tags=["documents (write)"], dependencies=[Depends(require_admin)])

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


class UploadError(BaseModel):
    error: str
    detail: str
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
_ERR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
_UPLOAD_ERR = {"model": UploadError}


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters or a leading dot, at most 150 chars."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".").strip()
    if len(name) > 150:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: 150 - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 10 else ""
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
    body = UploadError(error="no_file_ingested", detail=detail, files=results)
    return JSONResponse(status_code=413 if too_large else 422, content=body.model_dump())


def _stage(upload: UploadFile, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    upload.file.seek(0)
    with open(dest, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


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
        401: _ERR,
        403: _ERR,
        409: {"description": "Another ingest is running", **_ERR},
        413: _UPLOAD_ERR,
        422: _UPLOAD_ERR,
        503: _ERR,
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
    suffixes = supported_suffixes()
    upload_dir = settings.uploads_path.resolve()
    staging = upload_dir / ".incoming" / uuid.uuid4().hex
    results: list[FileResult] = []
    staged: list[tuple[int, Upload]] = []
    names: set[str] = set()
    too_large: list[bool] = []
    try:
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
                names.add(name.lower())
                path = staging / name
                _stage(upload, path)
                staged.append((len(results), Upload(staged=path, dest=upload_dir / name)))
                results.append(FileResult(filename=sent, status="rejected", reason="pending"))
            too_large.append(big)
        if not staged:
            return _no_file_error(results, too_large=all(too_large))
        report = _apply(engine, add=[u for _, u in staged])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
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


@router.delete(
    "/api/documents/{doc_id}",
    response_model=DeleteResponse,
    summary="Remove a document (admin key)",
    description="Synchronous: the document is gone from search results when the call returns. "
    "An uploaded document's stored file is deleted too.",
    responses={
        401: _ERR,
        403: _ERR,
        404: {"description": "No document with this id", **_ERR},
        409: {"description": "Another ingest is running", **_ERR},
        503: _ERR,
    },
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
        stored.unlink(missing_ok=True)
    return DeleteResponse(
        doc_id=doc_id,
        removed=True,
        index_version=report.version,
        documents=report.documents,
        chunks=report.chunks,
    )
