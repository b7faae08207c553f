"""What a question asks for and about what: one analyser for retrieval and answers.

:class:`Analyser` reads a :class:`~search.query.QueryPlan` (the normalised
question, its kind and, for a question typed without diacritics, its restored
text) and returns a frozen :class:`Question`:

* the **answer type**: the tasks of a named agency, who leads/is responsible
  for something, the focal agency, a quantity or target, a date or deadline, a
  person, a place, what an agreement contains, a set of documents, or a plain
  sentence;
* the **entities** named: agencies in every form people type them ("Sở Tài
  chính", "so tai chinh", "Department of Finance", "DOF", an abbreviation a
  document defines), provinces, years, document numbers ("1658/QĐ-TTg") and
  other proper names ("Kobe", "Vingroup");
* the role asked about (*chủ trì*, *phối hợp*, *đầu mối*, *tham mưu*);
* the **content words**, as groups of folded alternatives (an English word
  stands for its Vietnamese renderings), and the Vietnamese words the lexical
  side should also search for an English question ("who leads" -> "chủ trì",
  "Department of Finance" -> "Sở Tài chính").

Agencies, roles and English words come from :mod:`search.glossary` (data),
extended by :func:`analyser_for` with the agencies ingest found in the
index's documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from index.assignments import load_agency_names
from index.store import Snapshot
from index.stores import Records
from ingest.assignments import agency_of_heading
from ingest.chunk import SECTION_SEP
from ingest.metadata import PROVINCES
from ingest.text import fold, has_diacritics, tokenize
from search.glossary import Glossary, folded_phrase, glossary
from search.query import QueryKind, QueryPlan, detect_kind, is_vietnamese_syllable


class AnswerType(StrEnum):
    AGENCY_TASKS = "agency_tasks"  # what must agency X do
    AGENCY_LEAD = "agency_lead"  # who leads / is responsible for Y
    FOCAL = "focal"  # which agency is the focal point
    QUANTITY = "quantity"  # how many / what share / what target
    DATE = "date"  # when / by what date
    PERSON = "person"  # who signed / who is the deputy mayor
    PLACE = "place"  # which city / where
    AGREEMENT = "agreement"  # what an agreement or memorandum contains
    SET = "set"  # which documents / provinces / agreements
    OTHER = "other"  # a sentence that answers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Question and function words: they say what kind of answer is wanted, not what about.
# Written with diacritics: folded, "thì" and "đó" would also drop "thị" and "đô".
STOP_WORDS = _words(
    """ai gì nào đâu bao nhiêu giờ khi sao vì tại thế như là có không của và các những được
    trong cho với về để thì mà này đó hãy biết ở từ đến theo trên dưới một phải sẽ đã
    đang cần nên bởi hoặc hơn rất cũng chỉ còn cái việc ra vào lại tỉnh mấy gồm lĩnh vực
    what who whom whose which how when where why the a an of is are was were be in on for to
    and or does do did by with from at as that this these those it its there their any
    tell me about please should must will would can could has have had been being into
    field fields area areas share percentage proportion rate level figure amount target targets"""
)
# English words that carry no topic of their own ("how many", "at least", "carried out
# under the plan"): read as topics they count against every passage, since no rendering
# of them can be found. Used for English questions only: "may", "long" and "most" typed
# without diacritics are Vietnamese words too.
_EN_FUNCTION = _words(
    """many much most least more less each every under out up off about between among may
    might shall per than within without via also only own such same other others another
    their they them we our us you your he she his her its s our whether yet so just
    long often ever still even again already currently get gets got take takes taken make
    makes made have having done doing happen happens ask asks asked assign assigns
    assigned require requires required"""
)
# Words that say who is asked about, not what about. Phrases are matched as phrases:
# the "hợp" of "phối hợp" is also the "hợp" of "hợp tác".
ROLE_PHRASES = (
    "chịu trách nhiệm",
    "chủ trì",
    "phối hợp",
    "phụ trách",
    "trách nhiệm",
    "đầu mối",
    "tham mưu",
    "cơ quan",
    "đơn vị",
    "nhiệm vụ",
    "in charge",
    "focal point",
)
ROLE_WORDS = _words(
    """sở ban ngành giao làm lo chịu
    lead leads leading led responsible charge agency agencies department departments cooperate
    cooperates cooperating coordinate coordinates support supports involved focal point body
    tasks task duties duty role job tasked handles handle runs run"""
)
_STOP_FOLDED = frozenset(fold(w) for w in STOP_WORDS | ROLE_WORDS)
# Typed without diacritics these are as often content as function words ("so": sở, số;
# "nay": này, hôm nay; "can": cần, căn cước; "lam": làm, lâm nghiệp; "ban": ban, Nhật Bản;
# "giao": được giao, giao thông), and restoration, which learns from the documents, tends
# to give them the documents' most frequent form. Dropping them would leave an off-topic
# question ("ket qua xo so hom nay") with only the words the documents happen to share.
_AMBIGUOUS_PLAIN = _words("so nay can lam ban giao lo thi do tu den ve cho ra")

# Asking which body, not which person: "which body … reports to the Prime Minister" names an
# office without asking for its holder.
_AGENCY_ASK = (
    r"co quan nao|don vi nao|so nao|nganh nao|ben nao|to chuc nao|cap nao"
    r"|which (?:agency|agencies|department|departments|body|office|unit|authority"
    r"|organi[sz]ation)|what (?:agency|department|body)"
)
_WHO = re.compile(rf"\b(?:ai|{_AGENCY_ASK})\b")
_ASKS_AGENCY = re.compile(rf"\b(?:{_AGENCY_ASK})\b")
# English "who" asks only where a question or clause begins, or after a preposition ("led
# by whom"); after a noun it is a relative pronoun: "the people who receive support".
_WHO_EN = re.compile(
    r"(?:^|[,;:?]\s*|\b(?:and|or|but|me|us|know|by|to|from|with|for|of|about)\s+)(?:who|whom)\b"
)
# Asking for a person outright ("ai ký", "who signed"), or naming a person's office.
_PERSON_ASK = re.compile(
    r"\b(?:ai ky|nguoi ky|ky boi|ai la|la ai|ai dai dien|ai phat bieu|ai du|ai tham du"
    r"|ai chuc mung|ai thay mat|nguoi nao|ten (?:cua )?(?:ong|ba|nguoi)"
    r"|who signed|signed by|signer|who is the|who was the|who attended|who congratulated"
    r"|who spoke|who represented|name of the)\b"
)
# A person or an office asked with "nào" / "which" ("Phó Thủ tướng nào", "đồng chí nào",
# "ông nào"): a person, even with a lead role ("đồng chí nào phụ trách …").
_PERSON_NAMED_ASK = re.compile(
    r"\b(?:ong|ba|(?:pho |tong |thu )?(?:thu tuong|bo truong|chu tich|giam doc|lanh dao"
    r"|dong chi|thu truong|bi thu|truong ban|truong doan)) nao\b"
    # Not "which Prime Minister's decision": a possessive asks for what the office holds.
    r"|\bwhich (?:deputy |vice )?(?:prime minister|minister|leader|official|chairman|chairwoman)"
    r"\b(?! s\b)"
)
_OFFICE = re.compile(
    r"\b(?:pho chu tich|chu tich|pho giam doc|giam doc|pho thi truong|thi truong|thu truong"
    r"|pho thu tuong|thu tuong|pho bo truong|bo truong"
    r"|truong doan|bi thu|dai su|pho dai su|truong chi nhanh"
    r"|chair|chairman|chairwoman|president|director|mayor|minister|ambassador|secretary"
    r"|vice chair\w*|deputy (?:director|mayor|chair\w*)"
    r"|head of (?:the )?(?:\w+ ){0,4}(?:delegation|branch|office|department|agency))\b"
)
_DOCUMENT_WORD = re.compile(r"\b(?:quyet dinh|van ban|decision|document)\b")
_LEAD_ROLE = re.compile(
    r"\b(?:chu tri|phu trach|chiu trach nhiem|trach nhiem|lead|leads|leading|led|in charge"
    r"|responsible|tasked|runs|handles?|oversees?)\b"
)
_FOCAL = re.compile(r"\b(?:dau moi|co quan thuong truc|focal|point of contact)\b")
_COOPERATE = re.compile(
    r"\b(?:phoi hop|cooperates?|cooperating|coordinates? with|works? with|supports?)\b"
)
_ADVISE = re.compile(r"\b(?:tham muu|advis\w*|counsel\w*)\b")
_QUANTITY = re.compile(
    r"\b(?:bao nhieu|may (?:khu|tinh|so|nam|phan)|ty le|ty trong|muc nao|o muc|chi tieu"
    r"|chi so|phan tram|dien tich|so luong|how many|how much|what share|share of|what percent"
    r"|percentage|proportion|what rate|rate of|what level|what index|index|target|targets"
    r"|by how much|total area|area of|cut target|share|reduction|increase|growth rate"
    r"|number of|tong so|minimum|maximum|at least|at most|targeted"
    # A threshold or a value asked outright: "from what value upwards", "tài sản có giá trị
    # từ bao nhiêu trở lên".
    r"|(?:what|which) (?:value|amount|sum|size|figure|ratio)|upwards|or more|or above"
    # An ordinal asked for: "kỳ họp thứ mấy", "lần thứ mấy", "at which session" (documents
    # number sessions, rounds and phases: "Kỳ họp chuyên đề lần thứ 28", "đợt 2").
    r"|thu may|(?:which|what) (?:\w+ ){0,2}(?:session|sitting|round|phase|stage|plenum))\b"
    r"|^so (?:luong |khu |du an |doanh nghiep |nguoi )"
)
_DATE = re.compile(
    r"\b(?:khi nao|bao gio|ngay nao|thang nao|nam nao|quy nao|tuan nao|luc nao|thoi gian nao"
    r"|thoi han|han chot|han gui|han|thoi diem"
    r"|ngay ky|ngay ban hanh|tu ngay|when|what date|which date|what year|which year|deadline"
    r"|by when|date of|date|year|(?:what|which) (?:day|week|month|quarter))\b"
)
# "How long", "how often": a duration or a frequency is a figure too ("10 ngày làm việc",
# "6 tháng một lần").
_COUNT = re.compile(r"\b(?:bao nhieu|how many|how much|how long|how often)\b")
# A duration or a frequency is asked even beside "thời hạn" ("thời hạn giải quyết là bao
# lâu": "10 ngày làm việc"; "báo cáo bao lâu một lần": "6 tháng một lần").
_DURATION = re.compile(r"\b(?:bao lau|may lan|bao nhieu lan|how long|how often)\b")
# What asks for a point in time, not a noun such as "năm học" or "school year".
_ASKS_WHEN = re.compile(
    r"\b(?:khi nao|bao gio|ngay nao|thang nao|nam nao|quy nao|tuan nao|luc nao|thoi gian nao"
    r"|when|what date|which date|what year"
    r"|which year|by when|deadline|thoi han|han chot|(?:what|which) (?:day|week|month|quarter))\b"
)
_AGREEMENT = re.compile(
    r"\b(?:hop tac (?:ve|trong) (?:linh vuc|gi|nhung)|linh vuc (?:nao|gi)|thoa thuan (?:gi|nhung)"
    r"|hop tac nhung gi|noi dung (?:hop tac|thoa thuan|bien ban|ky ket)|cam ket gi|cam ket"
    r"|phat dong|tai tro|ho tro .* nhu the nao|se lam gi"
    r"|agree\w*|cooperat\w* on|fields?|areas? of cooperation|memorandum cover|cover"
    r"|commit\w*|campaign|launch\w*|funds?|support .* in)\b"
)
_SET = re.compile(
    r"\b(?:nhung tinh|cac tinh|(?:tinh|dia phuong|thanh pho) nao (?:da )?(?:ky|ban hanh)|nhung (?:thoa thuan|ke hoach|van ban|bien ban"
    r"|dia phuong|hiep dinh)|cac (?:thoa thuan|ke hoach|van ban|bien ban)"
    r"|which provinces|what provinces|provinces (?:that|which|with|having|sign|signed)"
    r"|(?:which|what) (?:\w+ ){0,4}(?:agreements|plans|documents|memoranda)|agreements with"
    r"|list of (?:the )?(?:agreements|plans|documents|provinces))\b"
    r"|^(?:\w+ ){0,3}(?:agreements|memoranda|mous|plans|documents)(?: \w+){0,3}$"
)
# A set of documents is asked with a word for documents or for signing them: "which
# provinces signed …", not "which provinces merged into Cần Thơ".
_DOCUMENT_SET_WORD = re.compile(
    r"\b(?:ky|ky ket|ban hanh|ke hoach|thoa thuan|bien ban|van ban|hiep dinh|hop tac"
    r"|sign\w*|issu\w*|plans?|agreements?|memorand\w*|mous?|documents?|cooperation)\b"
)
_PLACE = re.compile(
    r"\b(?:o dau|tai dau|ve dau|thanh pho nao|tinh nao|dia phuong nao|nuoc nao|vung nao"
    r"|where|(?:which|what) (?:\w+ ){0,2}(?:cit(?:y|ies)|provinces?|prefectures?|countr(?:y|ies)"
    r"|regions?)"
    r"|prefecture|partner)\b"
)
# "Where does the money come from": a source, asked with "where", not a place.
_SOURCE = re.compile(r"\bwhere\b.*\b(?:comes?|came|coming) from\b|\bfrom where\b")
_TASKS = re.compile(
    r"\b(?:nhiem vu|lam gi|viec|trach nhiem|duoc giao|phai|vai tro|chuc nang"
    r"|tasks?|duties|duty|role|responsibilit\w*|must|do|job|assigned|asked)\b"
)
_YEAR = re.compile(r"(?<![\d/.-])((?:19|20)\d{2})(?![\d/])")
# A span of years ("năm học 2024-2025", "giai đoạn 2021 – 2025"): its last year is asked
# about too, which _YEAR leaves out (a number after a hyphen is usually part of a date).
_YEAR_SPAN = re.compile(r"(?<![\d/.-])(?:19|20)\d{2}\s*[-–]\s*((?:19|20)\d{2})(?![\d/])")
_DOC_NUMBER = re.compile(r"\b\d+/(?:\d{4}/)?[A-ZĐa-zđ]{1,6}(?:-[A-ZĐa-zđ0-9]+)*", re.UNICODE)
_CAPITALISED = re.compile(r"(?<![\w/])([A-ZĐÀ-Ỹ][^\W\d_]*)")
# How administrative writing names a place or a body: a head word, then the name. Folded,
# so "TP. Hồ Chí Minh", "tp ho chi minh" and "Thành phố Hồ Chí Minh" read alike.
_NAME_HEADS_VI = (
    r"thanh pho|tp|tinh|huyen|quan|thi xa|thi tran|xa|phuong|cong ty(?: co phan| tnhh)?"
    r"|tong cong ty|tap doan|ngan hang|truong dai hoc|benh vien"
)
_NAME_HEADS_EN = r"city|province|prefecture|district|company|corporation|group|bank|university"
_NAME_HEAD = re.compile(rf"(?<!\w)(?:{_NAME_HEADS_VI})\.?\s+$", re.IGNORECASE)
# Typed without diacritics and in lower case, "quan", "xa", "tinh" are as often other words
# ("co quan", "tinh uy"): only heads that are never anything else lead a lower-case name.
_PLAIN_HEAD = re.compile(
    r"(?<!\w)(?:thanh pho|tp|cong ty|tong cong ty|tap doan|ngan hang)\.?\s+$", re.IGNORECASE
)
_NAME_HEAD_OF = re.compile(rf"(?<!\w)(?:{_NAME_HEADS_EN}) of\s+(?:the\s+)?$", re.IGNORECASE)
_NAME_TAIL = re.compile(
    rf"^\s+(?:{_NAME_HEADS_EN}|co\.?|ltd\.?|inc\.?|jsc|corp\.?)(?!\w)", re.IGNORECASE
)


@dataclass(frozen=True)
class Question:
    """What a question asks for (``answer_type``) and about what."""

    text: str  # the normalised question
    kind: QueryKind
    answer_type: AnswerType
    agencies: tuple[str, ...] = ()  # as the documents name them
    role: str | None = None  # focal | lead | cooperate | advise, when the question names one
    provinces: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # countries and regions: "Nhật Bản" (Japan)
    years: tuple[str, ...] = ()
    doc_numbers: tuple[str, ...] = ()  # folded: "1658/qd-ttg"
    names: tuple[str, ...] = ()  # other proper names, folded: "kobe", "vingroup"
    # Names written as administrative writing names places and bodies ("thành phố Osaka",
    # "Công ty Hòa Phát", "city of Osaka", "Osaka Prefecture"), folded: what the evidence
    # must mention for the answer to be about it.
    entities: tuple[str, ...] = ()
    terms: tuple[tuple[str, ...], ...] = ()  # content words: groups of folded alternatives
    # What a count asks for, folded alternatives: "bao nhiêu cửa sông", "how many river
    # mouths" -> ("cua song",). Documents write it after the figure: "07 cửa sông".
    counted: tuple[str, ...] = ()
    vietnamese: str = ""  # Vietnamese words for the lexical side (roles, agencies, terms)

    @property
    def english(self) -> bool:
        return self.kind is QueryKind.EN

    @property
    def counts_things(self) -> str | None:
        """What a count question counts when it names a thing, not a measure (folded,
        longest form): "bao nhiêu học sinh" -> "hoc sinh"; None for "bao nhiêu phần
        trăm", "bao nhiêu tiền", "bao nhiêu là", and for English, whose rendering is the
        glossary's guess. A figure that counts another thing does not answer it."""
        if self.english or not self.counted:
            return None
        return None if is_measure(self.counted[0]) else self.counted[0]

    def to_json(self) -> dict[str, object]:
        return {
            "answer_type": self.answer_type.value,
            "agencies": list(self.agencies),
            "role": self.role,
            "provinces": list(self.provinces),
            "places": list(self.places),
            "years": list(self.years),
            "doc_numbers": list(self.doc_numbers),
            "names": list(self.names),
        }


def _fold_keep_case(text: str) -> str:
    """Diacritics off, capitals kept: "Pháp" -> "Phap"."""
    return "".join(fold(c).upper() if c.isupper() else fold(c) for c in text)


def is_english(question: str) -> bool:
    # The retriever's own detector: a hint-word test took "chat thai do thi" for English ("do").
    return detect_kind(question) is QueryKind.EN


def content_terms(
    question: str,
    typed_plain: bool | None = None,
    gloss: Glossary | None = None,
    english: bool | None = None,
) -> list[list[str]]:
    """What the question is about, as groups of alternative folded phrases.

    Vietnamese: each topic syllable, and each adjacent pair (so "chất thải"
    counts more than "chất" and "thải" apart). English: each topic word's
    Vietnamese renderings from :mod:`search.glossary`, or the word itself
    (names such as "Dong Nai" fold to the documents' spelling).

    ``typed_plain``: ``question`` was typed without diacritics and has had
    them restored (:mod:`index.accents`); default: it has no diacritics now.
    """
    gloss = gloss or glossary()
    english = is_english(question) if english is None else english
    # Without diacritics "do" may be "đô" or "đó", "quan" the "quan" of "cơ quan": only
    # then are folded stop words used. A restored word has its marks back ("quản"), so
    # only the words restoration left bare ("nao": the corpus never asks) are folded.
    plain = not has_diacritics(question) if typed_plain is None else typed_plain
    # An English question has no diacritics to lose: "do", "can", "so" are its function
    # words, not Vietnamese "đó", "cần", "số" typed bare.
    plain = plain and not english
    # In English, a word the glossary does not know matches the documents only when it is a
    # name ("Dong Nai", "Kobe") or a number: "pho" must not match "phổ biến".
    names = {fold(w.lower()) for w in re.findall(r"\b[A-Z][^\W_]*|\b\w*\d\w*", question)}
    groups: list[list[str]] = []
    run: list[str] = []
    words = tokenize(question)
    role_at = _phrase_positions(words, plain)
    consumed: set[int] = set()
    i = 0
    while i < len(words):
        word = words[i]
        if i in role_at:
            run = []
            i += 1
            continue
        tok = fold(word)
        bare = plain and not has_diacritics(word)
        if not english:
            # A phrase with synonyms in the documents' usage counts once, as any of them:
            # "thỏa thuận" is also found as "biên bản ghi nhớ".
            synonyms = None
            for n in (4, 3, 2):
                if i + n <= len(words):
                    synonyms = gloss.synonyms_of(" ".join(fold(w) for w in words[i : i + n]))
                    if synonyms:
                        break
            if synonyms:
                groups.append(synonyms)
                run = []
                i += n
                continue
        if english and i in consumed:
            i += 1  # the noun of a numbered thing read with its number
            continue
        if english:
            numbered = _numbered_thing(gloss, words, i)
            if numbered is not None:
                forms, noun_at = numbered
                groups.append(forms)
                run = []
                consumed.add(noun_at)
                i += 1
                continue
            # Longer English terms first ("human development index", "public procurement").
            found = None
            for n in (3, 2):
                if i + n <= len(words) and not consumed & set(range(i, i + n)):
                    found = gloss.english_term(" ".join(words[i : i + n]))
                    if found:
                        break
            if found:
                groups.append(found)
                run = []
                i += n
                continue
            if word in _EN_FUNCTION or word in _ORDINAL_WORDS:
                run = []
                i += 1
                continue
        function_word = word in STOP_WORDS or word in ROLE_WORDS or (bare and tok in _STOP_FOLDED)
        if function_word and not (plain and tok in _AMBIGUOUS_PLAIN):
            run = []
            i += 1
            continue
        vi = _english_term(gloss, tok) if english else None
        if vi is not None:
            run = []
            if vi:
                groups.append(vi)
            i += 1
            continue
        if english and len(tok) == 1:
            i += 1  # "Can Tho's" -> "s"
            continue
        if english and tok not in names:
            run = []
            groups.append([])  # still a topic of the question: it counts, unmatched
            i += 1
            continue
        groups.append([tok])
        if run:
            groups.append([f"{run[-1]} {tok}"])
        run.append(tok)
        i += 1
    return groups


_ROLE_PHRASES_FOLDED = tuple(tuple(fold(p).split()) for p in ROLE_PHRASES)
_ROLE_PHRASES_WORDS = tuple(tuple(p.split()) for p in ROLE_PHRASES)


def _phrase_positions(words: list[str], plain: bool) -> set[int]:
    """Positions of ``words`` inside a role phrase ("chủ trì", "phối hợp"). Without
    diacritics phrases are matched folded ("phoi hop")."""
    out: set[int] = set()
    keys = [fold(w) for w in words] if plain else words
    phrases = _ROLE_PHRASES_FOLDED if plain else _ROLE_PHRASES_WORDS
    for i in range(len(words)):
        for phrase in phrases:
            if tuple(keys[i : i + len(phrase)]) == phrase:
                out.update(range(i, i + len(phrase)))
    return out


def _english_term(gloss: Glossary, word: str) -> list[str] | None:
    """Vietnamese for an English word, trying its dictionary form ("reports" -> "report",
    "drafting" -> "draft")."""
    return gloss.english_term(word)


_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
)
_ORDINAL_WORDS = {w: i + 1 for i, w in enumerate(_ORDINALS.split(" "))}
_ORDINAL_DIGITS = re.compile(r"^(\d{1,3})(?:st|nd|rd|th)$")
_ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
}


_COUNT_EN = re.compile(r"\bhow (?:many|much)\s+(.+)$")

# Words after "bao nhiêu" that name a measure, an amount or a unit, not a thing counted: any
# figure may answer them ("bao nhiêu phần trăm", "bao nhiêu tiền", "bao nhiêu lâu", "ha"),
# and unaccented stop words the marks no longer tell apart ("bao nhieu la", "duoc").
_MEASURES = frozenset(
    [
        "phan",
        "tien",
        "ty",
        "trieu",
        "nghin",
        "ngan",
        "dong",
        "lan",
        "lau",
        "nhieu",
        "la",
        "the",
        "thi",
        "duoc",
        "so",
        "muc",
        "met",
        "ha",
        "hecta",
        "km",
        "kg",
        "tan",
        "lit",
    ]
)


def is_measure(counted: str) -> bool:
    """Whether a folded counted thing ("phan tram", "hoc sinh") is a measure or amount."""
    return counted.split()[0] in _MEASURES if counted else True


def counted_thing(question: str, english: bool, gloss: Glossary | None = None) -> list[str]:
    """What a count question counts, as folded alternatives in the documents' words.

    Vietnamese names it right after "bao nhiêu", head word first ("bao nhiêu cửa sông
    năm 2026" -> "cua song", "cua"). English puts the head last in the noun phrase after
    "how many" ("how many standard house designs" -> the renderings of "designs"; "river
    mouths" is one glossary term). Empty when the question counts nothing it names.
    """
    gloss = gloss or glossary()
    if not english:
        # Stop words are told apart with their marks: "của" ends the name, "cửa" begins it.
        tokens = tokenize(question)
        folded = [fold(t) for t in tokens]
        at = next(
            (i + 2 for i in range(len(tokens) - 1) if folded[i : i + 2] == ["bao", "nhieu"]), None
        )
        words = tokens[at : at + 2] if at is not None else []
        words = words[: next((i for i, w in enumerate(words) if w in STOP_WORDS), len(words))]
        return [fold(" ".join(words[:n])) for n in range(len(words), 0, -1)]
    m = _COUNT_EN.search(question.lower().replace("-", " "))
    if not m:
        return []
    phrase: list[str] = []
    for word in re.findall(r"[^\W_]+", m.group(1)):
        if word in STOP_WORDS or word in _EN_FUNCTION or word in ROLE_WORDS or word.isdigit():
            break
        phrase.append(word)
    out: list[str] = []
    for n in (2, 1):
        if len(phrase) >= n:
            out += gloss.english_term(" ".join(phrase[-n:])) or []
    return list(dict.fromkeys(out))


def _ordinal(word: str) -> int | None:
    """The number of an English ordinal: "second" -> 2, "14th" -> 14."""
    if word in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[word]
    m = _ORDINAL_DIGITS.match(word)
    return int(m.group(1)) if m else None


def _cardinal(word: str) -> int | None:
    """The number a numbered thing's label gives after its noun: "2", "II"."""
    if word.isdigit() and len(word) <= 3:
        return int(word)
    return _ROMAN.get(word)


def roman(n: int) -> str:
    """Roman numeral, lower case as text is folded: 14 -> "xiv"."""
    out = ""
    for value, letters in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while n >= value:
            out += letters
            n -= value
    return out


def numbered_forms(nouns: Sequence[str], n: int) -> list[str]:
    """How administrative writing numbers a thing, folded: "học kỳ II", "học kỳ 2", "kỳ họp
    thứ 10", "Đại hội XIV", "lần thứ XIV"."""
    out: list[str] = []
    for noun in nouns:
        out += [f"{noun} {roman(n)}", f"{noun} {n}", f"{noun} thu {n}", f"{noun} thu {roman(n)}"]
    return list(dict.fromkeys(out))


def _numbered_thing(gloss: Glossary, words: list[str], i: int) -> tuple[list[str], int] | None:
    """An English numbered thing at ``words[i]``: an ordinal before its noun ("second
    semester", "14th Party Congress": the noun up to two words on) or the noun before its
    number ("semester 2", "phase II"). Returns the Vietnamese forms and the position of
    the noun, whose own words are then not read again."""
    n = _ordinal(words[i])
    if n is not None:
        for j in range(i + 1, min(i + 4, len(words))):
            nouns = gloss.ordered_noun(words[j])
            if nouns:
                return numbered_forms(nouns, n), j
            if words[j] in STOP_WORDS or words[j] in _EN_FUNCTION or words[j].isdigit():
                break  # "the first 6 months": the number is not the noun's
        return None
    nouns = gloss.ordered_noun(words[i])
    if nouns and i + 1 < len(words):
        n = _cardinal(words[i + 1])
        if n is not None:
            return numbered_forms(nouns, n), i + 1
    return None


def lexical_coverage(terms: Sequence[Sequence[str]], text: str) -> float:
    """Share of term groups with at least one phrase present in ``text``."""
    if not terms:
        return 0.0
    padded = " " + folded_phrase(text) + " "
    hit = sum(1 for group in terms if any(f" {phrase} " in padded for phrase in group))
    return hit / len(terms)


class _Matcher:
    """Longest-first alternation of folded phrases, mapped back to what they stand for."""

    def __init__(self, forms: dict[str, str]) -> None:
        self.forms = forms
        keys = sorted((k for k in forms if k), key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)")
            if keys
            else None
        )

    def find(self, folded: str) -> list[tuple[int, int, str]]:
        if self.pattern is None:
            return []
        return [(m.start(), m.end(), self.forms[m.group(0)]) for m in self.pattern.finditer(folded)]


def _is_acronym(form: str) -> bool:
    letters = form.replace("&", "").replace("-", "")
    return letters.isalpha() and letters.isupper() and len(letters) <= 6


class Analyser:
    """Reads questions with one glossary (the file's, extended by an index's agencies)."""

    def __init__(self, gloss: Glossary, index_agencies: tuple[str, ...] = ()) -> None:
        self.glossary = gloss
        self.index_agencies = index_agencies
        folded_index = {folded_phrase(a): a for a in index_agencies}
        agencies: dict[str, str] = {}
        acronyms: dict[str, str] = {}
        for agency in gloss.agencies:
            target = self._resolve(agency.name, folded_index)
            for form in agency.forms():
                if _is_acronym(form):
                    # "DOC", "DOT" are also unaccented Vietnamese ("dọc", "đợt"): capitals only.
                    acronyms[form.replace("Đ", "D")] = target
                else:
                    agencies.setdefault(folded_phrase(form), target)
        self.agencies = _Matcher(agencies)
        self.acronyms = _Matcher(acronyms)
        provinces = {folded_phrase(p): p for p in PROVINCES}
        for name, english in gloss.province_en.items():
            for form in english:
                provinces[folded_phrase(form)] = name
        self.provinces = _Matcher(provinces)
        places: dict[str, str] = {}
        places_en: dict[str, str] = {}
        for name, english in gloss.places.items():
            places[folded_phrase(name)] = name
            for form in english:
                if not _is_acronym(form):  # "US", "UK", "EU": also words of other questions
                    places_en[folded_phrase(form)] = name
        self.places = _Matcher(places)
        self.places_en = _Matcher(places_en)
        role_forms: dict[str, str] = {}
        self.role_vietnamese: dict[str, str] = {}
        for role, forms in gloss.roles.items():
            self.role_vietnamese[role] = forms.get("vi", ("",))[0]
            for form in forms.get("en", ()):
                role_forms[folded_phrase(form)] = role
        self.english_roles = _Matcher(role_forms)

    @staticmethod
    def _resolve(name: str, folded_index: dict[str, str]) -> str:
        """The index's own name for a glossary agency: equal, or a heading that starts with it."""
        key = folded_phrase(name)
        if key in folded_index:
            return folded_index[key]
        longer = [v for k, v in folded_index.items() if k.startswith(key + " ")]
        return longer[0] if len(longer) == 1 else name

    def agencies_in(self, text: str) -> list[str]:
        folded = folded_phrase(text)
        found = [a for _, _, a in self.agencies.find(folded)]
        # Acronyms are matched on the text's own capitals.
        raw = " ".join(re.findall(r"[\w&-]+", text.replace("Đ", "D")))
        found += [a for _, _, a in self.acronyms.find(raw)]
        return list(dict.fromkeys(found))

    def analyse(self, plan: QueryPlan) -> Question:
        english = plan.kind is QueryKind.EN
        # "provincial Departments of Culture, …" names the agency the glossary has singular.
        text = _singular_heads(plan.text) if english else plan.text
        dense_text = _singular_heads(plan.dense_text) if english else plan.dense_text
        # The restored text says "quản lý" where the user typed "quan ly"; folded they agree.
        folded = folded_phrase(text)
        agencies = self.agencies_in(text)
        provinces = list(dict.fromkeys(p for _, _, p in self.provinces.find(folded)))
        places = self._places(text, english)
        doc_numbers = [fold(m.group(0)) for m in _DOC_NUMBER.finditer(text)]
        years = [y for y in _YEAR.findall(text) if not any(y in d for d in doc_numbers)]
        years += _YEAR_SPAN.findall(text)
        names = self._names(text, english, doc_numbers)
        # A country's or province's name after a head ("Japanese city") is checked as one.
        entities = [
            e
            for e in named_entities(text, plan.kind is QueryKind.VI_PLAIN)
            if not set(e.split()) <= self._entity_words(text)
        ]
        who = bool(_WHO.search(folded) or _WHO_EN.search(text.lower().strip()))
        # "housing support", "financial support": a noun, not the role of supporting.
        role_text = self._support_as_noun(folded) if english else folded
        role = self._role(role_text, who)
        answer_type = self._type(folded, agencies, role, who)
        # Agencies and provinces are entities, not topic words: "Sở Xây dựng" must not make
        # "xây dựng" a topic, and "Can Tho" is one name, not "can" and "tho".
        topic = self._without_entities(dense_text, "and" if english else "và")
        terms = content_terms(
            topic,
            typed_plain=plan.kind is QueryKind.VI_PLAIN or None,
            gloss=self.glossary,
            english=english,
        )
        terms += [[folded_phrase(p)] for p in [*provinces, *places]]
        return Question(
            text=plan.text,
            kind=plan.kind,
            answer_type=answer_type,
            agencies=tuple(agencies),
            role=role,
            provinces=tuple(provinces),
            places=tuple(places),
            years=tuple(dict.fromkeys(years)),
            doc_numbers=tuple(dict.fromkeys(doc_numbers)),
            names=tuple(names),
            entities=tuple(entities),
            terms=tuple(tuple(g) for g in terms),
            counted=tuple(counted_thing(text, english, self.glossary)),
            vietnamese=self._vietnamese(plan, role_text, agencies, role, terms),
        )

    def _without_entities(self, text: str, filler: str) -> str:
        """``text`` with the agencies and provinces it names replaced by a stop word."""
        words = re.findall(r"[^\W_]+", text)
        folded = [folded_phrase(w) for w in words]
        joined = " ".join(folded)
        spans = [(s, e) for s, e, _ in [*self.agencies.find(joined), *self.provinces.find(joined)]]
        if not spans:
            return text
        keep: list[str] = []
        pos = 0
        for word, f in zip(words, folded, strict=True):
            start, end = pos, pos + len(f)
            pos = end + 1
            inside = any(s <= start and end <= e for s, e in spans)
            keep.append(filler if inside else word)
        return " ".join(keep)

    def _support_as_noun(self, folded: str) -> str:
        """``folded`` with "support" after a noun written "aid", so that it asks for no role;
        after an agency's name it is the agency's verb ("does the Department of Health
        support …")."""
        ends = {e for _, e, _ in self.agencies.find(folded)}

        def one(m: re.Match[str]) -> str:
            return m.group(0) if m.end(1) in ends else f"{m.group(1)} aid"

        return _NOUN_SUPPORT.sub(one, folded)

    def _places(self, text: str, english: bool) -> list[str]:
        """Countries the question names: "Nhật Bản", "nhat ban", "Japanese". A one-word name
        ("Pháp", "Anh", "Đức") is also a word or a given name: only capitalised."""
        folded = folded_phrase(text)
        if english:
            found = [p for _, _, p in self.places_en.find(folded)]
        else:
            found = []
            typed = _fold_keep_case(text)
            for _, _, place in self.places.find(folded):
                name = _fold_keep_case(place)
                if len(place.split()) > 1 or re.search(rf"(?<!\w){re.escape(name)}(?!\w)", typed):
                    found.append(place)
        return list(dict.fromkeys(found))

    def _entity_words(self, text: str) -> set[str]:
        """Folded words of ``text`` inside an agency, province or place it names, in any form
        ("sở gtvt", "Department of Finance", "Can Tho")."""
        folded = folded_phrase(text)
        words: set[str] = set()
        for matcher in (self.agencies, self.provinces, self.places, self.places_en):
            for start, end, _ in matcher.find(folded):
                words.update(folded[start:end].split())
        raw = " ".join(re.findall(r"[\w&-]+", text.replace("Đ", "D")))
        for start, end, _ in self.acronyms.find(raw):
            words.update(folded_phrase(raw[start:end]).split())
        return words

    def _names(self, text: str, english: bool, doc_numbers: list[str]) -> list[str]:
        """Proper names other than agencies, provinces, places and document numbers, folded.

        Vietnamese: capitalised words inside the question, and words that cannot
        be Vietnamese syllables ("kobe", "vingroup" typed lower-case). English:
        capitalised words that are neither question words nor glossary terms.
        """
        covered = self._entity_words(text)
        for number in doc_numbers:
            covered.update(folded_phrase(number).split())
        if english:
            # Words of English terms the glossary knows ("Human Development Index").
            for phrase in self.glossary.terms:
                if " " in phrase and phrase in folded_phrase(text):
                    covered.update(phrase.split())
        out: list[str] = []
        for i, word in enumerate(re.findall(r"[^\W_]+", text)):
            f = fold(word)
            if f in covered or word.isdigit() or f == "tp":  # "TP" heads a city's name
                continue
            capital = word[:1].isupper() and i > 0
            if english:
                if capital and f not in _EN_COMMON and self.glossary.vietnamese_terms(f) is None:
                    out.append(f)
            elif (capital and not (word.isupper() and len(word) <= 2)) or (
                not is_vietnamese_syllable(word)
            ):
                out.append(f)
        return list(dict.fromkeys(out))

    @staticmethod
    def _role(folded: str, who: bool) -> str | None:
        """The role the question names. "Trách nhiệm", "responsible" ask who leads only in a
        who-question; "trách nhiệm của Sở X" asks for all of X's tasks."""
        if _FOCAL.search(folded):
            return "focal"
        if _ADVISE.search(folded):
            return "advise"
        if re.search(r"\b(?:chu tri|lead|leads|leading|led)\b", folded):
            return "lead"
        if _COOPERATE.search(folded):
            return "cooperate"
        if who and _LEAD_ROLE.search(folded):
            return "lead"
        return None

    @staticmethod
    def _type(folded: str, agencies: list[str], role: str | None, who: bool) -> AnswerType:
        if _SET.search(folded) and _DOCUMENT_SET_WORD.search(folded):
            return AnswerType.SET
        asks_person = bool(_PERSON_NAMED_ASK.search(folded)) or (
            bool(_PERSON_ASK.search(folded)) and not _LEAD_ROLE.search(folded)
        )
        names_office = bool(_OFFICE.search(folded)) and not _DOCUMENT_WORD.search(folded)
        # "How many members may be proposed for the chairman's certificate of merit?": an
        # office named in a count is not the person asked for.
        counts = bool(_COUNT.search(folded))
        # "Which body … reports to the Prime Minister?": the office is named, a body asked for.
        names_office = names_office and not _ASKS_AGENCY.search(folded)
        if asks_person or (names_office and (who or not (agencies or counts))):
            return AnswerType.PERSON
        if role == "focal" and not (agencies and not who):
            return AnswerType.FOCAL
        if role in ("lead", "advise") and not agencies:
            return AnswerType.AGENCY_LEAD  # "cơ quan chủ trì giảm phát thải …"
        if _DURATION.search(folded) and not who:
            return AnswerType.QUANTITY
        if _COUNT.search(folded) and not _ASKS_WHEN.search(folded) and not who:
            # "How many weeks does the 2024-2025 school year have?": a count asks for a
            # figure, whatever year or date it names.
            return AnswerType.QUANTITY
        if _DATE.search(folded) and not who:
            return AnswerType.DATE
        if _QUANTITY.search(folded) and not who:
            return AnswerType.QUANTITY
        if agencies and not who:
            if _AGREEMENT.search(folded) and not _TASKS.search(folded):
                return AnswerType.AGREEMENT
            return AnswerType.AGENCY_TASKS
        if who:
            return AnswerType.AGENCY_LEAD
        if role in ("lead", "advise"):
            return AnswerType.AGENCY_LEAD
        if _PLACE.search(folded) and not _SOURCE.search(folded):
            return AnswerType.PLACE
        if _AGREEMENT.search(folded):
            return AnswerType.AGREEMENT
        return AnswerType.OTHER

    def _vietnamese(
        self,
        plan: QueryPlan,
        folded: str,
        agencies: list[str],
        role: str | None,
        terms: list[list[str]],
    ) -> str:
        """Words of the documents' language for what the question names in another form."""
        parts: list[str] = []
        if plan.kind is QueryKind.EN:
            roles = {r for _, _, r in self.english_roles.find(folded)}
            if role:
                roles.add(role)
            parts += [self.role_vietnamese[r] for r in sorted(roles) if r in self.role_vietnamese]
            parts += [alt for group in terms for alt in group]
        # An agency typed short ("sở gtvt") or in English is searched by its written name.
        parts += [a for a in agencies if folded_phrase(a) not in folded]
        return " ".join(dict.fromkeys(p for p in parts if p))


# "Support" after a noun is a noun ("housing support for people with merit"), not the role
# the question asks about ("which agencies support …", "who supports", "does X support").
_NOUN_SUPPORT = re.compile(
    r"\b(?!(?:who|whom|which|what|that|agency|agencies|department|departments|body|bodies|unit"
    r"|units|ministry|ministries|committee|committees|office|does|do|did|will|must|should|to"
    r"|and|or|also|not)\b)([a-z]+) supports?\b"
)
# The head nouns of English agency names in the plural, as a question about every province's
# department is asked ("provincial Departments of Health"): the glossary names one.
_PLURAL_HEADS = {
    "departments": "department",
    "ministries": "ministry",
    "committees": "committee",
    "boards": "board",
    "centers": "center",
    "centres": "centre",
    "institutes": "institute",
    "councils": "council",
}
_PLURAL_HEAD = re.compile(rf"\b(?:{'|'.join(_PLURAL_HEADS)})\b", re.IGNORECASE)


def _singular_heads(text: str) -> str:
    """``text`` with plural agency heads made singular, case kept: "Departments of Health"
    -> "Department of Health"."""

    def one(m: re.Match[str]) -> str:
        word = _PLURAL_HEADS[m.group(0).lower()]
        return word.capitalize() if m.group(0)[0].isupper() else word

    return _PLURAL_HEAD.sub(one, text)


# Capitalised English words that begin questions or name nothing in the documents.
_EN_COMMON = _words(
    """what which who whom whose when where why how is are was were do does did the a an in
    on of for to by under and or i can could should must will would please tell list"""
)


def _name_run(words: list[re.Match[str]], i: int, plain: bool, step: int) -> list[str]:
    """The words of a name next to position ``i`` (``step`` 1: after it, -1: before it):
    capitalised words, or for a question typed without diacritics (often lower-case too)
    up to three words that are not function words."""
    out: list[str] = []
    out_capital = False
    j = i
    while 0 <= j < len(words) and len(out) < 4:
        w = words[j].group(0)
        f = fold(w)
        capital = w[:1].isupper() and not (f in _EN_COMMON and step < 0)
        # A name begun with a capital goes on in capitals: "Vingroup", not "Vingroup du le".
        lower_ok = plain and not out_capital and len(out) < 3 and f not in _PLAIN_BREAK
        if not (capital or lower_ok or _bridges(words, j, out_capital, step)):
            break
        out_capital = out_capital or (capital and not out)
        out.append(f)
        j += step
    return out if step > 0 else out[::-1]


def _bridges(words: list[re.Match[str]], j: int, capital: bool, step: int) -> bool:
    """Whether the lower-case word at ``j`` is inside a capitalised name that goes on after
    it: a Vietnamese body's name writes its trade in lower case between capitalised words
    ("Công ty cổ phần Thủy sản Minh Phú", "Tập đoàn Dệt may Việt Nam")."""
    if not capital or step < 0 or fold(words[j].group(0)) in _PLAIN_BREAK:
        return False
    for k in range(j + 1, min(j + 3, len(words))):
        w = words[k].group(0)
        if w[:1].isupper():
            return True
        if fold(w) in _PLAIN_BREAK:
            return False
    return False


# Folded words a lower-case name typed without diacritics ends before: question words
# ("thanh pho nao"), particles and the verbs that follow a subject ("cong ty x se ho tro").
_PLAIN_BREAK = _words(
    """nao gi dau ai sao bao nhieu the nay do kia khong co la lam duoc phai se da dang can
    va voi cua trong ve cho ky tai o thi ma nhung cac mot hay hoac den tu theo tren duoi
    khi nhu bi boi giao chu tri phoi hop thuc hien"""
)


def named_entities(text: str, plain: bool = False) -> list[str]:
    """Folded names of places and bodies ``text`` writes after (or, in English, before) a
    head word: "thành phố Osaka", "TP. Cần Thơ", "Công ty Hòa Phát", "city of Osaka",
    "Osaka Prefecture", "Hoa Phat Group". ``plain``: typed without diacritics, so a
    lower-case name after a head counts ("cong ty hoa phat")."""
    words = list(re.finditer(r"[^\W_]+", text))
    found: list[str] = []
    for i, m in enumerate(words):
        before = fold(text[max(0, m.start() - 20) : m.start()])
        if _NAME_HEAD.search(before) or _NAME_HEAD_OF.search(before):
            run = _name_run(words, i, plain and bool(_PLAIN_HEAD.search(before)), 1)
        elif _NAME_TAIL.match(text[m.end() :]) and m.group(0)[:1].isupper():
            run = _name_run(words, i, False, -1)
        else:
            continue
        # A name is read from its first word only: "Công ty Hòa Phát" once, not "Phát" again.
        if run and (i == 0 or not found or not found[-1].endswith(run[-1])):
            name = " ".join(run)
            if not any(name in f for f in found):
                found.append(name)
    return found


def section_agency(section: str) -> str | None:
    """The agency whose heading a section path ends under ("V. … › 8. Sở Tài chính")."""
    for part in reversed(section.split(SECTION_SEP)):
        if agency := agency_of_heading(part):
            return agency
    return None


def analyser_for(snapshot: Records) -> Analyser:
    """The analyser for one index version: the glossary plus the agencies ingest found there."""

    def load(s: Snapshot) -> Analyser:
        names, abbreviations = load_agency_names(s.path)
        return Analyser(glossary().with_agencies(names, abbreviations), tuple(names))

    analyser: Analyser = snapshot.derived("question-analyser", load)
    return analyser


def analyse(plan: QueryPlan, analyser: Analyser | None = None) -> Question:
    """Convenience: analyse ``plan`` with ``analyser`` (default: the glossary file's)."""
    return (analyser or Analyser(glossary())).analyse(plan)


# --- retrieval ---------------------------------------------------------------------------

# Added to the fused score of a candidate under the heading of an agency the question names
# (fused scores run from 0 to the sum of the two lists' weights). Measured on the corpus
# questions with `policy-search eval --set corpus` (docs/answers.md).
SECTION_BOOST = 0.3
# Added for a candidate from a document about a province the question names.
PROVINCE_BOOST = 0.1
# Lexical weight of a fully translated English question (the default, 0.3, for none).
ENGLISH_LEXICAL_MAX = 1.0


@dataclass(frozen=True)
class RetrievalHints:
    """What retrieval takes from the analysed question: the plan with the question's
    entities and role words added in the documents' language, and the agencies whose
    sections should rank first."""

    plan: QueryPlan
    agencies: frozenset[str]  # folded names
    provinces: frozenset[str] = frozenset()  # folded names

    @property
    def reranks(self) -> bool:
        return bool(self.agencies or self.provinces)

    def rerank(
        self, ranking: list[tuple[int, float]], k: int, snapshot: Records, weight: float
    ) -> list[tuple[int, float]]:
        """``ranking`` with candidates under a named agency's heading, or from a document
        about a named province, raised; cut to ``k``."""
        if not self.reranks or not ranking:
            return ranking[:k]
        chunks = {c.id: c for c in snapshot.chunks([cid for cid, _ in ranking])}
        about: dict[str, bool] = {}
        out = []
        for cid, score in ranking:
            chunk = chunks.get(cid)
            if chunk is None:
                out.append((cid, score))
                continue
            agency = section_agency(chunk.section)
            if agency is not None and folded_phrase(agency) in self.agencies:
                score += SECTION_BOOST * weight
            if self.provinces:
                if chunk.doc_id not in about:
                    doc = snapshot.document(chunk.doc_id)
                    named = {folded_phrase(p) for p in (doc.provinces if doc else [])}
                    about[chunk.doc_id] = bool(named & self.provinces)
                if about[chunk.doc_id]:
                    score += PROVINCE_BOOST * weight
            out.append((cid, score))
        out.sort(key=lambda item: (-item[1], item[0]))
        return out[:k]


def retrieval_hints(snapshot: Records, plan: QueryPlan) -> RetrievalHints:
    """Hints for retrieving ``plan`` from ``snapshot``.

    English role words and agency names reach BM25 as the documents write them
    ("who leads" -> "chủ trì", "Department of Finance" -> "Sở Tài chính"), with
    the Vietnamese renderings of the question's topic words; an agency typed
    short ("sở gtvt") is searched by its full name too.
    """
    q = analyser_for(snapshot).analyse(plan)
    lexical = f"{plan.lexical_text} {q.vietnamese}".strip() if q.vietnamese else plan.lexical_text
    agencies = frozenset(folded_phrase(a) for a in q.agencies)
    weights = plan.weights
    if q.english and q.terms:
        # BM25 reads an English question well only as far as it could be put in the
        # documents' words: its weight grows with the share of topic words translated.
        translated = sum(1 for g in q.terms if g) / len(q.terms)
        lexical_weight = weights.lexical + (ENGLISH_LEXICAL_MAX - weights.lexical) * translated
        weights = replace(weights, lexical=max(weights.lexical, lexical_weight))
    provinces = frozenset(folded_phrase(p) for p in q.provinces)
    return RetrievalHints(replace(plan, lexical_text=lexical, weights=weights), agencies, provinces)
