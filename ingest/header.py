"""The header of an official document, read as officials read it.

Every Vietnamese administrative document follows one format (Nghị định
30/2020/NĐ-CP on công tác văn thư): the issuing body (under its parent body,
if any) beside the national motto, "Số: 123/KH-UBND" beside "Lào Cai, ngày 15
tháng 3 năm 2023", the document type and its title (trích yếu) — or, for an
official letter (công văn), "V/v ..." under the number — then "Căn cứ ..."
lines, the body, "Nơi nhận:" and the signature block ("KT. CHỦ TỊCH / PHÓ CHỦ
TỊCH / name").

:func:`read_header` is the one entry point. It reads text whose line breaks
and table cells are as printed: Markdown and HTML converters keep them, the
PDF extractor gives its layout lines (``Extracted.layout``), plain text from
``pdftotext -layout`` or OCR has both columns on one line and is split at the
wide gap. Converters break lines anywhere and scatter emphasis marks
("ng**ày"), so fields are read from the joined text of a table cell, not from
single lines.

Nothing is guessed: a field the header does not print stays empty, and a text
without the national motto or a "Số:" line has no issuer, number, place or
date at all. The two exceptions are printed conventions: a document with
"V/v ..." under its number and no type line is a công văn, and a document
without a type line takes its type from the code in its number ("QĐ" is a
Quyết định).

References are every mention of another document: each "Căn cứ" basis, and
each numbered mention in the body ("theo Quyết định số 1658/QĐ-TTg ..."). They
are unresolved here (``doc_id`` None); the index resolves them by
:func:`number_key`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ingest.models import DocumentHeader, Reference
from ingest.text import fold, normalize

# --- vocabulary ----------------------------------------------------------------------------

# Document types as printed on their own line, folded -> display. Longest first, so
# "thong tu lien tich" is not read as "thong tu".
_TYPES = {
    "hien phap": "Hiến pháp",
    "bo luat": "Bộ luật",
    "luat": "Luật",
    "phap lenh": "Pháp lệnh",
    "lenh": "Lệnh",
    "nghi dinh": "Nghị định",
    "nghi quyet lien tich": "Nghị quyết liên tịch",
    "nghi quyet": "Nghị quyết",
    "quyet dinh": "Quyết định",
    "thong tu lien tich": "Thông tư liên tịch",
    "thong tu": "Thông tư",
    "chi thi": "Chỉ thị",
    "ke hoach": "Kế hoạch",
    "cong van": "Công văn",
    "cong dien": "Công điện",
    "thong bao": "Thông báo",
    "thong cao": "Thông cáo",
    "bao cao": "Báo cáo",
    "to trinh": "Tờ trình",
    "huong dan": "Hướng dẫn",
    "chuong trinh": "Chương trình",
    "de an": "Đề án",
    "phuong an": "Phương án",
    "du an": "Dự án",
    "quy che": "Quy chế",
    "quy dinh": "Quy định",
    "ket luan": "Kết luận",
    "bien ban": "Biên bản",
    "giay moi": "Giấy mời",
    "van ban hop nhat": "Văn bản hợp nhất",
}
# Words printed after a type on its line that do not start the title ("KẾ HOẠCH HÀNH ĐỘNG").
_TYPE_SUFFIXES = ("hanh dong", "lien tich", "lien nganh")
# The type code inside a number ("123/QĐ-UBND"), per Nghị định 30/2020/NĐ-CP, Phụ lục III.
_TYPE_CODES = {
    "QĐ": "Quyết định",
    "NQ": "Nghị quyết",
    "NĐ": "Nghị định",
    "TT": "Thông tư",
    "TTLT": "Thông tư liên tịch",
    "CT": "Chỉ thị",
    "KH": "Kế hoạch",
    "TB": "Thông báo",
    "BC": "Báo cáo",
    "TTr": "Tờ trình",
    "CĐ": "Công điện",
    "HD": "Hướng dẫn",
    "CTr": "Chương trình",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "KL": "Kết luận",
    "BB": "Biên bản",
    "GM": "Giấy mời",
    "VBHN": "Văn bản hợp nhất",
    "PA": "Phương án",
    "ĐA": "Đề án",
}
# Heads of an organisation's name (folded). A heading line of the issuer block that
# starts with one starts a new body ("BỘ TÀI CHÍNH" / "CỤC HẢI QUAN"), unless the
# line before held a head alone ("VĂN PHÒNG" / "CHÍNH PHỦ" is one name).
_ORG_HEAD_WORDS = (
    "uy ban thuong vu quoc hoi",
    "thu tuong chinh phu",
    "chinh phu",
    "quoc hoi",
    "chu tich nuoc",
    "uy ban nhan dan",
    "hoi dong nhan dan",
    "ubnd",
    "hdnd",
    "toa an nhan dan",
    "vien kiem sat nhan dan",
    "kiem toan nha nuoc",
    "ngan hang nha nuoc",
    "tong cuc",
    "chi cuc",
    "cuc",
    "bo chi huy",
    "bo tu lenh",
    "bo",
    "so",
    "vu",
    "van phong",
    "thanh tra",
    "ban quan ly",
    "ban chi dao",
    "ban",
    "vien",
    "hoc vien",
    "dai hoc",
    "truong",
    "trung tam",
    "phong",
    "cong an",
    "kho bac",
    "tinh uy",
    "thanh uy",
    "huyen uy",
    "dang uy",
    "dang bo",
    "uy ban",
    "hoi dong",
    "mat tran",
    "tong cong ty",
    "tap doan",
    "cong ty",
    "hoi",
    "doan",
    "lien doan",
)
_ORG_HEADS: tuple[str, ...] = tuple(sorted(_ORG_HEAD_WORDS, key=len, reverse=True))
# Names that are complete by themselves; any other head needs the words after it.
_WHOLE_NAMES = frozenset(
    [
        "uy ban thuong vu quoc hoi",
        "thu tuong chinh phu",
        "chinh phu",
        "quoc hoi",
        "chu tich nuoc",
        "kiem toan nha nuoc",
        "toa an nhan dan toi cao",
        "vien kiem sat nhan dan toi cao",
    ]
)
# Administrative units: what follows one is a place name ("tỉnh Đắk Lắk").
_PLACE_UNITS_VI = (
    "thành phố",
    "thị xã",
    "thị trấn",
    "đặc khu",
    "tỉnh",
    "huyện",
    "quận",
    "xã",
    "phường",
)
# What a signer's title is made of ("PHÓ CHỦ TỊCH", "THỨ TRƯỞNG", "CỤC TRƯỞNG").
_LEADER_WORDS = re.compile(
    r"\b(?:chu tich|giam doc|truong|thu tuong|bo truong|thu truong|bi thu|chanh|thong doc|"
    r"chu nhiem|tong kiem toan|vien truong|hieu truong|tong thu ky|pho|uy vien|thu ky|"
    r"chi huy|tu lenh|ke toan|tong bien tap)\b"
)
# Signature marks: "TM." (on behalf of), "KT." (for), "TL.", "TUQ.", "Q." (acting).
_AUTHORITY = re.compile(r"^(?:TM|KT|TL|TUQ|Q|Quyền|QUYỀN)\s*\.?\s+\S|^(?:TM|KT|TL|TUQ)\s*\.\s*$")
_SURNAMES = frozenset(
    [
        "nguyen",
        "tran",
        "le",
        "pham",
        "hoang",
        "huynh",
        "phan",
        "vu",
        "vo",
        "dang",
        "bui",
        "do",
        "ho",
        "ngo",
        "duong",
        "ly",
        "dinh",
        "dao",
        "doan",
        "trinh",
        "truong",
        "lam",
        "mai",
        "ha",
        "cao",
        "luu",
        "thai",
        "ta",
        "quach",
        "luong",
        "chu",
        "tong",
        "van",
        "la",
        "kieu",
        "khuc",
        "giang",
        "thach",
        "au",
        "lai",
        "trieu",
    ]
)

# --- patterns ------------------------------------------------------------------------------

_MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|doc lap\s*-\s*tu do\s*-\s*hanh phuc")
_SYMBOL = r"[A-ZĐ][A-Za-zĐđ0-9&.]*(?:\s?[-–]\s?[A-ZĐ][A-Za-zĐđ0-9&.]*)*"
# "123/QĐ-UBND", "33/2025/NQ-HĐND", "66.2/2025/NQ-CP", "46-CT/TW", "24/2021/QH15".
_NUMBER = rf"(?:\d+[\dA-Za-z.]*(?:\s?/\s?\d{{4}})?\s?/\s?{_SYMBOL}|\d+-[A-ZĐ]+/[A-ZĐ]+\w*)"
_NUMBER_RE = re.compile(_NUMBER)
_NUMBER_LINE = re.compile(
    rf"^(?:(?:Bộ\s+)?[Ll]uật\s+|Pháp\s+lệnh\s+)?[Ss][ốo]\s*(?:hiệu\s*)?[:.]?\s*(?P<num>{_NUMBER})"
)
_WORDY_DATE = r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})"
_SLASH_DATE = r"ngày\s+(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d{2})"
_PLACE_DATE = re.compile(
    rf"(?:^|[\s(])(?P<place>[^\W\d_][^\W\d_ ]*(?:[ .-]+[^\W\d_]+){{0,6}}?)\s*,\s*"
    rf"(?:{_WORDY_DATE}|{_SLASH_DATE})",
)
_ANY_DATE = re.compile(rf"{_WORDY_DATE}|{_SLASH_DATE}")
_NOI_NHAN = re.compile(r"^n[ơo]i\s+nh[ậa]n\s*:?", re.I)
_KINH_GUI = re.compile(r"^k[íi]nh\s+g[ửu]i\s*:?\s*", re.I)
_CAN_CU = re.compile(r"(?:^|(?<=[;.]) )Căn\s+cứ\s+", re.M)
# Where the preamble ends and the body begins.
_BODY_START = re.compile(
    r"^(?:(?:QUYẾT ĐỊNH|QUYẾT NGHỊ|NGHỊ QUYẾT|CHỈ THỊ|THÔNG BÁO|KẾT LUẬN)\s*:|"
    r"Điều\s+1\b|(?:Chương|CHƯƠNG|Phần|PHẦN)\s+(?:I|1|MỞ ĐẦU|THỨ NHẤT)\b|I\s*[.)]\s|1\s*[.)]\s)"
)
# A new paragraph of the preamble that is not a "Căn cứ".
_PREAMBLE_OTHER = re.compile(
    r"^(?:Theo đề nghị|Xét đề nghị|Xét|Trên cơ sở|Thực hiện|Theo|Nhằm|Để|Sau khi)\b"
)
_TITLE_STOP = re.compile(r"^(?:Căn cứ|Theo|Xét|Thực hiện|Kính gửi|Trên cơ sở|Nhằm)\b")
_NOT_SIGNED = re.compile(
    r"^[(\[]?\s*(?:đã ký|da ky|ký tên|ký|chữ ký|signed|đã ký và đóng dấu)[^)\]]*[)\]]?$", re.I
)
_SEPARATOR = re.compile(r"^[\s|_=~*.–—-]*$")

# Document types in running text ("theo Quyết định số ..."), longest first.
_REF_TYPES = sorted(
    [*_TYPES.values(), "Văn bản", "Văn bản hợp nhất", "Nghị Quyết", "Quyết Định"],
    key=len,
    reverse=True,
)
_REF_TYPE = "|".join(re.escape(t) for t in _REF_TYPES)
_REF_DATE = rf"(?:\s*,?\s+(?:{_WORDY_DATE}|{_SLASH_DATE}))?"
_REF = re.compile(
    rf"(?P<type>(?i:{_REF_TYPE}))\s+(?:(?:số|Số)\s*:?\s*)?(?P<num>{_NUMBER}){_REF_DATE}"
)
# "Luật Hải quan số 54/2014/QH13": a law is cited by its name, then its number.
_LAW_REF = re.compile(
    rf"(?P<type>(?i:Bộ luật|Luật|Pháp lệnh))\s+(?P<name>[^\W\d_][^;:()\[\]\d]{{0,80}}?)"
    rf"\s+(?:số|Số)\s*:?\s*(?P<num>{_NUMBER}){_REF_DATE}"
)
# "(Số 37/2019/NĐ-CP ngày ..., số 58/2023/NĐ-CP ...)": numbers whose code names the type.
_CODE_NUMBER = re.compile(rf"\b[sS]ố\s*:?\s*(?P<num>{_NUMBER}){_REF_DATE}")


# --- text preparation ----------------------------------------------------------------------

_MARKUP = re.compile(r"\*+|</?[bi]>|<br\s*/?>|\\")
_HEADING_HASHES = re.compile(r"^#{1,6}\s+")
_WIDE_GAP = re.compile(r"(?<=\S)(?:\s{3,}|\t+)(?=\S)")


@dataclass
class _Line:
    text: str  # without markup, spaces squeezed; "" marks a cell or block boundary
    bold: bool = False  # the whole line was emphasised in the source


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _columns(raw: list[str]) -> list[str]:
    """Lines with two columns on one line ("ỦY BAN ...     CỘNG HÒA ...") rearranged as the
    left column, a boundary, then the right column."""
    left: list[str] = []
    right: list[str] = []
    for line in raw:
        stripped = line.strip()
        gap = _WIDE_GAP.search(stripped)
        if gap:
            left.append(stripped[: gap.start()])
            right.append(stripped[gap.end() :])
        elif not stripped:
            continue
        elif _indent(line) >= _RIGHT_INDENT:
            right.append(stripped)  # only the right column on this line
        else:
            left.append(stripped)
    return [*left, "", *right, ""]


_RIGHT_INDENT = 20
_SIGNATURE_MARK = re.compile(r"\b(?:noi nhan|tm|kt|tl|tuq)\b")


def _split_wide_columns(raw: list[str]) -> list[str]:
    """Text laid out in two columns (``pdftotext -layout``, OCR): each run of lines with a
    wide gap is read column by column. Below a signature block ("Nơi nhận:" | "KT. CHỦ
    TỊCH") the right column goes on past blank lines, where the signature was."""
    gapped = {i for i, line in enumerate(raw) if _WIDE_GAP.search(line.strip())}
    if len(gapped) < 2:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        if i not in gapped:
            out.append(raw[i])
            i += 1
            continue
        j = i
        while j < len(raw) and raw[j].strip():
            j += 1
        if _SIGNATURE_MARK.search(fold(" ".join(raw[i:j]))):
            k = j
            while k < len(raw) and k - j <= 6:
                if raw[k].strip():
                    if _indent(raw[k]) < _RIGHT_INDENT:
                        break
                    j = k + 1
                k += 1
        out.extend(_columns(raw[i:j]))
        i = j
    return out


def _prepare(text: str) -> list[_Line]:
    raw = _split_wide_columns(normalize(text).replace("\r", "").split("\n"))
    lines: list[_Line] = []
    for source in raw:
        s = _HEADING_HASHES.sub("", source.strip())
        bold = s.startswith("**") or (s.startswith("<b>") and s.endswith("</b>"))
        s = " ".join(_MARKUP.sub("", s).split())
        s = s.replace("–", "-").replace("—", "-")
        if not s or _SEPARATOR.match(s):
            if lines and lines[-1].text:
                lines.append(_Line(""))
            continue
        lines.append(_Line(s, bold))
    return lines


def _cells(lines: list[_Line], stop: int) -> list[tuple[int, str]]:
    """(first line index, joined text) of each run of lines between boundaries."""
    cells: list[tuple[int, str]] = []
    start, parts = 0, list[str]()
    for i, line in enumerate(lines[:stop]):
        if line.text:
            if not parts:
                start = i
            parts.append(line.text)
        elif parts:
            cells.append((start, " ".join(parts)))
            parts = []
    if parts:
        cells.append((start, " ".join(parts)))
    return cells


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _starts_with(folded: str, heads: tuple[str, ...] | frozenset[str]) -> str:
    for head in heads:
        if folded == head or folded.startswith(head + " "):
            return head
    return ""


# --- display case --------------------------------------------------------------------------


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _title_words(text: str) -> str:
    return " ".join(_cap(w) for w in text.split())


def org_case(name: str) -> str:
    """'ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK' -> 'Ủy ban nhân dân tỉnh Đắk Lắk'; mixed case is kept.

    Vietnamese writes a body's kind in lower case after its first word, each
    field of its name with the first syllable capitalised ('Bộ Văn hóa, Thể
    thao và Du lịch') and a place name with every syllable capitalised.
    """
    if not _is_upper(name):
        return name
    words = name.lower().split()
    head = _starts_with(fold(" ".join(words)), _ORG_HEADS)
    n_head = len(head.split()) if head else 1
    out = [_cap(words[0]), *words[1:n_head]]
    place = new_part = True
    place = False
    i = n_head
    while i < len(words):
        word = words[i]
        unit = "" if place else _place_unit(words[i:])
        if unit:
            size = len(unit.split())
            out.extend(words[i : i + size])
            i += size
            place = True
            continue
        if place:
            out.append(_cap(word))
        elif word in ("và", "-", "–"):
            out.append(word)
            new_part = True
        elif new_part:
            out.append(_cap(word))
            new_part = False
        else:
            out.append(word)
        new_part = new_part or word.endswith(",")
        i += 1
    text = " ".join(out)
    # Bodies whose own names are capitalised inside another name ("Văn phòng Chính phủ").
    for plain, proper in (("chính phủ", "Chính phủ"), ("quốc hội", "Quốc hội")):
        text = re.sub(rf"(?<=\s){plain}\b", proper, text)
    return text


def _place_unit(words: list[str]) -> str:
    """The administrative unit ``words`` start with ("thành phố", "tỉnh"), or ""."""
    rest = " ".join(words)
    for unit in _PLACE_UNITS_VI:
        if rest.startswith(unit + " ") and not rest.startswith("xã hội"):
            return unit
    return ""


def title_case(title: str) -> str:
    """'PHÓ CHỦ TỊCH' -> 'Phó Chủ tịch', 'THỨ TRƯỞNG' -> 'Thứ trưởng'."""
    if not _is_upper(title):
        return title
    words = title.lower().split()
    out = [_cap(words[0])] if words else []
    for prev, word in itertools.pairwise(words):
        out.append(_cap(word) if fold(prev) == "pho" else word)
    return " ".join(out)


def name_case(name: str) -> str:
    return _title_words(name.lower()) if _is_upper(name) else name


# --- fields --------------------------------------------------------------------------------


def _compact_number(number: str) -> str:
    return re.sub(r"\s*([/-])\s*", r"\1", number.replace("–", "-")).rstrip(".,;")


def number_key(number: str) -> str:
    """A number in one form for matching: '1658/QĐ-TTg' and '1658/qd-ttg' -> '1658/QD-TTG';
    '08/2022/NĐ-CP' and '8/2022/NĐ-CP' -> '8/2022/ND-CP' (people drop the leading zero)."""
    key = fold(_compact_number(number)).upper()
    return re.sub(r"^0+(?=\d)", "", key)


@dataclass(frozen=True)
class NumberParts:
    """What people keep of a number when they type it short: "qd 1658", "nd 08/2022"."""

    seq: str  # "1658", "8" (no leading zero), "66.2"
    year: str  # "2022", or "" when the number has none
    code: str  # the type code, folded: "QD", "ND"; "" when the symbol has none
    key: str  # number_key of the whole number


# Type codes folded ("QĐ" -> "QD") and the folded type names they stand for, both ways.
_FOLDED_CODES = {fold(code).upper(): name for code, name in _TYPE_CODES.items()}
_CODE_OF_TYPE = {fold(name): code for code, name in _FOLDED_CODES.items()}


def number_parts(number: str) -> NumberParts | None:
    """The parts of a number as printed ("1658/QĐ-TTg", "24/2021/QH15", "46-CT/TW"); None
    when it does not start with digits."""
    key = number_key(number)
    m = re.match(r"^(\d[\dA-Z.]*?)(?:/((?:19|20)\d{2}))?[/-]([A-Z][A-Z0-9&.]*)", key)
    if m is None:
        return None
    return NumberParts(seq=m.group(1), year=m.group(2) or "", code=m.group(3), key=key)


def type_code(word: str) -> str:
    """The folded type code a type name or code stands for: "quyết định", "qd", "QĐ" -> "QD"."""
    folded = " ".join(fold(word).split())
    if folded.upper() in _FOLDED_CODES:
        return folded.upper()
    return _CODE_OF_TYPE.get(folded, "")


def law_key(name: str) -> str:
    """A law's name in one form for matching: "Bộ luật Dân sự 2015", "Bộ Luật dân sự năm
    2015" and "Bộ luật Dân sự (91/2015/QH13)" -> "bo luat dan su" (the year and number are
    what people leave out)."""
    folded = fold(re.sub(r"\([^)]*\)", " ", name)).lower()
    folded = re.sub(r"\b(?:so\s+\S*\d\S*|nam\s+(?:19|20)\d{2}|(?:19|20)\d{2})\b", " ", folded)
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def document_types() -> list[str]:
    """Every document type a header can give, as printed ("Quyết định", "Công văn")."""
    return list(dict.fromkeys(_TYPES.values()))


def type_words() -> list[str]:
    """Folded type names and codes that can stand before a number, longest first."""
    words = {*_CODE_OF_TYPE, *(c.lower() for c in _FOLDED_CODES)}
    return sorted(words, key=len, reverse=True)


def _iso(day: str, month: str, year: str) -> str:
    d, m, y = int(day), int(month), int(year)
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= d <= 31 and 1 <= m <= 12 else ""


def _date_of(m: re.Match[str], first_group: int = 1) -> str:
    groups = m.groups()
    # The pattern is (wordy day, month, year) | (slash day, month, year).
    values = [g for g in groups[first_group - 1 : first_group + 5] if g is not None]
    return _iso(*values[:3]) if len(values) >= 3 else ""


def _organisations(lines: list[str]) -> list[str]:
    """The bodies named by the lines of the issuer block, outermost first.

    A line that starts with the head of a name ("CỤC ...") starts a new body
    when the lines before already make a whole name ("BỘ TÀI CHÍNH"); a head
    alone ("VĂN PHÒNG") or a head broken over lines ("ỦY" / "BAN NHÂN DÂN")
    continues.
    """
    names: list[str] = []
    for line in lines:
        if not names:
            names.append(line)
            continue
        prev = fold(names[-1])
        joined = f"{prev} {fold(line)}"
        prev_head = _starts_with(prev, _ORG_HEADS)
        complete = bool(prev_head) and (prev != prev_head or prev in _WHOLE_NAMES)
        grows = len(_starts_with(joined, _ORG_HEADS)) > len(prev_head)
        if _starts_with(fold(line), _ORG_HEADS) and complete and not grows:
            names.append(line)
        else:
            names[-1] = f"{names[-1]} {line}"
    return [n.strip(" ,;") for n in names]


def _type_line(text: str) -> tuple[str, str] | None:
    """(type, rest of the line) when ``text`` is a type printed on its own line."""
    if not _is_upper(text) or text.endswith(":"):
        return None
    folded = fold(text).strip(" .")
    for key in sorted(_TYPES, key=len, reverse=True):
        if folded == key:
            return _TYPES[key], ""
        if folded.startswith(key + " ") and folded[len(key) + 1 :] in _TYPE_SUFFIXES:
            return _TYPES[key], ""
    return None


def _type_from_number(number: str) -> str:
    parts = re.split(r"[/-]", number)
    for part in parts[1:]:
        if part in _TYPE_CODES:
            return _TYPE_CODES[part]
        if not part.isdigit():
            break
    return ""


def _is_name(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 6 or any(not w.isalpha() for w in words):
        return False
    if _is_upper(text):
        return fold(words[0]) in _SURNAMES and not _LEADER_WORDS.search(fold(text))
    return all(w[:1].isupper() for w in words)


def _signature(lines: list[_Line], start: int) -> tuple[str, str, str]:
    """(signer, signer's title, signature block) from the first signature at or after ``start``."""
    i = start
    n = len(lines)
    while i < n:
        text = lines[i].text
        folded = fold(text)
        if text and _is_upper(text) and (_AUTHORITY.match(text) or _is_title(folded)):
            block: list[str] = []
            j = i
            # The block: upper-case lines; a boundary may split it ("TM. ỦY BAN NHÂN" / "DÂN").
            while j < n and j - i < 12:
                t = lines[j].text
                if not t or _NOT_SIGNED.match(t):
                    j += 1
                    continue
                if _is_upper(t) and not (_is_name(t) and block):
                    block.append(t)
                    j += 1
                    continue
                break
            name_parts: list[str] = []
            while j < n and len(name_parts) < 3:
                t = lines[j].text
                if not t:
                    if name_parts:
                        break
                    j += 1
                    continue
                if _NOT_SIGNED.match(t):
                    j += 1
                    continue
                candidate = " ".join([*name_parts, t])
                if len(candidate.split()) <= 6 and all(w.isalpha() for w in candidate.split()):
                    name_parts.append(t)
                    j += 1
                    continue
                break
            name = " ".join(name_parts)
            if block and _is_name(name):
                titles = [re.sub(r"^(?:TM|KT|TL|TUQ|Q)\s*\.\s*", "", b).strip() for b in block]
                title = next((t for t in reversed(titles) if t and _is_title(fold(t))), "")
                return name_case(name), title_case(title), " / ".join(block)
            i = max(j, i + 1)
            continue
        i += 1
    return "", "", ""


def _is_title(folded: str) -> bool:
    """An office as printed above a signature ("pho chu tich", "thu truong", "cuc truong")."""
    return len(folded.split()) <= 10 and bool(_LEADER_WORDS.search(folded))


def _list_items(lines: list[_Line], start: int) -> tuple[list[str], int]:
    """Items of a "- A;" list starting at ``start`` (wrapped lines joined), and where it ends."""
    items: list[str] = []
    i = start
    while i < len(lines):
        text = lines[i].text
        if not text:
            nxt = next((x.text for x in lines[i + 1 : i + 3] if x.text), "")
            if items and not nxt.startswith(("-", "+", "•")):
                break
            i += 1
            continue
        if text.startswith(("-", "+", "•")):
            body = text.lstrip("-+• ").strip()
            items.append(body)
        elif items and (items[-1] == "" or not items[-1].endswith((";", "."))):
            items[-1] = f"{items[-1]} {text}".strip()
        else:
            break
        i += 1
    return [it.rstrip(" ;.") for it in items if it.strip(" ;.")], i


def _bases(preamble: str) -> list[str]:
    """One entry per "Căn cứ" of the preamble, without the words and the final ';'."""
    out: list[str] = []
    starts = [m for m in _CAN_CU.finditer(preamble)]
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(preamble)
        text = " ".join(preamble[m.end() : end].split())
        # A clause after ';' or '.' that does not name another document ends the basis
        # ("...; Ủy ban nhân dân tỉnh ban hành Kế hoạch ...").
        cut = len(text)
        for sep in re.finditer(r"[;.](?=\s|$)", text):
            after = text[sep.end() :].strip()
            follows_doc = _DOCUMENT_FIRST.match(after)
            if sep.group() == "." or not follows_doc:
                cut = sep.start()
                break
        text = text[:cut].strip(" ;.,")
        if text:
            out.append(text)
    return out


def _references(texts: list[str], own: str) -> list[Reference]:
    seen: set[str] = {number_key(own)} if own else set()
    out: list[Reference] = []
    for text in texts:
        for pattern in (_REF, _LAW_REF, _CODE_NUMBER):
            for m in pattern.finditer(text):
                number = _compact_number(m.group("num"))
                key = number_key(number)
                if key in seen or not re.search(r"\d", number.split("/")[0]):
                    continue
                name = m.groupdict().get("name")
                if name and not name[:1].isupper():
                    continue
                seen.add(key)
                doc_type = m.groupdict().get("type") or _type_from_number(number)
                date_m = _ANY_DATE.search(m.group(0))
                out.append(
                    Reference(
                        number=number,
                        text=" ".join(m.group(0).split()),
                        document_type=_cap(doc_type.lower()) if doc_type else "",
                        date=_date_of(date_m) if date_m else "",
                    )
                )
    return out


def _type_case(doc_type: str) -> str:
    return _TYPES.get(fold(doc_type), doc_type)


def read_header(text: str, body: str | None = None) -> DocumentHeader:
    """The header fields, bases and references of a document (empty where not printed).

    ``text``: the document with its printed line breaks and cells; ``body``:
    its cleaned text for references in the body (default: ``text``).
    """
    lines = _prepare(text)
    n = len(lines)
    head_stop = min(n, 60)
    cells = _cells(lines, head_stop)
    header = DocumentHeader()

    motto_cell = next((k for k, (_, t) in enumerate(cells) if _MOTTO.search(fold(t))), None)
    number_cell = next((k for k, (_, t) in enumerate(cells[:12]) if _NUMBER_LINE.match(t)), None)
    official = motto_cell is not None or number_cell is not None
    table_end = 0  # first line after the header table
    if official:
        anchors = [k for k in (motto_cell, number_cell) if k is not None]
        first = min(anchors)
        if number_cell is not None:
            m = _NUMBER_LINE.match(cells[number_cell][1])
            assert m is not None
            number = _compact_number(m.group("num"))
            if re.match(r"\d", number):
                header.number = number
        # The issuer: the cells before the motto and the number; the motto may share a cell.
        issuer_lines: list[str] = []
        first_line = cells[first][0]
        for line in lines[:first_line]:
            if line.text:
                issuer_lines.append(line.text)
        if motto_cell == first and not issuer_lines:
            motto_text = cells[first][1]
            m_motto = re.search(r"C[ỘO]NG H[ÒOÀ]A X[ÃA] H[ỘO]I", motto_text, re.I)
            if m_motto and m_motto.start() > 0:
                issuer_lines = [motto_text[: m_motto.start()].strip()]
        orgs = [o for o in _organisations(issuer_lines) if _starts_with(fold(o), _ORG_HEADS)]
        if orgs:
            header.issuer = org_case(orgs[-1])
            if len(orgs) > 1:
                header.issuer_parent = org_case(orgs[-2])
        # Place and date: the first "<place>, ngày ..." of the header cells.
        for start, cell in cells[:14]:
            found = _place_date(cell)
            if found:
                header.place, header.date = found
                table_end = max(table_end, _cell_end(lines, start))
                break
        for k in (motto_cell, number_cell):
            if k is not None:
                table_end = max(table_end, _cell_end(lines, cells[k][0]))
        # A công văn's title (V/v ...) sits under its number, in the number's cell or the next.
        if number_cell is not None:
            start, cell = cells[number_cell]
            after = _NUMBER_LINE.sub("", cell, count=1).strip()
            if not after and number_cell + 1 < len(cells):
                nxt = cells[number_cell + 1][1]
                if re.match(r"^(?:V/v|V/V|Về)\b", nxt) and not _ANY_DATE.search(nxt):
                    after = nxt
                    table_end = max(table_end, _cell_end(lines, cells[number_cell + 1][0]))
            # A trích yếu that a PDF broke into blocks goes on in the next cells.
            k = number_cell + (
                2 if after and not _NUMBER_LINE.sub("", cell, count=1).strip() else 1
            )
            while after and k < len(cells) and _continues(after, cells[k][1]):
                if _MOTTO.search(fold(cells[k][1])) or _place_date(cells[k][1]):
                    break
                after = f"{after} {cells[k][1]}"
                table_end = max(table_end, _cell_end(lines, cells[k][0]))
                k += 1
            if after and not _MOTTO.search(fold(after)) and not _PLACE_DATE.search(after):
                header.title = after
                header.document_type = "Công văn"

    # The type line and the title below it.
    preamble_start = table_end
    for i in range(table_end, min(n, table_end + 40)):
        found = _type_line(lines[i].text)
        if found is None:
            continue
        if header.document_type == "Công văn":
            break
        header.document_type = found[0]
        title_parts: list[str] = []
        j = i + 1
        title_bold = lines[i + 1].bold if i + 1 < n else False
        crossed = False  # a boundary since the last title line
        while j < n and len(title_parts) < 8:
            line = lines[j]
            t = line.text
            if not t:
                crossed = bool(title_parts)
                j += 1
                continue
            if _TITLE_STOP.match(t) or _BODY_START.match(t) or _type_line(t):
                break
            if title_parts and _is_authority_line(line, header.issuer, title_bold):
                break
            # Across a blank line (a PDF block, a paragraph) only a line that goes on with
            # the title continues it: in capitals after capitals, else not capitalised.
            if crossed and not _continues(" ".join(title_parts), t):
                break
            title_parts.append(t)
            crossed = False
            j += 1
        header.title = " ".join(title_parts)
        preamble_start = j
        break
    if not header.document_type and header.number:
        header.document_type = _type_from_number(header.number)

    header.bases = _bases(_preamble(lines, preamble_start, header.issuer))

    # Recipients: "Kính gửi" and "Nơi nhận".
    recipients: list[str] = []
    for i in range(min(n, preamble_start + 40)):
        m = _KINH_GUI.match(lines[i].text)
        if m:
            inline = lines[i].text[m.end() :].strip(" ;.")
            if inline:
                recipients.append(inline)
            items, _ = _list_items(lines, i + 1)
            recipients.extend(items)
            break
    signature_from = n
    for i in range(table_end, n):
        if _NOI_NHAN.match(lines[i].text):
            items, _ = _list_items(lines, i + 1)
            inline = _NOI_NHAN.sub("", lines[i].text).strip(" ;.")
            if inline.startswith(("-", "+")):
                items.insert(0, inline.lstrip("-+ ").strip(" ;."))
            recipients.extend(it for it in items if not fold(it).startswith("luu"))
            signature_from = max(0, i - 15)
            break
    header.recipients = list(dict.fromkeys(recipients))
    if official or signature_from < n:
        start = signature_from if signature_from < n else max(table_end, n // 2)
        header.signer, header.signer_title, header.signature_block = _signature(lines, start)

    body_text = body if body is not None else text
    header.references = _references([*header.bases, normalize(body_text)], header.number)
    for basis in header.bases:
        if not _NUMBER_RE.search(basis):
            kind = re.match(rf"(?:{_REF_TYPE})\b", basis)
            name = re.split(r"\s+(?:ngày|năm|số)\s+|[,;(]", basis)[0].strip()
            header.references.append(
                Reference(
                    number="", text=name, document_type=_type_case(kind.group(0)) if kind else ""
                )
            )
    header.document_type = _type_case(header.document_type)
    return header


def _place_date(cell: str) -> tuple[str, str] | None:
    """(place, ISO date) of "Lào Cai, ngày 15 tháng 3 năm 2023" in a header cell."""
    folded = fold(cell)
    # Folding keeps the length of NFC Vietnamese text, so spans carry over.
    for motto in _MOTTO.finditer(folded):
        cell = cell[: motto.start()] + " " * (motto.end() - motto.start()) + cell[motto.end() :]
    for m in _PLACE_DATE.finditer(cell):
        place = m.group("place").strip(" .-")
        if place[:1].isupper() and len(place.split()) <= 6:
            date = _date_of(m, 2)
            if date:
                return (_title_words(place.lower()) if _is_upper(place) else place), date
    return None


def _continues(title: str, line: str) -> bool:
    if title.endswith((".", ":", ";")):
        return False
    if _is_upper(title):
        return _is_upper(line)
    return not line[:1].isupper()


_DOCUMENT_FIRST = re.compile(rf"(?:các\s+)?(?:{_REF_TYPE})\b", re.I)


def _preamble(lines: list[_Line], start: int, issuer: str) -> str:
    """The "Căn cứ ..." paragraphs that open the document, one line each, before its body.

    Between them may stand the other paragraphs of a preamble ("Theo đề nghị
    ...", "Xét ..."), the line naming who decides and the addressees; any other
    text is the body, and a "Căn cứ" in the body is an argument, not a basis.
    """
    out: list[str] = []
    current: list[str] | None = None  # the paragraph being read; None between paragraphs
    keep = False  # whether it is a basis
    window = [line for line in lines[start : start + 150] if line.text]
    for k, line in enumerate(window):
        t = line.text
        if _BODY_START.match(t) or _NOI_NHAN.match(t):
            break
        open_paragraph = current is not None and not current[-1].endswith((";", "."))
        following = window[k + 1].text if k + 1 < len(window) else ""
        # "Căn" / "cứ Luật ...": converters break lines anywhere.
        if _CAN_CU.match(f"{t} {following}"):
            current, keep = [t], True
        elif current is not None and (
            open_paragraph or (keep and _DOCUMENT_FIRST.match(t))  # "...; Nghị định số ..."
        ):
            current.append(t)
        elif _PREAMBLE_OTHER.match(t):
            current, keep = [t], False
        elif (
            _KINH_GUI.match(t)
            or t.startswith(("-", "+"))
            or _is_authority_line(line, issuer, False)
            or (_is_upper(t) and len(t) <= 80)  # the rest of "CỤC TRƯỞNG CỤC" / "HẢI QUAN"
        ):
            current, keep = None, False  # a line of its own
        else:
            break
        if keep and current is not None and current[-1] is t:
            out.append(t)
    return "\n".join(out)


def _cell_end(lines: list[_Line], start: int) -> int:
    i = start
    while i < len(lines) and lines[i].text:
        i += 1
    return i


def _is_authority_line(line: _Line, issuer: str, title_bold: bool) -> bool:
    """The line naming who decides, printed between the title and the bases
    ("ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG", "BỘ TRƯỞNG BỘ VĂN HÓA, ...", "THỦ TƯỚNG CHÍNH PHỦ điện:")."""
    text = line.text
    folded = fold(text).rstrip(" :")
    key = fold(issuer)
    if key and folded.endswith(key) and len(folded) <= len(key) + 40:
        return True
    # "THỦ TƯỚNG CHÍNH PHỦ điện:": the issuer in capitals opens the line.
    if key and folded.startswith(key) and _is_upper(text[: len(key)]):
        return True
    if folded in _WHOLE_NAMES:
        return True
    if line.bold and not title_bold and _is_upper(text):
        return True
    return bool(_is_upper(text) and _LEADER_FIRST.match(folded))


# A line that opens with an office ("CHỦ TỊCH ỦY BAN ...", "CỤC TRƯỞNG CỤC").
_LEADER_FIRST = re.compile(
    r"^(?:pho\s+)?(?:chu tich|giam doc|bo truong|thu truong|thu tuong|(?:tong )?cuc truong|"
    r"vu truong|chanh van phong|truong ban|chanh an|vien truong|thong doc|tong kiem toan|"
    r"chu nhiem|hieu truong|tong giam doc|chanh thanh tra|bi thu)\b"
)
