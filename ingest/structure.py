"""Heading detection: which blocks are headings, and at what level.

Levels come from the numbering style, not from the number of ``#``: the
corpus's markdown levels are inconsistent ("#### I." next to "## II."),
while the numbering (I. / 1. / 1.1. / a)) is what officials read.

Legal texts have their own: Phần / Chương / Mục / Điều, then clauses (khoản,
"1.") and points (điểm, "a)"). An article (Điều) is the unit a lawyer cites,
so inside one its clauses and points are text, not headings: the chunker keeps
an article together and splits a long one at its clauses
(:mod:`ingest.chunk`). A document whose title names an article ("Bộ luật Dân
sự 2015 – Điều 10. ...") is one article.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.models import (
    CLOSING,
    HEADING,
    LETTERHEAD,
    LIST_ITEM,
    PARAGRAPH,
    RECIPIENTS,
    SIGNATURE,
    TABLE,
    Block,
)
from ingest.tables import clean_inline
from ingest.text import fold

_ROMAN = r"(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII|XIII|XIV|XV)"
_ORDINAL = r"(?:THỨ|[Tt]hứ)\s+[^\W\d_]+"
# (pattern, level, kind); the legal levels sit around the plan ones, so a decision's
# articles followed by the plan it issues ("Điều 3" ... "I. MỤC ĐÍCH") nest correctly.
_ENUMERATORS: list[tuple[re.Pattern[str], int, str]] = [
    (re.compile(rf"^(?:PHẦN|Phần)\s+(?:{_ORDINAL}|{_ROMAN}|\d+)\b"), 1, "part"),
    (re.compile(rf"^(?:CHƯƠNG|Chương)\s+(?:{_ROMAN}|\d+)\b"), 2, "chapter"),
    (re.compile(r"^(?:MỤC|Mục)\s+\d+\b"), 3, "section"),
    (re.compile(r"^Điều\s+\d+[a-zđ]?\s*[.:]"), 4, "article"),
    (re.compile(rf"^{_ROMAN}[.)]\s+\S"), 1, "roman"),
    (re.compile(r"^\d+\.\d+(?:\.\d+)*\.?\s+\S"), 3, "decimal"),
    (re.compile(r"^\d+[.)]\s+\S"), 2, "number"),
    (re.compile(r"^[a-zđ][)]\s+\S"), 4, "letter"),
]
# Clauses and points: text inside an article.
_INSIDE_ARTICLE = frozenset(["decimal", "number", "letter"])
ARTICLE_LEVEL = 4
# "Điều 12. Quyền của người lao động" / "Bộ luật Dân sự 2015 – Điều 10. Giới hạn ...".
_ARTICLE_IN_TITLE = re.compile(r"(?:^|\s[–-]\s)Điều\s+\d+[a-zđ]?\.\s+\S")
_DIVISION_WORD = re.compile(
    rf"^(PHẦN|CHƯƠNG|MỤC|ĐIỀU)\s+({_ROMAN}|\d+[A-ZĐ]?|THỨ\s+[^\W\d_]+)(\s*[.:]\s*)?(.*)$"
)
# A heading that is only "Chương II" or "Phần thứ nhất": its name is on the next line.
_BARE_DIVISION = re.compile(
    rf"^(?:PHẦN|Phần|CHƯƠNG|Chương|MỤC|Mục)\s+(?:{_ORDINAL}|{_ROMAN}|\d+)\s*[.:]?$"
)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BOLD_LINE = re.compile(r"^\*\*(.+?)\*\*\s*:?$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*:?\s*(.+)$")
_ITALIC_LINE = re.compile(r"^\*([^*].*?)\*$")
_MAX_PLAIN_HEADING = 120
_MAX_ARTICLE_TITLE = 400


def _strip_emphasis(text: str) -> str:
    return text.replace("**", "").strip().strip("*").strip().rstrip(":").strip()


def enumerator(text: str) -> tuple[int, str] | None:
    """(level, kind) of the numbering ``text`` starts with."""
    for pattern, level, kind in _ENUMERATORS:
        if pattern.match(text):
            return level, kind
    return None


def enumerator_level(text: str) -> int | None:
    found = enumerator(text)
    return found[0] if found else None


def _all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def is_article_title(text: str) -> bool:
    """True for a heading that names one article: "Điều 5. ...", "Luật X – Điều 5. ..."."""
    return bool(_ARTICLE_IN_TITLE.search(text))


# "Bộ luật Dân sự 2015 – Điều 10. ...": the law and the article a one-article file holds.
_LAW_ARTICLE = re.compile(r"^(?P<law>\S.*?)\s+[–-]\s+Điều\s+(?P<article>\d+[a-zđ]?)\b")
# The article a section path is in: "Chương II. ... › Điều 12. Vi phạm ... › Khoản 4–7".
_ARTICLE_IN_PATH = re.compile(r"(?:^|›\s*)Điều\s+(?P<article>\d+[a-zđ]?)\s*[.:]")


def law_article(title: str) -> tuple[str, str] | None:
    """(law, article number) of a document titled by its article, else None."""
    m = _LAW_ARTICLE.match(title)
    return (m.group("law"), m.group("article")) if m else None


def section_article(section: str) -> str:
    """The number of the article a chunk's section path is in ("12"), or ""."""
    m = _ARTICLE_IN_PATH.search(section)
    return m.group("article") if m else ""


def sentence_case(text: str) -> str:
    """'V. TỔ CHỨC THỰC HIỆN' -> 'V. Tổ chức thực hiện'; mixed-case text is kept."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4 or not all(c.isupper() for c in letters):
        return text
    division = _DIVISION_WORD.match(text)
    if division:
        # "CHƯƠNG II. QUYỀN VÀ NGHĨA VỤ" -> "Chương II. Quyền và nghĩa vụ"
        word, number, sep, rest = division.groups()
        number = number if re.fullmatch(_ROMAN, number) else number.lower()
        head = f"{word[:1]}{word[1:].lower()} {number}"
        return f"{head}{sep or ''}{sentence_case(rest) if rest else ''}"
    m = re.match(rf"^((?:{_ROMAN}|\d+(?:\.\d+)*|[A-Z])[.)]\s+)?(.*)$", text)
    assert m is not None
    prefix, rest = m.group(1) or "", m.group(2)
    rest = rest.lower()
    return prefix + rest[:1].upper() + rest[1:]


def _plain_heading_level(text: str, label: Callable[[str], bool] | None = None) -> int | None:
    if len(text) > _MAX_PLAIN_HEADING or text.endswith((".", ";", ",")):
        return None
    level = enumerator_level(text)
    if level is None:
        return None
    if level == 1:
        return level
    # "1. Sở Xây dựng" is a heading; "1. Các sở... báo cáo ..." is a list item.
    body = re.sub(r"^\S+\s+", "", text)
    if (len(body) <= 80 and not body.endswith(":")) or body.isupper():
        return level
    # "2.1. Sở Tài chính:", "a) UBND các huyện:": an agency's label over its tasks is the
    # heading of its section, as "2.1. Sở Tài chính" would be.
    return level if len(body) <= 80 and label is not None and label(body) else None


def _article_heading(text: str) -> tuple[str, str]:
    """("Điều 5. Title", "") or ("Điều 5.", rest) when the line goes on as a sentence."""
    m = re.match(r"^(Điều\s+\d+[a-zđ]?\s*[.:])\s*(.*)$", text)
    assert m is not None
    number, rest = m.group(1).strip(), m.group(2).strip()
    if not rest or (len(rest) <= _MAX_PLAIN_HEADING and not rest.endswith((".", ";", ":"))):
        return f"{number} {rest}".strip(), ""
    return number, rest


def mark_headings(blocks: list[Block], label: Callable[[str], bool] | None = None) -> list[Block]:
    """Return blocks with ``heading_level`` set; a bold lead splits into heading + body.

    ``label`` tells a numbered line that only names an agency ("2.1. Sở Tài chính:") from
    a list's lead-in (the ingest pipeline passes ``ingest.assignments.agency_label``)."""
    out: list[Block] = []
    seen_body = False
    in_article = False  # clauses and points are text until the next division
    division_name = ""  # the name being read under a bare "Chương II"
    for block in blocks:
        if block.kind == TABLE:
            out.append(block)
            seen_body, division_name = True, ""
            continue
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
        elif (found := enumerator(strip_markup(text))) and found[1] == "article":
            heading, rest = _article_heading(strip_markup(text))
            level = ARTICLE_LEVEL
        else:
            level = _plain_heading_level(text, label)
            if level is not None:
                heading = text.rstrip(":").strip()
            elif not out and (
                (len(text) <= 200 and not text.endswith((".", ":", ";")))
                or (len(text) <= _MAX_ARTICLE_TITLE and is_article_title(text))
            ):
                # A news article's first line is its headline; an article's, its title.
                heading, level = text, 0
        numbering = enumerator(heading) if heading else None
        kind = numbering[1] if numbering else ""
        if heading and kind == "article" and rest == "" and heading.endswith((".", ";")):
            heading, rest = _article_heading(heading)
        if heading and in_article and kind in _INSIDE_ARTICLE:
            heading = None  # a clause or point of the article
        if heading and level is not None:
            division_name = ""
            if level == 0:
                in_article = is_article_title(heading)
            elif kind == "article":
                in_article = True
            elif level < ARTICLE_LEVEL or kind == "roman":
                in_article = False
            out.append(Block(text=sentence_case(heading), page=block.page, heading_level=level))
            if rest:
                out.append(Block(text=rest, page=block.page))
                seen_body = True
        else:
            prev = out[-1] if out else None
            name = _strip_emphasis(text)
            bare = (
                prev is not None
                and prev.heading_level is not None
                and bool(_BARE_DIVISION.match(prev.text))
            )
            if (
                prev is not None
                and (bare or (division_name and _all_caps(name)))
                and len(division_name + name) <= 150
                and not name.endswith((".", ";", ":"))
                and enumerator(name) is None
            ):
                # "Chương I" / "QUY ĐỊNH CHUNG" (converters may break the name over lines
                # too): one heading, "Chương I. Quy định chung".
                division_name = f"{division_name} {name}".strip()
                number = prev.text.split(".")[0] if not bare else prev.text.rstrip(".:")
                prev.text = f"{number}. {sentence_case(division_name)}"
                continue
            division_name = ""
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


# --- the document model: kinds, the official frame, list nesting ---------------------------

# The national motto every official letterhead prints beside the issuer.
_F_MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap\s*-\s*tu do\s*-\s*hanh phuc")
_F_NUMBER_LINE = re.compile(r"^so\s*:?\s*\S*\d")
_F_PLACE_DATE = re.compile(r"ngay\s+\d{1,2}\s+thang\s+\d{1,2}\s+nam\s+\d{4}")
_LETTERHEAD_REACH = 8  # blocks from the top the motto may sit at
_F_RECIPIENTS = re.compile(r"^(?:noi nhan|kinh gui)\b")
_F_CLOSING = re.compile(r"^tren day la\b")
# "KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN", "TL. BỘ TRƯỞNG", "Q. GIÁM ĐỐC", "TUQ. ..."
_SIGN_FOR = re.compile(r"^(?:KT|TM|TL|TUQ|Q|K/T|T/M)\.?\s+\S")
# The titles a signer signs under, all capitals, optionally "PHÓ ..." of them.
_SIGN_TITLE = re.compile(
    r"^(?:PHÓ\s+)?(?:CHỦ TỊCH|THỦ TƯỚNG|BỘ TRƯỞNG|THỨ TRƯỞNG|GIÁM ĐỐC|CỤC TRƯỞNG|"
    r"TỔNG CỤC TRƯỞNG|VỤ TRƯỞNG|CHÁNH VĂN PHÒNG|CHÁNH ÁN|VIỆN TRƯỞNG|TRƯỞNG BAN|"
    r"TRƯỞNG PHÒNG|HIỆU TRƯỞNG|TỔNG GIÁM ĐỐC|BÍ THƯ|TỔNG THƯ KÝ|CHÁNH THANH TRA|"
    r"TRƯỞNG|THỦ TRƯỞNG|TỔNG KIỂM TOÁN)\b"
)
# A person's name as signed: two to five capitalised syllables.
_NAME = re.compile(r"^(?:[A-ZĐÀ-Ỹ][^\s\d,.;:()]*\s+){1,4}[A-ZĐÀ-Ỹ][^\s\d,.;:()]*$")
# "(Đã ký)", "[đã ký]": a copy's note where the signature was.
_SIGNED = re.compile(r"^[(\[]?\s*(?:Đã ký|đã ký|ĐÃ KÝ|Đã ký và đóng dấu)\s*[)\]]?$")
_BULLET = re.compile(r"^[-+•–]\s+\S")
# Ranks of list markers, on the scale of heading levels (roman 1, "1." 2, "1.1." 3,
# "a)" 4): a dash item sits under a lettered one, a plus item under a dash one.
_BULLET_RANK = {"-": 5, "–": 5, "•": 5, "+": 6}


def _is_name(text: str) -> bool:
    return bool(_NAME.match(text)) and not _all_caps(text)


def _signature_at(blocks: list[Block], i: int) -> int:
    """How many blocks from ``blocks[i]`` make a signature ("KT. CHỦ TỊCH" / "PHÓ CHỦ
    TỊCH" / name), 0 when none starts there. The name must follow: the authority line
    that opens a decision ("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH") is followed by its bases."""
    first = blocks[i].text
    if len(first) > 120 or not (_SIGN_FOR.match(first) or _SIGN_TITLE.match(first)):
        return 0
    if _is_name_tail(first):
        return 1  # "KT. CHỦ TỊCH PHÓ CHỦ TỊCH Nguyễn Văn A" on one line
    j = i + 1
    while j < len(blocks) and j - i <= 3 and blocks[j].kind not in (TABLE,):
        text = blocks[j].text
        if _is_name(text):
            return j - i + 1
        if not ((_all_caps(text) and len(text) <= 80) or _SIGNED.match(text)):
            return 0
        j += 1
    return 0


def _is_name_tail(text: str) -> bool:
    words = text.split()
    for n in (4, 3, 2):
        if len(words) > n and _all_caps(" ".join(words[:-n])) and _is_name(" ".join(words[-n:])):
            return True
    return False


def _letterhead_end(blocks: list[Block]) -> int:
    """One past the last block of the letterhead at the top, 0 when there is none."""
    motto = next(
        (i for i, b in enumerate(blocks[:_LETTERHEAD_REACH]) if _F_MOTTO.search(fold(b.text))),
        None,
    )
    if motto is None:
        return 0
    # The motto printed as a letterhead: a line of its own (or a table cell) under the
    # issuer's lines in capitals, never the words inside a sentence ("... nước Cộng hòa
    # xã hội chủ nghĩa Việt Nam tại Nhật Bản").
    if blocks[motto].kind != TABLE and (
        len(blocks[motto].text) > 150 or not _F_MOTTO.match(fold(blocks[motto].text))
    ):
        return 0
    if any(len(b.text) > 120 or not _all_caps(b.text) for b in blocks[:motto] if b.kind != TABLE):
        return 0
    end = motto + 1
    for j in range(motto + 1, min(len(blocks), motto + 6)):
        f = fold(blocks[j].text)
        if len(f) > 120 or blocks[j].kind == TABLE:
            break
        if _F_MOTTO.search(f) or _F_NUMBER_LINE.match(f) or _F_PLACE_DATE.search(f):
            end = j + 1
        elif not _all_caps(blocks[j].text):
            break
    return end


def _marker_rank(block: Block) -> int | None:
    """The rank of the list marker a body block starts with, None when it has none."""
    if m := _BULLET.match(block.text):
        return _BULLET_RANK.get(m.group(0)[0], 5)
    found = enumerator(block.text)
    if found is None or found[1] in ("part", "chapter", "section", "article"):
        return None
    return found[0]


def _recipients_text(text: str) -> str:
    # "Nơi nhận: - Như Điều 3; - Bộ Tài chính;": one recipient a line, as printed.
    return re.sub(r"\s+(?=[-–]\s+\S)", "\n", text).strip()


def finish_blocks(blocks: list[Block]) -> list[Block]:
    """The document model from marked blocks: plain text, each block's kind, the frame
    of an official document, and each list item's parent.

    - Markup goes (:func:`ingest.tables.clean_inline`); a block left empty goes too.
    - The letterhead (issuer, national motto, number, place and date) at the top
      becomes one ``letterhead`` block; the recipients ("Nơi nhận"), the signature
      ("KT. CHỦ TỊCH" ... name) and the closing ("Trên đây là ...") are marked, also
      when a layout table holds recipients and signature side by side.
    - A list item ("a)", "1.", "-") points at the item or heading it sits under: the
      nearest one before it of a lower rank, an article's clauses at the article.
    """
    out: list[Block] = []
    for block in blocks:
        if block.kind == TABLE:
            out.extend(_split_frame_table(block))
            continue
        text = clean_inline(block.text)
        if not text or set(text) <= set("|-:*_ "):
            continue
        kind = HEADING if block.heading_level is not None else PARAGRAPH
        out.append(Block(text, block.page, block.heading_level, kind=kind))
    end = _letterhead_end(out)
    if end:
        top = out[:end]
        rows = top[0].rows if len(top) == 1 else None
        lines = [c for b in top for c in ([c for r in b.rows for c in r] if b.rows else [b.text])]
        out[:end] = [Block("\n".join(lines), top[0].page, kind=LETTERHEAD, rows=rows)]
    _mark_frame(out)
    _nest(out)
    return out


def _split_frame_table(block: Block) -> list[Block]:
    """A layout table holding the recipients beside the signature becomes those two
    blocks; any other table stays as it is."""
    rows = block.rows or []
    if len(rows) == 1 and len(rows[0]) == 2 and _F_RECIPIENTS.match(fold(rows[0][0])):
        recipients, signature = rows[0]
        return [
            Block(_recipients_text(recipients), block.page, kind=RECIPIENTS),
            Block(signature, block.page, kind=SIGNATURE),
        ]
    return [block]


def _mark_frame(blocks: list[Block]) -> None:
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind not in (PARAGRAPH, HEADING):
            i += 1
            continue
        f = fold(b.text)
        if _F_CLOSING.match(f):
            b.kind, b.heading_level = CLOSING, None
        elif _F_RECIPIENTS.match(f) and len(f) < 2000:
            b.kind, b.heading_level = RECIPIENTS, None
            # The recipients listed one a line after "Nơi nhận:".
            while i + 1 < len(blocks) and blocks[i + 1].kind == PARAGRAPH:
                nxt = blocks[i + 1].text
                if not (_BULLET.match(nxt) or nxt.startswith("Lưu")) or len(nxt) > 200:
                    break
                b.text = f"{b.text}\n{nxt}"
                del blocks[i + 1]
            b.text = _recipients_text(b.text)
        elif n := _signature_at(blocks, i):
            b.text = "\n".join(x.text for x in blocks[i : i + n])
            b.kind, b.heading_level = SIGNATURE, None
            del blocks[i + 1 : i + n]
        i += 1


def _nest(blocks: list[Block]) -> None:
    """Set ``kind`` list_item and ``parent`` on blocks that open with a list marker."""
    ranks: list[int | None] = []
    for i, b in enumerate(blocks):
        rank = _marker_rank(b) if b.kind == PARAGRAPH else None
        ranks.append(rank)
        if rank is None:
            continue
        b.kind = LIST_ITEM
        for j in range(i - 1, max(-1, i - 400), -1):
            other = blocks[j]
            if other.kind == HEADING:
                level = other.heading_level or 0
                if level < rank or other.text.startswith("Điều"):
                    b.parent = j
                break
            if other.kind == LIST_ITEM and (ranks[j] or 0) < rank:
                b.parent = j
                break
            if other.kind not in (PARAGRAPH, LIST_ITEM):
                break
