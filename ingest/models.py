"""Plain data passed between the ingest stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
    warnings: list[str] = field(default_factory=list)  # read, but something was off


@dataclass
class Block:
    """A paragraph, list item or heading of the cleaned document."""

    text: str
    page: int | None = None
    heading_level: int | None = None  # None: body text

    @property
    def is_heading(self) -> bool:
        return self.heading_level is not None


@dataclass
class DocumentMeta:
    doc_id: str
    title: str
    source: str
    path: str
    date: str = ""  # ISO yyyy-mm-dd, or yyyy-mm / yyyy when that is all the text says
    doc_type: str = ""  # plan | agreement | news
    provinces: list[str] = field(default_factory=list)


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


@dataclass
class IngestProblem:
    """A file that was skipped, with the reason a person can act on."""

    path: Path
    reason: str
