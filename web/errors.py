"""The API's one error shape: ``{"error": code, "detail": message}``.

Every error the API answers goes through :func:`error_response` (or raises
:class:`ApiError`, which the app turns into one), so there is a single JSON
shape and a single list of codes. ``error`` is a stable machine code (the
web page maps it to a Vietnamese or English message); ``detail`` is for a
person and may change wording. Codes, with their HTTP status:

==========================  ======  =========================================================
code                        status  meaning
==========================  ======  =========================================================
``bad_request``             422     the request does not fit the API (a missing or malformed
                                    parameter, a body that is not multipart, ...)
``bad_query``               422     the query is unusable: empty, too long, ``k`` out of range,
                                    ``offset + k`` past POLICY_SEARCH_MAX_RESULTS, an impossible
                                    or reversed date, an issuer, number or document type that
                                    cannot be read as one
``cors_rejected``           400     a CORS preflight from an origin, or asking for a method or
                                    header, that POLICY_SEARCH_CORS_ORIGINS does not allow
``unauthorized``            401     no valid API key where one is needed
``forbidden``               403     the key may not do this (a search key on a write route)
``not_found``               404     no such document or route
``method_not_allowed``      405     the route exists, not with this method (see ``Allow``)
``busy``                    409     another ingest holds the writer lock
``request_too_large``       413     the request body is over the limit
``too_many_files``          413     more files in one upload than allowed
``no_file_ingested``        413/422 an upload in which no file could be used (with ``files``)
``rate_limited``            429     over the per-key or per-address budget (``Retry-After``)
``internal_error``          500     a bug: nothing a client can fix
``overloaded``              503     too many requests of this kind waiting (``Retry-After``)
``timeout``                 503     the request ran past POLICY_SEARCH_REQUEST_TIMEOUT_S and was
                                    stopped (``Retry-After``)
``index_unavailable``       503     no usable index (missing, inconsistent, other embedder)
``embedder_unavailable``    503     the embedding process stopped; it restarts on its own
                                    (``Retry-After``)
``storage_unavailable``     503     the server cannot write its upload or index folder
                                    (permissions, read-only file system)
``insufficient_storage``    507     the disk holding the uploads or the index is full
==========================  ======  =========================================================
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match, Mount

from index.embed_process import EmbedderProcessError
from index.store import IndexUnavailable
from search.deadline import DeadlineExceeded
from search.engine import QueryError
from web.paths import public_detail

log = logging.getLogger("policy-search")

ERROR_CODES: dict[str, str] = {
    "bad_request": "the request does not fit the API",
    "bad_query": "the query is unusable (empty, too long, k out of range, offset + k past "
    "the cap, bad date, an issuer, number or document type that cannot be read as one)",
    "cors_rejected": "a CORS preflight this server's allowed origins, methods or headers refuse",
    "unauthorized": "no valid API key where one is needed",
    "forbidden": "the key may not do this",
    "not_found": "no such document or route",
    "method_not_allowed": "the route exists, not with this method",
    "busy": "another ingest holds the writer lock",
    "request_too_large": "the request body is over the limit",
    "too_many_files": "more files in one upload than allowed",
    "no_file_ingested": "no file of the upload could be used",
    "rate_limited": "over the rate limit; see Retry-After",
    "internal_error": "a server bug",
    "overloaded": "too many requests of this kind waiting; see Retry-After",
    "timeout": "the request ran past its time limit and was stopped; see Retry-After",
    "index_unavailable": "no usable index",
    "embedder_unavailable": "the embedding process stopped and is restarting; see Retry-After",
    "storage_unavailable": "the server cannot write its upload or index folder",
    "insufficient_storage": "the disk holding the uploads or the index is full",
}


class ErrorModel(BaseModel):
    """What every API error looks like."""

    error: str = Field(
        description="Stable machine code: " + ", ".join(ERROR_CODES) + " (see README, Errors)."
    )
    detail: str = Field(description="What went wrong, for a person; wording may change.")


class ApiError(Exception):
    """Raise to answer ``status`` with ``{"error": code, "detail": detail}`` (and ``headers``)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        assert error in ERROR_CODES, error
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return error_response(self.status, self.error, self.detail, self.headers, **self.extra)


def _body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON object of an error (``extra``: fields of an extended model, e.g. ``files``)."""
    assert error in ERROR_CODES, error
    return {"error": error, "detail": detail, **extra}


def error_response(
    status: int,
    error: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The one way the API answers an error. A JSONResponse is also an ASGI app, so
    middleware answers with it too (``await error_response(...)(scope, receive, send)``).

    Every 503 says when to try again (the schema declares ``Retry-After`` on each): the
    cause's own estimate, else :data:`DEFAULT_RETRY_S`.
    """
    if status == 503 and not any(k.lower() == "retry-after" for k in headers or {}):
        headers = {**(headers or {}), **retry_after(DEFAULT_RETRY_S)}
    return JSONResponse(status_code=status, content=_body(error, detail, **extra), headers=headers)


# A 503 whose cause gives no estimate (a folder the server cannot write, an index being
# repaired): long enough not to hammer a server an operator is fixing.
DEFAULT_RETRY_S = 30


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered with :class:`ErrorModel`."""
    return {status: {"model": ErrorModel} for status in statuses}


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path.

    Asked of each route with its public ``matches`` (a FULL match is path and
    method), because Starlette names only the methods of the first route whose
    path matched, and GET and POST /api/documents are two routes.
    """
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return error_response(404, "not_found", str(exc.detail), headers)
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        if allowed:  # else a mounted app (static files) named its own
            headers["Allow"] = ", ".join(allowed)
        headers.setdefault("Allow", "GET, HEAD")
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return error_response(405, "method_not_allowed", detail, headers)
    code = "request_too_large" if exc.status_code == 413 else "bad_request"
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(422, "bad_request", detail)


async def _query_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, "bad_query", str(exc))


async def _index_error(request: Request, exc: Exception) -> JSONResponse:
    # The whole message, paths included, for the operator; the client's names no folder.
    log.warning("index unavailable: %s", exc)
    index_dir = request.app.state.engine.index_dir
    return error_response(
        503, "index_unavailable", public_detail(str(exc), index_dir), retry_after(30)
    )


async def _embedder_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("embedder failed: %s", exc)
    return error_response(
        503,
        "embedder_unavailable",
        "the embedding process stopped while answering and is being restarted; try again",
        retry_after(5),
    )


async def _deadline(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeadlineExceeded)
    return error_response(503, "timeout", str(exc), retry_after(exc.limit_s))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the client gets JSON, never a traceback.
    return error_response(
        500, "internal_error", "the server failed; this is a bug, not your request"
    )


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the API's error shape.

    Starlette answers it ``400`` in plain text ("Disallowed CORS origin"); the status and
    the CORS headers it computed are kept, the body becomes :class:`ErrorModel` JSON.
    """

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        origin = request_headers.get("origin", "")
        detail = (
            f"CORS preflight refused ({refused}): the origin {origin!r}, the method or the "
            "headers asked for are not allowed here (POLICY_SEARCH_CORS_ORIGINS)"
        )
        headers = {
            k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
        }
        return error_response(response.status_code, "cors_rejected", detail, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every exception a route can raise, answered as :class:`ErrorModel` JSON."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(IndexUnavailable, _index_error)
    app.add_exception_handler(EmbedderProcessError, _embedder_error)
    app.add_exception_handler(DeadlineExceeded, _deadline)
    app.add_exception_handler(Exception, _unexpected)


__all__ = [
    "ERROR_CODES",
    "ApiError",
    "ErrorModel",
    "JsonCORSMiddleware",
    "documented",
    "error_response",
    "install_error_handlers",
    "retry_after",
]
