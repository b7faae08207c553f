"""FastAPI app: the HTTP API over :class:`search.engine.SearchEngine`."""

from __future__ import annotations

from fastapi import FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from index.store import Snapshot, current_path
from search.answer import Answerer
from search.engine import SearchEngine
from search.filters import Filters
from search.settings import Settings, get_settings
from web.admin import router as admin_router
from web.admission import Admission
from web.errors import documented, install_error_handlers
from web.openapi import document_api
from web.pages import mount_pages
from web.routes import public_source
from web.routes import router as read_router
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


def _search(engine: SearchEngine, q: str, k: int | None, filters: Filters) -> SearchResponse:
    results = engine.search(q, k, filters)
    return SearchResponse(
        query=q,
        results=[
            ResultModel(**{**r.to_json(), "source": public_source(r.source)}) for r in results
        ],
    )


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
    app.state.admission = Admission(settings)
    if current_path(settings.index_dir) is not None:
        engine.snapshot()  # refuse to start on an index whose parts disagree
    install_error_handlers(app)
    install_security(app, settings)  # before CORS, so CORS headers reach its 401/413/429
    app.include_router(admin_router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
        )
    app.include_router(read_router)
    mount_pages(app)
    document_api(app, settings)

    @app.get(
        "/api/search",
        response_model=SearchResponse,
        responses=documented(422, 503),
    )
    async def api_search(
        request: Request,
        q: str = Query(..., description="The question or keywords."),
        k: int | None = Query(None, description="Number of results (1..max_k)."),
        type: str | None = Query(None, description="Document type: plan, agreement or news."),
        province: str | None = Query(None, description='Province, e.g. "Lào Cai".'),
        date_from: str | None = Query(None, description="Dated on or after (yyyy[-mm[-dd]])."),
        date_to: str | None = Query(None, description="Dated on or before (yyyy[-mm[-dd]])."),
        doc: str | None = Query(None, description="Only this source document (doc_id)."),
    ) -> Response:
        # An empty parameter is no condition.
        filters = Filters(
            doc_type=type or None,
            province=province or None,
            date_from=date_from or None,
            date_to=date_to or None,
            doc_id=doc or None,
        )
        # Checked here, before the request queues for a slot.
        engine.clean_query(q)
        engine.check_k(k)
        engine.check_filters(filters)
        admission: Admission = request.app.state.admission
        return await admission.json("search", _search, engine, q, k, filters)

    @app.get("/api/health", response_model=HealthResponse, responses=documented(503))
    async def api_health() -> HealthResponse:
        # No pool and, while the current version is open, no thread: health answers
        # however many asks and searches are queued.
        snap: Snapshot | None = engine.open_snapshot()
        if snap is None:
            snap = await run_in_threadpool(engine.snapshot)
        counts = snap.manifest.get("counts", {})
        return HealthResponse(
            status="ok",
            index_version=snap.version,
            documents=counts.get("documents", 0),
            chunks=counts.get("chunks", 0),
            embedder=snap.embedder,
        )

    return app


__all__ = ["create_app"]
