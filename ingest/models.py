"""Plain data passed between the ingest stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Page:
    """Text of one page (``number`` is 1-based; ``None`` for formats without pages)."""

    number: int | None
    text: str


@dataclass
class Extracted:
    """What an extractor read from one file, before any cleaning."""

    pages: list[Page]
    title_hint: str = ""
    source_hint: str = ""
    # The text with its printed line breaks and table cells, where ``pages`` lose them
    # (PDF paragraphs are joined lines): what the header of an official document is read from.
    layout: str = ""
    warnings: list[str] = field(default_factory=list)  # read, but something was off


# What a block is (:attr:`Block.kind`). The last four are the frame of an official
# document, not its content: the chunker leaves them out of passages and the answerer
# never reads a task or a fact from them.
PARAGRAPH = "paragraph"
HEADING = "heading"
LIST_ITEM = "list_item"
TABLE = "table"
LETTERHEAD = "letterhead"  # issuer, national motto, number, place and date
SIGNATURE = "signature"  # "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / name"
RECIPIENTS = "recipients"  # "Nơi nhận: ..."
CLOSING = "closing"  # "Trên đây là Kế hoạch ..."
BLOCK_KINDS = (PARAGRAPH, HEADING, LIST_ITEM, TABLE, LETTERHEAD, SIGNATURE, RECIPIENTS, CLOSING)
FRAME_KINDS = frozenset([LETTERHEAD, SIGNATURE, RECIPIENTS, CLOSING])


@dataclass
class Block:
    """A paragraph, list item, heading or table of the cleaned document.

    ``text`` is plain text as printed, without markup; a table's is its rows, one per
    line (:func:`ingest.tables.render_rows`), and ``rows`` holds its cells, the header
    row first when ``header_rows`` is 1.
    """

    text: str
    page: int | None = None
    heading_level: int | None = None  # None: body text
    kind: str = ""  # one of BLOCK_KINDS; "" until ingest.structure.finish_blocks sets it
    rows: list[list[str]] | None = None
    header_rows: int = 0
    # A list item's parent: the index (in the document's blocks) of the item or heading
    # it sits under ("b)" under "2. ...", "-" under "b)"); None at the top level.
    parent: int | None = None

    @property
    def is_heading(self) -> bool:
        return self.heading_level is not None

    def stored(self) -> list[Any]:
        """The block as stored: ``[text, page, heading_level, extra]``; ``extra`` holds the
        kind and, where they apply, rows, header rows and parent (readers of the older
        three-element form read the first three)."""
        extra: dict[str, Any] = {"kind": self.kind or (HEADING if self.is_heading else PARAGRAPH)}
        if self.rows is not None:
            extra["rows"] = self.rows
            extra["header_rows"] = self.header_rows
        if self.parent is not None:
            extra["parent"] = self.parent
        return [self.text, self.page, self.heading_level, extra]

    @classmethod
    def from_stored(cls, row: list[Any] | tuple[Any, ...]) -> Block:
        extra = row[3] if len(row) > 3 and isinstance(row[3], dict) else {}
        return cls(
            text=str(row[0]),
            page=row[1],
            heading_level=row[2],
            kind=str(extra.get("kind", "")),
            rows=extra.get("rows"),
            header_rows=int(extra.get("header_rows", 0)),
            parent=extra.get("parent"),
        )


def block_kind(row: list[Any] | tuple[Any, ...]) -> str:
    """The kind of a stored block (older versions stored none: heading or paragraph)."""
    if len(row) > 3 and isinstance(row[3], dict) and row[3].get("kind"):
        return str(row[3]["kind"])
    return HEADING if row[2] is not None else PARAGRAPH


@dataclass
class Reference:
    """A mention of another document."""

    number: str  # "1658/QĐ-TTg"; "" for a law named without its number
    text: str  # the mention as written, e.g. "Quyết định số 1658/QĐ-TTg ngày 01/10/2021"
    document_type: str = ""  # "Quyết định"
    date: str = ""  # ISO, when the mention gives it
    doc_id: str | None = None  # the cited document in the index, once resolved


@dataclass
class DocumentHeader:
    issuer: str = ""
    issuer_parent: str = ""  # the body printed above the issuer ("Bộ Tài chính" over a Cục)
    number: str = ""  # as printed: "2666/QĐ-UBND"
    document_type: str = ""  # as printed, in Vietnamese: "Quyết định"
    place: str = ""
    date: str = ""  # ISO yyyy-mm-dd
    title: str = ""  # trích yếu, as printed
    signer: str = ""
    signer_title: str = ""  # "Phó Chủ tịch"
    signature_block: str = ""  # "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
    recipients: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)  # one per "Căn cứ", without the words
    references: list[Reference] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(v for v in asdict(self).values())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DocumentHeader:
        data = dict(data or {})
        refs = [Reference(**r) for r in data.pop("references", []) or []]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, references=refs)


@dataclass
class DocumentMeta:
    doc_id: str
    title: str
    source: str
    path: str
    date: str = ""  # ISO yyyy-mm-dd, or yyyy-mm / yyyy when that is all the text says
    doc_type: str = ""  # one of ingest.metadata.DOC_TYPES
    provinces: list[str] = field(default_factory=list)
    header: DocumentHeader = field(default_factory=DocumentHeader)


@dataclass
class ParsedDocument:
    meta: DocumentMeta
    blocks: list[Block]
    content_hash: str
    root: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Chunk:
    doc_id: str
    ordinal: int
    section: str
    page: int | None
    text: str
    embed_text: str
    # Where ``text`` sits in the chunker's body text (see ingest.chunk.body_text):
    # body_text(doc)[start:end] == text. -1 when the chunker could not place it.
    start: int = -1
    end: int = -1
    # The same span as (block index, offset in that block's text): the first block the
    # chunk's text starts in and the last it ends in, ``last_offset`` one past its last
    # character. -1 when unplaced.
    first_block: int = -1
    first_offset: int = -1
    last_block: int = -1
    last_offset: int = -1


@dataclass
class IngestProblem:
    """A file that was skipped, with the reason a person can act on."""

    path: Path
    reason: str
