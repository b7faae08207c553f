"""Reading helpers every answer kind shares: cue patterns, focus, tense, units, spans."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, replace

from index.store import Snapshot, StoredDocument
from ingest.assignments import (
    Assignment,
)
from ingest.metadata import PROVINCES
from ingest.text import fold
from search.answers.model import AnswerItem, Passage, _DocInfo, shorten
from search.glossary import folded_phrase, glossary
from search.query import QueryKind
from search.question import (
    AnswerType,
    Question,
    counted_thing,
)
from search.spans import (
    Clause,
    Span,
    clauses,
    dates,
    people,
    proper_names,
    quantities,
)

# Cue words of what an agreement contains, and of a document's signature.
_AGREEMENT_CUE = re.compile(
    r"\b(?:theo (?:thoa thuan|bien ban ghi nho)|hai ben (?:se|cung)|cac ben se"
    r"|se (?:phoi hop|hop tac|nghien cuu|thuc day|dau tu|ho tro|tich cuc)|phat dong|tai tro)\b"
)


_SIGNATURE = re.compile(r"^(?:tm|kt|tl|q)\. ")


_SIGN_QUESTION = re.compile(
    r"\b(?:ai ky|nguoi ky|ky boi|ky ke hoach|who signed|signed by|signer|signatory)\b"
)


_SIGNATURE_SECTION = "Chữ ký"


# Lines that cite documents rather than set anything out: the legal bases, the proposal.
_BASIS_LINE = re.compile(
    r"(?:can cu|theo de nghi|xet de nghi|theo to trinh|(?:ban hanh )?kem theo)\b"
)


# "… số 107/TTr-SGDĐT ngày ", "… số 254/QĐ-UBND, ngày ": a cited document's number; its
# kind may stand in for "số" ("Nghị định 156/2018/NĐ-CP ngày 16 tháng 11 năm 2018"), and
# the letters of its issuer after a slash mark it alone ("(theo Hướng dẫn 7886/HD-BNV ngày ").
_AFTER_NUMBER = re.compile(
    r"(?:\b(?:so:?|nghi dinh|quyet dinh|thong tu|nghi quyet|chi thi|cong van|cong dien"
    r"|to trinh)\s*\d+[\w./-]*/[\w./-]+"
    r"|(?<![\w/])\d+(?:/\d{2,4})*/[a-z]+(?:[-.][a-z0-9]+)*)"
    r",?\s*(?:ngay|,)?\s*$"
)


# "ban hành ngày nào", "ký ngày nào", "issued when": the date of a document is asked.
_ASKS_ISSUE = re.compile(r"\b(?:ban hanh|ky ngay|ky vao|issued|signed on|dated|so hieu)\b")


_AGREEMENT_WORDS = re.compile(
    r"\b(?:ky ket|hop tac|thoa thuan|ghi nho|cooperation|agreement|memorand\w*|partnership)\b"
)


# A signer's name closing a signature block: two to five capitalised syllables.
_UPPER = "A-ZĐÀ-ỸÁÉÍÓÚÝ"


_SIGNED_NAME = re.compile(rf"((?:[{_UPPER}][a-zđà-ỹ]+\s+){{1,4}}[{_UPPER}][a-zđà-ỹ]+)\s*$")


# The offices printed above a signature ("PHÓ CHỦ TỊCH", "THỦ TƯỚNG", "GIÁM ĐỐC").
_OFFICE = re.compile(
    r"(?:PHÓ\s+)?(?:CHỦ TỊCH|THỦ TƯỚNG|BỘ TRƯỞNG|THỨ TRƯỞNG|GIÁM ĐỐC|CỤC TRƯỞNG|VỤ TRƯỞNG|"
    r"TRƯỞNG BAN|CHÁNH VĂN PHÒNG|TỔNG GIÁM ĐỐC|BÍ THƯ|HIỆU TRƯỞNG)"
)


# Share of what a figure or date question asks about (its single content words) that the
# answering clause and its lead-in must hold. On the corpus sets every right figure or date
# clause holds at least half; clauses picked for questions the documents cannot answer
# mostly hold under a third.
FOCUS_FLOOR = 0.4
# Added to a figure followed by what the question counts ("07 cửa sông" for "how many river
# mouths"): of a clause's figures, the one that counts it; of a list's lines ("Cửa sông Mã:
# lấy mẫu 01 vị trí"), not the one that merely names it.
COUNTED_BONUS = 0.03


_TYPED = (AnswerType.QUANTITY, AnswerType.DATE, AnswerType.PERSON, AnswerType.PLACE)


_PLACES = frozenset(folded_phrase(p) for p in PROVINCES)


def _unique_sentences(text: str) -> list[Clause]:
    seen: dict[str, Clause] = {}
    for c in clauses(text):
        seen.setdefault(c.sentence, c)
    return [c for c in seen.values() if len(c.sentence) >= 12]


def _cites_document(clause: Clause, span: Span) -> bool:
    """True when a figure or date belongs to a document the clause cites, not to what the
    clause sets out. Vietnamese administrative writing cites a document as "<kind> số
    <number> ngày <date>": the bases ("Căn cứ Luật …; Căn cứ Quyết định số … ngày …"), the
    proposal ("Theo đề nghị của … tại Tờ trình số … ngày …") and an attachment's caption
    ("Kèm theo Quyết định số … ngày …") are such citations. A date right after a
    document number is that document's date, and a figure in a basis or a proposal is one
    of its article or document numbers."""
    if _BASIS_LINE.match(fold(clause.sentence.lstrip(" (-–•*"))):
        return True
    before = fold(clause.text[: span.start])[-40:]
    return bool(_AFTER_NUMBER.search(before))


def _asks_signer(folded: str) -> bool:
    """Who signed a document ("ai ký quyết định …"), not who concluded an agreement ("ai
    ký kết hợp tác …", "who signed the cooperation"): the parties of an agreement are named
    in its text, not in a signature block."""
    return bool(_SIGN_QUESTION.search(folded)) and not _AGREEMENT_WORDS.search(folded)


def _signature_of(snap: Snapshot, doc: StoredDocument) -> tuple[str, str, str] | None:
    """(signer, title, signature block) of an official document: the header's signer when
    the header reader found one, else the first block the document model reads as a
    signature whose last words are a name ("KT. CHỦ TỊCH PHÓ CHỦ TỊCH Hoàng Việt Phương")."""
    blocks = [" ".join(str(b[0]).split()) for b in snap.blocks_of(doc.doc_id)
              if len(b) > 3 and isinstance(b[3], dict) and b[3].get("kind") == "signature"]  # fmt: skip
    signer = str(doc.header.get("signer") or "")
    if signer:
        title = str(doc.header.get("signer_title") or "")
        key = fold(signer)
        block = next((b for b in blocks if key in fold(b)), "")
        if not block:
            block = " ".join(x for x in (doc.header.get("signature_block", ""), signer) if x)
        return signer, title, block.replace(" / ", " ")
    for block in blocks:
        m = _SIGNED_NAME.search(block)
        if m is None:
            continue
        name = m.group(1)
        office = block[: m.start(1)].split(".")[-1].strip()
        office = office.rsplit("  ", 1)[-1]
        # "KT. CHỦ TỊCH PHÓ CHỦ TỊCH": the signer's own office is the last one printed.
        titles = _OFFICE.findall(office)
        title = titles[-1].strip().capitalize() if titles else ""
        return name, title, block
    return None


def _rank(passages: Sequence[Passage], doc_id: str, ordinal: int | None) -> float:
    """1 / (1 + position) of the passage (``ordinal`` None: of the document's best passage)
    among the retrieved ``passages``; 0 when retrieval did not return it."""
    for i, p in enumerate(passages):
        if p.doc_id == doc_id and (ordinal is None or p.ordinal == ordinal):
            return 1.0 / (1 + i)
    return 0.0


def _focus_terms(terms: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """What a question asks about: what is counted, dated or done ("xe buýt", "báo cáo"),
    each word once (without the adjacent pairs that repeat a Vietnamese question's words;
    an English word's Vietnamese renderings stay one group) and without years."""
    singles = {alt for g in terms for alt in g if " " not in alt}
    return [
        g
        for g in terms
        if g
        and not (len(g) == 1 and " " in g[0] and set(g[0].split()) <= singles)
        and not any(alt.isdigit() for alt in g)
    ]


def _documents(snap: Snapshot) -> list[StoredDocument]:
    """The version's documents without their blocks, read once per version."""

    def load(s: Snapshot) -> list[StoredDocument]:
        return [replace(d, blocks=[]) for d in s.documents()]

    docs: list[StoredDocument] = snap.derived("answer-documents", load)
    return docs


# Question types that ask for no span: a clause answering them is matched by its words only.
_UNTYPED = (AnswerType.OTHER.value, AnswerType.PLACE.value)


def _numbered(passages: list[Passage]) -> list[Passage]:
    out = []
    for i, p in enumerate(passages):
        out.append(Passage(**{**asdict(p), "n": i + 1}))
    return out


def _without_number(q: Question, words: frozenset[str]) -> Question:
    """``q`` without the document number it names: the number picked the document (as a
    province does), and a sentence of it that repeats the number ("Số: 1658/QĐ-TTg")
    answers nothing. An English question names the number's kind in English ("Decision
    213/2025/QD-UBND"), which its terms hold in the documents' words ("quyet dinh")."""
    if q.english:
        gloss = glossary()
        words = words | {
            part for w in words for alt in gloss.english_term(w) or () for part in fold(alt).split()
        }
    terms = tuple(g for g in q.terms if not all(set(alt.split()) <= words for alt in g))
    return replace(q, doc_numbers=(), terms=terms)


# A question for plans ("những kế hoạch nào", "which plans"), folded.
_PLANS_ASKED = re.compile(r"\b(?:ke hoach|plans?)\b")


def _is_plan(doc: StoredDocument) -> bool:
    return doc.header.get("document_type") == "Kế hoạch" or doc.doc_type == "plan"


def _cite_index(cited: list[tuple[str, int]], key: tuple[str, int]) -> int:
    if key not in cited:
        cited.append(key)
    return cited.index(key) + 1


def _diversified(passages: list[Passage], k: int) -> list[Passage]:
    """The best passage of each document first, then the rest, cut to ``k``."""
    firsts: dict[str, Passage] = {}
    for p in passages:
        firsts.setdefault(p.doc_id, p)
    lead = list(firsts.values())
    rest = [p for p in passages if p not in lead]
    return (lead + rest)[:k]


_QUESTION_WORDS = re.compile(
    r"\b(?:ai|gi|nao|dau|sao|the nao|nhu the nao|bao gio|khong|what|who|which|where|when|why"
    r"|how|whom|whose|is|are|does|do|did)\b"
)


def _bare(q: Question) -> bool:
    """A topic typed as a search, with no question word ("số khu công nghiệp đồng nai")."""
    return not _QUESTION_WORDS.search(folded_phrase(q.text))


def _names_place(info: _DocInfo, place: str) -> bool:
    """The document names ``place`` ("Nhật Bản"), capitalised as a name is."""
    words = folded_phrase(place).split()
    return f" {' '.join(words)} " in info.folded and all(w in info.capitals for w in words)


def _heading_match(terms: Sequence[Sequence[str]], section: str) -> float:
    """Share of the words of a passage's own heading that the question uses: "nguồn vốn
    thực hiện" asks for what sits under "VI. Nguồn vốn thực hiện"."""
    heading = section.split(" › ")[-1] if section else ""
    words = [w for w in folded_phrase(heading).split() if not w.isdigit() and len(w) > 1]
    if len(words) < 2:
        return 0.0
    asked = {w for g in terms for p in g for w in p.split()}
    return sum(1 for w in words if w in asked) / len(words)


def _years_agree(years: tuple[str, ...], text: str) -> bool:
    """A clause about 2050 does not answer a question about 2030; one with no year may."""
    found = set(re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text))
    return not found or bool(found & set(years))


# How plans tell a target from the present state, folded: "phấn đấu đến năm 2030 đạt 50%",
# "mục tiêu", "chỉ tiêu" against "hiện nay", "hiện có", "đã đạt", "tính đến".
_TARGET_WORDS = re.compile(
    r"\b(?:muc tieu|phan dau|chi tieu|den nam|toi nam|vao nam|se dat|phai dat|dinh huong"
    r"|targets?|goals?|aims?|by (?:19|20)\d\d|will)\b"
)


_CURRENT_WORDS = re.compile(
    r"\b(?:hien nay|hien co|hien tai|hien da|da co|da dat|dang co|tinh den|hien"
    r"|currently|current|now|so far|existing|at present|to date|already)\b"
)


def _tense(folded: str) -> str | None:
    """ "target" or "current" when the text says only one of them, else None."""
    target = bool(_TARGET_WORDS.search(folded))
    current = bool(_CURRENT_WORDS.search(folded))
    return "target" if target and not current else "current" if current and not target else None


def _tense_agrees(asked: str | None, text: str) -> bool:
    """A clause that states only the present does not answer for a target, and back; one
    that says neither (or both) may answer either."""
    said = _tense(folded_phrase(text))
    return asked is None or said is None or said == asked


def _near(terms: Sequence[Sequence[str]], text: str, span: Span) -> float:
    """How closely the question's words surround ``span``: per term, 1 inside it, falling to
    0 at 80 characters away; a word behind a semicolon or bracket belongs to another part of
    the sentence and counts as 40 characters further, behind a comma 15 ("sơ kết giữa kỳ
    vào năm 2025, tổng kết thực hiện vào năm 2030")."""
    lowered = fold(text)
    hard = [m.start() for m in re.finditer(r"[;()]", text)]
    soft = [m.start() for m in re.finditer(r",", text)]

    def apart(a: int, b: int) -> int:
        """Extra distance for the punctuation between positions ``a`` and ``b``."""
        lo, hi = min(a, b), max(a, b)
        return 40 * sum(lo < c < hi for c in hard) + 15 * sum(lo < c < hi for c in soft)

    score = 0.0
    for group in terms:
        best = 0.0
        for phrase in group:
            # A term is folded words joined by spaces; in the text they may be joined by a
            # slash or a hyphen too: "882 qd ttg" is "882/QĐ-TTg", the number a question names.
            words = r"[^\w,;()]+".join(re.escape(w) for w in phrase.split())
            for m in re.finditer(rf"(?<!\w){words}(?!\w)", lowered):
                if m.start() >= span.start and m.end() <= span.end:
                    distance = 0
                elif m.end() <= span.start:
                    distance = span.start - m.end()
                else:
                    distance = max(0, m.start() - span.end)
                distance += apart(m.start(), span.start)
                best = max(best, 1.0 - min(distance, 80) / 80)
        score += best
    return score


def _counts(q: Question, text: str, span: Span) -> bool:
    """Whether the figure ``span`` is followed by what ``q`` counts: "198 dự án", "ba (03)
    thủ tục hành chính", "tối thiểu 10 năm"."""
    words = folded_phrase(text[span.start :]).split()
    first = next((i for i, w in enumerate(words[:4]) if any(ch.isdigit() for ch in w)), None)
    if first is None or not q.counted:
        return False
    rest = first
    while rest < len(words) and any(ch.isdigit() for ch in words[rest]):
        rest += 1  # "5 000": a figure folded with its separator
    after = " ".join(words[rest : rest + 6]) + " "
    return any(after.startswith(f"{alt} ") for alt in q.counted)


_ASKS_DAY = re.compile(r"\b(?:ngay nao|ngay may|what date|which day|what day|date)\b")


_ASKS_YEAR = re.compile(r"\b(?:nam nao|nam may|which year|what year|year)\b")


# "từ tháng nào đến tháng nào", "từ khi nào đến khi nào", "from when to when", "what period":
# a period is asked, and a clause that gives one answers it.
_ASKS_PERIOD = re.compile(
    r"\btu (?:ngay|thang|quy|nam|khi|luc) (?:nao|may) den\b|\bfrom (?:when|what|which)\b"
    r"|\b(?:what|which) period\b|\bkhoang thoi gian nao\b"
    # a word may come between ("từ tháng nào trong năm đến tháng nào")
    r"|\btu (?:ngay|thang|nam|quy) nao (?:\w+ )?den (?:ngay|thang|nam|quy) nao\b"
)


def _is_period(text: str) -> bool:
    """A span from one date to another: "từ tháng 3 đến tháng 10"."""
    return bool(re.search(r"\b(?:đến|tới)\b", text, re.IGNORECASE))


_ASKS_MONTH = re.compile(r"\b(?:thang nao|thang may|which month|what month)\b")


# Which end of a period a date question asks for. Administrative writing opens a period with
# "từ (ngày)", "bắt đầu", "kể từ" and closes it with "trước/đến (ngày)", "kết thúc", "hoàn
# thành", "chậm nhất": a question about the end is not answered by the opening date.
_ASKS_END = re.compile(
    r"\b(?:ket thuc|hoan thanh|hoan tat|cham nhat|thoi han|het han|han (?:chot|cuoi|gui|nop)"
    r"|truoc ngay nao|den ngay nao"
    r"|deadline|end|ends|ending|finish|finished|complete|completed|by when|before what)\b"
)
_ASKS_START = re.compile(
    r"\b(?:bat dau|khai giang|tu ngay nao|tu khi nao|start|starts|begin|begins|from what)\b"
)
_OPENS = re.compile(r"(?:\b(?:tu|ke tu|bat dau|bat dau tu)\s*)$")
_CLOSES = re.compile(r"(?:\b(?:truoc|den|ket thuc|ket thuc truoc|hoan thanh|cham nhat)\s*)$")


def _date_end(text: str, span: Span) -> str | None:
    """Which end of a period ``span`` dates: "start" ("từ ngày 06/9", "Bắt đầu … ngày"),
    "end" ("trước ngày 18/01", "kết thúc …"), None when the writing does not say."""
    # The words before the span and the span's own words before its first digit.
    before = re.sub(r"^.*\d", "", text[max(0, span.start - 24) : span.start])
    lead = fold(before + " " + re.sub(r"\d.*$", "", span.text)).lower()
    lead = re.sub(r"\b(?:ngay|thang|nam|quy|vao|sang|chieu)\b", " ", lead)
    lead = re.sub(r"[^a-z ]+", " ", lead).strip()
    if _OPENS.search(lead):
        return "start"
    if _CLOSES.search(lead):
        return "end"
    return None


_ASKS_GEO = re.compile(
    r"\b(?:tinh nao|thanh pho nao|nuoc nao|quoc gia nao|dia phuong nao|vung nao|city|province"
    r"|prefecture|country|region)\b"
)


_AGENCY_WORDS = ("Sở ", "Bộ ", "UBND", "Ủy ban", "Ban ", "Tập đoàn", "Cục ")


_UNITS = {
    "area": (
        re.compile(r"\b(?:dien tich|area|hectares?|hecta)\b"),
        re.compile(r"\b(?:ha|km|m2)\b"),
    ),
    "percent": (
        re.compile(r"\b(?:ty le|ty trong|phan tram|share|percent\w*|rate|proportion)\b"),
        re.compile(r"%"),
    ),
    # An amount of money: "tổng vốn đầu tư khoảng 980.000 tỷ đồng", not the "198 dự án"
    # beside it.
    "money": (
        re.compile(
            r"\b(?:von|kinh phi|ngan sach|chi phi|money|funding|funds|budget|cost|capital"
            r"|investment)\b"
        ),
        re.compile(r"\b(?:dong|vnd|usd|ty|trieu)\b"),
    ),
}


# A unit named as such ("bao nhiêu hecta", "how many hectares", "what percent"), not a noun
# that a share of it may answer ("diện tích cây trồng được tưới": "30% diện tích"). Not
# "ha": folded, it is also "Hà" of "Hà Nội".
_NAMES_UNIT = re.compile(
    r"\b(?:hectares?|hecta|hec ta|km2?|m2|square (?:metres?|meters?)|percent|phan tram"
    r"|ty dong|trieu dong|nghin dong|vnd|usd|(?:billion|million) (?:dong|vnd))\b"
)


# Classifiers written between a number and what it counts: "100 lượt người".
_CLASSIFIERS = frozenset(["luot", "chiec", "cai", "con"])


def _counts_other(text: str, span: Span, counted: str) -> bool:
    """Whether the figure ``span`` counts something other than ``counted`` (folded words):
    the words after its number name another thing ("18 tuần" for "học sinh"). A figure
    followed by a sign or by nothing counts nothing in particular ("60%")."""
    digits = list(re.finditer(r"\d", span.text))
    tail = span.text[digits[-1].end() :] if digits else ""
    after = fold(tail + " " + text[span.end : span.end + 60]).lower()
    first = re.match(r"[\s).,]*([a-z0-9]+)", after)
    if first is None or len(first.group(1)) < 2 or not first.group(1).isalpha():
        return False  # "60%", "30 m2", "336/năm": a sign or a unit symbol
    words = re.findall(r"[a-z]+", after)[:5]
    if not words:
        return False
    want = counted.split()
    if words[0] in _CLASSIFIERS:
        words = words[1:]
    if want[0] in _CLASSIFIERS:
        want = want[1:] or want
    return words[: len(want)] != want and words[:1] != want[:1]


def _is_day(text: str) -> bool:
    """A date to the day: "15/12/2026", "ngày 30 tháng 11"."""
    return bool(re.search(r"\d[/-]\d|ngày\s+\d", text, re.IGNORECASE))


def _unit_fits(question: str, span: Span) -> bool | None:
    """Whether ``span``'s unit is the one the question asks for (an area in ha, a share in
    %); None when the question names no unit."""
    asked = folded_phrase(question)
    for wants, unit in _UNITS.values():
        if wants.search(asked):
            return bool(unit.search(fold(span.text)))
    return None


def clause_terms(q: Question) -> list[list[str]]:
    """The question's words a clause is scored by, each a group of folded alternatives.

    A province the question names picks the document (_doc_matches); inside it, a
    sentence need not repeat the name ("Hiện đã có 33 khu công nghiệp …"). A document
    number the question names counts as one term ("882 qd ttg").
    """
    provinces = {folded_phrase(p) for p in q.provinces}
    terms = [list(g) for g in q.terms if not (len(g) == 1 and g[0] in provinces)]
    return terms + [[folded_phrase(n)] for n in q.doc_numbers]


def _typed_span(
    t: AnswerType, clause: Clause, terms: Sequence[Sequence[str]], question: Question | str = ""
) -> Span | None:
    """The figure, date, name or place in ``clause`` that answers a question of type ``t``.

    ``question`` is the analysed question (its text alone is read as a Vietnamese one)."""
    if isinstance(question, str):
        read = tuple(counted_thing(question, english=False))
        question = Question(text=question, kind=QueryKind.VI, answer_type=t, counted=read)
    q, question = question, question.text
    text = clause.text
    if t is AnswerType.QUANTITY:
        found = quantities(text)
    elif t is AnswerType.DATE:
        found = dates(text)
    elif t is AnswerType.PERSON:
        found = people(text)
    elif t is AnswerType.PLACE:
        named = {p for g in terms for p in g}
        found = [s for s in proper_names(text, _PLACES) if folded_phrase(s.text) not in named]
    else:
        return None
    if not found:
        return None
    asked = folded_phrase(question)
    if t is AnswerType.QUANTITY:
        fitting = [s for s in found if _unit_fits(question, s) is not False]
        counted = q.counts_things
        if counted:
            # "bao nhiêu học sinh": a figure that counts something else ("18 tuần") is not
            # the answer; a clause whose every figure does is no answer at all.
            fitting = [s for s in fitting if not _counts_other(text, s, counted)]
            if not fitting:
                return None
    elif t is AnswerType.DATE:
        # "ngày nào" wants a day ("Ngày 30/10"), "năm nào" a year ("vào năm 2025").
        if _ASKS_PERIOD.search(asked):
            # "từ tháng nào đến tháng nào" asks for both ends: one date is half an answer.
            found = [s for s in found if _is_period(s.text)]
            if not found:
                return None
        end, start = bool(_ASKS_END.search(asked)), bool(_ASKS_START.search(asked))
        if end != start:
            # "kết thúc trước ngày nào": the clause's opening date is no answer, nor back; a
            # clause that gives only the other end answers nothing.
            other = "start" if end else "end"
            found = [s for s in found if _date_end(text, s) != other]
            if not found:
                return None
        if _ASKS_DAY.search(asked):
            fitting = [s for s in found if _is_day(s.text)]
        elif _ASKS_MONTH.search(asked):
            # "từ tháng nào": a year alone does not say which month.
            fitting = [s for s in found if re.search(r"tháng|\d[/-]\d", s.text, re.I)]
            if not fitting:
                return None
        elif _ASKS_YEAR.search(asked):
            fitting = [s for s in found if re.search(r"(?:năm|year)\s+\d{4}", s.text, re.I)]
        else:
            fitting = found
    elif t is AnswerType.PLACE and _ASKS_GEO.search(asked):
        # "tỉnh nào", "which city": a place, not an agency.
        fitting = [s for s in found if not s.text.startswith(_AGENCY_WORDS)]
    else:
        fitting = found
    if t is AnswerType.QUANTITY and not fitting and _NAMES_UNIT.search(asked):
        return None  # "how many hectares": a clause with no area figure does not say
    found = fitting or found
    return max(found, key=lambda s: (_near(terms, text, s), -s.start))


def _main_document(assignments: Sequence[Assignment], passages: Sequence[Passage]) -> str:
    """The document of ``assignments`` that retrieval ranks first; else the one with most."""
    docs = {a.doc_id for a in assignments}
    for p in passages:
        if p.doc_id in docs:
            return p.doc_id
    counts: dict[str, int] = {}
    for a in assignments:
        counts[a.doc_id] = counts.get(a.doc_id, 0) + 1
    return min(counts, key=lambda d: (-counts[d], d))


def _tasks_text(
    agency: str,
    items: list[AnswerItem],
    labels: dict[str, str],
    docs: dict[str, StoredDocument],
) -> str:
    """The agency's own tasks, then the tasks of others that name it, from the answering
    document; then, apart and each with its document's title, those of other documents."""

    def line(i: AnswerItem, where: bool) -> str:
        role = labels.get(i.role or "", i.role or "")
        if not i.own:
            role += f" ({labels['stated_in'].format(agency=i.agency)})"
        doc = docs.get(i.doc_id or "")
        title = f" ({labels['in']} “{shorten(doc.title, limit=60)}”)" if where and doc else ""
        return f"• {role}: “{i.text}”{title} [{i.citations[0]}]"

    here = [i for i in items if not i.other_document]
    elsewhere = [i for i in items if i.other_document]
    lines = [labels["tasks_of"].format(agency=agency) + ":"]
    lines += [line(i, False) for i in here if i.own]
    also = [i for i in here if not i.own]
    if also:
        lines.append(labels["also"] + ":")
        lines += [line(i, False) for i in also]
    if elsewhere:
        lines.append(labels["elsewhere"] + ":")
        lines += [line(i, True) for i in elsewhere]
    return "\n".join(lines)
