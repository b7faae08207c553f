"""The OpenAPI schema is the API's contract: every route and every status it declares is
answered by a real request, and every answer is one it declares.

For each (path, method, status) in ``/openapi.json`` an exercise below sends a real
request to the real app (a writable copy of the corpus index; a second app whose
address budget is spent; one without an index; one whose upload folder cannot be
written) and validates the answer with schemathesis' own checks: the status is
declared, the body matches its schema, the content type is declared and the declared
headers are there (``Retry-After``, ``Allow``, ``WWW-Authenticate``).

The test fails when

* a declared (path, method, status) has no exercise, or its exercise gets another
  answer: declare only what the server does;
* an exercise's status is not declared: declare what the server does;
* a method a path does not declare answers anything but the declared 405 (every
  method is tried on every path); ``HEAD`` is tried wherever a GET exercise is, and must
  answer as that GET is declared, without a body;
* the app serves a route that is neither in the schema nor a page of web/pages.py
  (``/metrics``, ``/api/tasks/{id}``, ...).

So a route or status added later fails here until it is declared and exercised: add
its exercises to :func:`_exercises`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fsfull import file_size_limit
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Mount

from index.store import writer_lock
from policy_search.settings import Settings
from search.engine import SearchEngine
from web.app import create_app
from web.pages import router as pages_router

ADMIN = "contract-admin-key-0c4f"
SEARCH = "contract-search-key-77ab"
PLAN = "004_0ae3777ec9422ce6"  # cites and is cited by nothing in particular: any document
KOBE = "001_1239ce19dc31f053"  # the full-disk delete tries to remove it (and must fail)
UPLOADED = "(the uploaded document)"
QUEUED = "(the queued upload's task)"
TASK = "/api/tasks/{task_id}"
MAX_BODY = 1024 * 1024
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
UPLOAD_TEXT = (
    "Kế hoạch thử nghiệm hợp đồng API năm 2026. Sở Thông tin và Truyền thông chủ trì "
    "kiểm tra giao diện lập trình của cổng tra cứu văn bản."
).encode()


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


@dataclass
class Exercise:
    """One real request, the status it must get, and the operation it answers for."""

    path: str  # as in the schema
    method: str
    status: int
    app: str = "main"
    doc: str = PLAN  # fills {doc_id}
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    files: list[Any] | None = None
    content: bytes | None = None
    during: str | None = None  # "writer_lock" or "full_disk"
    why: str = ""
    # HEAD is GET without the body (RFC 9110 9.3.2): answered for every GET and checked
    # against the GET operation's declaration (web/head.py), not declared twice.
    declared_as: str | None = None

    @property
    def operation(self) -> str:
        return self.declared_as or self.method

    def label(self) -> str:
        return f"{self.method} {self.path} -> {self.status} ({self.why or self.app})"


def _upload(name: str, data: bytes = UPLOAD_TEXT) -> list[Any]:
    return [("files", (name, data, "text/plain"))]


def _exercises(spec: dict[str, Any]) -> list[Exercise]:
    """Every declared (path, method, status) once, in an order that builds its own state:
    the upload before its file is fetched, the delete of it last."""
    reads = {
        "/api/search": {"q": "tăng trưởng xanh"},
        "/api/ask": {"q": "Ai chủ trì quản lý chất thải đô thị?"},
        "/api/documents": {},
        "/api/documents/{doc_id}": {},
        "/api/documents/{doc_id}/file": {},
        "/api/documents/{doc_id}/related": {},
        "/api/documents/{doc_id}/references": {},
        "/api/documents/{doc_id}/cited-by": {},
        "/api/stats": {},
        "/api/assignments": {"agency": "Sở Tài chính"},
    }
    bad = {
        "/api/search": ({"q": " \t"}, "an empty query"),
        "/api/ask": ({"q": "chất thải", "k": 999}, "k past POLICY_SEARCH_MAX_K"),
        "/api/documents": ({"type": "decree-ish"}, "an unknown type"),
        "/api/documents/{doc_id}": ({"limit": 0}, "limit below 1"),
        "/api/documents/{doc_id}/related": ({"k": 0}, "k below 1"),
        "/api/assignments": ({"limit": 0}, "limit below 1"),
    }
    docs = "/api/documents"
    one = "/api/documents/{doc_id}"
    out: list[Exercise] = [
        # First: the file route serves this upload's file.
        Exercise(docs, "POST", 200, files=_upload("contract-upload.txt"), why="an upload"),
        Exercise("/api/health", "GET", 200),
        Exercise("/metrics", "GET", 200, why="a scrape"),
        Exercise(
            docs,
            "POST",
            202,
            files=_upload("contract-queued.txt"),
            params={"wait": "false"},
            why="a queued upload",
        ),
        Exercise(TASK, "GET", 200, doc=QUEUED, why="the queued upload's task"),
        Exercise(TASK, "GET", 401, doc=QUEUED, why="no key"),
        Exercise(TASK, "GET", 403, doc=QUEUED, headers={"X-API-Key": SEARCH}, why="search key"),
        Exercise(TASK, "GET", 404, doc="no-such-task"),
        Exercise(TASK, "GET", 413, doc=QUEUED, content=b"x" * (MAX_BODY + 1)),
        Exercise(TASK, "GET", 422, doc=QUEUED, params={"verbose": "1"}, why="unknown parameter"),
        Exercise("/api/health", "GET", 422, params={"verbose": "1"}, why="unknown parameter"),
        Exercise("/api/health", "GET", 503, app="empty", why="no index"),
        Exercise("/api/health", "GET", 413, content=b"x" * (MAX_BODY + 1), why="large body"),
    ]
    # Results by document: the other body of the same 200, and a grouping it lacks.
    grouped = {"q": "tăng trưởng xanh", "group": "document"}
    out += [
        Exercise("/api/search", "GET", 200, params=grouped, why="by document"),
        Exercise("/api/search", "GET", 422, params={**grouped, "group": "x"}, why="no such group"),
    ]
    # Several values of a filter (any of them), and more than a filter may name.
    two = {
        "province": ["Lào Cai", "Cần Thơ"],
        "type": ["plan", "agreement"],
        "year": [2023, 2024],
        "document_type": ["Quyết định", "Kế hoạch"],
        "issuer": ["UBND tỉnh Lào Cai", "Bộ Tài chính"],
    }
    many = {"province": [f"Tỉnh {i}" for i in range(35)]}
    for path, q in (("/api/search", grouped), ("/api/documents", {})):
        for name, values in two.items():
            out.append(
                Exercise(path, "GET", 200, params={**q, name: values}, why=f"several {name}")
            )
        out.append(Exercise(path, "GET", 422, params={**q, **many}, why="too many provinces"))
    for path, params in reads.items():
        doc = UPLOADED if path.endswith("/file") else PLAN
        ok_params = params
        out += [
            Exercise(path, "GET", 200, doc=doc, params=ok_params),
            Exercise(path, "GET", 401, params=params, headers={"X-API-Key": "not-a-key"}),
            Exercise(path, "GET", 413, params=params, content=b"x" * (MAX_BODY + 1)),
            Exercise(path, "GET", 429, app="limited", params=params, why="budget spent"),
            Exercise(path, "GET", 503, app="empty", params=params, why="no index"),
        ]
        if path in bad:
            wrong, why = bad[path]
            out.append(Exercise(path, "GET", 422, params={**params, **wrong}, why=why))
        else:
            out.append(
                Exercise(path, "GET", 422, params={**params, "sort": "x"}, why="unknown parameter")
            )
        if "{doc_id}" in path:
            missing = "no-such-document" if not path.endswith("/file") else PLAN
            out.append(Exercise(path, "GET", 404, doc=missing, params=params))
    out += [
        Exercise(docs, "POST", 401, files=_upload("a.txt"), why="no key"),
        Exercise(
            docs,
            "POST",
            403,
            files=_upload("a.txt"),
            headers={"X-API-Key": SEARCH},
            why="search key",
        ),
        Exercise(
            docs,
            "POST",
            413,
            files=_upload("a.txt") + _upload("b.txt") + _upload("c.txt"),
            why="more files than POLICY_SEARCH_MAX_UPLOAD_FILES",
        ),
        Exercise(docs, "POST", 422, content=b"{}", why="not multipart"),
        Exercise(docs, "POST", 503, app="blocked", files=_upload("a.txt"), why="unwritable"),
        Exercise(
            docs, "POST", 409, files=_upload("b.txt"), during="writer_lock", why="writer busy"
        ),
        Exercise(
            docs,
            "POST",
            507,
            files=_upload("big.txt", ("Nội dung kế hoạch thử. " * 8000).encode()),
            during="full_disk",
            why="disk full",
        ),
        Exercise(one, "DELETE", 401, why="no key"),
        Exercise(one, "DELETE", 403, headers={"X-API-Key": SEARCH}, why="search key"),
        Exercise(one, "DELETE", 404, doc="no-such-document"),
        Exercise(one, "DELETE", 409, doc=KOBE, during="writer_lock", why="writer busy"),
        Exercise(one, "DELETE", 413, doc=KOBE, content=b"x" * (MAX_BODY + 1)),
        Exercise(one, "DELETE", 422, doc=KOBE, params={"force": "1"}, why="unknown parameter"),
        Exercise(one, "DELETE", 503, app="empty", why="no index"),
        Exercise(one, "DELETE", 507, doc=KOBE, during="full_disk", why="disk full"),
        Exercise(one, "DELETE", 200, doc=UPLOADED, why="the upload"),
        Exercise(one, "DELETE", 202, doc=KOBE, params={"wait": "false"}, why="a queued delete"),
    ]
    for ex in out:
        if (
            (ex.method in ("POST", "DELETE") or ex.path == TASK)
            and ex.status not in (401, 403)
            and "X-API-Key" not in ex.headers
        ):
            ex.headers = {**ex.headers, **_admin()}
    out = _with_head(out)
    # Every method a path does not have: the 405 its operations declare.
    for path, operations in spec["paths"].items():
        for method in METHODS:
            if method == "HEAD" and "get" in operations:
                continue  # answered as GET, above
            if method.lower() not in operations:
                out.append(Exercise(path, method, 405, why="method not on this path"))
    return out


def _with_head(exercises: list[Exercise]) -> list[Exercise]:
    """Each GET followed by its HEAD twin, while the state the GET read is still there."""
    out: list[Exercise] = []
    for ex in exercises:
        out.append(ex)
        if ex.method == "GET":
            why = f"HEAD as GET: {ex.why or ex.app}"
            out.append(dataclasses.replace(ex, method="HEAD", why=why, declared_as="GET"))
    return out


@dataclass
class Apps:
    clients: dict[str, TestClient]
    settings: dict[str, Settings]
    state: dict[str, str] = field(default_factory=dict)


def _app(index: Path, embedder: Any, **overrides: Any) -> tuple[TestClient, Settings]:
    values: dict[str, Any] = {
        "index_dir": index,
        "admin_keys": ADMIN,
        "search_keys": SEARCH,
        "rate_limit_per_address": 0,
        "rate_limit_per_key": 0,
        "max_request_bytes": MAX_BODY,
        "max_upload_files": 2,
        "ingest_lock_wait_s": 0,
        "extraction_timeout_s": 20,
    }
    values.update(overrides)
    settings = Settings(**values)
    return TestClient(create_app(settings, SearchEngine(settings, embedder))), settings


@pytest.fixture(scope="module")
def apps(corpus_index: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Apps:
    root = tmp_path_factory.mktemp("contract")
    index = root / "index"
    shutil.copytree(corpus_index, index, symlinks=True)
    clients: dict[str, TestClient] = {}
    settings: dict[str, Settings] = {}
    clients["main"], settings["main"] = _app(index, embedder)
    clients["limited"], settings["limited"] = _app(index, embedder, rate_limit_per_address=1)
    clients["empty"], settings["empty"] = _app(root / "no-index", embedder)
    blocker = root / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    clients["blocked"], settings["blocked"] = _app(index, embedder, upload_dir=blocker / "up")
    return Apps(clients, settings)


@contextlib.contextmanager
def _during(what: str | None, settings: Settings) -> Iterator[None]:
    if what == "writer_lock":
        with writer_lock(settings.index_dir):
            yield
    elif what == "full_disk":
        # Room for the staged small files, not for a new index version (RLIMIT_FSIZE:
        # the kernel refuses writes past it, as a full disk would; tests/fsfull.py).
        with file_size_limit(64 * 1024):
            yield
    else:
        yield


def _declared(spec: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {
        (path, method.upper(), int(status))
        for path, operations in spec["paths"].items()
        for method, op in operations.items()
        for status in op["responses"]
    }


def _run(ex: Exercise, apps: Apps, schema: Any, spec: dict[str, Any]) -> list[str]:
    """Send ``ex``; the problems with its answer (empty when it is as declared)."""
    client = apps.clients[ex.app]
    if ex.app == "limited":
        # Spend the address's budget: an ask costs POLICY_SEARCH_ASK_COST searches, and
        # is charged before its (empty, so refused) query is read.
        client.get("/api/ask", params={"q": " "})
    doc = apps.state.get(ex.doc, "") if ex.doc in (UPLOADED, QUEUED) else ex.doc
    url = ex.path.replace("{doc_id}", doc).replace("{task_id}", doc)
    with _during(ex.during, apps.settings[ex.app]):
        r = client.request(
            ex.method, url, params=ex.params, headers=ex.headers, files=ex.files, content=ex.content
        )
    r.request.read()  # a multipart body is a stream; the checks may look at it
    if r.status_code != ex.status:
        return [f"{ex.label()}: got {r.status_code}: {r.text[:300]}"]
    if ex.path == "/api/documents" and ex.method == "POST" and ex.status == 200:
        apps.state[UPLOADED] = next(f["doc_id"] for f in r.json()["files"])
    if ex.path == "/api/documents" and ex.method == "POST" and ex.status == 202:
        apps.state[QUEUED] = r.json()["task_id"]
    operations = spec["paths"][ex.path]
    # A 405 answers for the path: validated against each operation it has.
    methods = (
        [ex.operation] if ex.operation.lower() in operations else [m.upper() for m in operations]
    )
    checks = CHECKS if ex.method != "HEAD" else CHECKS[:3]  # no body to a HEAD
    problems = []
    for method in methods:
        name = "task_id" if "{task_id}" in ex.path else "doc_id"
        path_parameters = {name: doc} if "{" in ex.path else None
        case = schema[ex.path][method].Case(path_parameters=path_parameters)
        try:
            case.validate_response(r, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup
            problems.append(f"{ex.label()} as {method} {ex.path}: {exc}")
    return problems


def test_every_declared_route_and_status_is_answered_as_declared(apps: Apps) -> None:
    spec = apps.clients["main"].get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    exercises = _exercises(spec)
    problems: list[str] = []
    answered: set[tuple[str, str, int]] = set()
    for ex in exercises:
        found = _run(ex, apps, schema, spec)
        problems += found
        if not found:
            operations = spec["paths"][ex.path]
            methods = [ex.operation] if ex.operation.lower() in operations else list(operations)
            answered |= {(ex.path, m.upper(), ex.status) for m in methods}
    declared = _declared(spec)
    planned = {
        (ex.path, m.upper(), ex.status)
        for ex in exercises
        for m in (
            [ex.operation]
            if ex.operation.lower() in spec["paths"][ex.path]
            else list(spec["paths"][ex.path])
        )
    }
    problems += [
        f"declared but never exercised: {m} {p} -> {s} (add an exercise to _exercises)"
        for p, m, s in sorted(declared - planned)
    ]
    problems += [
        f"exercised but not declared: {m} {p} -> {s} (declare it in the route or web/openapi.py)"
        for p, m, s in sorted(planned - declared)
    ]
    assert not problems, "\n\n".join(problems)
    assert answered == declared


def test_every_route_the_app_serves_is_in_the_schema_or_a_page(apps: Apps) -> None:
    app = apps.clients["main"].app
    spec = apps.clients["main"].get("/openapi.json").json()
    pages = {route.path for route in pages_router.routes} | {app.openapi_url}  # type: ignore[attr-defined]
    undeclared = []
    for ctx in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        path = ctx.path_format or ctx.path or ""
        if isinstance(ctx.original_route, Mount):
            if ctx.original_route.path not in ("/static", "/docs-assets"):
                undeclared.append(f"mount {ctx.original_route.path}")
            continue
        if path in pages:
            continue
        operations = spec["paths"].get(path, {})
        for method in sorted(ctx.methods or {"*"}):
            if method.lower() not in operations:
                undeclared.append(f"{method} {path}")
    assert not undeclared, (
        "served but not in /openapi.json (declare it, or serve it from web/pages.py if it "
        f"is a page): {undeclared}"
    )
