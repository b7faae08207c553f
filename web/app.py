"""FastAPI app: the HTTP API over :class:`search.engine.SearchEngine`."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from index.store import Snapshot, current_path
from policy_search.settings import Settings, get_settings
from search.answer import Answerer
from search.collection import source_url
from search.engine import SearchEngine
from search.filters import Filters
from search.paging import search_page
from web.admin import router as admin_router
from web.admission import Admission
from web.errors import JsonCORSMiddleware, documented, install_error_handlers
from web.head import HeadAsGetMiddleware
from web.lifecycle import install_lifecycle
from web.metrics import install_metrics
from web.openapi import document_api, known_parameters, operation_id
from web.pages import mount_pages
from web.requestlog import RequestLogMiddleware
from web.routes import DOCUMENT_TYPE, ISSUER, NUMBER, PROVINCE, TYPE, YEAR, make_filters
from web.routes import router as read_router
from web.security import RATE_LIMIT_HEADERS, install_security


class ResultModel(BaseModel):
    doc_id: str
    title: str
    source: str
    section: str
    page: int | None
    text: str
    score: float
    url: str | None = Field(
        None, description="The passage, highlighted in its document on the web page."
    )
    type: str | None = Field(None, description="The document's type.")
    date: str | None = Field(None, description="The document's date (yyyy[-mm[-dd]]), or empty.")
    provinces: list[str] = Field(default_factory=list, description="Provinces it names.")
    source_url: str | None = Field(None, description="The document's original web address.")
    number: str = Field("", description="An official document's number as printed.")
    document_type: str = Field(
        "", description='An official document\'s type as printed ("Quyết định").'
    )
    issuer: str = Field("", description="An official document's issuing body.")


class DocumentGroupModel(BaseModel):
    doc_id: str
    title: str
    score: float = Field(description="Its best passage's score.")
    type: str | None = Field(None, description="The document's type.")
    date: str | None = Field(None, description="The document's date (yyyy[-mm[-dd]]), or empty.")
    provinces: list[str] = Field(default_factory=list, description="Provinces it names.")
    source: str = ""
    source_url: str | None = Field(None, description="The document's original web address.")
    number: str = Field("", description="An official document's number as printed.")
    document_type: str = Field(
        "", description='An official document\'s type as printed ("Quyết định").'
    )
    issuer: str = Field("", description="An official document's issuing body.")
    passages: list[ResultModel] = Field(
        description="Its best passages among the hits (up to 3), best first."
    )


class SearchResponse(BaseModel):
    query: str
    results: list[ResultModel] = Field(
        description="The page's passages; with group=document, the passages of `documents` "
        "in their order."
    )
    offset: int = Field(
        0, description="Rank of the first result (0: the best); of the first document when grouped."
    )
    next_offset: int | None = Field(
        None, description="`offset` of the next page; null when there is none."
    )
    total: int = Field(
        0,
        description="Hits that can be paged: passages, or documents with group=document. "
        "Every page of a query is a slice of one ranking (at most POLICY_SEARCH_MAX_RESULTS "
        "passages), so pages never repeat or skip a hit.",
    )
    total_documents: int = Field(0, description="Documents the hits belong to.")
    with_all_words: int = Field(
        0,
        description="Passages (under the filters) that contain every content word of the "
        "query, a count one can check by reading; the hits also hold passages close in meaning.",
    )
    with_all_words_documents: int = Field(0, description="Documents those passages belong to.")
    lexical_match: bool = Field(
        True,
        description="false when no passage matched any word of the query: every hit is "
        "close in meaning only.",
    )
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="The documents of the hits counted per type, province, issuer, "
        "document_type (as printed) and year, most first.",
    )
    documents: list[DocumentGroupModel] | None = Field(
        None, description="With group=document: the page's documents, best first; else null."
    )
    restored: str | None = Field(
        None,
        description="The query as searched when it was typed without diacritics and they "
        "were restored (null otherwise).",
    )
    kind: str = Field("", description="How the query was read: vi, vi_plain or en.")
    highlight: list[str] = Field(
        default_factory=list,
        description="Words and phrases to mark in the passages: with diacritics where the "
        "query had them (match those exactly), without where it had none (match any).",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "query": "quan ly chat thai do thi",
                    "results": [
                        {
                            "doc_id": "004_0ae3777ec9422ce6",
                            "title": "Kế hoạch hành động tăng trưởng xanh tỉnh Lào Cai",
                            "source": "004_0ae3777ec9422ce6.txt",
                            "section": "V. Tổ chức thực hiện › 6. Sở Xây dựng",
                            "page": None,
                            "text": "Phối hợp với Sở Tài nguyên và Môi trường …",
                            "score": 0.93,
                            "url": "/doc/004_0ae3777ec9422ce6#p24",
                        }
                    ],
                    "offset": 0,
                    "next_offset": 5,
                    "total": 200,
                    "total_documents": 31,
                    "with_all_words": 7,
                    "with_all_words_documents": 2,
                    "lexical_match": True,
                    "facets": {"type": {"plan": 12, "news": 19}, "year": {"2023": 4}},
                    "restored": "quản lý chất thải đô thị",
                    "kind": "vi_plain",
                    "highlight": ["ly", "chat", "ly chat", "thai", "chat thai"],
                }
            ]
        }
    }


class HealthResponse(BaseModel):
    status: str
    index_version: str | None
    documents: int
    chunks: int
    embedder: str


# What a result says of an official document, from its header.
_OFFICIAL = ("number", "document_type", "issuer")


def _search(
    engine: SearchEngine,
    q: str,
    k: int | None,
    offset: int,
    filters: Filters | None,
    restore: bool,
    group: str | None = None,
    sort: str = "relevance",
) -> SearchResponse:
    page = search_page(engine, q, k, offset, filters, restore, group, sort)
    results = [
        ResultModel(
            **r.to_json(),
            url=url,
            type=page.documents[r.doc_id].doc_type,
            date=page.documents[r.doc_id].date,
            provinces=page.documents[r.doc_id].provinces,
            source_url=source_url(page.documents[r.doc_id].source),
            **{k: str(page.documents[r.doc_id].header.get(k, "")) for k in _OFFICIAL},
        )
        for r, url in zip(page.results, page.urls, strict=True)
    ]
    documents = None
    if page.groups is not None:
        by_chunk = {r.chunk_id: m for r, m in zip(page.results, results, strict=True)}
        documents = []
        for g in page.groups:
            first = by_chunk[g.results[0].chunk_id]
            documents.append(
                DocumentGroupModel(
                    doc_id=g.doc_id,
                    title=first.title,
                    score=g.score,
                    type=first.type,
                    date=first.date,
                    provinces=first.provinces,
                    source=first.source,
                    source_url=first.source_url,
                    number=first.number,
                    document_type=first.document_type,
                    issuer=first.issuer,
                    passages=[by_chunk[r.chunk_id] for r in g.results],
                )
            )
    return SearchResponse(
        query=q,
        results=results,
        offset=page.offset,
        next_offset=page.next_offset,
        total=page.total,
        total_documents=page.total_documents,
        with_all_words=page.with_all_words,
        with_all_words_documents=page.with_all_words_documents,
        lexical_match=page.lexical_match,
        facets=page.facets,
        documents=documents,
        restored=page.restored,
        kind=page.kind,
        highlight=page.highlight,
    )


def create_app(settings: Settings | None = None, engine: SearchEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or SearchEngine(settings)
    app = FastAPI(
        title="policy-search",
        description="Search Vietnamese public-policy documents with cited passages.",
        version="0.1.0",
        # web/pages.py serves both from this server's own files (offline, strict CSP).
        docs_url=None,
        redoc_url=None,
        # Names for generated clients, and no query parameter ignored (web/openapi.py).
        generate_unique_id_function=operation_id,
        dependencies=[Depends(known_parameters)],
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
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
            # So that a widget on the portal's page can see its budget and how long to wait.
            expose_headers=list(RATE_LIMIT_HEADERS),
        )
    # Outermost: HEAD served as GET by everything inside; the log line and metrics see all.
    app.add_middleware(HeadAsGetMiddleware)
    install_metrics(app, settings.metrics_key_required)
    app.add_middleware(
        RequestLogMiddleware,
        personal_data=settings.log_personal_data,
        trusted_proxies=settings.trusted_proxies,
        metrics=app.state.metrics,
    )
    install_lifecycle(app, on_shutdown=[app.state.metrics.worker_exit])
    app.include_router(read_router)
    mount_pages(app)
    document_api(app, settings)

    @app.get(
        "/api/search",
        operation_id="search",
        tags=["search"],
        response_model=SearchResponse,
        responses=documented(422, 503),
        summary="Search passages, one page at a time",
        description="The best passages for `q` from rank `offset` (or, with group=document, "
        "documents with their best passages), with how many hits can be paged (`total`), "
        "facet counts of the hits, how many passages contain every word of the query "
        "(`with_all_words`) and, for a query typed without diacritics, the text searched "
        "(`restored`). The same filters as /api/ask.",
    )
    async def api_search(
        request: Request,
        q: str = Query(
            ...,
            description="The question or keywords.",
            examples=["quản lý chất thải đô thị", "quan ly chat thai", "green growth plan"],
        ),
        k: int | None = Query(None, description="Number of results (1..max_k)."),
        offset: int = Query(
            0,
            ge=0,
            description="Skip this many results. Past the first page, offset + k must be at "
            "most POLICY_SEARCH_MAX_RESULTS (422 bad_query otherwise; `next_offset` never "
            "leads there).",
        ),
        type: list[str] | None = TYPE,
        province: list[str] | None = PROVINCE,
        year: list[int] | None = YEAR,
        date_from: str | None = Query(None, description="Dated on or after (yyyy[-mm[-dd]])."),
        date_to: str | None = Query(None, description="Dated on or before (yyyy[-mm[-dd]])."),
        doc: str | None = Query(None, description="Only this source document (doc_id)."),
        restore: bool = Query(
            True,
            description="false: search a query typed without diacritics exactly as typed "
            "(no restoration).",
        ),
        issuer: list[str] | None = ISSUER,
        number: str | None = NUMBER,
        document_type: list[str] | None = DOCUMENT_TYPE,
        group: Literal["document"] | None = Query(
            None,
            description="document: one result per document, with its best passages (up to 3) "
            "in `documents`; `k`, `offset`, `total` and `next_offset` then count documents.",
        ),
        sort: Literal["relevance", "date"] = Query(
            "relevance",
            description="relevance (best first), or date: the same hits with the newest "
            "document first (undated last), a document's passages together; with "
            "group=document, the documents so ordered.",
        ),
    ) -> Response:
        # An empty parameter is no condition.
        filters = make_filters(
            type, province, year, date_from, date_to, doc, issuer, number, document_type
        )
        # Checked here, before the request queues for a slot.
        engine.clean_query(q)
        engine.check_offset(offset, engine.check_k(k))
        engine.check_filters(filters)
        admission: Admission = request.app.state.admission
        return await admission.json(
            "search", _search, engine, q, k, offset, filters, restore, group, sort
        )

    @app.get(
        "/api/health",
        operation_id="health",
        tags=["service"],
        response_model=HealthResponse,
        responses=documented(503),
        summary="Is the index served",
    )
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
