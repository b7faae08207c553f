"""Query understanding: what kind of query this is, and how to search for it.

Three kinds of users type into the same box:

* ``vi``: Vietnamese with diacritics ("kế hoạch tăng trưởng xanh");
* ``vi_plain``: Vietnamese typed without diacritics ("ke hoach tang truong xanh");
* ``en``: English ("green growth action plan").

The kind is read from the words themselves: marks on the letters, and
whether the words can be Vietnamese syllables at all ("growth", "plan",
"what" cannot; "ke", "hoach" can).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ingest.text import fold, has_diacritics, normalize
from search.filters import Filters
from search.lookup import Lookup, find_lookup

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# A Vietnamese syllable without its marks: optional onset, 1-3 vowels, optional coda.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:[aeiouy]{1,3})"
    r"(?:ch|ng|nh|[cmnpt])?"
)
# Share of words that cannot be Vietnamese syllables above which a query is English.
# Unaccented XQuAD-vi questions stay below it (names such as "Panthers"), English ones
# are far above it: see tests/search/test_query.py.
EN_THRESHOLD = 0.3
# Frequent Vietnamese function words, unaccented, that are not English words: a
# lower-case unaccented question full of English names still has "la", "gi", "da".
_VI_MARKERS = frozenset(
    [
        "ai",
        "bao",
        "bi",
        "cac",
        "cho",
        "chua",
        "co",
        "cua",
        "da",
        "dang",
        "dau",
        "den",
        "duoc",
        "gi",
        "hay",
        "khi",
        "khong",
        "la",
        "lam",
        "len",
        "mot",
        "nao",
        "nay",
        "nam",
        "nhat",
        "nhieu",
        "nhu",
        "nhung",
        "nguoi",
        "phai",
        "ra",
        "sao",
        "sau",
        "tai",
        "thi",
        "trong",
        "tu",
        "va",
        "ve",
        "vi",
        "voi",
        "bang",
        "nen",
        "cung",
        "rat",
        "theo",
    ]
)


class QueryKind(StrEnum):
    VI = "vi"
    VI_PLAIN = "vi_plain"
    EN = "en"


# grave, acute, tilde, hook above, dot below (tones); circumflex, breve, horn (vowels)
_VI_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")


def _vietnamese_letters(word: str) -> bool:
    """Only letters of the Vietnamese alphabet: "Kraków" yes, "Temüjin" no."""
    for ch in unicodedata.normalize("NFD", word.lower()):
        if not ("a" <= ch <= "z" or ch == "đ" or ch in _VI_MARKS):
            return False
    return True


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` (any case, marks or not) has the shape of a Vietnamese syllable."""
    return _SYLLABLE.fullmatch(fold(word)) is not None


@dataclass(frozen=True)
class QuerySignals:
    words: int  # words that tell the language: all but foreign names
    accented: int
    foreign: int  # lower-case words that cannot be Vietnamese syllables
    markers: int  # Vietnamese function words


def signals(query: str) -> QuerySignals:
    words = _WORD.findall(normalize(query))
    n = accented = foreign = markers = 0
    for i, w in enumerate(words):
        if is_vietnamese_syllable(w):
            n += 1
            accented += has_diacritics(w)
            markers += w.lower() in _VI_MARKERS
        elif has_diacritics(w) and _vietnamese_letters(w):
            n += 1
            accented += 1
        elif (i > 0 and w[:1].isupper()) or (len(w) > 1 and w.isupper()):
            # "Super Bowl", "NFL", "Vingroup" in the middle of a sentence name something;
            # they occur in Vietnamese and English questions alike.
            continue
        else:
            n += 1
            foreign += 1
    return QuerySignals(words=n, accented=accented, foreign=foreign, markers=markers)


def detect_kind(query: str) -> QueryKind:
    """``vi``, ``vi_plain`` or ``en`` for ``query`` (a query of names and numbers only is Vietnamese)."""
    s = signals(query)
    if s.words == 0:
        return QueryKind.VI if has_diacritics(query) else QueryKind.VI_PLAIN
    # An English question may name a place with its marks ("Lào Cai"); most of its
    # words still cannot be Vietnamese.
    vietnamese_evidence = s.accented + s.markers
    if s.foreign / s.words > EN_THRESHOLD and s.foreign >= 2 * vietnamese_evidence:
        return QueryKind.EN
    # Many Vietnamese syllables carry no mark ("bao", "khi", "anh"), so one accented
    # word is enough; the unaccented rest is restored all the same.
    return QueryKind.VI if s.accented else QueryKind.VI_PLAIN


@dataclass(frozen=True)
class Weights:
    """How one kind of query is searched.

    ``syllable``, ``folded`` and ``restored`` weight the BM25 fields inside the
    lexical list (``restored``: the syllable field queried with the restored
    text); ``lexical`` and ``dense`` weight the two lists in the fusion.
    """

    syllable: float
    folded: float
    restored: float
    lexical: float
    dense: float


# Measured with `policy-search eval` on XQuAD and the corpus question set (docs/eval.md).
# Vietnamese lexical 1.5 (was 1.0), measured on lawqa dev (300 articles): the min-max fusion
# let a passage near the top of the dense list alone outrank the article whose passage tops
# the lexical list, and lexical alone was ahead of hybrid at hit@1 (0.908 vs 0.897); at 1.5
# hybrid is 0.908 / 0.908 with and without diacritics, XQuAD and ALQAC within 0.003 either
# way and the corpus set 0.973 -> 0.977 (docs/eval.md).
WEIGHTS: dict[QueryKind, Weights] = {
    QueryKind.VI: Weights(syllable=1.0, folded=0.3, restored=0.0, lexical=1.5, dense=1.0),
    QueryKind.VI_PLAIN: Weights(syllable=0.0, folded=1.0, restored=0.5, lexical=1.5, dense=1.0),
    QueryKind.EN: Weights(syllable=0.0, folded=1.0, restored=0.0, lexical=0.3, dense=1.0),
}


class Restorer(Protocol):
    def restore(self, text: str) -> str: ...


# English words too common to say anything about a Vietnamese passage; several are
# also Vietnamese syllables without marks ("in", "to", "an", "the"), which would match noise.
_EN_STOPWORDS = frozenset(
    str.split("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our out over own same she should
so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
many much name named called one first kind type main used use make made get got take took
"""),
)


def english_keywords(text: str) -> str:
    """The words of an English query that can occur in a Vietnamese text: names, numbers, terms."""
    words = re.findall(r"[^\W_]+", text)
    return " ".join(w for w in words if w.lower() not in _EN_STOPWORDS)


@dataclass(frozen=True)
class QueryPlan:
    """Everything known about one query, worked out once and read by every stage after.

    The engine builds it (:func:`plan_query`) and hands the same plan to the
    retrievers and the answerer, so none of them normalises, detects or restores
    the query again. Frozen and plain, so later stages can be given more fields.
    """

    text: str  # the normalised query
    kind: QueryKind
    dense_text: str  # what the dense model reads: restored for vi_plain
    weights: Weights
    lexical_text: str = ""  # what BM25 reads, when not ``text``: English keywords
    filters: Filters | None = None  # None: nothing filtered
    # Document numbers and law articles the query names (search/lookup.py): fast paths.
    lookup: Lookup = field(default_factory=Lookup)

    @property
    def restored(self) -> bool:
        """Diacritics were put back into an unaccented query for the dense side."""
        return self.dense_text != self.text


def plan_query(
    query: str,
    restorer: Restorer | None = None,
    weights: dict[QueryKind, Weights] | None = None,
    filters: Filters | None = None,
    restore: bool = True,
) -> QueryPlan:
    """The plan of ``query``; ``restore=False`` keeps an unaccented query as typed."""
    text = normalize(query)
    kind = detect_kind(text)
    dense_text = text
    if kind is QueryKind.VI_PLAIN and restorer is not None and restore:
        dense_text = restorer.restore(text)
    lexical_text = english_keywords(text) if kind is QueryKind.EN else text
    return QueryPlan(
        text=text,
        kind=kind,
        dense_text=dense_text,
        weights=(weights or WEIGHTS)[kind],
        lexical_text=lexical_text,
        filters=None if filters is None or filters.is_empty() else filters,
        lookup=find_lookup(text),
    )
