"""The answer to a query that is only a document's number: that document, by its header.

Officials type a number the way they would look a file up: "qd 2820",
"Quyết định 2820/QĐ-UBND", "nd 08/2022". When the index holds exactly one
document with that number, the answer names it (type, number, date, issuer,
subject) and cites its first passage; retrieval alone shows passages that
mention the number, and no sentence of them "answers" a bare number.

The confidence is the lookup's, not a reading's: a number typed whole with its
code ("2820/QĐ-UBND") that one indexed document carries is that document
(:data:`WHOLE`); a bare number ("2820") that only one indexed document carries is
probably it, yet may be a document the index lacks (:data:`BARE`). Two or more
documents with the number: no answer, the passages show them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.store import StoredDocument
from search.lookup import Target

WHOLE = 0.99
BARE = 0.8

_DOC_TYPES_EN = {
    "quyết định": "Decision",
    "nghị quyết": "Resolution",
    "nghị định": "Decree",
    "thông tư": "Circular",
    "kế hoạch": "Plan",
    "chỉ thị": "Directive",
    "công văn": "Official letter",
    "công điện": "Official dispatch",
    "luật": "Law",
    "thông báo": "Notice",
    "báo cáo": "Report",
}


def single_target(targets: Sequence[Target]) -> Target | None:
    """The one document the lookup names, or None when it names none or several."""
    docs = {t.doc_id for t in targets}
    return targets[0] if len(docs) == 1 else None


def confidence(target: Target) -> float:
    return WHOLE if target.exact else BARE


def _date(iso: str, lang: str) -> str:
    parts = iso.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return iso
    y, m, d = parts
    return f"{int(d):02d}/{int(m):02d}/{y}" if lang == "vi" else f"{y}-{m}-{d}"


def describe(doc: StoredDocument, lang: str) -> str:
    """ "Quyết định số 2820/QĐ-UBND ngày 19/11/2025 của Ủy ban nhân dân …: <subject>"."""
    header = doc.header or {}
    kind = str(header.get("document_type") or "").strip()
    number = str(header.get("number") or "").strip()
    issuer = str(header.get("issuer") or "").strip()
    date = _date(str(header.get("date") or doc.date or ""), lang)
    subject = str(header.get("title") or doc.title or "").strip()
    if lang == "en":
        head = _DOC_TYPES_EN.get(kind.lower(), kind or "Document")
        bits = [f"{head} No. {number}" if number else head]
        if date:
            bits.append(f"of {date}")
        if issuer:
            bits.append(f"issued by {issuer}")
    else:
        bits = [f"{kind or 'Văn bản'} số {number}" if number else (kind or "Văn bản")]
        if date:
            bits.append(f"ngày {date}")
        if issuer:
            bits.append(f"của {issuer}")
    text = " ".join(bits)
    return f"{text}: {subject}" if subject else text


__all__ = ["BARE", "WHOLE", "confidence", "describe", "single_target"]
