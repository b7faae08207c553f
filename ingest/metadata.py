"""Document metadata read from the cleaned text: title, source, date, type, provinces.

Whatever the text does not say stays empty: a wrong date or type is worse for
filtering than none.
"""

from __future__ import annotations

import re

from ingest.models import Block
from ingest.structure import law_article
from ingest.text import fold

# The 63 provinces and centrally-run cities before the 2025 merger; names after
# it are a subset. Matched with diacritics and capitals, as names are written.
PROVINCES = [
    "An Giang",
    "Bà Rịa - Vũng Tàu",
    "Bạc Liêu",
    "Bắc Giang",
    "Bắc Kạn",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Dương",
    "Bình Định",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Cao Bằng",
    "Cần Thơ",
    "Đà Nẵng",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Nội",
    "Hà Tĩnh",
    "Hải Dương",
    "Hải Phòng",
    "Hậu Giang",
    "Hòa Bình",
    "Hồ Chí Minh",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lạng Sơn",
    "Lào Cai",
    "Lâm Đồng",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên Huế",
    "Huế",
    "Tiền Giang",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
]
_PROVINCE_ALIASES = {
    "Bà Rịa - Vũng Tàu": r"Bà Rịa\s*[-–]\s*Vũng Tàu",
    "Hồ Chí Minh": r"Hồ Chí Minh|TP\.?\s?HCM",
}
_PROVINCE_RES = [
    (name, re.compile(rf"(?<!\w)(?:{_PROVINCE_ALIASES.get(name, re.escape(name))})(?!\w)"))
    for name in PROVINCES
]

_URL = re.compile(r"https?://[^\s<>\"')]+")
_FULL_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})(?!\d)")
_WORDY_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.I)
_DAY_MONTH = re.compile(
    r"(?:^|\s)(?:ngày|sáng|chiều|tối|trưa)\s+(\d{1,2})[/-](\d{1,2})(?![/\d-])", re.I
)
_URL_YEAR_MONTH = re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])/")
_HEADER_BLOCKS = 4
# "Quyết định số 1658/QĐ-TTg ngày 01/10/2021": a cited document's date, not this one's.
_CITATION_BEFORE = re.compile(r"(?:\bsố\s+[\w.]+/[\w.-]+|\d+/[A-ZĐ]{1,6}-[\w-]+)[^.;]{0,30}$")


def _iso(day: int, month: int, year: int) -> str:
    if 1 <= day <= 31 and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def find_source(blocks: list[Block], fallback: str, hint: str = "") -> str:
    if hint:
        return hint
    for block in reversed(blocks):
        if m := _URL.search(block.text):
            return m.group(0).rstrip(".,;")
    return fallback


def find_date(blocks: list[Block], source: str = "") -> str:
    """The document's own date, from its header lines only.

    Plans cite older decisions with full dates in their body; those are not
    the document's date, so only the first few blocks are read.
    """
    header = [b.text for b in blocks if not b.is_heading][:_HEADER_BLOCKS]
    for text in header:
        for pattern in (_WORDY_DATE, _FULL_DATE):
            for m in pattern.finditer(text):
                if _CITATION_BEFORE.search(text[max(0, m.start() - 60) : m.start()]):
                    continue
                if iso := _iso(int(m.group(1)), int(m.group(2)), int(m.group(3))):
                    return iso
    # News leads say "Chiều 10-9" and the article URL carries /202409/: the
    # year comes from the URL only when its month agrees with the text.
    url_ym = _URL_YEAR_MONTH.search(source)
    for text in header:
        dm = _DAY_MONTH.search(text)
        if dm and url_ym and int(url_ym.group(2)) == int(dm.group(2)):
            return _iso(int(dm.group(1)), int(dm.group(2)), int(url_ym.group(1)))
    return ""


def find_title(blocks: list[Block], hint: str = "") -> str:
    title_parts = [b.text for b in blocks[:3] if b.heading_level == 0]
    if title_parts:
        return ": ".join(title_parts)
    if hint.strip():
        return hint.strip()
    for block in blocks:
        if not block.is_heading and len(block.text) <= 200:
            return block.text
        if block.is_heading:
            return block.text
    return ""


# The coarse document types ingest assigns; the API's ``type`` filter takes exactly these.
DOC_TYPES = ("plan", "agreement", "news", "official")
# A file holding one article of these ("Bộ luật Dân sự 2015 – Điều 10. ...") is official too.
_LAW_WORDS = ("bo luat", "luat", "hien phap", "phap lenh", "nghi dinh", "nghi quyet", "thong tu")


def find_type(blocks: list[Block], title: str, official: bool = False) -> str:
    """plan | agreement | news | official, from structure and wording; "" when unsure.

    ``official``: the document's header shows a number or an issuer (``title`` then starts
    with the type it prints); a file titled by one article of a law is official as well. Such a document is no news article even when it is short: a
    plan (Kế hoạch, Chương trình) is a plan, any other an official document.
    """
    t = fold(title)
    levels = [b.heading_level for b in blocks if b.is_heading]
    body = fold(" ".join(b.text for b in blocks[:12]))
    if t.startswith(("ke hoach", "chuong trinh hanh dong", "quyet dinh")) and levels.count(1) >= 2:
        return "plan"
    agreement_words = (
        "ky ket",
        "bien ban ghi nho",
        "thoa thuan hop tac",
        "ghi nho hop tac",
        "mou",
        "hop tac",
    )
    if any(w in t for w in agreement_words) or (
        "ky ket" in body and ("bien ban ghi nho" in body or "thoa thuan" in body)
    ):
        return "agreement"
    law = law_article(title)
    if official or (law is not None and fold(law[0]).startswith(_LAW_WORDS)):
        return "plan" if t.startswith(("ke hoach", "chuong trinh")) else "official"
    if blocks:
        return "news"
    return ""


def find_provinces(text: str) -> list[str]:
    """Provinces named in the text, most mentioned first."""
    counts: dict[str, int] = {}
    for name, pattern in _PROVINCE_RES:
        n = len(pattern.findall(text))
        if n:
            counts[name] = n
    # "Thừa Thiên Huế" also matches "Huế".
    if "Thừa Thiên Huế" in counts and "Huế" in counts:
        counts["Huế"] -= counts["Thừa Thiên Huế"]
        if counts["Huế"] <= 0:
            del counts["Huế"]
    return sorted(counts, key=lambda n: (-counts[n], n))
