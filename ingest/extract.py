"""Extractors: one class per file format behind the :class:`Extractor` protocol.

A new format is a new class registered in :data:`EXTRACTORS`; nothing else
changes. Extractors raise :class:`ExtractionError` with a reason a person can
act on; the pipeline reports it and goes on with the next file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ingest.models import Extracted, Page
from ingest.tables import header_like, pipe_rows


class ExtractionError(Exception):
    """The file cannot be read as a document; the message says why."""


class Extractor(Protocol):
    suffixes: ClassVar[tuple[str, ...]]

    def extract(self, path: Path) -> Extracted: ...


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """(text, charset) of ``data`` read as UTF-16 without a byte-order mark, or None when it
    does not read so.

    Windows tools write UTF-16 (little-endian) without the mark now and then. Its
    sign: zero bytes in one byte position of most pairs (Latin letters, digits, spaces
    and punctuation are U+0000-U+00FF; Vietnamese letters with marks are U+1Exx or
    U+01xx, whose other byte is not zero) and almost none in the other. It must then
    decode strictly, without a NUL, into text (letters, marks, spaces, punctuation)
    and not control characters; binary data with zero bytes fails one of these.
    """
    if len(data) < 4 or len(data) % 2:
        return None
    pairs = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if max(even, odd) < pairs * 0.3 or min(even, odd) > max(even, odd) * 0.05:
        return None
    charset = "utf-16be" if even > odd else "utf-16le"
    try:
        text = data.decode(charset)
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    controls = sum(1 for c in text if unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs"))
    controls -= text.count("\n") + text.count("\r") + text.count("\t")
    return (text, charset) if controls <= len(text) * 0.01 else None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with or without BOM), else the Vietnamese Windows
    code page."""
    return _decoded(data)[0]


def text_charset(data: bytes) -> str:
    """The charset (IANA name) :func:`decode_text` reads ``data`` in, for a ``Content-Type``
    that lets a client read the file as ingest did."""
    return _decoded(data)[1]


def _decoded(data: bytes) -> tuple[str, str]:
    """(text, charset): the one decision :func:`decode_text` and :func:`text_charset` share."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data:
        read = _utf16_without_bom(data)
        if read is not None:
            return read
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258"), "windows-1258"
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"not UTF-8 or Windows-1258 text ({exc.reason})") from exc


class TextExtractor:
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".md", ".markdown")

    def extract(self, path: Path) -> Extracted:
        text = decode_text(path.read_bytes())
        if "\x00" in text:
            raise ExtractionError("binary data in a text file")
        return Extracted(pages=[Page(None, text)])


_HTML_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
    "select",
)
_HTML_BLOCKS = (
    "p",
    "div",
    "li",
    "tr",
    "br",
    "section",
    "article",
    "blockquote",
    "figcaption",
    "td",
    "dd",
    "dt",
    "pre",
    "table",
    "ul",
    "ol",
)


class HtmlExtractor:
    suffixes: ClassVar[tuple[str, ...]] = (".html", ".htm")

    def extract(self, path: Path) -> Extracted:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(decode_text(path.read_bytes()), "html.parser")
        source = ""
        for sel, attr in (
            ('link[rel="canonical"]', "href"),
            ('meta[property="og:url"]', "content"),
        ):
            tag = soup.select_one(sel)
            # Only web addresses: the source becomes a link in the UI (no javascript: URLs).
            if tag and re.match(r"https?://", str(tag.get(attr, "")), re.I):
                source = str(tag.get(attr))
                break
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        html = str(soup)
        text = _html_text(BeautifulSoup(html, "html.parser"), tables=True)
        h1 = re.search(r"^# (.+)$", text, re.M)
        return Extracted(
            pages=[Page(None, text)],
            title_hint=h1.group(1) if h1 else title,
            source_hint=source,
            # The header reader reads a letterhead table cell by cell, each a block.
            layout=_html_text(BeautifulSoup(html, "html.parser"), tables=False),
        )


def _html_text(soup: Any, tables: bool) -> str:
    """The page's text, blocks on lines of their own, headings as ``#``; with ``tables``,
    each table as pipe rows (:func:`_html_table`), else its cells as blocks."""
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    if soup.title:
        soup.title.decompose()
    if tables:
        # Innermost first, so a table nested in a cell is text inside that cell.
        for table in reversed(soup.find_all("table")):
            text = _html_table(table)
            if text:
                table.replace_with(f"\n\n{text}\n\n")
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.replace_with(f"\n\n{'#' * level} {h.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all(list(_HTML_BLOCKS)):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return str(soup.get_text())


def _html_table(table: Any) -> str:
    """A ``<table>`` as pipe rows, or "" for a layout table of one column (left as text)."""
    rows: list[list[str]] = []
    head = False
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
        texts = [" ".join(c.get_text(" ", strip=True).split()) for c in cells]
        if any(texts):
            if not rows:
                head = bool(cells) and (
                    all(c.name == "th" for c in cells) or tr.find_parent("thead") is not None
                )
            rows.append(texts)
    if not rows or max(len(r) for r in rows) < 2:
        return ""
    header = 1 if len(rows) > 1 and (head or header_like(rows[0])) else 0
    return "\n".join(pipe_rows(rows, header))


_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (DOCX, XLSX, ODT or .zip)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc, .xls)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
)


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is ("" when they say nothing)."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # PDF readers accept the header anywhere in the first kilobyte.
    return "a PDF" if b"%PDF-" in head[:1024] else ""


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(1024)


class PdfExtractor:
    suffixes: ClassVar[tuple[str, ...]] = (".pdf",)
    # Set by the extraction sandbox from POLICY_SEARCH_MAX_PDF_PAGES (None: no limit).
    max_pages: ClassVar[int | None] = None

    def extract(self, path: Path) -> Extracted:
        import pymupdf

        kind = sniff(_read_head(path))
        if kind != "a PDF":
            raise ExtractionError(f"not a PDF: the file is {kind or 'not in PDF format'}")
        try:
            doc = pymupdf.open(path, filetype="pdf")
        except MemoryError:
            raise  # the sandbox reports it as the memory limit
        except Exception as exc:
            raise ExtractionError(f"not a readable PDF ({exc})") from exc
        with doc:
            if doc.needs_pass:
                raise ExtractionError("encrypted PDF (password required)")
            if doc.page_count == 0:
                raise ExtractionError("PDF has no pages")
            if self.max_pages is not None and doc.page_count > self.max_pages:
                raise ExtractionError(
                    f"PDF has {doc.page_count} pages; the limit is {self.max_pages} "
                    "(POLICY_SEARCH_MAX_PDF_PAGES)"
                )
            warnings = []
            if doc.is_repaired:
                warnings.append("the PDF's cross-reference table was broken and was repaired")
            pages: list[Page] = []
            layout: list[str] = []
            for number in range(1, doc.page_count + 1):
                page = doc[number - 1]
                layout.append(_layout_text(page))
                tables = _pdf_tables(page)
                boxes = [box for box, _ in tables]
                # Blocks are paragraphs: lines inside one are joined with a space,
                # so words broken by the PDF's line wrapping come back together. Text
                # inside a table is read as the table, in its place.
                paras = []
                for block in page.get_text("blocks", sort=True):
                    if block[6] != 0:  # image block
                        continue
                    while tables and tables[0][0][1] <= block[1]:
                        paras.append(tables.pop(0)[1])
                    if any(_inside(block[:4], box) for box in boxes):
                        continue
                    para = " ".join(line.strip() for line in block[4].splitlines() if line.strip())
                    if para:
                        paras.append(para)
                paras.extend(text for _, text in tables)
                pages.append(Page(number, "\n\n".join(paras)))
            title = (doc.metadata or {}).get("title", "") or ""
        if not any(p.text.strip() for p in pages):
            raise ExtractionError("no extractable text (scanned or image-only PDF?)")
        return Extracted(
            pages=pages, title_hint=title, warnings=warnings, layout="\n\n".join(layout)
        )


def _inside(box: Any, table: Any) -> bool:
    """Whether a text block's middle lies inside a table's box."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(table[0] <= x <= table[2] and table[1] <= y <= table[3])


def _pdf_tables(page: Any) -> list[tuple[tuple[float, float, float, float], str]]:
    """The ruled tables PyMuPDF's table finder sees on a page, top to bottom, each as its
    box and its pipe rows (:func:`ingest.tables.pipe_rows`).

    A page without vector drawings has no ruled table, and the finder is not run on it
    (it costs about 0.1 s a page). The layout model (``use_layout``) is left off: it
    takes seconds to load and the ruled tables of official documents do not need it.
    A table the finder cannot read is left as text, never a failed file.
    """
    try:
        if not page.get_cdrawings():
            return []
        found = page.find_tables(use_layout=False)
    except Exception:  # a finder failure leaves the text as it was
        return []
    out = []
    for table in found.tables:
        # Each cell's text read from its box, as the page's text is (the finder's own
        # extract() guesses spaces from glyph gaps and loses some).
        rows = [
            [" ".join(page.get_textbox(cell).split()) if cell else "" for cell in row.cells]
            for row in table.rows
        ]
        rows = [row for row in rows if any(row)]
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue  # a box around text, not a table
        header = 1 if header_like(rows[0]) else 0
        out.append((tuple(table.bbox), "\n".join(pipe_rows(rows, header))))
    return sorted(out, key=lambda t: t[0][1])


class DocxExtractor:
    suffixes: ClassVar[tuple[str, ...]] = (".docx",)

    def extract(self, path: Path) -> Extracted:
        import docx

        kind = sniff(_read_head(path))
        if not kind.startswith("a ZIP"):
            raise ExtractionError(f"not a DOCX: the file is {kind or 'not a ZIP archive'}")
        try:
            document = docx.Document(str(path))
        except MemoryError:
            raise  # the sandbox reports it as the memory limit
        except Exception as exc:
            raise ExtractionError(f"not a readable DOCX ({exc})") from exc
        lines: list[str] = []
        layout: list[str] = []
        _docx_content(document, lines, layout)
        title = document.core_properties.title or ""
        return Extracted(
            pages=[Page(None, "\n\n".join(lines))], title_hint=title, layout="\n".join(layout)
        )


def _docx_content(container: Any, lines: list[str], layout: list[str]) -> None:
    """Paragraphs and tables of a DOCX body or table cell, in document order.

    ``lines`` get one entry per paragraph (Word headings as ``#``); ``layout``
    gets the same text with table cells as blocks between blank lines and fully
    bold paragraphs marked ``**`` (a header table's issuer, the signature).
    """
    for item in container.iter_inner_content():
        if hasattr(item, "rows"):  # a table: each cell is a block, row by row
            rows: list[list[str]] = []
            cell_lines: list[str] = []
            for row in item.rows:
                seen: set[int] = set()
                cells = []
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell repeats in the row
                        continue
                    seen.add(id(cell._tc))
                    layout.append("")
                    inner: list[str] = []
                    _docx_content(cell, inner, layout)
                    layout.append("")
                    cell_lines.extend(inner)
                    cells.append(" ".join(re.sub(r"^#+\s+", "", t) for t in inner))
                if any(cells):
                    rows.append(cells)
            if rows and max(len(r) for r in rows) >= 2:
                header = 1 if len(rows) > 1 and header_like(rows[0]) else 0
                lines.append("\n".join(pipe_rows(rows, header)))
            else:
                lines.extend(cell_lines)  # a box around paragraphs: its text
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        lines.append(f"{'#' * int(m.group(1))} {text}" if m else text)
        runs = [r for r in item.runs if r.text.strip()]
        bold = bool(runs) and all(r.bold or (r.bold is None and _style_bold(item)) for r in runs)
        for part in text.split("\n"):
            if part.strip():
                layout.append(f"**{part.strip()}**" if bold else part.strip())


def _style_bold(paragraph: Any) -> bool:
    font = paragraph.style.font if paragraph.style is not None else None
    return bool(font is not None and font.bold)


# --- PDF layout ----------------------------------------------------------------------------

_Box = tuple[float, float, float, float]


def _layout_text(page: Any) -> str:
    """One PDF page's text with its printed lines, in reading order, blocks between blank lines.

    A band of blocks side by side in columns (the header table: issuer |
    motto, number | date; at the end: recipients | signature) is read column
    by column, as a person reads it; a block that spans the columns ends the band.
    """
    blocks: list[tuple[_Box, list[str]]] = []
    for block in page.get_text("dict", sort=True)["blocks"]:
        if block.get("type") != 0:
            continue
        lines = ["".join(span["text"] for span in line["spans"]).strip() for line in block["lines"]]
        lines = [line for line in lines if line]
        if lines:
            blocks.append((tuple(block["bbox"]), lines))
    if not blocks:
        return ""
    left = min(b[0][0] for b in blocks)
    width = max(b[0][2] for b in blocks) - left
    ordered: list[list[str]] = []
    band: list[list[tuple[_Box, list[str]]]] = []  # columns of the current band

    def flush() -> None:
        for column in sorted(band, key=lambda col: min(b[0][0] for b in col)):
            ordered.extend(lines for _, lines in sorted(column, key=lambda b: b[0][1]))
        band.clear()

    for box, lines in blocks:
        x0, x1 = box[0], box[2]
        hits = [col for col in band if any(x0 < b[0][2] and b[0][0] < x1 for b in col)]
        if x1 - x0 > 0.6 * width or len(hits) > 1:
            flush()
            ordered.append(lines)
        elif hits:
            hits[0].append((box, lines))
        else:
            band.append([(box, lines)])
    flush()
    return "\n\n".join("\n".join(lines) for lines in ordered)


EXTRACTORS: list[Extractor] = [TextExtractor(), HtmlExtractor(), PdfExtractor(), DocxExtractor()]


def extractor_for(path: Path) -> Extractor | None:
    suffix = path.suffix.lower()
    for extractor in EXTRACTORS:
        if suffix in extractor.suffixes:
            return extractor
    return None


def supported_suffixes() -> set[str]:
    return {s for e in EXTRACTORS for s in e.suffixes}
