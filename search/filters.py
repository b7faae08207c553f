"""Metadata filters a search can carry: document type, province, date range, source
document, and an official document's issuer, number and type as printed.

Every field is optional; ``None`` means "no condition". Dates are ISO strings
(``yyyy``, ``yyyy-mm`` or ``yyyy-mm-dd``), compared on the precision both sides have;
an official document's date is its header's (ingest puts it there). A date filter
must be a real calendar date between 1900 and 2100: the rule is one regular
expression (:data:`DATE_PATTERN`), which the API schema publishes as is.

The header filters read ``StoredDocument.header`` (:mod:`ingest.header`):

* ``issuer``: whole words of the issuing body or of the body printed above it,
  without diacritics or case ("UBND tỉnh Lào Cai", "ubnd tinh lao cai", "Lào Cai",
  "Bộ Tài chính" for a Cục under it). The short forms of the issuing bodies (UBND,
  HĐND, ...) are read in full, the place unit after them may be left out ("UBND
  Lào Cai"), and the glossary's abbreviations and English names of agencies count
  ("Sở TN&MT", "Department of Finance").
* ``number``: a number in any form the query fast path reads
  (:func:`search.lookup.find_lookup`: "2666/QĐ-UBND", "2666/qd-ubnd", "qd 2666"),
  or the bare sequence ("2666", "08/2022"), matched as the lookup matches it
  (:func:`index.references.number_matches`).
* ``document_type``: the type as printed ("Quyết định", "quyet dinh") or its code
  in numbers ("QĐ").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from index.references import number_matches
from index.store import StoredDocument
from index.stores import Records
from ingest.header import NumberParts, document_types, number_key, number_parts, type_code
from ingest.metadata import DOC_TYPES
from ingest.text import fold
from search.glossary import folded_phrase, glossary
from search.lookup import NumberQuery, find_lookup


@dataclass(frozen=True)
class Filters:
    doc_type: str | None = None  # one of DOC_TYPES
    province: str | None = None  # "Lào Cai", "lao cai": matched without diacritics or case
    date_from: str | None = None  # inclusive
    date_to: str | None = None  # inclusive
    doc_id: str | None = None  # one source document
    issuer: str | None = None  # "UBND tỉnh Lào Cai": the issuer or its parent body
    number: str | None = None  # "2666/QĐ-UBND", "qd 2666", "2666"
    document_type: str | None = None  # as printed: "Quyết định", "quyet dinh", "QĐ"
    # Several values of one filter (province=A&province=B): a document with any of them
    # passes. One value stays in the field above (``province``), so a single filter reads
    # as it always did.
    provinces: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    document_types: tuple[str, ...] = ()
    years: tuple[int, ...] = ()

    def is_empty(self) -> bool:
        return not any(
            (
                self.doc_type,
                self.province,
                self.date_from,
                self.date_to,
                self.doc_id,
                self.issuer,
                self.number,
                self.document_type,
                self.provinces,
                self.doc_types,
                self.issuers,
                self.document_types,
                self.years,
            )
        )


# Years 1900-2100; leap years among them: divisible by 4, 1900 and 2100 excepted.
_YEAR = "(?:19[0-9]{2}|20[0-9]{2}|2100)"
_LEAP_YEAR = "(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:0[048]|[2468][048]|[13579][26]))"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
# Plain character classes only ([0-9], not \d): Python and the schema's ECMA 262
# expressions then accept exactly the same strings.
DATE_PATTERN = f"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2])|-{_MONTH_DAY})?|{_LEAP_YEAR}-02-29)$"
_DATE = re.compile(DATE_PATTERN)
# The longest issuer, number or document type a filter may name (a body's full name is
# well under it).
MAX_TEXT_FILTER_CHARS = 200
# The most values one filter may name (OR): Viet Nam has 34 provinces since 2025, and a
# longer list is no longer a filter.
MAX_PROVINCES = MAX_VALUES = 34
# The single field of each filter that may take several values, and its plural field.
SEVERAL = {
    "province": "provinces",
    "doc_type": "doc_types",
    "issuer": "issuers",
    "document_type": "document_types",
}


def check_filters(filters: Filters) -> None:
    """Raise ValueError with a reason a person can act on when a filter is malformed."""
    # Exactly the types ingest assigns (ingest/metadata.py find_type; the API schema states
    # the same enum): a filter naming another is a mistake worth a clear error, not an
    # empty result.
    for doc_type in (filters.doc_type, *filters.doc_types):
        if doc_type is not None and doc_type not in DOC_TYPES:
            raise ValueError(f"type must be one of {', '.join(DOC_TYPES)}; got {doc_type!r}")
    for year in filters.years:
        if not 1900 <= year <= 2100:
            raise ValueError(f"year must be between 1900 and 2100; got {year}")
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value and not _DATE.fullmatch(value):  # empty: no condition
            raise ValueError(
                f"{name} must be a real date between 1900 and 2100 written yyyy, yyyy-mm or "
                f"yyyy-mm-dd; got {value!r}"
            )
    if filters.date_from and filters.date_to:
        n = min(len(filters.date_from), len(filters.date_to))
        if filters.date_from[:n] > filters.date_to[:n]:
            raise ValueError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    for name, plural in (*SEVERAL.items(), ("year", "years")):
        if len(getattr(filters, plural)) > MAX_VALUES:
            shown = "type" if name == "doc_type" else name
            raise ValueError(f"{shown} may be given at most {MAX_VALUES} times")
    issuers = (filters.issuer, *filters.issuers)
    types = (filters.document_type, *filters.document_types)
    for name, values in (
        ("issuer", issuers),
        ("number", (filters.number,)),
        ("document_type", types),
    ):
        for value in values:
            if value and len(value) > MAX_TEXT_FILTER_CHARS:
                raise ValueError(f"{name} must be at most {MAX_TEXT_FILTER_CHARS} characters")
    for issuer in issuers:
        if issuer and not issuer_query(issuer):
            raise ValueError(f"issuer must name a body in letters or digits; got {issuer!r}")
    if filters.number:
        number_query(filters.number)
    for printed in types:
        if printed and _type_key(printed) not in _TYPE_KEYS:
            raise ValueError(
                "document_type must be a type as printed on official documents ("
                + ", ".join(document_types())
                + f"), with or without diacritics; got {printed!r}"
            )


def _tighter(a: str | None, b: str | None, later: bool) -> str | None:
    """Of two ISO bounds, the later start (``later``) or the earlier end; on a tie of the
    digits both have, the more precise ("2024-03" within "2024"). A bound that is no date
    is kept, for :func:`check_filters` to refuse."""
    if not a or not b:
        return a or b
    if not _DATE.fullmatch(a):
        return a
    n = min(len(a), len(b))
    if a[:n] != b[:n]:
        return max(a, b) if later else min(a, b)
    return a if len(a) >= len(b) else b


def any_of(filters: Filters, name: str, values: str | Sequence[str] | None) -> Filters:
    """``filters`` with filter ``name`` (a key of :data:`SEVERAL`) any of ``values``: one
    value in its own field, several in its plural field; empty values are no condition."""
    given = [values] if isinstance(values, str) else list(values or [])
    chosen = list(dict.fromkeys(v for v in given if v))
    one = chosen[0] if len(chosen) == 1 else None
    fields: dict[str, Any] = {name: one, SEVERAL[name]: tuple(chosen) if one is None else ()}
    return replace(filters, **fields)


def with_years(filters: Filters, years: int | Sequence[int] | None) -> Filters:
    """``filters`` narrowed to any of ``years``: one year narrows the date range (as
    :func:`with_year`), several pass a document dated in any of them."""
    chosen = [years] if isinstance(years, int) else list(dict.fromkeys(years or []))
    if len(chosen) <= 1:
        return with_year(replace(filters, years=()), chosen[0] if chosen else None)
    return replace(filters, years=tuple(chosen))


def with_year(filters: Filters, year: int | None) -> Filters:
    """``filters`` narrowed to ``year`` as well: the date range both allow."""
    if year is None:
        return filters
    y = f"{year:04d}"
    return replace(
        filters,
        date_from=_tighter(filters.date_from, y, later=True),
        date_to=_tighter(filters.date_to, y, later=False),
    )


# --- issuer ------------------------------------------------------------------------------

# Short forms of the bodies that issue documents (the heads of Nghị định 30/2020/NĐ-CP's
# names), folded, as people type them.
_BODY_SHORT = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "ubtvqh": "uy ban thuong vu quoc hoi",
    "tand": "toa an nhan dan",
    "vksnd": "vien kiem sat nhan dan",
    "nhnn": "ngan hang nha nuoc",
    "mttq": "mat tran to quoc",
    "ttg": "thu tuong chinh phu",
    "tp": "thanh pho",
}
# "Ủy ban nhân dân tỉnh Lào Cai" is also typed "UBND Lào Cai": the unit after "nhân dân"
# may be left out.
_UNIT_AFTER_BODY = re.compile(
    r"(?<=nhan dan )(?:tinh|thanh pho|huyen|quan|thi xa|thi tran|xa|phuong|dac khu) "
)


def _expand(folded: str) -> str:
    return " ".join(_BODY_SHORT.get(w, w) for w in folded.split())


@functools.cache
def _agency_forms() -> dict[str, str]:
    """The glossary's abbreviations and English names of agencies (and English names of
    provinces), expanded and folded -> the name as documents print it, folded."""
    g = glossary()
    names = [
        (_expand(folded_phrase(a.name)), (*a.aliases, *a.english))
        for a in g.agencies
        # A group of bodies ("Các sở, ban, ngành, UBND các huyện") issues nothing.
        if not folded_phrase(a.name).startswith("cac ")
    ]
    names += [(folded_phrase(vi), forms) for vi, forms in g.province_en.items()]
    out: dict[str, str] = {}
    for name, forms in names:
        for form in forms:
            key = _expand(folded_phrase(form))
            # An abbreviation, not a shortening: "Sở Nông nghiệp" must keep matching
            # "Sở Nông nghiệp và Môi trường", and "Huế" the city of Huế.
            if key and f" {key} " not in f" {name} ":
                out.setdefault(key, name)
    return out


@functools.lru_cache(maxsize=1024)
def issuer_query(value: str) -> str:
    """An issuer as typed, in the words it is matched with ("" when it has none)."""
    words = _expand(folded_phrase(value)).split()
    forms = _agency_forms()
    longest = max((len(k.split()) for k in forms), default=1)
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            found = forms.get(" ".join(words[i : i + n]))
            if found is not None:
                out.append(found)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


@functools.lru_cache(maxsize=65536)
def _issuer_keys(issuer: str, parent: str) -> tuple[str, ...]:
    keys = []
    for name in (issuer, parent):
        key = _expand(folded_phrase(name))
        if key:
            keys += [f" {key} ", f" {_UNIT_AFTER_BODY.sub('', key)} "]
    return tuple(keys)


def issuer_matches(header: dict[str, Any], issuer: str) -> bool:
    """Whether the issuer typed is whole words of the header's issuer or parent body."""
    want = f" {issuer_query(issuer)} "
    keys = _issuer_keys(str(header.get("issuer", "")), str(header.get("issuer_parent", "")))
    return any(want in key for key in keys)


# --- number and type ---------------------------------------------------------------------

# A number without its symbol: "2666", "08/2022", "số 2666", "66.2".
_BARE_NUMBER = re.compile(
    r"(?:(?:so|no\.?|number)\s*:?\s*)?(\d+(?:\.\d+)?)(?:\s*/\s*((?:19|20)\d{2}))?"
)


@functools.lru_cache(maxsize=1024)
def number_query(value: str) -> NumberQuery:
    """The number a filter names, read as the query fast path reads numbers, or its bare
    sequence (and year); ValueError when it names none, or more than one."""
    numbers = find_lookup(value).numbers
    if len(numbers) == 1:
        return numbers[0]
    folded = " ".join(fold(value).split())
    bare = _BARE_NUMBER.fullmatch(folded)
    if not numbers and bare:
        return NumberQuery(folded, number_key(bare.group(1)), bare.group(2) or "")
    raise ValueError(
        "number must be one document number, e.g. 2666/QĐ-UBND, 2666/qd-ubnd, qd 2666 or "
        f"2666; got {value!r}"
    )


@functools.lru_cache(maxsize=65536)
def _number_parts(number: str) -> NumberParts | None:
    return number_parts(number) if number else None


def number_is(header: dict[str, Any], number: str) -> bool:
    """Whether the header's number is the one a filter names."""
    parts = _number_parts(str(header.get("number", "")))
    q = number_query(number)
    return parts is not None and number_matches(parts, q.seq, q.year, q.code, q.key)


def _type_key(doc_type: str) -> str:
    # "Quyết định", "quyet dinh" and "QĐ" alike; types without a code by their name.
    return type_code(doc_type) or " ".join(fold(doc_type).split())


_TYPE_KEYS = frozenset(_type_key(t) for t in document_types())


def _place_key(name: str) -> str:
    key = " ".join(fold(name).replace("-", " ").split())
    for prefix in ("tinh ", "thanh pho ", "tp "):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key


def _date_ok(date: str, lo: str | None, hi: str | None) -> bool:
    # "2024-09" is within 2024-09-01..2024-09-30: compare on the precision both sides have.
    if not date:
        return lo is None and hi is None
    if lo is not None and date[: len(lo)] < lo[: len(date)]:
        return False
    return not (hi is not None and date[: len(hi)] > hi[: len(date)])


def document_matches(doc: StoredDocument, filters: Filters) -> bool:
    if filters.doc_id is not None and doc.doc_id != filters.doc_id:
        return False
    if filters.doc_type is not None and fold(doc.doc_type) != fold(filters.doc_type.strip()):
        return False
    if filters.doc_types and fold(doc.doc_type) not in {fold(t.strip()) for t in filters.doc_types}:
        return False
    if filters.years and not (doc.date[:4].isdigit() and int(doc.date[:4]) in filters.years):
        return False
    if filters.province is not None:
        want = _place_key(filters.province)
        if want not in {_place_key(p) for p in doc.provinces}:
            return False
    if filters.provinces:
        named = {_place_key(p) for p in doc.provinces}
        if not any(_place_key(p) in named for p in filters.provinces):
            return False
    header = doc.header or {}
    if filters.issuer and not issuer_matches(header, filters.issuer):
        return False
    if filters.issuers and not any(issuer_matches(header, i) for i in filters.issuers):
        return False
    if filters.number and not number_is(header, filters.number):
        return False
    printed = _type_key(str(header.get("document_type", "")))
    if filters.document_type and printed != _type_key(filters.document_type):
        return False
    if filters.document_types and printed not in {_type_key(t) for t in filters.document_types}:
        return False
    return _date_ok(doc.date, filters.date_from, filters.date_to)


def chunk_doc_ids(snapshot: Records) -> np.ndarray:
    """The document id of every chunk, by chunk id (kept with the snapshot)."""
    ids: np.ndarray = snapshot.derived(
        "chunk_doc_ids", lambda s: np.array(s.chunk_doc_ids(), dtype=object)
    )
    return ids


def allowed_chunks(snapshot: Records, filters: Filters | None) -> np.ndarray | None:
    """Boolean mask over chunk ids that pass ``filters``; ``None`` when nothing is filtered."""
    if filters is None or filters.is_empty():
        return None
    check_filters(filters)
    docs: list[StoredDocument] = snapshot.derived("documents", lambda s: s.documents())
    chunk_docs = chunk_doc_ids(snapshot)
    keep = [d.doc_id for d in docs if document_matches(d, filters)]
    return np.isin(chunk_docs, keep) if len(chunk_docs) else np.zeros(0, dtype=bool)
