"""Tables and inline markup of converted documents: found, read into cells, rendered as text.

Official documents reach us converted to Markdown, and the converters write tables
two ways:

* **pipe rows**, one table row per line: ``| Số: 254/QĐ-UBND | Sơn La, ngày ... |``,
  with a separator row (``|---|---|``) under the header;
* **exploded rows**, where a cell's printed line breaks survive, so every cell is
  one or more lines and each ``|`` stands on a line of its own; two pipes in a
  row end a table row. The first cell of a table may lack its opening pipe (the
  letterhead: issuer ``|`` motto ``|`` ``|`` number ``|`` place and date ``|``).

The HTML, DOCX and PDF extractors write their tables as pipe rows, so one reader
serves every format. A table becomes one block with its cells
(:class:`ingest.models.Block` ``rows``) and a plain-text rendering
(:func:`render_rows`): a row under a header reads "Header: value; Header: value",
which keeps each value beside what it is, in a passage and in the embedding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest.text import normalize_spaces

# A rule: "-------" under an issuer, "---------------" under the motto, "___", "***".
_RULE = re.compile(r"(?:^|\s)(?:-{3,}|_{3,}|={3,}|\*{3,})(?=\s|$)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
# An asterisk that opens or closes emphasis: at a word's edge, never inside "(*)".
_STAR_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[“\"]))\*(?=[^\s)*])")
_STAR_CLOSE = re.compile(r"(?<=[^\s(*])\*(?=[\s)\]”\".,;:!?]|$)")
# "__" at a word's outer edge: after a space, a line start or opening punctuation, or
# before a space, a line end or closing punctuation. Converters leave such marks unpaired
# across wrapped lines ("__5.1. Các lớp … điểm): __Lớp"); one inside a name stays.
_UNDERSCORE_EDGE = re.compile(r"(?:(?<=^)|(?<=[\s(\[:;,“\"]))__|__(?=[\s)\]:;,.!?”\"]|$)")
_EMPTY_EMPHASIS = re.compile(r"^[*_\s]*$")
# A line break Markdown converters write inside a table cell.
_LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.I)


def clean_inline(text: str) -> str:
    """``text`` without Markdown emphasis, escapes and rules, spaces normalised.

    ``**`` never carries meaning in an administrative text, wherever the converter
    put it ("n**ă**m", "DÂN **"), so all go; ``__`` goes at a word's outer edge
    ("__Điều 1__", "điểm):__ Giáo") and stays inside a name ("window.__x", an
    identifier quoted in a text); a single ``*`` goes where it opens or closes
    emphasis; "(*)" (a footnote mark) stays.
    """
    text = text.replace("**", "")
    text = _UNDERSCORE_EDGE.sub("", text)
    text = _LINE_BREAK_TAG.sub(" ", text)
    text = _ESCAPE.sub(r"\1", text)
    text = _STAR_OPEN.sub("", text)
    text = _STAR_CLOSE.sub("", text)
    text = _RULE.sub(" ", text)
    text = re.sub(r"(?:^|(?<=\s))\*(?=\s|$)", "", text)  # a mark left alone: "2025 *"
    text = re.sub(r"^\*\s+(?=\S)", "", text.strip())  # an emphasis mark cut from its word
    return normalize_spaces(text).strip()


def _lone_pipe(line: str) -> bool:
    return line.strip() == "|"


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _pipe_row(line: str) -> bool:
    return bool(_PIPE_ROW.match(line)) and line.count("|") >= 2 and not _lone_pipe(line)


def _separator(line: str) -> bool:
    return bool(_SEPARATOR.match(line)) and "|" in line


def split_cells(line: str) -> list[str]:
    """The cells of one pipe row, as written (an escaped ``\\|`` stays in its cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


@dataclass
class TableSpan:
    """A table found in a page's lines: ``lines[start:end]``."""

    start: int
    end: int
    rows: list[list[str]]
    header_rows: int  # 1 when the first row is a header


def _blank(line: str) -> bool:
    return not line.strip() or bool(_EMPTY_EMPHASIS.match(line.strip()))


def _clean_rows(rows: list[list[str]]) -> list[list[str]]:
    out = []
    for row in rows:
        cells = [clean_inline(c) for c in row]
        while cells and not cells[-1]:
            cells.pop()  # converters leave trailing empty cells
        if any(cells):
            out.append(cells)
    return out


def _pipe_table(lines: list[str], start: int) -> TableSpan:
    end = start
    rows: list[list[str]] = []
    header = 0
    while end < len(lines) and (_pipe_row(lines[end]) or _lone_pipe(lines[end])):
        line = lines[end]
        end += 1
        if _lone_pipe(line):
            continue  # a stray pipe line some converters put before a row
        if _separator(line):
            if len(rows) == 1:
                header = 1
            continue
        rows.append(split_cells(line))
    rows = _clean_rows(rows)
    return TableSpan(start, end, rows, header if len(rows) > 1 else 0)


_ENDS_SENTENCE = re.compile(r"[.;:!?)]\**\s*$")
# What follows a table that ends without a blank line: an annex ("PHỤ LỤC I").
_AFTER_TABLE = re.compile(r"^[*_\s]*(?:PHỤ LỤC|Phụ lục|PHỤ BIỂU|Phụ biểu)\b")
# The layout row at a document's end: recipients beside the signature, two cells.
_RECIPIENTS_CELL = re.compile(r"^[*_\s]*(?:Nơi nhận|NƠI NHẬN)\b")
_MAX_FIRST_CELL_LINES = 8


def _paragraph_start(lines: list[str], i: int, floor: int) -> int:
    """Where a table whose first pipe is ``lines[i]`` starts: the lines right above it
    are its first cell when they run on from a blank line without ending a sentence (a
    letterhead's issuer), else the table starts at the pipe."""
    j = i
    while j > floor and i - j < _MAX_FIRST_CELL_LINES and not _blank(lines[j - 1]):
        if _ENDS_SENTENCE.search(lines[j - 1]):
            return i
        j -= 1
    return j if j == floor or _blank(lines[j - 1]) else i


def _continues_table(lines: list[str], i: int) -> bool:
    """Whether the paragraph from ``lines[i]`` on still has a lone pipe (a cell's text
    held a blank line)."""
    j = i
    while j < len(lines) and _blank(lines[j]):
        j += 1
    if j - i > 1:
        return False
    while j < len(lines) and not _blank(lines[j]):
        if _lone_pipe(lines[j]):
            return True
        j += 1
    return False


def _exploded_table(lines: list[str], start: int) -> TableSpan:
    rows: list[list[str]] = []
    row: list[str] = []
    cell: list[str] = []
    pipes = 0  # pipes since the last line of text
    ncols: int | None = None
    i = start
    while i < len(lines):
        line = lines[i].strip()
        if _lone_pipe(line):
            if cell:
                row.append(" ".join(cell))
                cell = []
            pipes += 1
            i += 1
            continue
        if _blank(line):
            if pipes or not _continues_table(lines, i):
                break
            i += 1
            continue
        if _pipe_row(line):
            break  # a table of pipe rows follows
        if pipes == 1 and ncols is None and len(row) >= 2 and _RECIPIENTS_CELL.match(row[0]):
            ncols = 2
        if pipes and (row or rows) and _AFTER_TABLE.match(line):
            break  # an annex heading right after the table
        full = ncols is not None and len(row) >= ncols
        if pipes == 1 and full and ncols is not None and ncols <= 2:
            break  # a layout table's last row is complete and text follows: it ended
        if pipes >= 2 or (pipes == 1 and full):
            # Two pipes end a row; in a wide table one does after a full row too (a merged
            # cell left the converter a pipe short).
            if row:
                ncols = ncols or len(row)
                rows.append(row)
            row = []
        pipes = 0
        cell.append(line)
        i += 1
    if cell:
        row.append(" ".join(cell))
    if row:
        rows.append(row)
    rows = _clean_rows(rows)
    header = 1 if len(rows) > 1 and header_like(rows[0]) else 0
    return TableSpan(start, i, rows, header)


def header_like(cells: list[str]) -> bool:
    """A header row: two or more short labels ("TT", "Nhiệm vụ", "Cơ quan chủ trì")."""
    return len(cells) >= 2 and all(0 < len(c.split()) <= 15 and not c.endswith(".") for c in cells)


def find_tables(lines: list[str]) -> list[TableSpan]:
    """The tables in one page's lines, in order, not overlapping."""
    out: list[TableSpan] = []
    floor = 0  # a table never starts inside the previous one
    i = 0
    while i < len(lines):
        line = lines[i]
        if _pipe_row(line) or (_lone_pipe(line) and i + 1 < len(lines) and _pipe_row(lines[i + 1])):
            span = _pipe_table(lines, i)
        elif _lone_pipe(line):
            # Text right above the first pipe, in the same paragraph, is the first cell.
            span = _exploded_table(lines, _paragraph_start(lines, i, floor))
        else:
            i += 1
            continue
        if span.rows:
            out.append(span)
        i = floor = max(span.end, i + 1)
    return out


def render_rows(rows: list[list[str]], header_rows: int) -> str:
    """A table as plain text, one line per row.

    Under a header each value is named by its column ("Cơ quan chủ trì: Sở Tài
    chính; Thời gian: Quý IV/2025"), so a row read alone (a passage, a snippet)
    still says what its values are; a table without one (a letterhead, a
    recipients-and-signature layout) reads cell by cell, one line each.
    """
    if not header_rows or len(rows) < 2:
        return "\n".join(c for row in rows for c in row if c)
    head = rows[0]
    lines = []
    for row in rows[1:]:
        parts = []
        for i, value in enumerate(row):
            if not value:
                continue
            name = head[i] if i < len(head) else ""
            value = value.rstrip(";") if i < len(row) - 1 else value
            parts.append(f"{name}: {value}" if name and name != value else value)
        if parts:
            lines.append("; ".join(parts))
    return "\n".join(lines)


def pipe_rows(rows: list[list[str]], header_rows: int) -> list[str]:
    """A table as Markdown pipe rows (header, separator, data): how extractors hand their
    tables to the cleaner, and what readers of pipe rows (the assignment extractor) get."""

    def row_line(cells: list[str]) -> str:
        return "| " + " | ".join(normalize_spaces(c).replace("|", "/") for c in cells) + " |"

    out = []
    for i, row in enumerate(rows):
        out.append(row_line(row))
        if i == 0 and header_rows:
            out.append("|" + "---|" * max(1, len(row)))
    return out


def as_lines(blocks: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Stored blocks (:meth:`ingest.models.Block.stored`) as ``[text, page, heading_level]``
    lines, each table as its pipe rows, the letterhead left out: the form readers of
    lines (the assignment extractor) take."""
    out: list[list[Any]] = []
    for b in blocks:
        extra = b[3] if len(b) > 3 and isinstance(b[3], dict) else {}
        kind = extra.get("kind")
        if kind == "table" and extra.get("rows"):
            rows = extra["rows"]
            out.extend([line, b[1], None] for line in pipe_rows(rows, extra.get("header_rows", 0)))
        elif kind != "letterhead":
            out.append([b[0], b[1], b[2]])
    return out
