"""Cleaning: drop web boilerplate, re-join lines that conversion broke.

Input is the extractor's page text; output is a list of blocks (one per
paragraph or list item), each normalised with :func:`ingest.text.normalize`.
"""

from __future__ import annotations

import re

from ingest.models import Block, Page
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
_BULLET_DOT = re.compile(r"^[•·▪●◦]\s*")
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


def clean_pages(pages: list[Page]) -> list[Block]:
    """Blocks of real content, in reading order, with the page each starts on."""
    blocks: list[Block] = []
    ended = False
    for page in pages:
        if ended:
            break
        for raw in normalize(page.text).splitlines():
            line = normalize_spaces(_BULLET_DOT.sub("- ", raw))
            if not line:
                continue
            if _is_tail_marker(line):
                ended = True
                break
            if _is_boilerplate(line):
                continue
            prev = blocks[-1] if blocks else None
            if (
                prev is not None
                and not prev.is_heading
                and not _looks_like_heading(prev.text)
                and not _SENTENCE_END.search(prev.text)
                # str.islower: the range [à-ỹ] also holds capitals (Đ, Ư, Ơ, Ấ, Ở, ...), and
                # "Title" / "Đất đai ..." was glued into one line.
                and line[0].islower()
            ):
                # A sentence that PDF conversion broke across lines or pages.
                prev.text = f"{prev.text} {line}"
                continue
            if prev is not None and prev.text == line:
                # Image captions are often printed twice (alt text and caption).
                continue
            blocks.append(Block(text=line, page=page.number))
    return blocks
