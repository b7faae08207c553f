"""API routes for answers, documents, related documents and index statistics.

Mounted by :func:`web.app.create_app`; they read the engine and the answerer
from ``request.app.state``. Errors are :class:`ErrorModel` objects
(``{"error", "detail"}``) like the rest of the API.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from index.store import Snapshot, StoredChunk, StoredDocument
from ingest.assignments import load_assignments
from ingest.text import fold
from search.answer import Answerer
from search.engine import SearchEngine
from search.filters import Filters
from search.related import related_documents


class ErrorModel(BaseModel):
    error: str = Field(description="Machine-readable kind: bad_query, not_found, ...")
    detail: str = Field(description="What went wrong, for a person.")


ERRORS: dict[int | str, dict] = {
    404: {"model": ErrorModel},
    422: {"model": ErrorModel},
    503: {"model": ErrorModel},
}


class AnswerModel(BaseModel):
    text: str = Field(description="The sentence or list item that answers, as written.")
    citations: list[int] = Field(description="Numbers `n` of the passages that state it.")


class PassageModel(BaseModel):
    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    text: str
    score: float
    url: str = Field(description="The passage, highlighted in its document on the web page.")


class AskResponse(BaseModel):
    question: str
    answer: AnswerModel | None = Field(description="null when no passage answers the question.")
    passages: list[PassageModel]


class ReferenceModel(BaseModel):
    doc_id: str | None = Field(description="The cited document in this index; null when not here.")
    number: str = Field(description='As printed, e.g. "1658/QĐ-TTg"; "" for a law cited by name.')
    text: str = Field(description="The mention as written.")
    document_type: str = ""
    date: str = Field("", description="ISO date of the cited document, when the mention gives it.")


class DocumentSummary(BaseModel):
    doc_id: str
    title: str = Field(description="For an official document, its title (trích yếu) as printed.")
    type: str = Field(description="plan | agreement | news")
    date: str = Field(description="ISO; for an official document, the date of its header.")
    provinces: list[str]
    source: str
    issuer: str = Field("", description="Issuing body of an official document, from its header.")
    issuer_parent: str = Field("", description="The body printed above the issuer.")
    number: str = Field("", description='Number and symbol as printed, e.g. "2666/QĐ-UBND".')
    document_type: str = Field("", description='As printed, e.g. "Quyết định", "Công văn".')
    place: str = ""
    signer: str = ""
    signer_title: str = Field("", description='e.g. "Phó Chủ tịch".')
    recipients: list[str] = Field(default_factory=list, description="Kính gửi and Nơi nhận.")
    bases: list[str] = Field(default_factory=list, description='One per "Căn cứ" paragraph.')
    references: list[ReferenceModel] = Field(
        default_factory=list, description="Every mention of another document (bases and body)."
    )


class DocumentsResponse(BaseModel):
    documents: list[DocumentSummary]


class BlockModel(BaseModel):
    text: str
    page: int | None
    heading_level: int | None = Field(description="null for body text; 0 for the title.")
    passages: list[int] = Field(description="Ordinals of the passages this block is part of.")


class ChunkModel(BaseModel):
    ordinal: int
    section: str
    page: int | None
    text: str
    url: str


class AssignmentModel(BaseModel):
    agency: str
    role: str
    task: str
    text: str
    passage: int | None


class DocumentResponse(DocumentSummary):
    blocks: list[BlockModel]
    passages: list[ChunkModel]
    assignments: list[AssignmentModel]


class RelatedModel(BaseModel):
    doc_id: str
    title: str
    score: float
    why: str


class RelatedResponse(BaseModel):
    related: list[RelatedModel]


class StatsResponse(BaseModel):
    documents: int
    chunks: int
    assignments: int
    index_version: str
    index_built_at: str = Field(description="When the current index version was built.")
    index_build_seconds: float | None
    embedder: str
    documents_by_type: dict[str, int]
    query_embedding: dict[str, int | float] = Field(
        default_factory=dict,
        description=(
            "Since the server started: query-cache entries, hits and misses; forward passes "
            "and the mean number of queries embedded per pass (concurrent queries are batched)."
        ),
    )


router = APIRouter()


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.engine
    return engine


def _answerer(request: Request) -> Answerer:
    answerer: Answerer = request.app.state.answerer
    return answerer


def make_filters(
    doc_type: str | None,
    province: str | None,
    year: int | None,
    date_from: str | None,
    date_to: str | None,
) -> Filters | None:
    if year is not None:
        date_from = date_from or f"{year:04d}"
        date_to = date_to or f"{year:04d}"
    filters = Filters(
        doc_type=doc_type or None,
        province=province or None,
        date_from=date_from or None,
        date_to=date_to or None,
    )
    return None if filters.is_empty() else filters


@router.get(
    "/api/ask",
    response_model=AskResponse,
    responses=ERRORS,
    summary="Answer a question with cited passages",
)
async def api_ask(
    request: Request,
    q: str = Query(..., description="The question, in Vietnamese or English."),
    k: int | None = Query(None, description="Number of passages (1..max_k)."),
    type: str | None = Query(None, description="Document type: plan, agreement or news."),
    province: str | None = Query(None, description="Province named in the document."),
    year: int | None = Query(None, ge=1900, le=2100, description="Year of the document."),
    date_from: str | None = Query(None, description="ISO date (yyyy[-mm[-dd]]), inclusive."),
    date_to: str | None = Query(None, description="ISO date (yyyy[-mm[-dd]]), inclusive."),
) -> AskResponse:
    filters = make_filters(type, province, year, date_from, date_to)
    result = await run_in_threadpool(_answerer(request).ask, q, k, filters)
    return AskResponse.model_validate(result.to_json())


_HEADER_FIELDS = (
    "issuer",
    "issuer_parent",
    "number",
    "document_type",
    "place",
    "signer",
    "signer_title",
    "recipients",
    "bases",
    "references",
)


def _summary(doc: StoredDocument) -> DocumentSummary:
    header = {k: doc.header[k] for k in _HEADER_FIELDS if k in doc.header}
    return DocumentSummary(
        doc_id=doc.doc_id,
        title=doc.title,
        type=doc.doc_type,
        date=doc.date,
        provinces=doc.provinces,
        source=doc.source,
        **header,
    )


@router.get(
    "/api/documents",
    response_model=DocumentsResponse,
    responses=ERRORS,
    summary="List the indexed documents",
)
async def api_documents(request: Request) -> DocumentsResponse:
    snap = await run_in_threadpool(_engine(request).snapshot)
    return DocumentsResponse(documents=[_summary(d) for d in snap.documents()])


def _block_passages(blocks: list[list], chunks: list[StoredChunk]) -> list[list[int]]:
    """For each block, the passages (chunk ordinals) that hold some of its text."""
    folded_chunks = [" ".join(fold(c.text).split()) for c in chunks]
    out: list[list[int]] = []
    for text, _page, level in blocks:
        if level is not None:
            out.append([])
            continue
        probe = " ".join(fold(str(text)).replace("*", "").split())
        head, tail = probe[:60], probe[-60:]
        out.append(
            [
                c.ordinal
                for c, f in zip(chunks, folded_chunks, strict=True)
                if head in f or tail in f or (f[:60] and f[:60] in probe)
            ]
        )
    return out


def _document(snap: Snapshot, doc_id: str) -> DocumentResponse:
    from search.answer import passage_url

    doc = snap.document(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document {doc_id!r} in the index")
    chunks = snap.doc_chunks(doc_id)
    owners = _block_passages(doc.blocks, chunks)
    items, _ = load_assignments(snap.path)
    return DocumentResponse(
        **_summary(doc).model_dump(),
        blocks=[
            BlockModel(text=str(t), page=p, heading_level=lv, passages=o)
            for (t, p, lv), o in zip(doc.blocks, owners, strict=True)
        ],
        passages=[
            ChunkModel(
                ordinal=c.ordinal,
                section=c.section,
                page=c.page,
                text=c.text,
                url=passage_url(doc_id, c.ordinal),
            )
            for c in chunks
        ],
        assignments=[
            AssignmentModel(agency=a.agency, role=a.role, task=a.task, text=a.text, passage=a.chunk)
            for a in items
            if a.doc_id == doc_id
        ],
    )


@router.get(
    "/api/documents/{doc_id}",
    response_model=DocumentResponse,
    responses=ERRORS,
    summary="One document: metadata, text blocks, passages and assignments",
)
async def api_document(request: Request, doc_id: str) -> DocumentResponse:
    snap = await run_in_threadpool(_engine(request).snapshot)
    return await run_in_threadpool(_document, snap, doc_id)


@router.get(
    "/api/documents/{doc_id}/related",
    response_model=RelatedResponse,
    responses=ERRORS,
    summary="Agreements and plans like this one",
)
async def api_related(
    request: Request,
    doc_id: str,
    k: int = Query(5, ge=1, le=50, description="Number of related documents."),
    lang: Literal["vi", "en"] = Query("vi", description="Language of the `why` text."),
) -> RelatedResponse:
    snap = await run_in_threadpool(_engine(request).snapshot)
    try:
        found = await run_in_threadpool(related_documents, snap, doc_id, k, lang)
    except KeyError:
        raise HTTPException(404, f"no document {doc_id!r} in the index") from None
    return RelatedResponse(related=[RelatedModel(**vars(r)) for r in found])


@router.get(
    "/api/stats",
    response_model=StatsResponse,
    responses=ERRORS,
    summary="Index size, build time and embedder",
)
async def api_stats(request: Request) -> StatsResponse:
    snap = await run_in_threadpool(_engine(request).snapshot)
    docs = snap.documents()
    by_type: dict[str, int] = {}
    for d in docs:
        by_type[d.doc_type or "unknown"] = by_type.get(d.doc_type or "unknown", 0) + 1
    items, _ = load_assignments(snap.path)
    m = snap.manifest
    return StatsResponse(
        documents=len(docs),
        chunks=len(snap),
        assignments=len(items),
        index_version=snap.version,
        index_built_at=str(m.get("built_at", "")),
        index_build_seconds=m.get("build_seconds"),
        embedder=snap.embedder,
        documents_by_type=by_type,
        query_embedding=_engine(request).embedding_stats(),
    )


__all__ = ["ERRORS", "ErrorModel", "router"]
