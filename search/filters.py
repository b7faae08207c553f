"""Metadata filters a search can carry: document type, province, date range, source document.

Every field is optional; ``None`` means "no condition". Dates are ISO strings
(``yyyy``, ``yyyy-mm`` or ``yyyy-mm-dd``), compared on the precision both sides have.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    doc_type: str | None = None  # plan | agreement | news
    province: str | None = None  # "Lào Cai", "lao cai": matched without diacritics or case
    date_from: str | None = None  # inclusive
    date_to: str | None = None  # inclusive
    doc_id: str | None = None  # one source document

    def is_empty(self) -> bool:
        return not any((self.doc_type, self.province, self.date_from, self.date_to, self.doc_id))
