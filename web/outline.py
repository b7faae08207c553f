"""A document's outline: its headings and the lines that open a part of an official text.

:func:`outline` reads the stored blocks of a whole document, so the page can list every
heading before the part holding it is loaded (a link loads that part). The lines it takes
besides headings are those opening a Phần, Chương, Mục or Điều: the word, then a number,
a Roman numeral or "thứ …", then a full stop, a colon, a capital or nothing; not a
sentence citing one ("Điều 43, khoản 4 …", a line broken inside a sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.models import SIGNATURE, block_kind

_STRUCTURE = re.compile(
    r"(Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC|Điều|ĐIỀU)\s+"
    r"((?:thứ|THỨ)\s+[^\W\d_]+|[0-9]+[a-zđ]?|[IVXLCDM]+)(?![\w])"
)
LEVELS = {"phần": 1, "chương": 2, "mục": 3, "điều": 4}
# An outline line is a label, not the article's whole first paragraph.
MAX_ENTRY_CHARS = 120


@dataclass(frozen=True)
class Entry:
    block: int  # index of the block, 0-based
    level: int  # 1 Phần .. 4 Điều; a heading's own level
    text: str


def structure_level(text: str) -> int | None:
    """The level of a line that opens a Phần, Chương, Mục or Điều; None for any other."""
    m = _STRUCTURE.match(text)
    if m is None:
        return None
    rest = text[m.end() :]
    after = rest.lstrip()
    # ". " / ":" / end of line / a capital: a title; a comma or a small letter: a citation.
    if after and after[0] not in ".:" and not (rest[:1].isspace() and after[0].isupper()):
        return None
    return LEVELS[m.group(1).lower()]


def _label(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_ENTRY_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_ENTRY_CHARS)
    return text[: cut if cut > 40 else MAX_ENTRY_CHARS] + "…"


def outline(blocks: list[list[Any]]) -> list[Entry]:
    """Every heading of ``blocks`` but the title (level 0), and every line opening a part
    of an official text, in order."""
    out = []
    for i, row in enumerate(blocks):
        text, level = str(row[0]), row[2]
        if level is not None:
            if level != 0:
                out.append(Entry(i, int(level), _label(text)))
            continue
        found = structure_level(text.strip())
        if found is not None:
            out.append(Entry(i, found, _label(text)))
    return out


def signature_block(blocks: list[list[Any]]) -> int | None:
    """The index of the document's signature block (the first, when several), or None."""
    return next((i for i, row in enumerate(blocks) if block_kind(row) == SIGNATURE), None)
