"""Clauses and exact spans: the smallest part of a document that answers.

Plans state their targets as one long sentence of semicolon-separated
clauses behind a lead-in::

    Mục tiêu chủ yếu đến năm 2030: Tỷ lệ chất thải rắn ... đạt 97%; ...;
    tỷ lệ xe buýt sử dụng năng lượng sạch đạt 10% số lượng xe buýt mới; ...

:func:`clauses` splits a passage into such clauses, each keeping its lead-in
(``context``: "Mục tiêu chủ yếu đến năm 2030", which says which year a figure
is for) and the sentence it came from (the evidence). The finders return the
span inside a clause that is the answer itself: a figure (:func:`quantities`),
a date (:func:`dates`), a person's name (:func:`people`) or another proper
name (:func:`proper_names`). Offsets are into the clause text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.windows import split_sentences
from ingest.text import fold
from search.query import is_vietnamese_syllable

_BULLET = re.compile(r"^[-–•+*]\s*")
# "Mục tiêu chủ yếu đến năm 2030: A; B" -> lead-in "Mục tiêu chủ yếu đến năm 2030".
_LEAD_IN = re.compile(r"^(?P<lead>[^:;]{3,90}?):\s+(?=\S)")
_MAX_CLAUSE_CHARS = 600


# A cell of a table row as ingest renders it (ingest/tables.render_rows): "Column: value".
_CELL = re.compile(r"^[^:;]{2,60}:\s")


@dataclass(frozen=True)
class Clause:
    text: str  # the clause, as written
    context: str  # the lead-in it belongs to ("Mục tiêu đến năm 2030"), or ""
    sentence: str  # the whole sentence (or list item) it was cut from
    index: int  # position of the sentence in the passage (as split_sentences counts)
    # A cell of a table row: its context is the row's other cells (what the row is about),
    # and it is shown as the whole row.
    row: bool = False

    @property
    def display(self) -> str:
        """What an answer shows: the lead-in, then the clause (a table cell: its row)."""
        if self.row:
            return self.sentence
        if not self.context or self.text == self.sentence:
            return self.text
        return f"{self.context}: {self.text}"


def _signature_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """(index of the first line, text) of each sentence, with a signature block ("TM. ỦY BAN
    NHÂN DÂN / CHỦ TỊCH / Trịnh Xuân Trường") joined into one, so the office and the name
    are read together."""
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^(?:TM|KT|TL|Q)\.(?:\s|$)", line) and len(line) <= 60:
            block = [line]
            j = i + 1
            while j < len(lines) and len(block) < 4 and len(lines[j]) <= 60:
                block.append(lines[j])
                j += 1
            out.append((i, " ".join(block)))
            i = j
            continue
        out.append((i, line))
        i += 1
    return out


def sentences(text: str) -> list[str]:
    """Sentences of a passage as the index embedded them (one per sentence window)."""
    return split_sentences(text)


def clauses(text: str) -> list[Clause]:
    """Clauses of a passage: each sentence, and each semicolon clause of a list sentence.

    ``Clause.index`` is the sentence's position in :func:`sentences`, i.e. its
    sentence window's row within the chunk.
    """
    out: list[Clause] = []
    for index, sentence in _signature_blocks(sentences(text)):
        body = _BULLET.sub("", sentence).strip()
        if not body:
            continue
        parts = [p.strip() for p in body.split(";")]
        parts = [p for p in parts if len(p) >= 4]
        if len(parts) <= 1:
            out.append(Clause(body[:_MAX_CLAUSE_CHARS], "", body, index))
            continue
        if len(parts) >= 3 and sum(bool(_CELL.match(p)) for p in parts) >= 0.75 * len(parts):
            # A table row ("TT: 21.; Tên nhiệm vụ: …; Thời gian hoàn thành: 6/2025"): a cell
            # answers about the row's task, which only its other cells name.
            out.extend(
                Clause(
                    p[:_MAX_CLAUSE_CHARS],
                    "; ".join(o for o in parts if o is not p)[:_MAX_CLAUSE_CHARS],
                    body,
                    index,
                    row=True,
                )
                for p in parts
            )
            continue
        context = ""
        if m := _LEAD_IN.match(parts[0]):
            context = m.group("lead").strip()
            parts[0] = parts[0][m.end() :].strip()
        out.extend(Clause(p[:_MAX_CLAUSE_CHARS], context, body, index) for p in parts if p)
    return out


# A figure: an optional qualifier, a number or range, and its unit.
_NUMBER = re.compile(
    r"(?<![\w/.,-])(?:(?:ít nhất|tối thiểu|tối đa|trên|dưới|khoảng|gần|hơn|từ)\s+)?"
    r"\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?"
    r"(?:\s*(?:%(?:/năm)?|ngàn ha|nghìn ha|ha\b|km[2²]|km\b|m[2²3³]|tỷ đồng|triệu đồng|tỷ\b"
    r"|triệu\b|nghìn\b|ngàn\b|lần\b|người\b|doanh nghiệp\b|khu công nghiệp\b|dự án\b"
    # A period is a figure with its unit: "định kỳ 6 tháng", "(10) ngày làm việc".
    r"|ngày làm việc\b|ngày\b|tuần\b|tháng\b|năm\b|giờ\b))?"
    r"(?![\w/])"
)
# Words after which a number is a date, a period or a reference, not a figure: "tháng 6",
# "quý II", "Điều 5", "khoản 2", "mục 3", "Phụ lục 1", "nhiệm kỳ 2026-2031", "lần thứ 2",
# "Bước 4" (a procedure's step).
_NOT_A_FIGURE_AFTER = (
    "năm", "số", "giai đoạn", "thời kỳ", "khoản", "điều", "điểm", "tháng", "quý", "ngày",
    "mục", "chương", "phụ lục", "nhiệm kỳ", "khóa", "lần thứ", "niên độ", "năm học", "bước",
)  # fmt: skip
_YEAR_ONLY = re.compile(r"^(?:19|20)\d{2}$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d{2}\s*[-–]\s*(?:19|20)\d{2}$")
# A day, month or quarter without its year, inside a span ("từ tháng 3 đến tháng 10 năm 2026").
_DATE_POINT = (
    r"(?:(?:ngày|tháng|quý)\s+(?:\d{1,2}(?:[/-]\d{1,2})?(?:[/-](?:19|20)?\d{2})?|[IV]{1,3})"
    r"|\d{1,2}[/-]\d{1,2}(?:[/-](?:19|20)?\d{2})?|năm\s+(?:19|20)\d{2})"
)
_DATE = re.compile(
    # A period: "từ tháng 3 đến tháng 10", "từ ngày 01/6 đến 30/9/2026".
    rf"(?<!\w)(?:từ|kể từ)\s+{_DATE_POINT}\s+(?:đến|tới)(?:\s+hết)?\s+{_DATE_POINT}"
    r"(?:\s+năm\s+(?:19|20)\d{2})?(?![\w/])"
    # A month of a year as plans' tables write deadlines: "6/2025" ("tháng 6/2025" below).
    r"|(?<![\w/.,-])(?:(?:trước|sau|từ|đến|vào|trong)\s+)?\d{1,2}/(?:19|20)\d{2}(?![\w/])"
    # A span of months without "từ": "tháng 3 đến tháng 10 năm 2026" is one period too.
    r"|(?<!\w)tháng\s+\d{1,2}\s+(?:đến|tới)\s+(?:hết\s+)?tháng\s+\d{1,2}"
    r"(?:\s*[/-]\s*(?:19|20)\d{2}|\s+năm\s+(?:19|20)\d{2})?(?!\d)"
    r"|(?<![\w/])(?:(?:trước|sau|từ|kể từ|đến|vào)\s+)?"
    r"(?:(?:ngày|sáng|chiều|tối|trưa)\s+)?"
    r"(?:\d{1,2}:\d{2}\s+)?\d{1,2}[/-]\d{1,2}(?:[/-](?:19|20)?\d{2})?(?![\w/])"
    r"(?:\s+(?:hàng|hằng) năm)?"
    r"|(?<!\w)(?:(?:trước|sau|từ|đến|vào)\s+)?(?:năm|tháng)\s+(?:19|20)\d{2}(?!\d)"
    r"|(?<!\w)ngày\s+\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?"
    r"|(?<!\w)(?:(?:trước|sau|từ|đến|vào|trong)\s+)?(?:tháng|quý)\s+(?:\d{1,2}|[IV]{1,3})"
    r"(?:\s*[/-]\s*(?:19|20)\d{2}|\s+năm\s+(?:19|20)\d{2})(?!\d)",
    re.IGNORECASE,
)
# Common Vietnamese family names: a run of capitalised syllables starting with one is a person.
_SURNAMES = frozenset(
    str.split(
        """Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trịnh Quản
    Đinh Lâm Mai Trương Cao Đào Đoàn Tô Hà Lương Thái Tạ Châu Lưu Kiều Khúc Chu Triệu Vương
    Giang Doãn Mạc Tăng Lục Nghiêm Âu Quách Tống"""
    )
)
_WORD = re.compile(r"[^\W\d_]+")
# An office held by a person, as Vietnamese writing puts it before the name, possibly with
# the body between: "Phó Chủ tịch Tập đoàn X Nguyễn Văn A", "Phó thị trưởng thành phố X
# Masao Imanishi", "Giám đốc Trung tâm … toàn cầu Y Z". Within one clause of the name.
_OFFICE_BEFORE = re.compile(
    r"(?:\b(?:ông|bà|ngài|đồng chí)|(?:phó |tổng |thứ )?(?:chủ tịch|giám đốc|thị trưởng"
    r"|bộ trưởng|trưởng|đại sứ|bí thư|lãnh sự|tổng lãnh sự|thống đốc|tỉnh trưởng|viện trưởng"
    r"|hiệu trưởng|chủ nhiệm|tổng thư ký|chánh văn phòng|tổng giám đốc|chủ tọa))"
    r"\b[^.;:()!?]{0,60}$",
    re.IGNORECASE,
)
# Heads of a body's name: a capitalised run after one is the body, not a person.
_BODY_HEADS = re.compile(
    r"(?:tập đoàn|công ty|tổng công ty|ngân hàng|trung tâm|viện|trường|bộ|sở|cục|tổ chức"
    r"|hiệp hội|quỹ)\s*$",
    re.IGNORECASE,
)
_HONORIFICS = frozenset(["Ông", "Bà", "Ngài", "Anh", "Chị"])
_HONORIFIC_BEFORE = re.compile(r"(?:^|[\s,;(])(?:ông|bà|ngài|đồng chí)\s+$")
_NOT_NAMES = frozenset(
    [
        "ubnd",
        "hdnd",
        "uy ban",
        "ubnd tinh",
        "nhat ban",
        "viet nam",
        "chinh phu",
        "thu tuong",
    ]
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def quantities(text: str) -> list[Span]:
    """Figures in ``text`` ("ít nhất 15%", "39 khu công nghiệp", "18,5 ngàn ha"), not years."""
    out = []
    for m in _NUMBER.finditer(text):
        value = m.group(0).strip()
        if _YEAR_ONLY.match(value) or _YEAR_RANGE.match(value):
            continue
        before = text[max(0, m.start() - 12) : m.start()].lower().rstrip()
        if before.endswith(_NOT_A_FIGURE_AFTER):
            continue  # "năm 2014", "Quyết định số 1658", "giai đoạn 2021-2030", "tháng 6"
        if any(d.start <= m.start() < d.end for d in dates(text)):
            continue  # "Chiều 10-9", "ngày 1/7/2025": a date, not a figure
        out.append(Span(m.start(), m.start() + len(m.group(0).rstrip()), value))
    return out


def dates(text: str) -> list[Span]:
    """Dates and deadlines in ``text`` ("trước ngày 30/11 hàng năm", "Sáng 27/2", "năm 2025").
    A pair whose second number is no month is a ratio or a schedule, not a date: "trực
    12/24 giờ", "vận hành 24/7"."""
    out = []
    for m in _DATE.finditer(text):
        pair = _DAY_MONTH.search(m.group(0))
        if pair and not (1 <= int(pair[1]) <= 31 and 1 <= int(pair[2]) <= 12):
            continue
        out.append(Span(m.start(), m.end(), m.group(0)))
    return out


_DAY_MONTH = re.compile(r"(?<!\d)(\d{1,2})[/-](\d{1,2})(?!\d)")


def capitalised_runs(text: str, longest: int = 4) -> list[Span]:
    """Runs of capitalised words separated by single spaces ("Masao Imanishi", "Nhật Bản")."""
    runs: list[Span] = []
    current: list[re.Match[str]] = []

    def close() -> None:
        if current:
            start, end = current[0].start(), current[-1].end()
            runs.append(Span(start, end, text[start:end]))
        current.clear()

    def shouting(w: str) -> bool:
        return len(w) > 1 and w.isupper()

    for m in _WORD.finditer(text):
        word = m.group(0)
        joined = (
            bool(current)
            and text[current[-1].end() : m.start()] == " "
            and shouting(current[-1].group(0)) == shouting(word)
        )
        if word[0].isupper() and (joined or not current) and len(current) < longest:
            current.append(m)
            continue
        close()
        if word[0].isupper():
            current.append(m)
    close()
    return runs


def people(text: str) -> list[Span]:
    """Personal names: capitalised runs led by a family name, or after "ông", "bà", an office."""
    out = []
    for run in capitalised_runs(text, longest=5):
        words = run.text.split()
        if words[0] in _HONORIFICS and len(words) > 2:
            # "Ông Nguyễn Tấn Nhơn" at a sentence start: the name is what follows.
            start = run.start + len(words[0]) + 1
            run = Span(start, run.end, text[start : run.end])
            words = words[1:]
        if len(words) < 2 or len(words) > 4 or fold(run.text) in _NOT_NAMES:
            continue
        if any(w.isupper() and len(w) > 1 for w in words):
            continue
        before = text[max(0, run.start - 30) : run.start]
        if (
            len(words) > 2
            and words[0] not in _SURNAMES
            and re.search(r"(?:thành phố|tỉnh|nước|bộ|tập đoàn)\s*$", before, re.I)
        ):
            # "Phó thị trưởng thành phố Kobe Masao Imanishi": the place, then the person.
            start = run.start + len(" ".join(words[:-2])) + 1
            run = Span(start, run.end, text[start : run.end])
            words = words[-2:]
            before = text[max(0, run.start - 30) : run.start]
        if words[0] in _SURNAMES or _HONORIFIC_BEFORE.search(before):
            # "Nguyễn Thị Hoàng"; "bà Quyền Thị Thúy Hà" (a family name not in the list).
            out.append(run)
        elif (
            any(not is_vietnamese_syllable(w) for w in words)
            and _OFFICE_BEFORE.search(text[max(0, run.start - 90) : run.start])
            and not _BODY_HEADS.search(before)
        ):
            # A foreign name after an office: "Masao Imanishi", not the body it heads.
            out.append(run)
    return out


_PLACE_HEADS = ("Sở ", "Bộ ", "UBND", "Ủy ban", "Tỉnh ", "Thành phố", "TP", "Tập đoàn")


def proper_names(text: str, places: frozenset[str] = frozenset()) -> list[Span]:
    """Names of places and bodies inside a sentence: a province or other place in ``places``
    (folded), a foreign name ("Kobe", "Hiroshima"), or an agency ("Sở Kế hoạch")."""
    out = []
    for run in capitalised_runs(text):
        if run.start == 0 or text[: run.start].rstrip().endswith((".", ":", "!", "?")):
            continue
        if run.text.isupper() or fold(run.text) in _NOT_NAMES:
            continue
        words = run.text.split()
        foreign = any(not is_vietnamese_syllable(w) for w in words)
        if foreign or fold(run.text) in places or run.text.startswith(_PLACE_HEADS):
            out.append(run)
    return out
