"""The OpenAPI schema states every bound the server enforces, read from the settings.

Routes are declared once, at import time, but their bounds (longest query,
largest ``k``, most files, largest document part) are settings. The server
checks them in its own code, with messages naming the setting; this module
writes the same numbers into the published schema, together with the
answers that the middleware gives before any route runs (401, 413, 429) and
that admission control gives (503). Patterns are the very expressions the
server matches with (:data:`search.engine.QUERY_PATTERN`,
:data:`search.filters.DATE_PATTERN`), so a client validating against the
schema and the server agree on every string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from search.engine import QUERY_PATTERN
from search.filters import DATE_PATTERN, DOC_TYPES, MAX_TEXT_FILTER_CHARS
from search.settings import Settings
from web.errors import ErrorModel
from web.security import PUBLIC_API_PATHS, request_cost

_ERROR_REF = {"$ref": "#/components/schemas/ErrorModel"}


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if retry:
        out["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return out


def _bounds(settings: Settings) -> dict[str, dict[str, Any]]:
    """Parameter name -> JSON schema keywords the server enforces."""
    return {
        "q": {"minLength": 1, "maxLength": settings.max_query_chars, "pattern": QUERY_PATTERN},
        "k": {"minimum": 1, "maximum": settings.max_k},
        # Empty means no condition, as for the other filters.
        "date_from": {"pattern": f"^$|{DATE_PATTERN}"},
        "date_to": {"pattern": f"^$|{DATE_PATTERN}"},
        "limit": {"minimum": 1, "maximum": settings.max_document_part_blocks},
        # A page past the first ends at max_results (k is cut to fit).
        "offset": {"minimum": 0, "maximum": settings.max_results - 1},
        # Empty means no condition; any other value outside these is a 422 (bad_query).
        "type": {"enum": ["", *DOC_TYPES]},
        # A value that names no body, number or printed type is a 422 too (said in words).
        "issuer": {"maxLength": MAX_TEXT_FILTER_CHARS},
        "number": {"maxLength": MAX_TEXT_FILTER_CHARS},
        "document_type": {"maxLength": MAX_TEXT_FILTER_CHARS},
    }


def _apply(schema: dict[str, Any], keywords: dict[str, Any]) -> None:
    """Put ``keywords`` on the typed branch of a parameter schema (``anyOf`` with null)."""
    kind = "string" if {"pattern", "minLength", "maxLength", "enum"} & set(keywords) else "integer"
    branches = schema.get("anyOf", [schema])
    for branch in branches:
        if branch.get("type") == kind:
            branch.update(keywords)


def document_api(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` publish the settings' bounds and the middleware's answers."""
    original = app.openapi
    bounds = _bounds(settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorModel", ErrorModel.model_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                _operation(path, method, op, bounds, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operation(
    path: str,
    method: str,
    op: dict[str, Any],
    bounds: dict[str, dict[str, Any]],
    settings: Settings,
) -> None:
    responses = op["responses"]
    is_api = path.startswith("/api/")
    for param in op.get("parameters", []):
        # /api/documents/{doc_id}/related has a k of its own, and the document list a limit
        # and offset of its own (documents per page), each bounded in its declaration.
        own = (param["name"] == "k" and path.endswith("/related")) or (
            param["name"] in ("limit", "offset") and path == "/api/documents"
        )
        if param["name"] in bounds and not own:
            _apply(param["schema"], bounds[param["name"]])
    if is_api and path not in PUBLIC_API_PATHS:
        responses.setdefault("401", _error("The API key sent is not valid, or one is needed"))
    if is_api and request_cost(method.upper(), path, settings):
        responses.setdefault("429", _error("Rate limit reached", retry=True))
        responses.setdefault(
            "503",
            _error(
                "overloaded (too many requests waiting), timeout (stopped at "
                "POLICY_SEARCH_REQUEST_TIMEOUT_S), index_unavailable or embedder_unavailable",
                retry=True,
            ),
        )
    if method in ("post", "put", "patch"):
        responses.setdefault("413", _error("Request body or a file too large"))
    if method == "post" and path == "/api/documents":
        body = op["requestBody"]["content"]["multipart/form-data"]["schema"]
        files = body["properties"]["files"]
        files["maxItems"] = settings.max_upload_files
        # Sizes have no JSON-schema keyword for binary parts: stated in words.
        files["description"] += (
            f". At most {settings.max_upload_files} files of at most "
            f"{settings.max_upload_bytes} bytes each (larger ones are rejected by name), "
            f"and a request body of at most {settings.max_request_bytes} bytes (413)."
        )


__all__ = ["document_api"]
