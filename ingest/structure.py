"""Heading detection: which blocks are headings, and at what level.

Levels come from the numbering style, not from the number of ``#``: the
corpus's markdown levels are inconsistent ("#### I." next to "## II."),
while the numbering (I. / 1. / 1.1. / a)) is what officials read.
"""

from __future__ import annotations

import re

from ingest.models import Block

_ROMAN = r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII|XIII|XIV|XV)"
_ENUMERATORS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(rf"^(?:PHẦN|Phần|CHƯƠNG|Chương)\s+(?:{_ROMAN}|\d+)\b"), 1),
    (re.compile(rf"^{_ROMAN}[.)]\s+\S"), 1),
    (re.compile(r"^\d+\.\d+(?:\.\d+)*\.?\s+\S"), 3),
    (re.compile(r"^\d+[.)]\s+\S"), 2),
    (re.compile(r"^[a-zđ][)]\s+\S"), 4),
]
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*\s*:?$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*:?\s*(.+)$")
_ITALIC_LINE = re.compile(r"^\*([^*].*?)\*$")
_MAX_PLAIN_HEADING = 120


def _strip_emphasis(text: str) -> str:
    return text.replace("**", "").strip().strip("*").strip().rstrip(":").strip()


def enumerator_level(text: str) -> int | None:
    for pattern, level in _ENUMERATORS:
        if pattern.match(text):
            return level
    return None


def sentence_case(text: str) -> str:
    """'V. TỔ CHỨC THỰC HIỆN' -> 'V. Tổ chức thực hiện'; mixed-case text is kept."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4 or not all(c.isupper() for c in letters):
        return text
    m = re.match(rf"^((?:{_ROMAN}|\d+(?:\.\d+)*|[A-Z])[.)]\s+)?(.*)$", text)
    assert m is not None
    prefix, rest = m.group(1) or "", m.group(2)
    rest = rest.lower()
    return prefix + rest[:1].upper() + rest[1:]


def _plain_heading_level(text: str) -> int | None:
    if len(text) > _MAX_PLAIN_HEADING or text.endswith((".", ";", ",")):
        return None
    level = enumerator_level(text)
    if level is None:
        return None
    if level == 1:
        return level
    # "1. Sở Xây dựng" is a heading; "1. Các sở... báo cáo ..." is a list item.
    body = re.sub(r"^\S+\s+", "", text)
    return level if (len(body) <= 80 and not body.endswith(":")) or body.isupper() else None


def mark_headings(blocks: list[Block]) -> list[Block]:
    """Return blocks with ``heading_level`` set; a bold lead splits into heading + body."""
    out: list[Block] = []
    seen_body = False
    for block in blocks:
        text = block.text
        heading: str | None = None
        level: int | None = None
        rest = ""
        if m := _MD_HEADING.match(text):
            heading = _strip_emphasis(m.group(2))
            level = enumerator_level(heading)
            if level is None:
                # Unnumbered headings before any body text are the title block.
                level = 0 if not seen_body else 1
        elif m := _BOLD_LINE.match(text):
            candidate = _strip_emphasis(m.group(1))
            level = enumerator_level(candidate)
            if level is not None and len(candidate) <= _MAX_PLAIN_HEADING:
                heading = candidate
        elif (m := _BOLD_LEAD.match(text)) and enumerator_level(_strip_emphasis(m.group(1))):
            heading = _strip_emphasis(m.group(1))
            level = enumerator_level(heading)
            rest = m.group(2).strip()
        elif (m := _ITALIC_LINE.match(text)) and enumerator_level(_strip_emphasis(m.group(1))):
            heading = _strip_emphasis(m.group(1))
            level = enumerator_level(heading)
        else:
            level = _plain_heading_level(text)
            if level is not None:
                heading = text.rstrip(":").strip()
            elif not out and len(text) <= 200 and not text.endswith((".", ":", ";")):
                # A news article's first line is its headline.
                heading, level = text, 0
        if heading and level is not None:
            out.append(Block(text=sentence_case(heading), page=block.page, heading_level=level))
            if rest:
                out.append(Block(text=rest, page=block.page))
                seen_body = True
        else:
            out.append(Block(text=block.text, page=block.page))
            seen_body = True
    if not seen_body:
        # A one-line document is all body, not all title.
        for b in out:
            if b.heading_level == 0:
                b.heading_level = None
    return out


def strip_markup(text: str) -> str:
    """Body text without markdown emphasis, for display and embedding."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<!\w)\*(\S.*?\S|\S)\*(?!\w)", r"\1", text)
    return text.strip()
