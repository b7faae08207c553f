"""Metadata filters a search can carry: document type, province, date range, source document.

Every field is optional; ``None`` means "no condition". Dates are ISO strings
(``yyyy``, ``yyyy-mm`` or ``yyyy-mm-dd``), compared on the precision both sides have.
A date filter must be a real calendar date between 1900 and 2100: the rule is one
regular expression (:data:`DATE_PATTERN`), which the API schema publishes as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.store import StoredDocument
from index.stores import Records
from ingest.text import fold

# The document types ingest assigns (ingest/metadata.py find_type); a filter naming
# another is a mistake worth a clear error, not an empty result.
DOC_TYPES = ("plan", "agreement", "news")


@dataclass(frozen=True)
class Filters:
    doc_type: str | None = None  # plan | agreement | news
    province: str | None = None  # "Lào Cai", "lao cai": matched without diacritics or case
    date_from: str | None = None  # inclusive
    date_to: str | None = None  # inclusive
    doc_id: str | None = None  # one source document

    def is_empty(self) -> bool:
        return not any((self.doc_type, self.province, self.date_from, self.date_to, self.doc_id))


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


def check_filters(filters: Filters) -> None:
    """Raise ValueError with a reason a person can act on when a filter is malformed."""
    # Exactly as listed (the API schema states the same enum).
    if filters.doc_type is not None and filters.doc_type not in DOC_TYPES:
        raise ValueError(f"type must be one of {', '.join(DOC_TYPES)}; got {filters.doc_type!r}")
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
    if filters.province is not None:
        want = _place_key(filters.province)
        if want not in {_place_key(p) for p in doc.provinces}:
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
