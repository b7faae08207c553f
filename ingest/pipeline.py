"""Ingest entry point: files -> parsed documents (cleaned blocks + metadata).

``parse_file`` is the one function the index builder calls per file; it
never raises for a bad file, it returns an :class:`IngestProblem` instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.assignments import agency_label
from ingest.clean import clean_pages
from ingest.extract import ExtractionError, extractor_for, supported_suffixes
from ingest.header import read_header
from ingest.metadata import find_date, find_provinces, find_source, find_title, find_type
from ingest.models import DocumentMeta, IngestProblem, ParsedDocument
from ingest.structure import finish_blocks, mark_headings
from ingest.text import fold

# Bump when cleaning, structure or assignment rules change, so incremental ingest
# re-parses documents whose bytes did not change.
PARSER_VERSION = "9"


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every supported file under the given files and folders."""
    suffixes = supported_suffixes()
    for root in paths:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if (
                    path.is_file()
                    and path.suffix.lower() in suffixes
                    and not any(part.startswith(".") for part in path.relative_to(root).parts)
                ):
                    yield path, root
        else:
            yield root, root.parent


def make_doc_id(path: Path, root: Path) -> str:
    """Stable id from the path under its root: 'plans/Lào Cai.pdf' -> 'plans-lao-cai'."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    stem = str(rel.with_suffix("")).replace("\\", "/")
    slug = re.sub(r"[^a-z0-9_]+", "-", fold(stem)).strip("-")
    return slug or hashlib.sha1(str(rel).encode()).hexdigest()[:12]


def source_name(path: Path, root: Path) -> str:
    """What a document without a URL gives as its source: its file name under the folder it
    was ingested from ('plans/Lào Cai.pdf'), never a path of the machine that read it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def content_hash(data: bytes) -> str:
    return hashlib.sha256(PARSER_VERSION.encode() + b"\0" + data).hexdigest()


def too_large(path: Path, size: int, max_bytes: int) -> IngestProblem:
    return IngestProblem(
        path,
        f"the file is {size} bytes; the limit is {max_bytes} bytes (POLICY_SEARCH_MAX_FILE_BYTES)",
    )


def hash_file(path: Path, max_bytes: int | None = None) -> str | IngestProblem:
    """:func:`content_hash` of a file, read a block at a time.

    A file larger than ``max_bytes`` is refused from its size before a byte is
    read (a 2 GB file once took an ingest to 3 GB of memory before the sandbox
    refused it); one that grows past it while being read is refused too.
    """
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return too_large(path, size, max_bytes)
        digest = hashlib.sha256(PARSER_VERSION.encode() + b"\0")
        read = 0
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                read += len(block)
                if max_bytes is not None and read > max_bytes:
                    return too_large(path, read, max_bytes)
                digest.update(block)
        return digest.hexdigest()
    except OSError as exc:
        return IngestProblem(path, f"cannot read file: {exc.strerror or exc}")


def parse_bytes_or_problem(
    path: Path, root: Path, data: bytes, max_chars: int | None = None
) -> ParsedDocument | IngestProblem:
    extractor = extractor_for(path)
    if extractor is None:
        return IngestProblem(path, f"unsupported file type {path.suffix or '(none)'}")
    if not data.strip():
        return IngestProblem(path, "empty file")
    try:
        extracted = extractor.extract(path)
    except ExtractionError as exc:
        return IngestProblem(path, str(exc))
    except Exception as exc:  # a library failing on a hostile file must not stop the batch
        return IngestProblem(path, f"could not extract text: {type(exc).__name__}: {exc}")
    n_chars = sum(len(p.text) for p in extracted.pages)
    if max_chars is not None and n_chars > max_chars:
        return IngestProblem(
            path,
            f"document has {n_chars} characters of text; the limit is {max_chars} "
            "(POLICY_SEARCH_MAX_DOCUMENT_CHARS)",
        )
    blocks = finish_blocks(mark_headings(clean_pages(extracted.pages), agency_label))
    if not any(not b.is_heading for b in blocks):
        return IngestProblem(path, "no text left after cleaning")
    doc_id = make_doc_id(path, root)
    text = "\n".join(b.text for b in blocks)
    header = read_header(extracted.layout or "\n".join(p.text for p in extracted.pages), text)
    # An official document names itself in its header: its trích yếu is its title and
    # its header's date its date. Other documents keep what the text around says.
    official = bool(header.number or header.issuer)
    title = header.title if official and header.title else find_title(blocks, extracted.title_hint)
    source = find_source(blocks, source_name(path, root), extracted.source_hint)
    meta = DocumentMeta(
        doc_id=doc_id,
        title=title,
        source=source,
        path=str(path.resolve()),
        date=(header.date if official and header.date else find_date(blocks, source)),
        doc_type=find_type(blocks, f"{header.document_type} {title}".strip(), official),
        provinces=find_provinces(text),
        header=header,
    )
    return ParsedDocument(
        meta=meta,
        blocks=blocks,
        content_hash=content_hash(data),
        root=str(root),
        warnings=list(extracted.warnings),
    )


def parse_file(
    path: Path, root: Path | None = None, max_chars: int | None = None
) -> ParsedDocument | IngestProblem:
    root = root if root is not None else path.parent
    try:
        data = path.read_bytes()
    except OSError as exc:
        return IngestProblem(path, f"cannot read file: {exc.strerror or exc}")
    return parse_bytes_or_problem(path, root, data, max_chars=max_chars)
