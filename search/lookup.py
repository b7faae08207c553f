"""Fast paths of a query: a document named by its number, an article named with its law.

People name official documents by number, in many forms: "1658/QĐ-TTg",
"1658/QD-TTg", "qd 1658", "quyết định số 1658", "Nghị định 08/2022/NĐ-CP",
"nd 08/2022", "decision 1658"; and articles of a law: "Điều 5 Luật Bảo vệ
môi trường", "dieu 10 bo luat dan su 2015". :func:`find_lookup` reads those
from the query text alone (the query plan holds the result, :mod:`search.query`);
:func:`lookup_targets` finds what they name in one index version, through
the version's :mod:`index.references` table. The retriever then puts the
named document (its best passage) or article first (:mod:`search.retrieve`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from index.lexical import LexicalIndex
from index.references import ReferenceTable, reference_table
from index.stores import Records, lexical_index
from ingest.header import law_key, number_key, number_parts, type_code
from ingest.structure import section_article
from ingest.text import fold


@dataclass(frozen=True)
class NumberQuery:
    """A document number as typed: whole ("1658/QĐ-TTg") or short ("qd 1658")."""

    text: str  # the span as typed, folded
    seq: str  # "1658", "8"
    year: str = ""
    code: str = ""  # folded type code: "QD"
    key: str = ""  # number_key of a whole number; "" for a short form


@dataclass(frozen=True)
class ArticleQuery:
    """An article of a law: "Điều 5 Luật Bảo vệ môi trường" -> ("5", "luat bao ve moi truong ...")."""

    article: str
    law: str  # law_key of the words from the law's name to the end of the clause


@dataclass(frozen=True)
class Lookup:
    numbers: tuple[NumberQuery, ...] = ()
    articles: tuple[ArticleQuery, ...] = ()
    # Laws the query names ("Theo Luật Cư trú, ...", "theo BLDS 2015"): law_key of the words
    # from the law's name to the end of the clause.
    laws: tuple[str, ...] = ()
    # The query is the reference alone ("Quyết định 876/QĐ-TTg", "khoản 2 Điều 103 Luật Xây
    # dựng"): the passages that mention it come first, indexed or not (mention_chunks).
    bare: bool = False
    # The folded reference spans as typed ("khoan 2 dieu 103 luat xay dung").
    spans: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.numbers or self.articles or self.laws)


# Type words that stand before a number in a query: the type names, the codes people type
# short, and English names. A code must be common enough not to be some other word.
_SHORT_CODES = ("qd", "nd", "nq", "tt", "ttlt", "ct", "kh", "tb", "bc", "cd", "vbhn")
_ENGLISH_TYPES = {
    "decision": "QD",
    "decree": "ND",
    "resolution": "NQ",
    "circular": "TT",
    "directive": "CT",
    "plan": "KH",
    "notice": "TB",
    "report": "BC",
}
_TYPE_NAMES = (
    "quyet dinh",
    "nghi dinh",
    "nghi quyet",
    "thong tu lien tich",
    "thong tu",
    "chi thi",
    "ke hoach",
    "thong bao",
    "bao cao",
    "cong dien",
    "van ban hop nhat",
)
_TYPE_WORD = "|".join(
    re.escape(w)
    for w in sorted([*_TYPE_NAMES, *_SHORT_CODES, *_ENGLISH_TYPES], key=len, reverse=True)
)
# A whole number: "1658/qd-ttg", "08/2022/nd-cp", "66.2/2025/nq-cp", "24/2021/qh15", "46-ct/tw".
_WHOLE = re.compile(
    r"(?<![\w/.])(?:\d+[\da-z.]*?(?:\s?/\s?(?:19|20)\d{2})?\s?/\s?[a-z][a-z0-9&]*"
    r"(?:\s?-\s?[a-z][a-z0-9&]*)*|\d+-[a-z]+/[a-z]+\w*)"
)
# A short one: "qd 1658", "quyet dinh so 1658", "nd 08/2022", "decision no. 1658".
_SHORT = re.compile(
    rf"(?<!\w)(?P<type>{_TYPE_WORD})\s*(?:(?P<so>so|no\.?|number)\s*)?[:.]?\s*"
    rf"(?P<seq>\d+(?:\.\d+)?)(?:\s*/\s*(?P<year>(?:19|20)\d{{2}}))?(?![\d/.\w])"
)
# Words after a number that make it a quantity ("5 năm", "100 tỷ đồng", "30 ngày", "20%");
# "năm 2021" after it is the document's year ("Quyết định 1658 năm 2021").
_UNIT_AFTER = re.compile(
    r"\s*(?:%|nam(?!\s*(?:19|20)\d{2})(?!\w)|(?:thang|tuan|ngay|gio|phut|nguoi|ty|trieu|nghin"
    r"|ngan|lan|km|ha|dong|years?|months?|days?|percent)(?!\w))"
)
_TYPE_BEFORE = re.compile(rf"(?<!\w)(?:{_TYPE_WORD})\s*(?:(?:so|no\.?|number)\s*)?[:.]?\s*$")
# Common abbreviations of the codes' names (bộ luật dân sự, hình sự, lao động, ...).
_LAW_ABBREVIATIONS = {
    "blds": "bo luat dan su",
    "blhs": "bo luat hinh su",
    "blld": "bo luat lao dong",
    "bltths": "bo luat to tung hinh su",
    "blttds": "bo luat to tung dan su",
}
_LAW_HEAD = r"(?:bo\s+luat|luat|hien\s+phap|phap\s+lenh|" + "|".join(_LAW_ABBREVIATIONS) + r")"
# Any law named: "Theo Luật Phòng, chống ma túy 2021, ...", "quy định của BLDS".
_LAW = re.compile(rf"(?<!\w)(?P<law>{_LAW_HEAD}(?!\w)[^;?!\n]*)")
_ARTICLE = re.compile(
    r"(?<!\w)dieu\s+(?P<article>\d+[a-z]?)(?!\w)(?:\s*,?\s*(?:khoan|diem)\s+[\da-z]+)*"
    rf"\s*,?\s*(?:(?:cua|thuoc|trong)\s+)?(?P<law>{_LAW_HEAD}(?!\w)[^,;?!]*)"
)


# "khoản 2 điểm a" before an article belongs to its mention.
_CLAUSE_BEFORE = re.compile(r"(?:(?:diem|khoan)\s+[\da-z]+\s*,?\s*)+$")


def lookup_words(lookup: Lookup) -> frozenset[str]:
    """The folded words of the numbers ``lookup`` read ("quyet", "dinh", "1658", "qd"): once
    the number has picked its document, a sentence inside it need not repeat them."""
    return frozenset(w for n in lookup.numbers for w in re.findall(r"[a-z0-9]+", n.text))


def _expand(law: str) -> str:
    words = law.split()
    if words and words[0] in _LAW_ABBREVIATIONS:
        words[0] = _LAW_ABBREVIATIONS[words[0]]
    return " ".join(words)


def find_lookup(text: str) -> Lookup:
    """The document numbers and law articles ``text`` names (nothing looked up yet)."""
    folded = fold(text)
    numbers: list[NumberQuery] = []
    taken: list[tuple[int, int]] = []
    for m in _WHOLE.finditer(folded):
        span = m.group(0).rstrip(".")
        parts = number_parts(span)
        if parts is None or not re.search(r"[a-z]", span.split("/", 1)[-1]):
            continue
        # The type word before it belongs to the mention: "quyết định số 1658/QĐ-TTg".
        before = _TYPE_BEFORE.search(folded[: m.start()])
        start = before.start() if before else m.start()
        numbers.append(
            NumberQuery(
                folded[start : m.start()] + span, parts.seq, parts.year, parts.code, parts.key
            )
        )
        taken.append((start, m.end()))
    for m in _SHORT.finditer(folded):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        seq, year = m.group("seq"), m.group("year") or ""
        # "kế hoạch 2023" names a year and "kế hoạch 5 năm" a length, not plan number 2023 or
        # 5 ("kế hoạch số 2023" does): without "số" or a year, a number is a document's only
        # when it has two digits or more, is not a year and is not followed by a unit.
        if not year and not m.group("so"):
            if len(seq) < 2 or re.fullmatch(r"(?:19|20)\d{2}", seq):
                continue
            if _UNIT_AFTER.match(folded, m.end()):
                continue
        word = m.group("type")
        code = _ENGLISH_TYPES.get(word) or type_code(word)
        seq = number_key(seq)
        numbers.append(NumberQuery(m.group(0), seq, year, code))
    articles = []
    for m in _ARTICLE.finditer(folded):
        articles.append(ArticleQuery(m.group("article"), law_key(_expand(m.group("law")))))
        clause = _CLAUSE_BEFORE.search(folded[: m.start()])
        taken.append((clause.start() if clause else m.start(), m.end()))
    laws = [law_key(_expand(m.group("law"))) for m in _LAW.finditer(folded)]
    spans = [folded[a:b].strip(" .,") for a, b in taken]
    rest = "".join(
        c if not any(a <= i < b for a, b in taken) else " " for i, c in enumerate(folded)
    )
    # Nothing but the reference and a word or two around it ("văn bản", "theo").
    bare = bool(taken) and len(re.findall(r"[a-z]+", rest)) <= 2
    return Lookup(
        tuple(dict.fromkeys(numbers)),
        tuple(dict.fromkeys(articles)),
        tuple(dict.fromkeys(laws)),
        bare,
        tuple(dict.fromkeys(spans)),
    )


@dataclass(frozen=True)
class Target:
    """What a lookup names in the index: a document (its best passage), or the chunks of
    an article (``chunks``, in order)."""

    doc_id: str
    chunks: tuple[int, ...] = ()
    exact: bool = True  # named by a whole number or an article; False: a short number


# At most this many documents answer one lookup (a short number can be several documents').
MAX_TARGETS = 5


def lookup_targets(records: Records, lookup: Lookup) -> list[Target]:
    """The documents and articles of ``records``' version that ``lookup`` names, whole
    numbers before short ones, at most :data:`MAX_TARGETS` documents."""
    if not lookup:
        return []
    table = reference_table(records)
    out: list[Target] = []
    for q in sorted(lookup.numbers, key=lambda q: not q.key):
        for doc_id in table.documents_numbered(q.seq, q.year, q.code, q.key):
            out.append(Target(doc_id, exact=bool(q.key)))
    for a in lookup.articles:
        law = _law_named(table, a.law)
        if law is None:
            continue
        for doc_id in table.laws[law]:
            own = table.article_of.get(doc_id)
            if own is not None:
                if own == a.article:
                    out.append(Target(doc_id, tuple(c.id for c in records.doc_chunks(doc_id))))
                continue
            chunks = [
                c.id for c in records.doc_chunks(doc_id) if section_article(c.section) == a.article
            ]
            if chunks:
                out.append(Target(doc_id, tuple(chunks)))
    seen: set[str] = set()
    unique = []
    for t in out:
        if t.doc_id not in seen:
            seen.add(t.doc_id)
            unique.append(t)
    return unique[:MAX_TARGETS]


def _law_named(table: ReferenceTable, words: str) -> str | None:
    """The longest law name of the version that ``words`` begin with."""
    return next((n for n in table.law_names() if words == n or words.startswith(n + " ")), None)


def law_documents(records: Records, lookup: Lookup) -> frozenset[str]:
    """The documents of the laws ``lookup`` names ("Theo Luật Cư trú, ..."): a whole law,
    or every article file of it."""
    if not lookup.laws:
        return frozenset()
    table = reference_table(records)
    found: set[str] = set()
    for words in lookup.laws:
        law = _law_named(table, words)
        if law is not None:
            found.update(table.laws[law])
    return frozenset(found)


def phrase_mask(index: LexicalIndex, field: str, phrase: str) -> np.ndarray:
    """Chunks whose ``field`` holds ``phrase`` (its syllables side by side, through bigrams)."""
    model = index.models.get(field)
    words = phrase.split()
    terms = words if len(words) == 1 else [f"{a} {b}" for a, b in pairwise(words)]
    found = np.ones(index.n, dtype=bool)
    for term in terms:
        ids = model.get_tokens_ids([term]) if model is not None else []
        if not ids:
            return np.zeros(index.n, dtype=bool)
        found &= np.asarray(model.get_scores_from_ids(ids)) > 0  # type: ignore[union-attr]
    return found


def _number_pattern(key: str) -> re.Pattern[str]:
    """A whole number as printed in folded text: "876/QD-TTG" -> 876 / qd - ttg, any spacing,
    leading zeros ("08/2022/nd-cp" for 8/2022/ND-CP), and an issuer's longer code after."""
    parts = re.split(r"[/-]", key.lower())
    seps = re.findall(r"[/-]", key)
    body = "0*" + re.escape(parts[0])
    for sep, part in zip(seps, parts[1:], strict=True):
        body += rf"\s*{re.escape(sep)}\s*{re.escape(part)}"
    return re.compile(rf"(?<![\w.]){body}(?![a-z0-9])")


def _article_pattern(article: ArticleQuery) -> re.Pattern[str]:
    """ "Điều 103 ... Luật Xây dựng" in folded text: the law named within the same sentence."""
    law = r"\s+".join(re.escape(w) for w in article.law.split())
    return re.compile(
        rf"(?<!\w)dieu\s+{re.escape(article.article)}(?![\da-z])[^.;\n]{{0,160}}?{law}"
    )


def _squeeze(folded: str) -> str:
    """Folded text with single spaces and no "số" before a number: "Quyết định số 876/QĐ-TTg"
    holds the reference typed "Quyết định 876/QĐ-TTg"."""
    return re.sub(r"(?<!\w)so\s*:?\s*(?=\d)", "", " ".join(folded.split()))


# Passages read to find the mentions of one bare reference, at most.
MAX_MENTIONS = 200


def mention_chunks(
    records: Records, lookup: Lookup, allowed: np.ndarray | None
) -> list[tuple[int, bool]]:
    """(chunk id, holds the reference as typed) of the passages whose text mentions the whole
    numbers or law articles of a bare ``lookup`` ("khoản 2 Điều 103 ..." as typed, or
    "Điều 103 của Luật Xây dựng"), by chunk id.

    Found through the folded BM25 field (the number's or article's words side by side),
    then read: a passage that only has the words apart does not count.
    """
    if not lookup.bare:
        return []
    index = lexical_index(records)
    wanted: list[tuple[np.ndarray, re.Pattern[str]]] = []
    for q in lookup.numbers:
        number = _WHOLE.search(q.text) if q.key else None
        if q.key and number is not None:
            words = " ".join(re.findall(r"[a-z0-9]+", number.group(0)))
            wanted.append((phrase_mask(index, "folded", words), _number_pattern(q.key)))
    for a in lookup.articles:
        mask = phrase_mask(index, "folded", f"dieu {a.article}") & phrase_mask(
            index, "folded", a.law
        )
        wanted.append((mask, _article_pattern(a)))
    found: dict[int, bool] = {}
    for mask, pattern in wanted:
        if allowed is not None:
            mask = mask & allowed
        ids = np.flatnonzero(mask)[:MAX_MENTIONS].tolist()
        for chunk in records.chunks(ids):
            text = fold(chunk.text)
            if pattern.search(text):
                typed = any(_squeeze(span) in _squeeze(text) for span in lookup.spans)
                found[chunk.id] = found.get(chunk.id, False) or typed
    return sorted(found.items())
