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
from dataclasses import asdict, dataclass
from typing import Any

from ingest.structure import strip_markup
from ingest.text import fold

LEAD, COOPERATE, FOCAL, ADVISE, RESPONSIBLE = "lead", "cooperate", "focal", "advise", "responsible"
ROLES = (LEAD, COOPERATE, FOCAL, ADVISE, RESPONSIBLE)

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
)
_ENUM_PREFIX = re.compile(r"^(?:[IVX]+|\d+(?:\.\d+)*|[a-zđ])[.)]\s+", re.I)
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Assignment:
        return cls(**data)


def agency_of_heading(heading: str) -> str | None:
    """'6. Sở Xây dựng' -> 'Sở Xây dựng'; None for headings that name no agency."""
    name = _ENUM_PREFIX.sub("", strip_markup(heading)).strip().rstrip(":").strip()
    # "Sở Tài chính (STC)": the abbreviation is read by document_abbreviations.
    name = _ABBREVIATION_AFTER.sub("", name).strip()
    folded = fold(name)
    if not folded.startswith(_AGENCY_HEADS):
        return None
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
    clause: str, owner: str | None, gaz: _Gazetteer
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
    if lead is not None:
        # "Sở X chủ trì, ...": a name right before "chủ trì" is the one leading.
        before = [n for n in names if n[1] <= lead.start() and lead.start() - n[1] <= 40]
        if before and (owner is None or before[-1][2] != owner):
            subject = before[-1][2]
    if subject is None:
        return []
    marks = [m for m in (focal, lead, coop, advise) if m is not None]
    partners = [n for n in names if n[2] != subject and coop is not None and n[0] >= coop.start()]
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
    if not marks and owner is not None:
        out.append((subject, RESPONSIBLE, task, stated_in))
    return out


def extract_assignments(doc_id: str, blocks: Sequence[Sequence[Any]]) -> list[Assignment]:
    """Assignments in one document, from its blocks as ``[text, page, heading_level]``.

    Inside an agency's section every clause is that agency's task (role
    ``responsible`` when no role phrase is used); outside any agency section
    only clauses that name their agency before "chủ trì" count.
    """
    headings = [str(b[0]) for b in blocks if b[2] is not None]
    names = (*KNOWN_AGENCIES, *(a for h in headings if (a := agency_of_heading(h))))
    aliases = document_abbreviations([str(b[0]) for b in blocks], names)
    gaz = _Gazetteer(names, aliases) if aliases else _gazetteer(names)
    stack: list[tuple[int, str, str | None]] = []  # (level, heading text, agency)
    out: list[Assignment] = []
    for text, page, level in blocks:
        if level is not None:
            if level == 0:
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, str(text), agency_of_heading(str(text))))
            continue
        owner = next((a for _, _, a in reversed(stack) if a), None)
        section = " › ".join(h for _, h, _ in stack)
        for clause in _clauses(str(text)):
            for agency, role, task, stated_in in _assign_clause(clause, owner, gaz):
                out.append(
                    Assignment(
                        doc_id=doc_id,
                        agency=agency,
                        role=role,
                        task=task,
                        text=clause,
                        section=section,
                        page=page,
                        stated_in=stated_in,
                    )
                )
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
