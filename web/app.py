"""FastAPI app: the HTTP API over :class:`search.engine.SearchEngine`."""

from __future__ import annotations

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from index.store import IndexUnavailable, current_path
from search.answer import Answerer
from search.engine import QueryError, SearchEngine
from search.filters import Filters
from search.settings import Settings, get_settings
from web.admin import router as admin_router
from web.security import install_security


class ResultModel(BaseModel):
    doc_id: str
    title: str
    source: str
    section: str
    page: int | None
    text: str
    score: float


class SearchResponse(BaseModel):
    query: str
    results: list[ResultModel]


class HealthResponse(BaseModel):
    status: str
    index_version: str | None
    documents: int
    chunks: int
    embedder: str


class ErrorModel(BaseModel):
    error: str
    detail: str


def create_app(settings: Settings | None = None, engine: SearchEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or SearchEngine(settings)
    app = FastAPI(
        title="policy-search",
        description="Search Vietnamese public-policy documents with cited passages.",
        version="0.1.0",
    )
    app.state.engine = engine
    app.state.answerer = Answerer(engine)
    if current_path(settings.index_dir) is not None:
        engine.snapshot()  # refuse to start on an index whose parts disagree
    install_security(app, settings)  # before CORS, so CORS headers reach its 401/413/429
    app.include_router(admin_router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
        )

    @app.exception_handler(QueryError)
    async def _query_error(request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": "bad_query", "detail": str(exc)})

    @app.exception_handler(IndexUnavailable)
    async def _index_error(request: Request, exc: IndexUnavailable) -> JSONResponse:
        return JSONResponse(
            status_code=503, content={"error": "index_unavailable", "detail": str(exc)}
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": kinds.get(exc.status_code, "http_error"), "detail": str(exc.detail)},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(status_code=422, content={"error": "bad_request", "detail": detail})

    from web.pages import mount_pages
    from web.routes import router

    app.include_router(router)
    mount_pages(app)

    @app.get(
        "/api/search",
        response_model=SearchResponse,
        responses={422: {"model": ErrorModel}, 503: {"model": ErrorModel}},
    )
    async def api_search(
        q: str = Query(..., description="The question or keywords."),
        k: int | None = Query(None, description="Number of results (1..max_k)."),
        type: str | None = Query(None, description="Document type: plan, agreement or news."),
        province: str | None = Query(None, description='Province, e.g. "Lào Cai".'),
        date_from: str | None = Query(None, description="Dated on or after (yyyy[-mm[-dd]])."),
        date_to: str | None = Query(None, description="Dated on or before (yyyy[-mm[-dd]])."),
        doc: str | None = Query(None, description="Only this source document (doc_id)."),
    ) -> SearchResponse:
        filters = Filters(
            doc_type=type, province=province, date_from=date_from, date_to=date_to, doc_id=doc
        )
        results = await run_in_threadpool(engine.search, q, k, filters)
        return SearchResponse(query=q, results=[ResultModel(**r.to_json()) for r in results])

    @app.get("/api/health", response_model=HealthResponse)
    async def api_health() -> HealthResponse | JSONResponse:
        try:
            snap = await run_in_threadpool(engine.snapshot)
        except IndexUnavailable as exc:
            return JSONResponse(
                status_code=503, content={"error": "index_unavailable", "detail": str(exc)}
            )
        counts = snap.manifest.get("counts", {})
        return HealthResponse(
            status="ok",
            index_version=snap.version,
            documents=counts.get("documents", 0),
            chunks=counts.get("chunks", 0),
            embedder=snap.embedder,
        )

    return app
