"""Cleaning: drop web boilerplate, re-join lines that conversion broke.

Input is the extractor's page text; output is a list of blocks (one per
paragraph or list item), each normalised with :func:`ingest.text.normalize`.
"""

from __future__ import annotations

import itertools
import re

from ingest.models import TABLE, Block, Page
from ingest.tables import TableSpan, find_tables, render_rows
from ingest.text import fold, normalize, normalize_spaces

# A line that starts one of these blocks ends the article: what follows is
# a list of other articles. Matched on folded text so tone-mark variants agree.
_TAIL_MARKERS = (
    "co the ban quan tam",
    "tin cung chuyen muc",
    "tin lien quan",
    "bai viet lien quan",
    "tin khac",
    "cac tin khac",
    "xem them",
    "danh gia bai viet",
    "thong ke truy cap",
)

_IMAGE_FILE = re.compile(r"^[\w.\-() ]{1,80}\.(?:jpe?g|png|gif|webp|bmp|svg|tiff?)$", re.I)
_SHARE_TOKENS = {
    "fb",
    "yt",
    "zl",
    "tw",
    "zalo",
    "facebook",
    "twitter",
    "youtube",
    "in",
    "email",
    "print",
    "share",
    "chia sẻ",
    "tweet",
    "linkedin",
    "copy link",
}
_BOILERPLATE_LINES = re.compile(
    r"^(?:sign in|sign up|đăng nhập|đăng ký|image banner|banner|"
    r"chọn cỡ chữ.*|cỡ chữ.*|font size.*|a\s*a|a-\s*a\+|"
    r"lượt xem:?\s*[\d.,]*|số lượt xem:?\s*[\d.,]*|lượt truy cập:?\s*[\d.,]*|"
    r"\(?lượt đánh giá:.*\)?|đang online:?.*|hôm nay:?\s*[\d.,]+|trong tuần:?\s*[\d.,]+|"
    r"tất cả:?\s*[\d.,]+|in bài|bản in|quay lại|về đầu trang|trở về|\*?✍\*?)$",
    re.I,
)
# A bullet as printed or as Markdown writes it ("* item"; "**" opens bold, not an item).
_BULLET_DOT = re.compile(r"^(?:[•·▪●◦]\s*|\*\s+(?=[^*\s]))")
_SENTENCE_END = re.compile(r"[.:;!?…)\]\"”»*]$")


def _is_boilerplate(line: str) -> bool:
    low = line.lower()
    if _IMAGE_FILE.match(line) or _BOILERPLATE_LINES.match(low):
        return True
    parts = low.split()
    # Rows of share buttons: "fb yt zl tw", "Zalo", "Facebook Twitter".
    return bool(parts) and len(parts) <= 6 and all(p in _SHARE_TOKENS for p in parts)


def _is_tail_marker(line: str) -> bool:
    f = fold(line).strip(" :.*#")
    return any(f == m or (f.startswith(m) and len(f) < len(m) + 3) for m in _TAIL_MARKERS)


def _looks_like_heading(line: str) -> bool:
    return line.startswith("#") or (line.startswith("**") and line.rstrip(":").endswith("**"))


_MARKER = re.compile(r"^(?:[-+•–|#>]|\*\*|\d+(?:\.\d+)*[.)]\s|[a-zđ][)]\s|[IVX]+[.)]\s)")


def _caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _continues(prev: str, line: str) -> bool:
    """Whether ``line``, in the same source paragraph as ``prev`` (no blank line between),
    carries on its sentence: the converter kept the page's line wraps ("Căn cứ Luật Dữ
    liệu số" / "60/2024/QH15 ngày ..."). A line that opens an item does not, nor does a
    line of capitals under one that is not (a heading over its text)."""
    return not _MARKER.match(line) and _caps(prev) == _caps(line)


_LETTERED = re.compile(r"^[a-zđ]\)\s+\S")


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether a page keeps its source's line wraps: a third or more of the lines that run
    on into another end mid-sentence (a converter's 80 columns). Text with a paragraph a
    line (a law article's title over its first sentence) is not wrapped."""
    runs = ends = 0
    for line, nxt in itertools.pairwise(lines):
        line = line.strip()
        if not line or not nxt.strip() or line == "|" or nxt.strip() == "|":
            continue
        runs += 1
        ends += not _SENTENCE_END.search(line)
    return runs >= 5 and ends >= 0.3 * runs


def _open_emphasis(text: str) -> bool:
    """Whether ``text`` leaves a ``**`` open: the converter broke a bold run over lines
    ("**ỦY" / "BAN NHÂN DÂN TỈNH**"), so the next line belongs to it."""
    return text.count("**") % 2 == 1 and len(text) < 600


def _table_blocks(span: TableSpan, page: int | None) -> list[Block]:
    """A table's block; a layout table of one cell a row (text boxed for print) is its
    cells, as paragraphs."""
    if all(len(row) <= 1 for row in span.rows):
        return [Block(text=row[0], page=page) for row in span.rows if row]
    text = render_rows(span.rows, span.header_rows)
    return [Block(text, page, kind=TABLE, rows=span.rows, header_rows=span.header_rows)]


def clean_pages(pages: list[Page]) -> list[Block]:
    """Blocks of real content, in reading order, with the page each starts on; each
    table (:mod:`ingest.tables`) one block."""
    blocks: list[Block] = []
    ended = False
    for page in pages:
        if ended:
            break
        lines = normalize(page.text).splitlines()
        tables = {t.start: t for t in find_tables(lines)}
        wrapped = _hard_wrapped(lines)
        i = 0
        blank_before = True
        while i < len(lines):
            if (span := tables.get(i)) is not None:
                blocks.extend(_table_blocks(span, page.number))
                i = span.end
                blank_before = True
                continue
            raw = lines[i]
            i += 1
            line = normalize_spaces(_BULLET_DOT.sub("- ", raw))
            if not line:
                blank_before = True
                continue
            joins_paragraph = wrapped and not blank_before
            blank_before = False
            if _is_tail_marker(line):
                ended = True
                break
            if _is_boilerplate(line):
                continue
            prev = blocks[-1] if blocks else None
            if prev is not None and prev.kind != TABLE and _open_emphasis(prev.text):
                prev.text = f"{prev.text} {line}"
                continue
            if (
                prev is not None
                and prev.kind != TABLE
                and not prev.is_heading
                and not _looks_like_heading(prev.text)
                and not _SENTENCE_END.search(prev.text)
                # str.islower: the range [à-ỹ] also holds capitals (Đ, Ư, Ơ, Ấ, Ở, ...), and
                # "Title" / "Đất đai ..." was glued into one line.
                and (line[0].islower() or (joins_paragraph and _continues(prev.text, line)))
                # "a) UBND các huyện:" opens a lettered item; it does not go on the line before.
                and not _LETTERED.match(line)
            ):
                # A sentence that PDF conversion broke across lines or pages.
                prev.text = f"{prev.text} {line}"
                continue
            if prev is not None and prev.text == line:
                # Image captions are often printed twice (alt text and caption).
                continue
            blocks.append(Block(text=line, page=page.number))
    return blocks
