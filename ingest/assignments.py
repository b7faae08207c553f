"""Who does what: task assignments read from an action plan's structure.

Plans hand tasks to agencies in a fixed shape: an agency heading
("6. Sở Xây dựng") followed by list items worded with fixed role phrases::

    - Chủ trì, phối hợp với Sở Tài chính ... cân đối nguồn vốn ...
    - Phối hợp với Sở Tài nguyên và Môi trường trong ... quản lý chất thải đô thị ...
    - Là cơ quan đầu mối về Tăng trưởng xanh ...
    - Tham mưu cho UBND tỉnh về ...

:func:`extract_assignments` turns each clause into one :class:`Assignment`
per agency it names, with the agency's role. The role of an agency named
*inside* another agency's section follows from the wording: when Sở Xây dựng
"phối hợp với Sở Tài nguyên và Môi trường" on a task, Sở Tài nguyên và Môi
trường leads it and Sở Xây dựng cooperates. News articles state the same
thing inline ("Sở X chủ trì, phối hợp với ..."), which is read too.

Matching is done on diacritic-folded text; every span is cut from the
original, so names and tasks keep their diacritics.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ingest.structure import enumerator_level, strip_markup
from ingest.tables import as_lines
from ingest.text import fold

LEAD, COOPERATE, FOCAL, ADVISE, RESPONSIBLE = "lead", "cooperate", "focal", "advise", "responsible"
# "… chịu trách nhiệm thi hành Quyết định này": who carries a decision out, no task of
# its own; answers about an agency's tasks leave these records out.
EXECUTE = "execute"
ROLES = (LEAD, COOPERATE, FOCAL, ADVISE, RESPONSIBLE, EXECUTE)
# The roles that put an agency in charge of a task (a record's ``lead``).
IN_CHARGE = (LEAD, RESPONSIBLE, FOCAL, ADVISE)

# Which writing convention stated a record (its ``via``).
VIA_SECTION = "section"  # an agency heading, agency line or "X:" lead-in owns the item
VIA_SENTENCE = "sentence"  # the sentence names its agency: "Giao X chủ trì", "X chủ trì, …"
VIA_BRACKETS = "brackets"  # "… (Giao X chủ trì, phối hợp với Y)" at an item's end
VIA_LABELLED = "labelled"  # "Đơn vị chủ trì: X" lines under a task
VIA_TABLE = "table"  # a table row with a lead column
VIA_ARTICLE = "article"  # "Điều N. Trách nhiệm của X" / "Điều 2. Giao X"
VIA_EXECUTION = "execution"  # a decision's execution article

# Names of provincial agencies that plans refer to without giving them a section.
KNOWN_AGENCIES = [
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Tài nguyên và Môi trường",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Nông nghiệp và Môi trường",
    "Sở Công Thương",
    "Sở Xây dựng",
    "Sở Giao thông vận tải",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Ngoại vụ",
    "Sở Thông tin và Truyền thông",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Văn hóa - Thể thao",
    "Sở Du lịch",
    "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Dân tộc và Tôn giáo",
    "Ban Dân tộc",
    "Ban quản lý Khu kinh tế tỉnh",
    "Ban Quản lý các khu công nghiệp",
    "Công an tỉnh",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Văn phòng UBND tỉnh",
    "Thanh tra tỉnh",
    "Cục Thuế tỉnh",
    "Cục Thống kê tỉnh",
    "Kho bạc Nhà nước tỉnh",
    "Ngân hàng Nhà nước chi nhánh tỉnh",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Báo tỉnh",
    "Tỉnh đoàn",
    "Hội Phụ nữ",
    "Hội Nông dân tỉnh",
    "Liên đoàn Lao động tỉnh",
    "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
]

AGENCIES_TXT = Path(__file__).parent / "data" / "agencies.txt"


@functools.cache
def data_agencies() -> tuple[str, ...]:
    """Central bodies, media, mass organisations and state groups from the data file."""
    lines = AGENCIES_TXT.read_text(encoding="utf-8").splitlines()
    return tuple(n.strip() for n in lines if n.strip() and not n.startswith("#"))


# Bodies named by their level, not their name (matched folded): local committees of
# every tier, police, and the groups plans hand tasks to ("các sở, ban, ngành").
_LEVEL = r"(?:tinh|thanh pho|quan|huyen|thi xa|xa|phuong|thi tran|dac khu)"
_F_LEVEL_BODY = re.compile(
    rf"\b(?:(?:uy ban nhan dan|ubnd)(?: cac| cap)? {_LEVEL}(?:(?:,| va) {_LEVEL})*"
    rf"|cong an(?: cac| cap)? {_LEVEL}(?:(?:,| va) {_LEVEL})*"
    r"|cac (?:so|bo)(?:, (?:ban|nganh|co quan ngang bo|co quan thuoc chinh phu|doan the"
    r"|co quan|dia phuong))+(?: (?:truc thuoc|thuoc) (?:ubnd|uy ban nhan dan) tinh)?)\b"
)


# Bodies of a district or commune named by their kind and tier: the mass organisations,
# the offices a district committee has by law, its military command and health centre
# ("Hội Nông dân xã", "Phòng Tài chính - Kế hoạch huyện", "Đoàn Thanh niên phường").
_F_LOCAL_BODY = re.compile(
    r"\b(?:hoi (?:nong dan|lien hiep phu nu|phu nu|cuu chien binh|chu thap do|nguoi cao tuoi"
    r"|khuyen hoc)|doan thanh nien(?: cong san ho chi minh)?|(?:uy ban )?mat tran to quoc"
    r"(?: viet nam)?|lien doan lao dong|ban chi huy quan su|trung tam y te|tram y te"
    r"|phong (?:giao duc va dao tao|tai chinh(?: - | )ke hoach|tai nguyen va moi truong|noi vu"
    r"|y te|tu phap|thanh tra|quan ly do thi|kinh te(?: - | va )ha tang(?: va do thi)?|kinh te"
    r"|van hoa(?:,| va| -) (?:thong tin|the thao|xa hoi)|van hoa - xa hoi"
    r"|nong nghiep va (?:phat trien nong thon|moi truong)"
    r"|lao dong - thuong binh va xa hoi))"
    rf" (?:cac |cap )?{_LEVEL}\b"
)
# A district or commune body may carry its place's name: "UBND xã Tân Lập", "Hội Nông
# dân huyện Mường Tè" (every syllable of a place name is capitalised).
_NAMED_TIER = re.compile(r"(?:quan|huyen|thi xa|xa|phuong|thi tran|dac khu)$")
# "Công ty cổ phần Cấp nước Sơn La", "Tổng công ty Điện lực miền Bắc": a company's name
# is its capitalised words after the kind of company.
_F_COMPANY = re.compile(r"\b(?:tong cong ty|cong ty)\b")
_COMPANY_FORM = re.compile(
    r"(?:\s+(?:TNHH|MTV|CP|cổ phần|Cổ phần|trách nhiệm hữu hạn|một thành viên|Một thành viên))*"
)
_PROPER_WORD = re.compile(r"\s+(?:-\s+)?([^\W\d_][\w-]*)")


# Words that end a name: what follows a body's name in a sentence, not part of it.
_NAME_STOP = frozenset(
    "chu phoi tham thuc co va voi tai cua tren theo de trong cho la duoc da se can phai".split()  # noqa: SIM905
)


def _proper_name(text: str, at: int, bridge: int = 0) -> int:
    """Where a run of capitalised words starting at ``at`` ends (``at`` when none);
    up to ``bridge`` lower-case words may stand between two capitalised ones ("Cấp
    nước Sơn La": only a name's first syllable is capitalised), and end it when a verb
    or a stop follows them."""
    end = pos = at
    lower = 0
    while m := _PROPER_WORD.match(text, pos):
        word = m.group(1)
        if word[:1].isupper():
            end = pos = m.end()
            lower = 0
        elif lower < bridge and end > at and fold(word) not in _NAME_STOP:
            pos = m.end()
            lower += 1
        else:
            break
    if pos > end:
        # "Công ty Môi trường đô thị chủ trì …": the name ran up to its verb; with no
        # verb or stop in sight, where it ends is a guess, and no name is better.
        return pos if m is None or fold(m.group(1)) in _NAME_STOP else at
    return end


def pattern_agencies(texts: Sequence[str]) -> list[str]:
    """Agency names the writing itself marks, as printed, in ``texts``."""
    out: dict[str, str] = {}
    for text in texts:
        text = strip_markup(text)
        folded = fold(text)
        if len(folded) != len(text):
            continue
        for pattern in (_F_LEVEL_BODY, _F_LOCAL_BODY):
            for m in pattern.finditer(folded):
                out.setdefault(m.group(0), text[m.start() : m.end()])
                if _NAMED_TIER.search(m.group(0)) and "," not in m.group(0):
                    end = _proper_name(text, m.end())
                    if end > m.end():
                        out.setdefault(folded[m.start() : end], text[m.start() : end])
        for m in _F_COMPANY.finditer(folded):
            if not text[m.start()].isupper():
                continue  # "các công ty": a kind of body, not one company
            form = _COMPANY_FORM.match(text, m.end())
            at = form.end() if form else m.end()
            end = _proper_name(text, at, bridge=3)
            if end > at:
                out.setdefault(folded[m.start() : end], text[m.start() : end])
    return list(out.values())


_ARTICLE_AGENCY = re.compile(
    r"^(?:Điều\s+\d+[a-zđ]?\s*[.:]\s*)?(?:(?:Trách nhiệm của|Giao|Đề nghị)\s+)?"
    r"(?:(?:Giám đốc|Chủ tịch|Thủ trưởng|Bộ trưởng|Chánh Văn phòng)\s+(?=\S))?",
    re.I,
)
_LONG_HEADS = ("bao hiem xa hoi",)
# "Cục thuộc bộ", "Văn phòng thuộc tổng cục", "Phòng trực thuộc sở": a kind of unit and
# where it belongs (decrees on organisation), not a body's name.
_F_KIND_OF_UNIT = re.compile(
    r"^(?:\S+ ){1,2}(?:truc )?thuoc (?:bo|tong cuc|cuc|vu|so|ubnd|uy ban)\b"
)
# Folded first words of a heading that names an agency (or a group of them).
_AGENCY_HEADS = (
    "so ",
    "cac so",
    "ubnd",
    "uy ban",
    "ban ",
    "cong an",
    "bo chi huy",
    "dai ",
    "bao ",
    "trung tam",
    "hoi ",
    "tinh doan",
    "lien doan",
    "van phong",
    "kho bac",
    "ngan hang",
    "cuc ",
    "chi cuc",
    "thanh tra",
    "de nghi",
    "cac ben lien quan",
    "bo ",
    "tap doan",
    "tong cong ty",
    "cong ty",
    "bao hiem xa hoi",
    "phong ",
    "doan thanh nien",
    "mat tran",
    "tram y te",
)
_ENUM_PREFIX = re.compile(r"^(?:[IVX]+|\d+(?:\.\d+)*(?:\.[a-zđ])?|[a-zđ])[.)]\s+", re.I)
_BULLET = re.compile(r"^[-–+*•]\s*")
# Sentence ends: a stop followed by a capital, so "v.v." and "5.000" stay inside.
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ\"“(-])")

_F_FOCAL = re.compile(r"\bla (?:co quan|don vi) (?:dau moi|thuong truc)\b")
_F_LEAD = re.compile(r"\bchu tri\b")
# "phối hợp với đơn vị chủ trì": names someone else's role, not this agency's.
_F_OTHER_LEAD = re.compile(r"\b(?:don vi|co quan|noi) chu tri\b")
# "tăng cường phối hợp công tư" is public-private partnership, not a role.
_F_COOPERATE = re.compile(r"\bphoi\s*hop\b(?!\s+cong tu\b)(?:\s+voi\b)?")
_F_ADVISE = re.compile(r"\btham muu\b")
# A generic group of partners ("các sở, ban, ngành có liên quan"): not a named agency.
_F_GENERIC = re.compile(
    r"\b(?:cac|nhung)\s+(?:so|co quan|don vi|ban|nganh|dia phuong|to chuc)\b[^.;]*?"
    r"(?:co lien quan|lien quan|dia phuong|thi xa|thanh pho|huyen)\b"
)
_F_TASK_LEAD_IN = re.compile(
    r"^(?:[\s,:]|va\b|voi\b|trong\b|ve\b|cho\b|thuc hien\b(?= (?:cac|viec))|cung\b)+"
)


@dataclass
class Assignment:
    """One agency's role in one task, and where the plan says so."""

    doc_id: str
    agency: str
    role: str  # one of ROLES
    task: str  # the task wording, without role phrases and partner names
    text: str  # the whole clause, as written (what an answer quotes)
    section: str
    page: int | None
    stated_in: str  # the agency whose section (or sentence) states it
    chunk: int | None = None  # ordinal of the chunk holding ``text`` in its document
    deadline: str = ""  # deadline or period as printed, where the document states one
    # The record as a whole task (the same on every record of one clause): who leads it,
    # who cooperates, and the output expected ("Sản phẩm: …", a table's result column).
    lead: str = ""
    partners: list[str] = field(default_factory=list)
    output: str = ""
    section_path: list[str] = field(default_factory=list)  # headings, outermost first
    # Source span: the clause runs from character ``start`` of block ``block`` to
    # character ``end`` of block ``block_end`` (blocks as stored, 0-based; a clause the
    # converter wrapped over several printed lines spans several blocks).
    block: int | None = None
    block_end: int | None = None
    start: int | None = None
    end: int | None = None
    via: str = ""  # the writing convention that stated it (VIA_*)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Assignment:
        # Older index versions lack the newer fields; newer ones may carry fields this
        # code does not know yet.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Words of a sentence that introduces a list, not of an agency's name.
_LEAD_IN = re.compile(
    r"\b(?:nhu sau|thuc hien|co trach nhiem|trach nhiem|can|phai|gom|bao gom|sau day|cu the)\b"
)


def agency_label(text: str) -> bool:
    """Whether ``text`` is only an agency's name and a colon ("Sở Tài chính:", "UBND các
    huyện:"), the label a plan numbers over that agency's tasks; "Các sở phối hợp thực hiện
    như sau:" introduces a list and names none."""
    if not text.endswith(":") or _has_role(text) or _LEAD_IN.search(fold(text)):
        return False
    return agency_of_heading(text) is not None


def agency_of_heading(heading: str) -> str | None:
    """'6. Sở Xây dựng' -> 'Sở Xây dựng'; None for headings that name no agency."""
    name = _ENUM_PREFIX.sub("", strip_markup(heading)).strip().rstrip(":").strip()
    # "Điều 2. Giao Giám đốc Sở Giáo dục và Đào tạo", "Điều 5. Trách nhiệm của Bộ Y tế":
    # the article hands its clauses to the agency it names.
    name = _ARTICLE_AGENCY.sub("", name).strip()
    # "Sở Tài chính (STC)": the abbreviation is read by document_abbreviations.
    name = _ABBREVIATION_AFTER.sub("", name).strip()
    folded = fold(name)
    if not folded.startswith(_AGENCY_HEADS):
        return None
    words = name.split()
    # Folding merges "Sở" with "Số", "Bộ" with "Bổ", "Báo" with "Bảo": the printed word
    # decides ("Số lượng mẫu", "Bổ sung", "Bảo đảm" name no agency).
    first = words[0].lower() if words else ""
    for head, printed in (("so ", "sở"), ("bo ", "bộ"), ("bao ", "báo"), ("phong ", "phòng")):
        if folded.startswith(head) and first != printed and not folded.startswith(_LONG_HEADS):
            return None
    if folded.startswith(("bo ", "phong ")) and (len(words) < 2 or not words[1][:1].isupper()):
        return None  # "Bộ phận ...", "Phòng ngừa ...": not "Bộ Y tế", "Phòng Nội vụ"
    if folded.startswith(("ban hanh", "ban giao")):
        return None
    if _F_KIND_OF_UNIT.match(folded):
        return None  # "Điều 9. Cục thuộc bộ": what a decree says of a kind of unit
    if folded.startswith("de nghi "):
        name = name[len("Đề nghị ") :]
    return name[:1].upper() + name[1:]


class _Gazetteer:
    """Agency names to find inside a clause, longest first, matched folded.

    ``aliases`` are other names for an agency ({"STC": "Sở Tài chính"}): found
    like names, reported as the agency they stand for.
    """

    def __init__(self, names: Sequence[str], aliases: Mapping[str, str] | None = None) -> None:
        unique = {fold(n): n for n in names if n}
        self.names = sorted(unique.values(), key=len, reverse=True)
        self.by_fold = {fold(n): n for n in self.names}
        for alias, name in (aliases or {}).items():
            self.by_fold.setdefault(fold(alias), name)
        keys = sorted(self.by_fold, key=len, reverse=True)
        self.pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None
        )

    def find(self, folded: str) -> list[tuple[int, int, str]]:
        if self.pattern is None:
            return []
        return [
            (m.start(), m.end(), self.by_fold[m.group(0)]) for m in self.pattern.finditer(folded)
        ]


@functools.lru_cache(maxsize=256)
def _gazetteer(names: tuple[str, ...]) -> _Gazetteer:
    # Most documents name no agency of their own: they share the gazetteer of the known
    # ones, whose folding and pattern cost more than reading the whole document (ingest).
    return _Gazetteer(names)


# "Sở Tài chính (STC)", "Sở Tài chính (sau đây gọi tắt là STC)": an abbreviation the
# document defines for an agency, right after its name.
_ABBREVIATION = re.compile(
    r"\(\s*(?:sau đây\s+)?(?:gọi|viết)?\s*(?:tắt\s+là\s+)?([A-ZĐ][A-ZĐ0-9&-]{1,9})\s*\)"
)


_ABBREVIATION_AFTER = re.compile(_ABBREVIATION.pattern + r"\s*$")


def document_abbreviations(texts: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """Abbreviations ``texts`` define for the agencies ``names``: {"STC": "Sở Tài chính"}."""
    gaz = _gazetteer(tuple(names))
    out: dict[str, str] = {}
    for text in texts:
        folded = fold(text)
        if len(folded) != len(text):
            continue
        ends = {end: name for _, end, name in gaz.find(folded)}
        for m in _ABBREVIATION.finditer(text):
            before = text[: m.start()].rstrip()
            name = ends.get(len(before))
            if name is not None:
                out[m.group(1)] = name
    return out


def _has_role(text: str) -> bool:
    f = fold(text)
    return any(p.search(f) for p in (_F_FOCAL, _F_LEAD, _F_COOPERATE, _F_ADVISE))


def _clauses(text: str) -> list[str]:
    """Sentences; a semicolon starts a new clause only where a new role phrase follows."""
    text = _BULLET.sub("", strip_markup(text)).strip()
    out: list[str] = []
    for sentence in _SENTENCE_SPLIT.split(text):
        parts = sentence.split("; ")
        merged = [parts[0]]
        for part in parts[1:]:
            if _has_role(part):
                merged.append(part)
            else:
                merged[-1] = f"{merged[-1]}; {part}"
        # "Cụ thể:" announces the list that follows; it is no task of its own.
        out.extend(c.strip() for c in merged if len(c.strip(" :.").split()) > 2)
    return out


def _task_of(clause: str, folded: str, cut: list[tuple[int, int]]) -> str:
    """The clause after its opening run of role phrases and partner names: what is to be done."""
    if not cut:
        return clause.strip(" ,.;:")
    end = min(s for s, _ in cut)
    for start, stop in sorted(cut):
        gap = folded[end:start]
        if start - end <= 12 or _F_GENERIC.fullmatch(gap.strip(" ,")):
            end = max(end, stop)
        else:
            break
    rest_f = folded[end:]
    if m := _F_GENERIC.match(rest_f.lstrip(" ,")):
        end += len(rest_f) - len(rest_f.lstrip(" ,")) + m.end()
        rest_f = folded[end:]
    if m := _F_TASK_LEAD_IN.match(rest_f):
        end += m.end()
    task = clause[end:].strip(" ,.;:")
    return task or clause.strip(" ,.;:")


def _assign_clause(
    clause: str, owner: str | None, gaz: _Gazetteer, subjects: bool = True
) -> list[tuple[str, str, str, str]]:
    """(agency, role, task, stated_in) for one clause."""
    folded = fold(clause)
    if len(folded) != len(clause):  # fold must keep offsets; anything else is skipped
        return []
    names = gaz.find(folded)
    focal = _F_FOCAL.search(folded)
    lead = next(
        (
            m
            for m in _F_LEAD.finditer(folded)
            if not _F_OTHER_LEAD.search(folded[max(0, m.start() - 10) : m.end()])
        ),
        None,
    )
    coop = _F_COOPERATE.search(folded)
    advise = _F_ADVISE.search(folded)
    subject = owner
    opening = _opening_agency(folded, names) if subjects else None
    if opening is not None:
        # "Sở Tài chính thẩm định ...", "Giao Công an tỉnh chủ trì ...": the sentence's
        # subject does the task, whoever's section it stands in.
        subject = opening
    if lead is not None:
        # "Sở X chủ trì, ...": a name right before "chủ trì" is the one leading.
        before = [n for n in names if n[1] <= lead.start() and lead.start() - n[1] <= 40]
        if before and (owner is None or before[-1][2] != owner):
            subject = before[-1][2]
    if subject is None:
        return []
    marks = [m for m in (focal, lead, coop, advise) if m is not None]
    # A group ("các sở, ngành") may do a task as its subject; as a partner it names no one.
    partners = [
        n
        for n in names
        if n[2] != subject
        and coop is not None
        and n[0] >= coop.start()
        and not folded[n[0] : n[1]].startswith("cac ")
    ]
    cut = [(m.start(), m.end()) for m in marks] + [(s, e) for s, e, _ in partners]
    task = _task_of(clause, folded, cut)
    out: list[tuple[str, str, str, str]] = []
    stated_in = owner or subject
    if focal is not None:
        out.append((subject, FOCAL, task, stated_in))
    if lead is not None:
        out.append((subject, LEAD, task, stated_in))
        out.extend((p, COOPERATE, task, stated_in) for _, _, p in partners)
    elif coop is not None:
        out.append((subject, COOPERATE, task, stated_in))
        # Supporting the agency named right after "phối hợp với" means that agency
        # leads the task; names further along are fellow supporters.
        for start, _, p in partners:
            direct = start - coop.end() <= 2
            out.append((p, LEAD if direct else COOPERATE, task, stated_in))
    if advise is not None and lead is None and coop is None:
        out.append((subject, ADVISE, task, stated_in))
    if not marks and (owner is not None or opening is not None):
        out.append((subject, RESPONSIBLE, task, stated_in))
    return out


# What may stand before a sentence's subject: a request, a title, an opening phrase
# ("Trên cơ sở đề nghị của ..., Sở Tài chính thẩm định").
_F_SUBJECT_LEAD_IN = re.compile(
    r"^(?:(?:trong do |dong thoi )?(?:giao|de nghi|yeu cau)\s+)?"
    r"(?:(?:giam doc|chu tich|thu truong|bo truong|chanh van phong|truong ban)\s+)?"
)
_F_OPENING_PHRASE = re.compile(r"^(?:tren co so|sau khi|can cu|de)\b[^,]{0,160}, ")


def _opening_agency(folded: str, names: list[tuple[int, int, str]]) -> str | None:
    """The agency a clause opens with, as its grammatical subject, else None."""
    text = _ENUM_PREFIX.sub("", folded.lstrip(" -+*•"))
    offset = len(folded) - len(text)
    starts = [0]
    if m := _F_OPENING_PHRASE.match(text):
        starts.append(m.end())
    for start in starts:
        m = _F_SUBJECT_LEAD_IN.match(text[start:])
        at = offset + start + (m.end() if m else 0)
        for s, e, name in names:
            # A name followed by ":" labels a list ("Sở Tài chính: ..."), read by the caller.
            if s == at and not folded[e:].lstrip().startswith(":"):
                return name
    return None


# Length limits that tell a label from a sentence (docs/assignment-labels.md: how far they
# can move before any labelled document changes). A header cell names a column in a few
# words ("Cơ quan chủ trì theo dõi, đánh giá"); an agency line or lead-in is a name, the
# longest in the labels 13 words ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức ...").
MAX_HEADER_WORDS = 8
MAX_NAME_WORDS = 16

# Where a document stops stating tasks: its closing line, recipients and signature.
_F_CLOSING = re.compile(r"^[|*\s]*(?:tren day la\b|noi nhan\b)")
# Where an attached document (the plan a decision issues, an appendix) starts again.
_ATTACHED = re.compile(r"^[|*\s]*(?:KẾ HOẠCH|PHỤ LỤC|CHƯƠNG TRÌNH|QUY CHẾ|DANH MỤC)\b")
# "Đơn vị chủ trì: Sở X" / "Cơ quan phối hợp: ..." / "Thời gian hoàn thành: ...":
# labelled lines that belong to the task stated just before them.
_F_LABELLED = re.compile(
    r"(?:^|(?<=[.;]\s)|(?<=^[-+*•]\s))(?:don vi|co quan|noi) (?P<kind>chu tri|phoi hop)"
    r"(?: thuc hien)?\s*:\s*"
    r"|(?:^|(?<=[.;]\s))(?P<time>thoi gian(?: hoan thanh| thuc hien| hoan tat)?|thoi han|tien do)"
    r"\s*:\s*"
    r"|(?:^|(?<=[.;]\s))(?P<output>san pham(?: dau ra| du kien)?|ket qua (?:dau ra|du kien))"
    r"\s*:\s*"
)
# "- ", "+ ", "• ", "* " open a bullet; "**1. ...**" is bold, not a bullet.
_BULLET_ITEM = re.compile(r"^\s*(?:[-+•–]|\*(?!\*))\s*")
# "... chịu trách nhiệm thi hành Quyết định này", "... căn cứ Quyết định thi hành": the
# execution formula names who carries the document out (records of role ``execute``),
# it hands out no task of its own.
_F_EXECUTION = re.compile(
    r"\b(?:chiu|co) trach nhiem thi hanh\b|\bcan cu (?:quyet dinh|chi thi)(?: nay)? (?:de )?thi hanh\b"
)
# "Giám đốc các Sở: Tài chính, Xây dựng và Y tế": one head word shared by a list of names.
_SHARED_HEAD = re.compile(r"^các\s+(Sở|Bộ|Ban|Phòng)\s*:\s*([^;:]+)$", re.I)
# "trước ngày 30/6/2025", "chậm nhất ngày 10 tháng 12 năm 2025", "hoàn thành trong quý III
# năm 2025", "trong năm 2025": a deadline stated in the sentence, after its cue word (a
# year alone, as in a task's name "Kế hoạch … năm 2025", is no deadline).
_F_DATE = (
    r"(?:ngay \d{1,2}(?:[/.-]\d{1,2}[/.-]\d{4}| thang \d{1,2}(?:[/.-]\d{4}| nam \d{4})"
    r"| thang cuoi quy)|thang \d{1,2}(?:[/.-]\d{4}| nam \d{4})"
    r"|quy [ivx1-4]+(?:[/.-]\d{4}| nam \d{4})|(?:6|sau) thang dau nam \d{4}|nam \d{4})"
)
_F_DEADLINE = re.compile(
    r"\b(?:(?:hoan thanh|xong)\s+)?(?P<due>(?:truoc|cham nhat(?: la)?|trong|hoan thanh)\s+"
    + _F_DATE
    + r")\b"
)


def _all_caps(text: str) -> bool:
    """Titles and signature lines ('CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH') state no task."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 3 and all(c.isupper() for c in letters)


@dataclass
class _Table:
    """The columns of a Markdown table whose header names who leads."""

    task: int
    lead: int
    partners: int | None
    deadline: int | None
    output: int | None = None


def _cells(text: str) -> list[str]:
    return [c.strip() for c in text.strip().strip("|").split("|")]


def _table_header(text: str) -> _Table | None:
    """Columns of a header row such as 'TT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối
    hợp | Thời gian hoàn thành', or None when the row names no lead column."""
    cells = [fold(strip_markup(c)) for c in _cells(text)]
    if cells and re.match(r"^[\divx]+[.)]?$", cells[0]):
        return None  # a numbered row: data, even when its task says "chủ trì"
    # A header cell is a short label; a task that mentions "chủ trì" is not one.
    lead = next(
        (i for i, c in enumerate(cells) if "chu tri" in c and len(c.split()) <= MAX_HEADER_WORDS),
        None,
    )
    if lead is None:
        return None
    partners = next((i for i, c in enumerate(cells) if "phoi hop" in c and i != lead), None)
    # "Sản phẩm", "Kết quả đầu ra", "Sản phẩm/kết quả": what the task is to deliver.
    output = next(
        (
            i
            for i, c in enumerate(cells)
            if re.search(r"\b(?:san pham|ket qua)\b", c) and i not in (lead, partners)
        ),
        None,
    )
    deadline = next(
        (
            i
            for i, c in enumerate(cells)
            if re.search(r"thoi (?:gian|han)|tien do|hoan thanh", c) and i != output
        ),
        None,
    )
    named = (
        i for i, c in enumerate(cells) if re.search(r"nhiem vu|noi dung|cong viec|hoat dong", c)
    )
    taken = (lead, partners, deadline, output)
    others = (i for i, c in enumerate(cells) if i not in taken and len(c) > 3)
    task = next(named, None)
    task = task if task is not None else next(others, None)
    return None if task is None else _Table(task, lead, partners, deadline, output)


# Where one agency ends and the next begins in a cell or a labelled line: a separator
# before a word that opens an agency name, or a second "Bộ"/"Sở" with no separator.
_SPLIT_AGENCIES = re.compile(
    r"\s*;\s*|\s*,\s*(?=(?:bo|so|ban|ubnd|uy ban|van phong|cong an|thanh tra|ngan hang|"
    r"kho bac|dai|bao|tap doan|tong cong ty|cong ty|vien|trung tam|hoi|cac|vtv|vov|ttxvn)\b)"
    r"|\s+va\s+(?=cac\b)|(?<=[a-z])\s+(?=(?:bo|so) [a-z])"
)


def split_agencies(text: str) -> list[str]:
    """'Bộ Tài chính; các bộ, ngành' -> ['Bộ Tài chính', 'các bộ, ngành'] (as printed)."""
    text = strip_markup(text).strip(" .;,")
    folded = fold(text)
    if len(folded) != len(text):
        return [text] if text else []
    out, start = [], 0
    for m in _SPLIT_AGENCIES.finditer(folded):
        if folded[m.start() : m.end()].strip() == "" and not text[m.end() : m.end() + 1].isupper():
            continue  # "Bộ Kế hoạch và Đầu tư": a lower-case word goes on with the name
        out.append(text[start : m.start()])
        start = m.end()
    out.append(text[start:])
    return [a.strip(" .;,") for a in out if a.strip(" .;,")]


def _table_records(
    row: str, table: _Table, doc_id: str, section: str, page: int | None
) -> list[Assignment]:
    cells = _cells(row)
    if len(cells) <= max(table.task, table.lead):
        return []
    task = strip_markup(cells[table.task]).strip()
    leads = split_agencies(cells[table.lead])
    if not task or not leads:
        return []  # a group row ("**II.** | Hoàn thiện thể chế") or a row's continuation
    partners = (
        split_agencies(cells[table.partners])
        if table.partners is not None and table.partners < len(cells)
        else []
    )
    deadline = (
        strip_markup(cells[table.deadline]).strip()
        if table.deadline is not None and table.deadline < len(cells)
        else ""
    )
    output = (
        strip_markup(cells[table.output]).strip()
        if table.output is not None and table.output < len(cells)
        else ""
    )
    where = f"{section} › {cells[0]}".strip(" ›") if cells[0] else section
    records = [(a, LEAD) for a in leads] + [(p, COOPERATE) for p in partners if p not in leads]
    return [
        Assignment(
            doc_id=doc_id,
            agency=agency,
            role=role,
            task=task,
            text=task,
            section=where,
            page=page,
            stated_in=leads[0],
            deadline=deadline,
            output=output,
            via=VIA_TABLE,
        )
        for agency, role in records
    ]


# "8. Thành lập Đoàn kiểm tra ... (Giao Công an tỉnh chủ trì, phối hợp với Sở Tư pháp)":
# the bracket at the item's end says who leads the whole item.
_GIVEN_IN_BRACKETS = re.compile(r"\(\s*(?P<inner>(?:Giao|giao)\s[^()]+)\)\s*[.;]?\s*$")


def _given_in_brackets(text: str, gaz: _Gazetteer) -> list[tuple[str, str, str, str]]:
    """(agency, role, task, clause) for an item ending in "(Giao X chủ trì, phối hợp với Y)"."""
    plain = _ENUM_PREFIX.sub("", _BULLET_ITEM.sub("", strip_markup(text))).strip()
    m = _GIVEN_IN_BRACKETS.search(plain)
    if m is None:
        return []
    inner = m.group("inner")
    folded = fold(inner)
    if len(folded) != len(inner):
        return []
    names = gaz.find(folded)
    lead = _opening_agency(folded, names)
    if lead is None:
        return []
    task = plain[: m.start()].strip(" ,.;:")
    coop = _F_COOPERATE.search(folded)
    partners = [
        n
        for s, _, n in names
        if coop is not None and s >= coop.start() and n != lead and not fold(n).startswith("cac ")
    ]
    role = LEAD if _F_LEAD.search(folded) else ADVISE if _F_ADVISE.search(folded) else RESPONSIBLE
    return [(lead, role, task, plain)] + [(p, COOPERATE, task, plain) for p in partners]


def _agency_line(text: str) -> str | None:
    """The agency a line names and nothing else ('3. Sở Nội vụ'), else None."""
    plain = strip_markup(text).replace("**", "").strip()
    if len(plain.split()) > MAX_NAME_WORDS or plain.endswith((".", ";", ",", ":")):
        return None
    return agency_of_heading(plain)


def _colon_lead_in(text: str) -> tuple[str, str] | None:
    """'2. Sở Tài chính: Căn cứ ...' -> ('Sở Tài chính', 'Căn cứ ...'); None otherwise."""
    plain = strip_markup(text).replace("**", "")
    head, sep, rest = plain.partition(":")
    if not sep or len(head.split()) > MAX_NAME_WORDS:
        return None
    agency = agency_of_heading(head)
    if agency is None or fold(agency).startswith(("ban hanh", "ban chi dao")):
        return None
    return agency, rest.strip()


def extract_assignments(doc_id: str, blocks: Sequence[Sequence[Any]]) -> list[Assignment]:
    """Assignments in one document, from its blocks as ``[text, page, heading_level]``.

    Inside an agency's section every clause is that agency's task (role
    ``responsible`` when no role phrase is used); outside any agency section
    only clauses that name their agency (its subject, or the one before "chủ trì")
    count. The conventions of administrative writing read here:

    - an agency written before a colon ("2. Sở Tài chính: Căn cứ ...") owns the
      rest of its item and the bullets under it; an item that ends in a colon
      ("1. Sở X chỉ đạo Chi cục Y thực hiện các nội dung sau:") only announces
      its bullets, it is no task;
    - "Đơn vị chủ trì: X", "Đơn vị phối hợp: Y", "Thời gian hoàn thành: Z" lines
      label the task stated just before them;
    - a Markdown table whose header has a lead column ("Cơ quan chủ trì") gives
      one record per row, with its partner and deadline columns;
    - the closing line ("Trên đây là Kế hoạch ..."), recipients ("Nơi nhận") and
      signature state no task, up to the next heading or attached document.
    """
    blocks = _join_wrapped(as_lines(blocks))
    texts = [str(b[0]) for b in blocks]
    headings = [str(b[0]) for b in blocks if b[2] is not None]
    names = (
        *KNOWN_AGENCIES,
        *data_agencies(),
        *(a for h in headings if (a := agency_of_heading(h))),
        *pattern_agencies(texts),
    )
    aliases = document_abbreviations(texts, names)
    gaz = _Gazetteer(names, aliases) if aliases else _gazetteer(names)
    stack: list[tuple[int, str, str | None]] = []  # (level, heading text, agency)
    out: list[Assignment] = []
    closing = False
    table: _Table | None = None
    item_owner: str | None = None  # the agency an item's lead-in gave its bullets
    item_rank = 9  # the numbering level of that item
    item_via = VIA_SECTION  # how that item named its agency
    last: list[Assignment] = []  # the records of the task stated last
    last_text = ""  # that task's wording, for a labelled lead line with no records yet
    last_where: tuple[str, int | None] = ("", None)
    recent: list[tuple[str, list[tuple[int, int]]]] = []  # the blocks read last, newest last
    for text, page, level, segments in blocks:
        text = str(text)
        # The records of the block before know their span once it is read.
        _place(out, recent)
        recent = [*recent[-(_SPAN_LOOKBACK - 1) :], (text, segments)]
        if level is not None:
            # "#### Nơi nhận:" may be marked up as a heading; it still closes the text.
            closing, table, item_owner = bool(_F_CLOSING.match(fold(text))), None, None
            if level == 0:
                # "Luật An ninh mạng 2018 – Điều 36. Trách nhiệm của Bộ Công an": a file
                # holding one article is titled by it, and the article owns its clauses.
                titled = _TITLE_ARTICLE.search(text)
                named = agency_of_heading(text[titled.end() :]) if titled else None
                if named is not None:
                    stack = [(0, text, named)]
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text, agency_of_heading(text)))
            continue
        if _ATTACHED.match(text):
            closing, item_owner = False, None
        if closing or _F_CLOSING.match(fold(text)):
            closing = True
            continue
        section = " › ".join(h for _, h, _ in stack)
        stripped = text.strip()
        if stripped.startswith("|"):
            if set(stripped) <= set("|-: "):
                continue  # the row under a header
            if header := _table_header(stripped):
                table = header
                continue
            if table is not None:
                out.extend(_table_records(stripped, table, doc_id, section, page))
                continue
        else:
            table = None
        labelled = _labelled_lines(text)
        if labelled is not None:
            body, labels = labelled
            if body:
                last, last_text, last_where = [], body, (section, page)
            else:
                body = ""
            added = _apply_labels(labels, last, last_text, last_where, doc_id, out)
            out.extend(added)
            last = [*added, *(a for a in last if a in out)]
            if not body:
                continue
            text = body
        bullet = bool(_BULLET_ITEM.match(text))
        rank = enumerator_level(strip_markup(text))
        if rank is not None:
            # "5. ..." read as text still ends the section "4. Sở X" opened: a numbered
            # item closes the headings of its rank and below (an article's clauses excepted).
            while stack and stack[-1][0] >= rank and not stack[-1][1].startswith("Điều"):
                stack.pop()
            section = " › ".join(h for _, h, _ in stack)
        article = bool(_ARTICLE_LINE.match(strip_markup(text)))
        if rank is not None and (rank <= item_rank or article):
            # The next item of the lead-in's rank; its lettered sub-items ("b) ...") and
            # wrapped lines stay with the agency their item names.
            item_owner = None
        if _F_EXECUTION.search(fold(text)):
            out.extend(_execution_records(text, doc_id, section, page, gaz))
            continue
        if _all_caps(strip_markup(text)):
            continue
        owner = item_owner or next((a for _, _, a in reversed(stack) if a), None)
        owner_via = item_via if item_owner is not None else VIA_SECTION
        if owner is not None and item_owner is None:
            heading = next(h for _, h, a in reversed(stack) if a)
            if _TITLE_ARTICLE.search(heading):
                owner_via = VIA_ARTICLE
        if not bullet and (named := _agency_line(text)):
            # "**4. Trung tâm Chuyển đổi số Thành phố**" read as text, not as a heading:
            # it still heads the items that follow.
            item_owner, item_rank = named, rank if rank is not None else 9
            item_via = VIA_ARTICLE if article else VIA_SECTION
            if article:
                # "Điều 4. Trách nhiệm của UBND huyện" as text: its clauses ("1.", "a)")
                # are the article's, up to the next article.
                item_rank = 0
            continue
        if lead_in := _colon_lead_in(text):
            item_rank = rank if rank is not None else 9
            owner, text = lead_in
            item_owner, item_via = owner, VIA_SECTION
            if not text:
                continue
        elif (
            strip_markup(text).rstrip().endswith(":")
            and not bullet
            and not _has_role(text)
            and len(_SENTENCE_SPLIT.split(_ENUM_PREFIX.sub("", strip_markup(text)))) == 1
        ):
            # "1. Sở X chỉ đạo Chi cục Y thực hiện các nội dung sau:": the bullets
            # that follow are the announced agency's tasks; the line is none itself.
            folded = fold(strip_markup(text))
            if len(folded) == len(strip_markup(text)):
                announced = _opening_agency(folded, gaz.find(folded))
                if announced is not None:
                    item_owner, item_rank = announced, rank if rank is not None else 9
                    item_via = VIA_SECTION
            continue
        if given := _given_in_brackets(text, gaz):
            found = [
                Assignment(
                    doc_id=doc_id,
                    agency=agency,
                    role=role,
                    task=task,
                    text=clause,
                    section=section,
                    page=page,
                    stated_in=given[0][0],
                    via=VIA_BRACKETS,
                )
                for agency, role, task, clause in given
            ]
            out.extend(found)
            last, last_text, last_where = found, strip_markup(text), (section, page)
            continue
        found = []
        # A plan's numbered parts and items state duties by their subject; a news
        # article's prose ("UBND tỉnh đã tổ chức ...") reports, so only "chủ trì" counts there.
        subjects = bool(stack) or rank is not None or bullet
        for clause in _clauses(text):
            for agency, role, task, stated_in in _assign_clause(clause, owner, gaz, subjects):
                found.append(
                    Assignment(
                        doc_id=doc_id,
                        agency=agency,
                        role=role,
                        task=task,
                        text=clause,
                        section=section,
                        page=page,
                        stated_in=stated_in,
                        via=owner_via if owner is not None else VIA_SENTENCE,
                    )
                )
        out.extend(found)
        last, last_text, last_where = found, strip_markup(text), (section, page)
    _place(out, recent)
    return _complete(out)


_SENTENCE_END = re.compile(r"[.;:!?…)\]\"”*]\s*$")
_ITEM_START = re.compile(
    r"^\s*(?:[-+•–|]|\*(?!\*)|\*\*(?=[IVX\d]+[.)])|(?:[IVX]+|\d+(?:\.\d+)*(?:\.[a-zđ])?|[a-zđ])[.)]\s)",
    re.I,
)


def _join_wrapped(blocks: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Blocks with a printed line's wrap undone: converters keep the hard line breaks of
    the page ("... phối hợp với Đài truyền hình Việt Nam, Tập đoàn" / "Công nghiệp - Viễn
    thông Quân đội, ..."), so a body line that opens no item continues a body line that
    ended mid-sentence.

    Each is ``[text, page, level, segments]``; ``segments`` maps the joined text back to
    the stored blocks: ``(block index, where that block's text starts in it)``."""
    out: list[list[Any]] = []
    for n, (text, page, level, *_) in enumerate(blocks):
        text = str(text)
        prev = out[-1] if out else None
        if (
            prev is not None
            and level is None
            and prev[2] is None
            and not _SENTENCE_END.search(prev[0])
            and not _ITEM_START.match(text)
            and not prev[0].lstrip().startswith("|")
            and not _all_caps(prev[0])
            # Both open a line: their first words decide (fold is the costly part).
            and not _F_LABELLED.match(fold(_BULLET_ITEM.sub("", strip_markup(text[:60]))))
            and not _F_CLOSING.match(fold(text[:40]))
        ):
            at = len(prev[0]) + 1
            # The stripped text starts that many characters into the stored block.
            prev[3].append((n, at - (len(text) - len(text.lstrip()))))
            prev[0] = f"{prev[0]} {text.strip()}"
            continue
        out.append([text, page, level, [(n, 0)]])
    return out


def _labelled_lines(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(the task before, [(kind, value)]) for a block holding "Đơn vị chủ trì: X" lines."""
    plain = _BULLET_ITEM.sub("", strip_markup(text))
    folded = fold(plain)
    if len(folded) != len(plain):
        return None
    marks = list(_F_LABELLED.finditer(folded))
    body = plain[: marks[0].start()].strip(" ;.") if marks else ""
    # A deadline inside a sentence is the sentence's; on its own line, or beside a
    # labelled lead, it labels the task before.
    if not marks or (body and not any(m.group("kind") for m in marks)):
        return None
    labels = []
    for m, nxt in zip(marks, [*marks[1:], None], strict=True):
        value = plain[m.end() : nxt.start() if nxt else len(plain)].strip(" ;.")
        kind = m.group("kind") or ("output" if m.group("output") else "time")
        labels.append((kind, value))
    return body, labels


def _apply_labels(
    labels: list[tuple[str, str]],
    last: list[Assignment],
    last_text: str,
    where: tuple[str, int | None],
    doc_id: str,
    out: list[Assignment],
) -> list[Assignment]:
    """Records for the task stated before "Đơn vị chủ trì: X" lines; the section owner's
    own records of that task give way to the lead the line names."""
    leads = [a for kind, v in labels if kind == "chu tri" for a in split_agencies(v)]
    partners = [a for kind, v in labels if kind == "phoi hop" for a in split_agencies(v)]
    deadline = next((v for kind, v in labels if kind == "time"), "")
    output = next((v for kind, v in labels if kind == "output"), "")
    if not last_text:
        return []
    if not (leads or partners):
        for a in last:
            a.deadline = a.deadline or deadline
            a.output = a.output or output
        return []
    if leads:
        stale = {id(a) for a in last if a.role in (RESPONSIBLE, LEAD)}
        out[:] = [a for a in out if id(a) not in stale]
    plain = _ENUM_PREFIX.sub("", _BULLET_ITEM.sub("", last_text)).strip(" ,.;:")
    task = last[0].task if last else plain
    text = last[0].text if last else plain
    records = [(a, LEAD) for a in leads] + [(p, COOPERATE) for p in partners]
    stated_in = leads[0] if leads else (last[0].stated_in if last else partners[0])
    return [
        Assignment(
            doc_id=doc_id,
            agency=agency,
            role=role,
            task=task,
            text=text,
            section=where[0],
            page=where[1],
            stated_in=stated_in,
            deadline=deadline,
            output=output,
            via=VIA_LABELLED,
        )
        for agency, role in records
    ]


_ARTICLE_LINE = re.compile(r"^[#*\s]*Điều\s+\d+[a-zđ]?\s*[.:]")
# An article heading, or a title ending in one ("Luật … – Điều 36. …").
_TITLE_ARTICLE = re.compile(r"(?:^[#*\s]*|\s[–-]\s+)(?=Điều\s+\d+[a-zđ]?\s*[.:])")


# How many blocks back a record's clause is looked for (a labelled line's task is the
# item just before it, a wrapped item a few blocks).
_SPAN_LOOKBACK = 6


def _span_in(text: str, clause: str) -> tuple[int, int] | None:
    """[start, end) of ``clause`` in ``text``, markup between its words allowed."""
    at = text.find(clause)
    if at >= 0:
        return at, at + len(clause)
    words = [w.strip("*") for w in clause.split()]
    words = [w for w in words if w]
    if not words:
        return None
    loose = re.compile(r"[\s*_]+".join(re.escape(w) for w in words))
    m = loose.search(text)
    return (m.start(), m.end()) if m else None


def _stored(segments: list[tuple[int, int]], at: int) -> tuple[int, int]:
    """(stored block, offset in it) of offset ``at`` in a joined text."""
    block, start = segments[0]
    for n, offset in segments:
        if offset <= at:
            block, start = n, offset
    return block, at - start


def _place(out: list[Assignment], recent: list[tuple[str, list[tuple[int, int]]]]) -> None:
    """Give the records found last their source span, in the newest block holding them."""
    if not recent:
        return
    for a in reversed(out):
        if a.block is not None:
            break
        found = (
            (span, segments)
            for text, segments in reversed(recent)
            if (span := _span_in(text, a.text)) is not None
        )
        # Else cut from the block as a whole (a table cell's task, a rewritten clause).
        span, segments = next(found, ((0, len(recent[-1][0])), recent[-1][1]))
        a.block, a.start = _stored(segments, span[0])
        a.block_end, a.end = _stored(segments, span[1])


# Titles before the bodies an execution article lists ("Giám đốc Sở X", "Chủ tịch UBND
# các huyện"); "Chánh" heads an office or inspectorate that keeps its own name.
_TITLES = (
    r"(?:tổng giám đốc|phó giám đốc|giám đốc|chủ tịch|thủ trưởng|trưởng ban|bộ trưởng"
    r"|cục trưởng|chi cục trưởng|vụ trưởng|viện trưởng|hiệu trưởng|chỉ huy trưởng"
    r"|người đứng đầu|chánh)"
)
_EXECUTION_ITEM = re.compile(
    rf"\s*;\s*|\s*,\s*(?=(?:các\s+)?{_TITLES}\s)"
    r"|\s*,\s*(?=(?:Sở|Bộ|Ban|UBND|Ủy ban|Uỷ ban|Văn phòng|Công an|Cục|Vụ|Đài|Báo|Hội"
    r"|Kho bạc|Thanh tra|Trung tâm|Công ty|Tổng công ty|Tập đoàn)\s+[A-ZĐÀ-Ỹ])"
    rf"|\s+và\s+(?=(?:các\s+)?{_TITLES}\s|các\s)",
    re.I,
)
_TITLE_PREFIX = re.compile(rf"^(?:các\s+)?{_TITLES}\s+", re.I)
# What else an execution article lists: a ministry's departments and institutes ("Vụ
# Kế hoạch", "Viện …"), the Government's kinds of body ("Thủ trưởng cơ quan ngang bộ"),
# and a group defined by whom it belongs to ("các cơ quan, đơn vị trực thuộc UBND …";
# "các cơ quan có liên quan" names no one).
_F_EXECUTION_BODY = re.compile(
    r"^(?:(?:vu|vien) \S|co quan (?:ngang bo|thuoc chinh phu)\b"
    r"|cac (?:co quan|don vi)\b(?!.*\blien quan\b).*\b(?:truc thuoc|thuoc|tinh|thanh pho)\b)"
)


def _shared_names(head: str, listed: str, gaz: _Gazetteer) -> list[str]:
    """'Sở', 'Văn hóa, Thể thao và Du lịch, Tài chính' -> the two Sở: commas part the names,
    except inside a name the gazetteer knows whole."""
    parts = [p.strip(" .;,") for p in listed.split(",")]
    out = []
    i = 0
    while i < len(parts):
        j = next(
            (
                j
                for j in range(len(parts), i + 1, -1)
                if fold(f"{head} {', '.join(parts[i:j])}") in gaz.by_fold
            ),
            i + 1,
        )
        name = ", ".join(parts[i:j])
        if name[:1].isupper():
            out.append(f"{head} {name}")
        i = j
    return out


def _execution_records(
    text: str, doc_id: str, section: str, page: int | None, gaz: _Gazetteer
) -> list[Assignment]:
    """'Điều 3. Chánh Văn phòng UBND tỉnh, Giám đốc các Sở: Tài chính, Y tế; Chủ tịch UBND
    các huyện … chịu trách nhiệm thi hành Quyết định này.': one ``execute`` record for each
    body the list names, as printed, without its head's title."""
    plain = _ENUM_PREFIX.sub("", _BULLET_ITEM.sub("", strip_markup(text))).strip()
    plain = re.sub(r"^Điều\s+\d+[a-zđ]?\s*[.:]\s*", "", plain)
    folded = fold(plain)
    cue = _F_EXECUTION.search(folded)
    if cue is None or len(folded) != len(plain):
        return []
    names: list[str] = []
    for item in _EXECUTION_ITEM.split(plain[: cue.start()].strip(" ,;")):
        item = item.strip(" ,;.")
        if fold(item) in ("bo truong", "cac bo truong"):
            names.append("Các Bộ")  # "Các Bộ trưởng": the ministers, for their ministries
            continue
        item = _TITLE_PREFIX.sub("", item)
        if m := _SHARED_HEAD.search(item):
            head = m.group(1)[:1].upper() + m.group(1)[1:]
            names += _shared_names(head, m.group(2), gaz)
            continue
        named = agency_of_heading(item) is not None or _F_EXECUTION_BODY.match(fold(item))
        if named and len(item.split()) <= MAX_NAME_WORDS and item[:1].isalpha():
            names.append(item[:1].upper() + item[1:])
    if not names:
        return []
    task = plain[cue.start() :].strip(" ./;")
    task = re.sub(r"^(?:chịu|có) trách nhiệm\s+", "", task)
    task = task[:1].upper() + task[1:]
    unique = list(dict.fromkeys(names))
    return [
        Assignment(
            doc_id=doc_id,
            agency=name,
            role=EXECUTE,
            task=task,
            text=plain,
            section=section,
            page=page,
            stated_in=unique[0],
            via=VIA_EXECUTION,
        )
        for name in unique
    ]


def inline_deadline(clause: str) -> str:
    """'… báo cáo UBND tỉnh trước ngày 15/12/2025.' -> 'trước ngày 15/12/2025'; '' if none."""
    folded = fold(clause)
    if len(folded) != len(clause):
        return ""
    m = _F_DEADLINE.search(folded.lower())
    return clause[m.start("due") : m.end("due")] if m else ""


def _complete(out: list[Assignment]) -> list[Assignment]:
    """Each record as a whole task: the lead and partners of its clause, a deadline the
    clause states, and its section path."""
    groups: dict[tuple[str, str], list[Assignment]] = {}
    for a in out:
        groups.setdefault((a.section, a.text), []).append(a)
    for group in groups.values():
        leads = [a.agency for a in group if a.role in IN_CHARGE]
        lead = leads[0] if leads else ""
        partners = list(dict.fromkeys(a.agency for a in group if a.role == COOPERATE))
        deadline = next((a.deadline for a in group if a.deadline), "") or inline_deadline(
            group[0].text
        )
        output = next((a.output for a in group if a.output), "")
        for a in group:
            if a.role == EXECUTE:
                continue
            a.lead = a.lead or (a.agency if a.role in IN_CHARGE else lead)
            a.partners = [p for p in partners if p != a.lead]
            a.deadline = a.deadline or deadline
            a.output = a.output or output
    for a in out:
        a.section_path = [strip_markup(h.lstrip("# ")) for h in a.section.split(" › ") if h]
    return out


def locate_chunks(assignments: list[Assignment], chunk_texts: Sequence[str]) -> None:
    """Set each assignment's ``chunk`` to the ordinal of the first chunk holding its clause."""
    folded = [" ".join(fold(t).split()) for t in chunk_texts]
    for a in assignments:
        probe = " ".join(fold(a.text).split())
        for n, text in enumerate(folded):
            if probe in text or probe[:80] in text:
                a.chunk = n
                break
