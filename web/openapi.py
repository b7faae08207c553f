"""The OpenAPI schema states every bound the server enforces, read from the settings,
and every answer the server gives: it is the API's contract (tests/web/test_api_contract.py
sends a real request for each route and status it declares, and validates the answer).

Routes are declared once, at import time, but their bounds (longest query,
largest ``k``, most files, largest document part) are settings. The server
checks them in its own code, with messages naming the setting; this module
writes the same numbers into the published schema, together with the
answers that the middleware gives before any route runs (401, 413, 429) and
that admission control gives (503). Patterns are the very expressions the
server matches with (:data:`search.engine.QUERY_PATTERN`,
:data:`search.filters.DATE_PATTERN`), so a client validating against the
schema and the server agree on every string.

Answers every API route can give are declared on each: ``405`` (another method
on the path, with ``Allow``), ``413`` (a body over the limit, whatever the
method), ``422`` in the API's error shape (FastAPI's default validation shape is
never sent) and ``Retry-After`` on every ``503``. Read routes declare the API key
as optional security (required with ``POLICY_SEARCH_REQUIRE_SEARCH_KEY``).

The schema is also what the server accepts: :func:`known_parameters` answers a
query parameter that the route does not declare with a 422 naming it, so a
misspelt filter is never silently ignored. :func:`operation_id` names operations
for generated clients (``uploadDocuments``, not ``upload_documents_api_documents_post``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from policy_search.settings import Settings
from search.engine import QUERY_PATTERN
from search.filters import DATE_PATTERN, DOC_TYPES, MAX_TEXT_FILTER_CHARS
from web.errors import ApiError, ErrorModel
from web.security import PUBLIC_API_PATHS, request_cost

_ERROR_REF = {"$ref": "#/components/schemas/ErrorModel"}
# What FastAPI declares for a 422 by default; the server never sends that shape.
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
_ALLOW = {
    "description": "The methods this path has.",
    "required": True,
    "schema": {"type": "string"},
}
_CHALLENGE = {
    "description": 'Bearer realm="policy-search"',
    "required": True,
    "schema": {"type": "string"},
}
# The tags generated clients group operations by (one class each).
TAGS = [
    {"name": "search", "description": "Search passages and answer questions."},
    {
        "name": "documents",
        "description": "The indexed documents: list, read, related and cited documents; "
        "upload and delete (admin key).",
    },
    {"name": "service", "description": "Health and statistics of the index being served."},
]


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if retry:
        out["headers"] = {"Retry-After": dict(_RETRY_AFTER)}
    return out


def operation_id(route: APIRoute) -> str:
    """The endpoint's name in camelCase, without an ``api_`` prefix: ``upload_documents``
    is ``uploadDocuments``. Routes whose function name reads worse set ``operation_id``."""
    head, *rest = route.name.removeprefix("api_").split("_")
    return head + "".join(word.capitalize() for word in rest)


def all_routes(app: FastAPI) -> list[BaseRoute]:
    """Every route of ``app``, those of included routers too (FastAPI 0.16x keeps an
    included router as one entry of ``app.routes``, whose ``matches`` names no route)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.16x copies included routes into app.routes
        return list(app.routes)
    return [ctx.original_route for ctx in iter_route_contexts(app.routes)]


def _api_routes(app: FastAPI) -> list[tuple[APIRoute, str]]:
    """Each API route with its full path (an included router's prefix too)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.16x copies included routes, prefix and all
        return [(r, r.path_format) for r in app.routes if isinstance(r, APIRoute)]
    return [
        (ctx.original_route, ctx.path_format or "")
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
    ]


def _query_names(app: FastAPI) -> dict[tuple[int, str], tuple[str, frozenset[str]]]:
    """(id of an API route, method) -> its path and the query parameters the schema declares."""
    names: dict[tuple[int, str], tuple[str, frozenset[str]]] | None = getattr(
        app.state, "query_names", None
    )
    if names is None:
        names = {}
        paths = app.openapi().get("paths", {})
        for route, path in _api_routes(app):
            if not route.include_in_schema or not path.startswith("/api/"):
                continue
            for method in route.methods or ():
                op = paths.get(path, {}).get(method.lower())
                if isinstance(op, dict):
                    params = op.get("parameters", [])
                    declared = frozenset(p["name"] for p in params if p.get("in") == "query")
                    names[(id(route), method)] = (path, declared)
        app.state.query_names = names
    return names


async def known_parameters(request: Request) -> None:
    """Dependency of every route: a query parameter the API route does not declare is a 422
    ``bad_request`` naming it (``?typ=plan`` would otherwise search without the filter).
    Routes outside /api/ (pages, whose script reads its own parameters) are left alone."""
    route = request.scope.get("route")
    found = _query_names(request.app).get((id(route), request.method))
    if found is None:
        return
    path, declared = found
    unknown = sorted({name for name in request.query_params if name not in declared})
    if not unknown:
        return
    shown = ", ".join(repr(name[:64]) for name in unknown[:10])
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    takes = ", ".join(sorted(declared)) or "no query parameters"
    raise ApiError(
        422,
        "bad_request",
        f"unknown query parameter{'s' if len(unknown) > 1 else ''} {shown}{more}; "
        f"{request.method} {path} takes: {takes}",
    )


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
        "year": {"minimum": 1900, "maximum": 2100},
    }


def _apply(schema: dict[str, Any], keywords: dict[str, Any]) -> None:
    """Put ``keywords`` on the typed branch of a parameter schema (``anyOf`` with null), and
    on the items of its list branch (a filter that may be repeated)."""
    kind = "string" if {"pattern", "minLength", "maxLength", "enum"} & set(keywords) else "integer"
    branches = schema.get("anyOf", [schema])
    for branch in branches:
        if branch.get("type") == kind:
            branch.update(keywords)
        elif branch.get("type") == "array" and branch.get("items", {}).get("type") == kind:
            branch["items"].update(keywords)


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
        security = _security_schemes(schema)
        for path, operations in schema.get("paths", {}).items():
            allow = ", ".join(m.upper() for m in operations)
            for method, op in operations.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                _operation(path, method, op, bounds, settings)
                # Every route answers another method with 405 (/metrics as well as the API).
                op["responses"]["405"] = {
                    "description": f"Another method on this path; it has {allow} (the `Allow` "
                    "header).",
                    "headers": {"Allow": dict(_ALLOW)},
                    "content": {"application/json": {"schema": _ERROR_REF}},
                }
                if path.startswith("/api/"):
                    _answers(path, op, security, settings)
        _drop_unused(schema, ("HTTPValidationError", "ValidationError"))
        used = {
            t
            for ops in schema.get("paths", {}).values()
            for op in ops.values()
            for t in op.get("tags", [])
        }
        schema["tags"] = [t for t in TAGS if t["name"] in used]
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
            param["name"] in ("limit", "offset") and path in ("/api/documents", "/api/assignments")
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


def _security_schemes(schema: dict[str, Any]) -> list[str]:
    """The names of the key schemes (bearer, X-API-Key), described for reads and writes."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        how = (
            "`Authorization: Bearer KEY`"
            if scheme.get("type") == "http"
            else f"the `{scheme.get('name', 'X-API-Key')}` header"
        )
        scheme["description"] = (
            f"An API key in {how}: an admin key (POLICY_SEARCH_ADMIN_KEYS) for uploads and "
            "deletes; for reads, optional unless POLICY_SEARCH_REQUIRE_SEARCH_KEY is set, a "
            "search or admin key (POLICY_SEARCH_SEARCH_KEYS), counted against its own rate "
            "budget. A key that is sent must be valid (401)."
        )
    return list(schemes)


def _answers(path: str, op: dict[str, Any], security: list[str], settings: Settings) -> None:
    """What every API route may answer, whatever its code: 413, 422 (the API's shape),
    a Retry-After with every 503, the challenge with every 401; reads' optional key."""
    responses = op["responses"]
    responses.setdefault("413", _error("The request body is over POLICY_SEARCH_MAX_REQUEST_BYTES"))
    declared_422 = responses.get("422", {})
    refs = str(declared_422)
    if not declared_422 or _FASTAPI_422 in refs:
        responses["422"] = _error(
            "bad_request: a parameter is missing, malformed or unknown to this route (named "
            "in `detail`)"
        )
    for status, header, value in (
        ("503", "Retry-After", _RETRY_AFTER),
        ("429", "Retry-After", _RETRY_AFTER),
        ("401", "WWW-Authenticate", _CHALLENGE),
    ):
        if status in responses:
            responses[status].setdefault("headers", {})[header] = dict(value)
    if path not in PUBLIC_API_PATHS and "security" not in op and security:
        optional: list[dict[str, list[str]]] = [] if settings.require_search_key else [{}]
        op["security"] = optional + [{name: []} for name in security]


def _drop_unused(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    text = json.dumps(schema.get("paths", {}))
    for name in names:
        if f"#/components/schemas/{name}" not in text:
            components.pop(name, None)


__all__ = ["TAGS", "document_api", "known_parameters", "operation_id"]
