"""API routes for answers, documents, related documents and index statistics.

Mounted by :func:`web.app.create_app`; they read the engine, the answerer
and admission control from ``request.app.state``. Errors are
:class:`web.errors.ErrorModel` objects like the rest of the API.

A document is served in parts: at most ``POLICY_SEARCH_MAX_DOCUMENT_PART_CHARS``
characters and ``POLICY_SEARCH_MAX_DOCUMENT_PART_BLOCKS`` blocks a request,
from a block (``start``) or around a cited passage (``passage``), with the
passages and assignments of those blocks and a ``part`` object that says
whether more follows. Without parameters: the first part (the whole document
when it fits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from index.assignments import Assignment, AssignmentTable, load_table
from index.references import reference_table
from index.store import Snapshot, StoredChunk, StoredDocument
from index.stores import Records
from ingest import extract
from ingest.models import Block, block_kind
from ingest.text import fold
from policy_search.settings import Settings
from search.answer import Answerer, passage_url
from search.collection import NO_SITE, Sort, browse, public_source, source_site, source_url
from search.engine import QueryError, SearchEngine
from search.filters import (
    DOC_TYPES,
    MAX_TEXT_FILTER_CHARS,
    MAX_VALUES,
    Filters,
    any_of,
    document_matches,
    with_years,
)
from search.related import related_documents
from web.admission import Admission
from web.errors import ApiError, documented
from web.outline import outline, signature_block

DOC_ID = Path(description="A document's id (`doc_id`).", examples=["004_0ae3777ec9422ce6"])


def one_or_list(item: dict[str, Any]) -> dict[str, Any]:
    """The schema of a filter that may be repeated (province=A&province=B). In a query string
    one value and a list of one are the same text: say so, or a schema checker takes
    "province=true" for a boolean the server should refuse."""
    many = {"type": "array", "items": dict(item), "maxItems": MAX_VALUES}
    return {"anyOf": [dict(item), many, {"type": "null"}]}


_REPEATED = f"; repeated (at most {MAX_VALUES}), a document with any of them"
# The header filters of official documents, the same on every route that filters.
ISSUER = Query(
    None,
    description="Issuing body of an official document, or the body above it: whole words, "
    'without diacritics or case ("UBND tỉnh Lào Cai", "ubnd tinh lao cai", "UBND Lào Cai", '
    '"Bộ Tài chính")' + _REPEATED + ".",
    examples=[["UBND tỉnh Lào Cai"]],
    json_schema_extra=one_or_list({"type": "string"}),
)
NUMBER = Query(
    None,
    description='Number of an official document, in any usual form ("2666/QĐ-UBND", '
    '"2666/qd-ubnd", "qd 2666") or its sequence alone ("2666", "08/2022").',
    examples=["2666/QĐ-UBND"],
)
PROVINCE = Query(
    None,
    description='Province named in the document, e.g. "Lào Cai"; repeated '
    f"(province=A&province=B, at most {MAX_VALUES}), a document naming any of them.",
    examples=[["Lào Cai"]],
    json_schema_extra=one_or_list({"type": "string"}),
)
DOCUMENT_TYPE = Query(
    None,
    description='Type of an official document as printed ("Quyết định", "quyet dinh") or '
    'its code ("QĐ"). Not the coarse `type`' + _REPEATED + ".",
    examples=[["Quyết định"]],
    json_schema_extra=one_or_list({"type": "string"}),
)
TYPE = Query(
    None,
    description="Document type: " + ", ".join(DOC_TYPES) + _REPEATED + ".",
    examples=[["plan"]],
    json_schema_extra=one_or_list({"type": "string"}),
)
YEAR = Query(
    None,
    description="Year of the document (1900..2100)" + _REPEATED + ".",
    examples=[[2024]],
    json_schema_extra=one_or_list({"type": "integer"}),
)

# Routes that read one document; the others cannot answer 404.
ERRORS = documented(404, 422, 503)
READ_ERRORS = documented(422, 503)
# The media type the file route sends for each kind of file an upload may be (the
# schema declares exactly these; tests check every supported suffix has one).
ORIGINAL_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class AnswerItemModel(BaseModel):
    text: str = Field(description="One line: a task, an agency, a document title, a sentence.")
    citations: list[int]
    role: str | None = Field(None, description="lead, cooperate, focal, advise, responsible.")
    agency: str | None = Field(
        None, description="The agency of the line (for an 'also' task: whose section states it)."
    )
    doc_id: str | None = None
    own: bool | None = Field(
        None,
        description="For an agency's tasks: true for its own, false for another agency's task that names it.",
    )
    other_document: bool | None = Field(
        None,
        description="True for a line from another document than the answer's `document`, listed apart.",
    )


class AnswerDocumentModel(BaseModel):
    doc_id: str
    title: str
    number: str = Field("", description='As printed, e.g. "0125/KH-UBND"; "" when it has none.')
    issuer: str = ""
    doc_type: str = Field("", description='"Kế hoạch", "Quyết định", …, or plan, news, …')
    date: str = ""


class AnswerModel(BaseModel):
    text: str = Field(description="The sentence or list item that answers, as written.")
    citations: list[int] = Field(description="Numbers `n` of the passages that state it.")
    type: str = Field(
        "other",
        description="agency_tasks, agency_lead, focal, quantity, date, person, place, agreement, set, other, or document (the query was only a document number).",
    )
    confidence: float = Field(0.0, description="Estimated probability that the answer is right.")
    exact: str | None = Field(
        None, description="The figure, date or name that answers, as written."
    )
    exact_span: list[int] | None = Field(None, description="[start, end) of `exact` in `text`.")
    evidence: str | None = Field(None, description="The whole sentence the answer was cut from.")
    items: list[AnswerItemModel] = Field(
        default_factory=list, description="The answer line by line."
    )
    document: AnswerDocumentModel | None = Field(
        None, description="The document the answer comes from; null for a set of documents."
    )


class AnalysisModel(BaseModel):
    answer_type: str
    agencies: list[str]
    role: str | None
    provinces: list[str]
    places: list[str]
    years: list[str]
    doc_numbers: list[str]
    names: list[str]


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
    lang: str = Field("vi", description="Language of the answer's labels.")
    confidence: float | None = Field(
        None, description="Confidence of the best candidate answer, also when below the threshold."
    )
    threshold: float = Field(0.0, description="Confidence below which `answer` is null.")
    analysis: AnalysisModel | None = Field(
        None, description="What the question asks for and names."
    )


class ReferenceModel(BaseModel):
    doc_id: str | None = Field(description="The cited document in this index; null when not here.")
    number: str = Field(description='As printed, e.g. "1658/QĐ-TTg"; "" for a law cited by name.')
    text: str = Field(description="The mention as written.")
    document_type: str = ""
    date: str = Field("", description="ISO date of the cited document, when the mention gives it.")
    title: str | None = Field(
        None, description="The cited document's title, when it is in this index."
    )


class ReferencesResponse(BaseModel):
    doc_id: str
    references: list[ReferenceModel] = Field(
        description="Every mention of another document (bases first, then the body), each "
        "resolved to a document of this index by its number (or a law by its name) when there."
    )


class CitingModel(BaseModel):
    doc_id: str = Field(description="The citing document.")
    title: str
    number: str = Field("", description="The citing document's own number, as printed.")
    document_type: str = ""
    date: str = ""
    issuer: str = ""
    text: str = Field(description="How it mentions the cited document, as written.")


class CitedByResponse(BaseModel):
    doc_id: str
    number: str = Field("", description="The cited document's number, as printed.")
    cited_by: list[CitingModel] = Field(
        description="The documents of this index that cite this one (in their bases or body)."
    )


class DocumentSummary(BaseModel):
    doc_id: str
    title: str = Field(description="For an official document, its title (trích yếu) as printed.")
    type: str = Field(description=" | ".join(DOC_TYPES))
    date: str = Field(description="ISO; for an official document, the date of its header.")
    provinces: list[str]
    source: str = Field(description="The original URL, else the file's name (never a path).")
    source_url: str | None = Field(None, description="The original web address, when known.")
    site: str = Field(NO_SITE, description=f"The source's web site, or {NO_SITE!r}.")
    file_url: str | None = Field(
        None, description="Where to download the original file, when the index keeps it."
    )
    chunks: int = Field(0, description="Passages the document is split into.")
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
    total: int = Field(0, description="Documents passing the filters (all pages).")
    facets: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Counts per value of type, province, year and source (web site), each "
        "under the other facets' filters.",
    )


class BlockModel(BaseModel):
    text: str
    page: int | None
    heading_level: int | None = Field(description="null for body text; 0 for the title.")
    passages: list[int] = Field(description="Ordinals of the passages this block is part of.")
    kind: str = Field(
        "paragraph",
        description="paragraph, heading, list_item, table, or the frame of an official "
        "document, which states no content: letterhead, signature, recipients, closing.",
    )
    rows: list[list[str]] | None = Field(
        None, description="A table's cells, row by row; the header row first when header_rows."
    )
    header_rows: int = Field(0, description="1 when a table's first row is its header.")
    parent: int | None = Field(
        None, description="A list item's parent: the index of the item or heading it is under."
    )


class ChunkModel(BaseModel):
    ordinal: int
    section: str
    page: int | None
    text: str
    url: str
    first_block: int = Field(
        -1, description="Index of the block the passage starts in; -1 when not known."
    )
    first_offset: int = Field(-1, description="Offset of its first character in that block.")
    last_block: int = Field(-1, description="Index of the block the passage ends in.")
    last_offset: int = Field(-1, description="Offset one past its last character in that block.")


class AssignmentModel(BaseModel):
    agency: str
    role: str
    task: str
    text: str
    passage: int | None
    lead: str = Field("", description="The task's lead (GET /api/assignments has every field).")
    partners: list[str] = Field(default_factory=list)
    deadline: str = ""
    output: str = ""


class PartModel(BaseModel):
    start: int = Field(description="Index of the first block returned (0-based).")
    end: int = Field(description="One past the last block returned.")
    total_blocks: int = Field(description="Blocks in the whole document.")
    more: bool = Field(description="Blocks follow this part: ask again with start=end.")
    cut: bool = Field(
        False, description="The one block returned was longer than the size cap and is cut."
    )


class OutlineEntryModel(BaseModel):
    block: int = Field(description="Index of its block: ask for the part with start=block.")
    level: int = Field(description="1 Phần, 2 Chương, 3 Mục, 4 Điều; else the heading's level.")
    text: str = Field(description="The line as printed, cut at 120 characters.")


class DocumentResponse(DocumentSummary):
    blocks: list[BlockModel] = Field(description="The blocks of this part, in order.")
    passages: list[ChunkModel] = Field(description="The passages those blocks belong to.")
    assignments: list[AssignmentModel] = Field(description="Assignments stated in them.")
    part: PartModel
    outline: list[OutlineEntryModel] = Field(
        default_factory=list,
        description="The whole document's outline, whichever part this is: its headings "
        "and the lines opening a Phần, Chương, Mục or Điều.",
    )
    signature: int | None = Field(
        None,
        description="Index of the signature block of an official document (where an "
        "answer's #signature link points); null when it has none.",
    )


class RelatedModel(BaseModel):
    doc_id: str
    title: str
    score: float
    why: str


class RelatedResponse(BaseModel):
    related: list[RelatedModel]


class AssignmentRecordModel(BaseModel):
    doc_id: str
    title: str = Field(description="The document's title.")
    number: str = Field("", description="The document's number as printed, when official.")
    agency: str = Field(description="The agency this record is about, as printed.")
    role: str = Field(description="lead, cooperate, focal, advise, responsible or execute.")
    task: str = Field(description="What is to be done, without role phrases and partners.")
    text: str = Field(description="The whole clause, as written.")
    lead: str = Field(description="The agency in charge of the task ('' for execute).")
    partners: list[str] = Field(description="The agencies cooperating on the task.")
    deadline: str = Field(description="Deadline or period as printed, else ''.")
    output: str = Field(description="The expected output (Sản phẩm / Kết quả), else ''.")
    section: str = Field(description="The section path, joined with ' › '.")
    section_path: list[str] = Field(description="The headings above the clause, outermost first.")
    page: int | None
    passage: int | None = Field(description="Ordinal of the passage holding the clause.")
    block: int | None = Field(description="Block (0-based) where the clause starts.")
    block_end: int | None = Field(description="Block where it ends.")
    start: int | None = Field(description="Character offset of its start in `block`.")
    end: int | None = Field(description="Character offset of its end in `block_end`.")
    via: str = Field(
        description="How the document stated it: section, sentence, brackets, labelled, "
        "table, article or execution."
    )
    stated_in: str = Field(description="The agency whose section (or sentence) states it.")


class AssignmentsResponse(BaseModel):
    assignments: list[AssignmentRecordModel]
    total: int = Field(description="Records passing the filters (all pages).")
    offset: int
    limit: int


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
    admission: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Per pool (ask, search): slots, busy, waiting, admitted and refused "
        "(503 overloaded) since the server started.",
    )


router = APIRouter()


def _engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.engine
    return engine


def _answerer(request: Request) -> Answerer:
    answerer: Answerer = request.app.state.answerer
    return answerer


def _admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


def make_filters(
    doc_type: str | list[str] | None,
    province: str | list[str] | None,
    year: int | list[int] | None,
    date_from: str | None,
    date_to: str | None,
    doc: str | None = None,
    issuer: str | list[str] | None = None,
    number: str | None = None,
    document_type: str | list[str] | None = None,
) -> Filters | None:
    """The filters of a request; an empty parameter is no condition, and ``year`` narrows
    the date range to the dates both allow. A filter given several values (type, province,
    year, issuer, document_type): any of them."""
    filters = Filters(
        date_from=date_from or None,
        date_to=date_to or None,
        doc_id=doc or None,
        number=number or None,
    )
    for name, values in (
        ("doc_type", doc_type),
        ("province", province),
        ("issuer", issuer),
        ("document_type", document_type),
    ):
        filters = any_of(filters, name, values)
    filters = with_years(filters, checked_years(year))
    return None if filters.is_empty() else filters


def checked_years(year: int | list[int] | None) -> list[int]:
    """The years a request names (none, one or several), each within 1900..2100."""
    years = [year] if isinstance(year, int) else list(dict.fromkeys(year or []))
    for y in years:
        if not 1900 <= y <= 2100:
            raise QueryError(f"year must be between 1900 and 2100; got {y}")
    return years


@router.get(
    "/api/ask",
    operation_id="ask",
    tags=["search"],
    response_model=AskResponse,
    responses=READ_ERRORS,
    summary="Answer a question with cited passages",
)
async def api_ask(
    request: Request,
    q: str = Query(
        ...,
        description="The question, in Vietnamese or English.",
        examples=["Ai chủ trì quản lý chất thải đô thị?", "who leads urban waste management?"],
    ),
    k: int | None = Query(None, description="Number of passages (1..max_k)."),
    type: list[str] | None = TYPE,
    province: list[str] | None = PROVINCE,
    year: list[int] | None = YEAR,
    date_from: str | None = Query(None, description="ISO date (yyyy[-mm[-dd]]), inclusive."),
    date_to: str | None = Query(None, description="ISO date (yyyy[-mm[-dd]]), inclusive."),
    doc: str | None = Query(None, description="Only this source document (doc_id)."),
    lang: Literal["vi", "en"] | None = Query(
        None, description="Language of the answer's labels (default: the question's)."
    ),
    issuer: list[str] | None = ISSUER,
    number: str | None = NUMBER,
    document_type: list[str] | None = DOCUMENT_TYPE,
) -> Response:
    filters = make_filters(
        type, province, year, date_from, date_to, doc, issuer, number, document_type
    )
    engine = _engine(request)
    # Checked here, before the request queues for a slot.
    engine.clean_query(q)
    engine.check_k(k)
    engine.check_filters(filters)
    return await _admission(request).json("ask", _ask, _answerer(request), q, k, filters, lang)


def _ask(
    answerer: Answerer, q: str, k: int | None, filters: Filters | None, lang: str | None
) -> AskResponse:
    return AskResponse.model_validate(answerer.ask(q, k, filters, lang).to_json())


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


def known_document(snap: Records, doc_id: str) -> StoredDocument:
    """The document ``doc_id`` of ``snap``'s version; a 404 when there is none."""
    doc = snap.document(doc_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no document {doc_id!r} in the index")
    return doc


def kept_file(engine: SearchEngine, doc: StoredDocument) -> FsPath | None:
    """The original file of an uploaded document, which the index keeps; else ``None``."""
    uploads = engine.settings.uploads_path.resolve()
    path = FsPath(doc.path).resolve()
    return path if uploads in path.parents and path.is_file() else None


def _references(snap: Records, doc: StoredDocument) -> list[ReferenceModel]:
    """``doc``'s references resolved in ``snap``'s version, with the cited titles."""
    out = []
    for ref in reference_table(snap).references.get(doc.doc_id, []):
        cited = snap.document(ref["doc_id"]) if ref.get("doc_id") else None
        out.append(ReferenceModel(**ref, title=cited.title if cited else None))
    return out


def _summary(
    doc: StoredDocument, engine: SearchEngine | None = None, snap: Records | None = None
) -> DocumentSummary:
    kept = kept_file(engine, doc) if engine is not None else None
    header: dict[str, Any] = {k: doc.header[k] for k in _HEADER_FIELDS if k in doc.header}
    if snap is not None:
        header["references"] = _references(snap, doc)
    return DocumentSummary(
        doc_id=doc.doc_id,
        title=doc.title,
        type=doc.doc_type,
        date=doc.date,
        provinces=doc.provinces,
        source=public_source(doc.source),
        source_url=source_url(doc.source),
        site=source_site(doc.source),
        file_url=f"/api/documents/{quote(doc.doc_id)}/file" if kept else None,
        chunks=doc.n_chunks,
        **header,
    )


@router.get(
    "/api/documents",
    operation_id="listDocuments",
    tags=["documents"],
    response_model=DocumentsResponse,
    responses=READ_ERRORS,
    summary="List the indexed documents, with facet counts",
    description="Without parameters: every document, in id order. Filters narrow the list "
    "(no query needed); `facets` counts the documents per type, province, year, source "
    "site and document type as printed, each under the other filters.",
)
async def api_documents(
    request: Request,
    type: list[str] | None = TYPE,
    province: list[str] | None = PROVINCE,
    year: list[int] | None = YEAR,
    date_from: str | None = Query(None, description="Dated on or after (yyyy[-mm[-dd]])."),
    date_to: str | None = Query(None, description="Dated on or before (yyyy[-mm[-dd]])."),
    issuer: list[str] | None = ISSUER,
    number: str | None = NUMBER,
    document_type: list[str] | None = DOCUMENT_TYPE,
    source: str | None = Query(
        None,
        description=f"Source web site (a `site` value), or {NO_SITE!r}.",
        examples=["laocai.gov.vn"],
    ),
    sort: Literal["id", "title", "date", "date_asc"] = Query(
        "id", description="id, title, date (newest first) or date_asc."
    ),
    offset: int = Query(0, ge=0, description="Skip this many documents."),
    limit: int | None = Query(
        None, ge=1, le=1000, description="At most this many (all if absent)."
    ),
) -> Response:
    engine = _engine(request)
    # The year stays apart: its facet counts every year the other filters allow.
    filters = (
        make_filters(type, province, None, date_from, date_to, None, issuer, number, document_type)
        or Filters()
    )
    # Checked here, before the request queues for a slot.
    years = checked_years(year)
    engine.check_filters(with_years(filters, years))
    return await _admission(request).json(
        "search", _documents, engine, filters, years, source or None, sort, offset, limit
    )


def _documents(
    engine: SearchEngine,
    filters: Filters,
    year: list[int],
    source: str | None,
    sort: Sort,
    offset: int,
    limit: int | None,
) -> DocumentsResponse:
    snap = engine.snapshot()
    try:
        found = browse(snap, filters, year, source, sort, offset, limit)
    except ValueError as exc:
        raise QueryError(str(exc)) from exc
    return DocumentsResponse(
        documents=[_summary(d, engine, snap) for d in found.documents],
        total=found.total,
        facets=found.facets,
    )


@router.get(
    "/api/documents/{doc_id}/file",
    operation_id="getDocumentFile",
    tags=["documents"],
    response_class=FileResponse,
    responses={
        200: {
            "description": "The original file, as uploaded, with the media type of its kind "
            "(text files in the encoding they were uploaded in).",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in sorted(set(ORIGINAL_TYPES.values()))
            },
        },
        **ERRORS,
    },
    summary="Download a document's original file (uploaded documents)",
)
async def api_document_file(request: Request, doc_id: str = DOC_ID) -> FileResponse:
    engine = _engine(request)
    snap = await run_in_threadpool(engine.snapshot)
    doc = known_document(snap, doc_id)
    kept = kept_file(engine, doc)
    if kept is None:
        raise ApiError(404, "not_found", f"the index does not keep the original file of {doc_id!r}")
    media = ORIGINAL_TYPES.get(kept.suffix.lower(), "application/octet-stream")
    if media.startswith("text/"):
        # Starlette would call every text file UTF-8; say the encoding ingest read it in.
        media += f"; charset={await run_in_threadpool(text_charset, kept)}"
    return FileResponse(
        kept, media_type=media, filename=kept.name, content_disposition_type="attachment"
    )


def text_charset(path: FsPath) -> str:
    """The encoding of a kept text file, decided as ingest decided it
    (:func:`ingest.extract.text_charset`: UTF-16 with or without a byte-order mark, UTF-8,
    else the Vietnamese Windows code page)."""
    try:
        return extract.text_charset(path.read_bytes())
    except extract.ExtractionError:
        return "windows-1258"


def _all_documents(snap: Snapshot) -> list[StoredDocument]:
    # Read once per version (the same list the filters use), not once per request: a row
    # carries the document's whole text.
    docs: list[StoredDocument] = snap.derived("documents", lambda s: s.documents())
    return docs


def block_passages(blocks: list[list], chunks: list[StoredChunk]) -> list[list[int]]:
    """For each block, the passages (chunk ordinals) that hold some of its text.

    Blocks and chunks run through the document in the same order, so each
    block is looked for from the chunk that held the previous one, a few
    chunks ahead at most: linear in the document's length (comparing every
    block with every chunk took 4.5 s for a 470k-character plan).
    """
    if chunks and all(c.first_block >= 0 for c in chunks):
        return _stored_owners(len(blocks), chunks)
    folded = [" ".join(fold(c.text).split()) for c in chunks]
    out: list[list[int]] = []
    lo = hi = 0  # the chunks that held the previous block
    for text, _page, level, *_ in blocks:
        if level is not None:
            out.append([])
            continue
        probe = " ".join(fold(str(text)).replace("*", "").split())
        found: list[int] = []
        i = lo
        while i < len(chunks) and (found or i <= hi + _LOOKAHEAD):
            if _holds(folded[i], probe):
                found.append(i)
            elif found:
                break  # past the chunks holding this block
            i += 1
        # The chunker may emit a section's chunks a little out of the blocks' order.
        behind = [j for j in range(max(0, lo - _LOOKBEHIND), lo) if _holds(folded[j], probe)]
        if found:
            # The next block starts in this block's first chunk or later (chunks overlap,
            # and a match on a chunk's opening words can reach one chunk too far).
            lo, hi = found[0], found[-1]
        out.append([chunks[j].ordinal for j in behind + found])
    return out


def _stored_owners(n_blocks: int, chunks: list[StoredChunk]) -> list[list[int]]:
    """Each block's passages from the offsets stored with the chunks (versions that hold
    them): the blocks from a chunk's first to its last."""
    out: list[list[int]] = [[] for _ in range(n_blocks)]
    for c in chunks:
        for i in range(max(0, c.first_block), min(n_blocks, c.last_block + 1)):
            out[i].append(c.ordinal)
    return out


def _holds(chunk: str, block: str) -> bool:
    """Whether a chunk holds some of a block (both folded): its opening or closing words,
    or the block holds the chunk's opening words (a chunk that starts inside it)."""
    return block[:60] in chunk or block[-60:] in chunk or bool(chunk[:60] and chunk[:60] in block)


# How many chunks past the previous block's a block's text may start (a block the
# chunker dropped, a chunk holding only a heading).
_LOOKAHEAD = 8
_LOOKBEHIND = 2
# Blocks shown before a cited passage, so it is read in context.
_CONTEXT_BLOCKS = 3


@dataclass
class _Part:
    start: int
    end: int
    cut: bool


def _choose_part(
    blocks: list[list], owners: list[list[int]], start: int, limit: int, max_chars: int
) -> _Part:
    """Blocks from ``start``: at most ``limit`` of them and ``max_chars`` characters,
    at least one (cut to ``max_chars`` if it alone is longer)."""
    total = 0
    end = start
    while end < len(blocks) and end - start < limit:
        size = len(str(blocks[end][0]))
        if end > start and total + size > max_chars:
            break
        total += size
        end += 1
    return _Part(start, end, cut=end == start + 1 and total > max_chars)


def _document(
    snap: Snapshot,
    answerer: Answerer,
    settings: Settings,
    doc_id: str,
    start: int,
    limit: int | None,
    passage: int | None,
) -> DocumentResponse:
    doc = known_document(snap, doc_id)
    chunks = snap.doc_chunks(doc_id)
    owners = block_passages(doc.blocks, chunks)
    if passage is not None:
        if not any(c.ordinal == passage for c in chunks):
            raise ApiError(404, "not_found", f"document {doc_id!r} has no passage {passage}")
        first = next((i for i, o in enumerate(owners) if passage in o), 0)
        start = max(0, first - _CONTEXT_BLOCKS)
    n_blocks = len(doc.blocks)
    if start > 0 and start >= n_blocks:
        raise ApiError(
            404, "not_found", f"document {doc_id!r} has {n_blocks} blocks; start={start} is past"
        )
    part = _choose_part(
        doc.blocks,
        owners,
        start,
        min(limit or settings.max_document_part_blocks, settings.max_document_part_blocks),
        settings.max_document_part_chars,
    )
    shown = set()
    blocks = []
    for stored, owned in zip(
        doc.blocks[part.start : part.end], owners[part.start : part.end], strict=True
    ):
        block = Block.from_stored(stored)
        text = block.text[: settings.max_document_part_chars] if part.cut else block.text
        blocks.append(
            BlockModel(
                text=text,
                page=block.page,
                heading_level=block.heading_level,
                passages=owned,
                kind=block_kind(stored),
                rows=block.rows,
                header_rows=block.header_rows,
                parent=block.parent,
            )
        )
        shown.update(owned)
    if passage is not None:
        shown.add(passage)
    items, _ = answerer.assignments(snap)
    return DocumentResponse(
        **_summary(doc, answerer.engine, snap).model_dump(),
        blocks=blocks,
        passages=[
            ChunkModel(
                ordinal=c.ordinal,
                section=c.section,
                page=c.page,
                text=c.text,
                url=passage_url(doc_id, c.ordinal),
                first_block=c.first_block,
                first_offset=c.first_offset,
                last_block=c.last_block,
                last_offset=c.last_offset,
            )
            for c in chunks
            if c.ordinal in shown
        ],
        assignments=[
            AssignmentModel(
                agency=a.agency,
                role=a.role,
                task=a.task,
                text=a.text,
                passage=a.chunk,
                lead=a.lead,
                partners=a.partners,
                deadline=a.deadline,
                output=a.output,
            )
            for a in items
            if a.doc_id == doc_id and _assignment_shown(a, shown, part.start)
        ],
        part=PartModel(
            start=part.start,
            end=part.end,
            total_blocks=n_blocks,
            more=part.end < n_blocks,
            cut=part.cut,
        ),
        outline=[OutlineEntryModel(**vars(e)) for e in outline(doc.blocks)],
        signature=signature_block(doc.blocks),
    )


def _assignment_shown(a: Assignment, shown: set[int], start: int) -> bool:
    # An assignment no passage states is listed with the document's first part.
    return a.chunk in shown if a.chunk is not None else start == 0


@router.get(
    "/api/documents/{doc_id}",
    operation_id="getDocument",
    tags=["documents"],
    response_model=DocumentResponse,
    responses=ERRORS,
    summary="One document, in parts: metadata, text blocks, passages and assignments",
)
async def api_document(
    request: Request,
    doc_id: str = DOC_ID,
    start: int = Query(0, ge=0, description="First block (paragraph) to return, 0-based."),
    limit: int | None = Query(
        None,
        description="Most blocks to return (1..POLICY_SEARCH_MAX_DOCUMENT_PART_BLOCKS; "
        "fewer when the size cap is reached first).",
    ),
    passage: int | None = Query(
        None,
        ge=0,
        description="Return the part around this passage (an ordinal, as in a result's url "
        "#pN) instead of the part from start.",
    ),
) -> Response:
    engine = _engine(request)
    settings = engine.settings
    if limit is not None and not 1 <= limit <= settings.max_document_part_blocks:
        raise ApiError(
            422,
            "bad_request",
            f"limit must be between 1 and {settings.max_document_part_blocks} "
            f"(POLICY_SEARCH_MAX_DOCUMENT_PART_BLOCKS); got {limit}",
        )
    return await _admission(request).json(
        "search",
        lambda: _document(
            engine.snapshot(), _answerer(request), settings, doc_id, start, limit, passage
        ),
    )


@router.get(
    "/api/documents/{doc_id}/related",
    operation_id="getRelatedDocuments",
    tags=["documents"],
    response_model=RelatedResponse,
    responses=ERRORS,
    summary="Agreements and plans like this one",
)
async def api_related(
    request: Request,
    doc_id: str = DOC_ID,
    k: int = Query(5, ge=1, le=50, description="Number of related documents."),
    lang: Literal["vi", "en"] = Query("vi", description="Language of the `why` text."),
) -> Response:
    return await _admission(request).json("search", _related, _engine(request), doc_id, k, lang)


def _related(engine: SearchEngine, doc_id: str, k: int, lang: str) -> RelatedResponse:
    try:
        found = related_documents(engine.snapshot(), doc_id, k, lang)
    except KeyError:
        raise ApiError(404, "not_found", f"no document {doc_id!r} in the index") from None
    return RelatedResponse(related=[RelatedModel(**vars(r)) for r in found])


@router.get(
    "/api/documents/{doc_id}/references",
    operation_id="getDocumentReferences",
    tags=["documents"],
    response_model=ReferencesResponse,
    responses=ERRORS,
    summary="The documents this one cites, resolved to this index where they are",
)
async def api_references(request: Request, doc_id: str = DOC_ID) -> Response:
    return await _admission(request).json("search", _document_references, _engine(request), doc_id)


def _document_references(engine: SearchEngine, doc_id: str) -> ReferencesResponse:
    snap = engine.snapshot()
    doc = known_document(snap, doc_id)
    return ReferencesResponse(doc_id=doc_id, references=_references(snap, doc))


@router.get(
    "/api/documents/{doc_id}/cited-by",
    operation_id="getDocumentCitedBy",
    tags=["documents"],
    response_model=CitedByResponse,
    responses=ERRORS,
    summary="The documents of this index that cite this one (which plans implement it)",
)
async def api_cited_by(request: Request, doc_id: str = DOC_ID) -> Response:
    return await _admission(request).json("search", _cited_by, _engine(request), doc_id)


def _cited_by(engine: SearchEngine, doc_id: str) -> CitedByResponse:
    snap = engine.snapshot()
    doc = known_document(snap, doc_id)
    items = []
    for citation in reference_table(snap).cited_by.get(doc_id, []):
        citing = snap.document(citation.doc_id)
        if citing is None:
            continue
        items.append(
            CitingModel(
                doc_id=citing.doc_id,
                title=citing.title,
                number=str(citing.header.get("number", "")),
                document_type=str(citing.header.get("document_type", "")),
                date=citing.date,
                issuer=str(citing.header.get("issuer", "")),
                text=citation.text,
            )
        )
    return CitedByResponse(doc_id=doc_id, number=str(doc.header.get("number", "")), cited_by=items)


MAX_ASSIGNMENTS_PAGE = 500
# Stated in the schema, checked in the route: a value past it is a 422 bad_query.
_MAX_TEXT: dict[str, Any] = {"maxLength": MAX_TEXT_FILTER_CHARS}


@router.get(
    "/api/assignments",
    operation_id="listAssignments",
    tags=["documents"],
    response_model=AssignmentsResponse,
    responses=READ_ERRORS,
    summary="Who does what: the assignment records of every document",
    description="The records ingest read from the documents' agency headings, role "
    'sentences ("Giao X chủ trì …", "X chủ trì, phối hợp với Y"), labelled lines ("Đơn vị '
    'chủ trì: X"), tables with a lead column, "Trách nhiệm của X" articles and execution '
    "articles, in document order. Filters combine; without any, every record.",
)
async def api_assignments(
    request: Request,
    agency: str | None = Query(
        None,
        description="Agency: whole words, without diacritics or case ('so tai chinh', "
        "'UBND huyện'), or an abbreviation a document defines ('STC').",
        json_schema_extra=_MAX_TEXT,
        examples=["Sở Tài chính"],
    ),
    document: str | None = Query(
        None, description="A document's id (`doc_id`).", json_schema_extra=_MAX_TEXT
    ),
    province: str | None = Query(
        None,
        description='Province of the document, e.g. "Sơn La".',
        examples=["Sơn La"],
        json_schema_extra=_MAX_TEXT,
    ),
    q: str | None = Query(
        None, description="Words that must all be in the task (diacritics and case ignored)."
    ),
    offset: int = Query(0, description="Skip this many records.", json_schema_extra={"minimum": 0}),
    limit: int = Query(
        50,
        description=f"At most this many records (1..{MAX_ASSIGNMENTS_PAGE}).",
        json_schema_extra={"minimum": 1, "maximum": MAX_ASSIGNMENTS_PAGE},
    ),
) -> Response:
    engine = _engine(request)
    # Checked before the request queues for a slot: a bad value is a 422 naming it.
    if offset < 0:
        raise QueryError(f"offset must be 0 or more; got {offset}")
    if not 1 <= limit <= MAX_ASSIGNMENTS_PAGE:
        raise QueryError(f"limit must be between 1 and {MAX_ASSIGNMENTS_PAGE}; got {limit}")
    for name, value in (("agency", agency), ("document", document), ("province", province)):
        if value and len(value) > MAX_TEXT_FILTER_CHARS:
            raise QueryError(f"{name} must be at most {MAX_TEXT_FILTER_CHARS} characters")
    if agency and not fold(agency).strip(" .,;:-"):
        raise QueryError(f"agency must name a body in letters or digits; got {agency!r}")
    words = engine.clean_query(q) if q is not None else None
    return await _admission(request).json(
        "search",
        _assignments,
        engine,
        agency or None,
        document or None,
        province or None,
        words,
        offset,
        limit,
    )


def _assignment_table(snap: Snapshot) -> AssignmentTable:
    table: AssignmentTable = snap.derived("assignment_table", lambda s: load_table(s.path))
    return table


def _assignments(
    engine: SearchEngine,
    agency: str | None,
    document: str | None,
    province: str | None,
    q: str | None,
    offset: int,
    limit: int,
) -> AssignmentsResponse:
    snap = engine.snapshot()
    docs = {d.doc_id: d for d in _all_documents(snap)}
    doc_ids: set[str] | None = None
    if document is not None or province is not None:
        filters = Filters(doc_id=document, province=province)
        doc_ids = {i for i, d in docs.items() if document_matches(d, filters)}
    found = _assignment_table(snap).select(agency, doc_ids, q)
    page = []
    for a in found[offset : offset + limit]:
        doc = docs.get(a.doc_id)
        page.append(
            AssignmentRecordModel(
                doc_id=a.doc_id,
                title=doc.title if doc else "",
                number=str(doc.header.get("number", "")) if doc and doc.header else "",
                agency=a.agency,
                role=a.role,
                task=a.task,
                text=a.text,
                lead=a.lead,
                partners=a.partners,
                deadline=a.deadline,
                output=a.output,
                section=a.section,
                section_path=a.section_path,
                page=a.page,
                passage=a.chunk,
                block=a.block,
                block_end=a.block_end,
                start=a.start,
                end=a.end,
                via=a.via,
                stated_in=a.stated_in,
            )
        )
    return AssignmentsResponse(assignments=page, total=len(found), offset=offset, limit=limit)


@router.get(
    "/api/stats",
    operation_id="getStats",
    tags=["service"],
    response_model=StatsResponse,
    responses=READ_ERRORS,
    summary="Index size, build time and embedder",
)
async def api_stats(request: Request) -> Response:
    admission = _admission(request)
    return await admission.json("search", _stats, _engine(request), _answerer(request), admission)


def _stats(engine: SearchEngine, answerer: Answerer, admission: Admission) -> StatsResponse:
    snap = engine.snapshot()
    docs = _all_documents(snap)
    by_type: dict[str, int] = {}
    for d in docs:
        by_type[d.doc_type or "unknown"] = by_type.get(d.doc_type or "unknown", 0) + 1
    items, _ = answerer.assignments(snap)
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
        query_embedding=engine.embedding_stats(),
        admission=admission.stats(),
    )


__all__ = ["ERRORS", "ORIGINAL_TYPES", "READ_ERRORS", "public_source", "router"]
