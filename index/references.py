"""Official documents by number and by law, and the references between them, per version.

Each document's header (``StoredDocument.header``) carries its number as
printed and every mention of another document (``references``: its "Căn cứ"
bases and numbered mentions in the body), unresolved. :func:`reference_table`
derives, once per index version and from that version's documents alone:

* the documents by number (:func:`ingest.header.number_key`, and by the parts
  people keep when they type a number short: "qd 1658", "nd 08/2022");
* the laws by name (:func:`ingest.header.law_key`): a whole law, or the
  one-article files of a law ("Bộ luật Dân sự 2015 – Điều 10. ...");
* each document's references resolved to a ``doc_id`` of the same version
  when the cited document is there (by number, or a law cited by name), and
  the inverse: who cites each document.

Being derived from the version's own records, it is never stale: a document
added or removed by a write changes the next version, whose table resolves the
old references anew. Nothing is written to disk (no pickle, no extra file).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from index.store import Snapshot, StoredDocument
from index.stores import Records
from ingest.header import NumberParts, law_key, number_key, number_parts
from ingest.structure import law_article

# Header types under which a document is a law that can be cited by its name.
_LAW_TYPES = ("Hiến pháp", "Bộ luật", "Luật", "Pháp lệnh")


@dataclass(frozen=True)
class Citation:
    """One document citing another: who cites, and the mention as written."""

    doc_id: str
    text: str
    number: str


def number_matches(
    parts: NumberParts, seq: str, year: str = "", code: str = "", key: str = ""
) -> bool:
    """Whether a number (``parts``) is the one typed: a whole number ``key`` (or a number
    it begins: "1658/QD" for "1658/QĐ-TTg"), else a short form, the sequence ``seq`` with,
    when given, the ``year`` and type ``code``."""
    if key:
        return parts.key == key or parts.key.startswith(key + "-")
    return (
        parts.seq == seq and (not year or parts.year == year) and (not code or parts.code == code)
    )


@dataclass
class ReferenceTable:
    by_key: dict[str, list[str]] = field(default_factory=dict)
    # seq ("1658", "8") -> (number, doc_id) of each document numbered with that sequence
    by_seq: dict[str, list[tuple[NumberParts, str]]] = field(default_factory=dict)
    # law_key -> documents of that law (one for a whole law; one per article for article files)
    laws: dict[str, list[str]] = field(default_factory=dict)
    # doc_id -> the article number of a one-article document ("10")
    article_of: dict[str, str] = field(default_factory=dict)
    references: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cited_by: dict[str, list[Citation]] = field(default_factory=dict)
    # seq -> every mention of a number with that sequence, whether its document is here or not
    mentions: dict[str, list[tuple[NumberParts, Citation]]] = field(default_factory=dict)

    def documents_numbered(
        self, seq: str, year: str = "", code: str = "", key: str = ""
    ) -> list[str]:
        """Documents whose number is the one typed (:func:`number_matches`), in id order;
        a whole number found exactly names only its own documents."""
        if key in self.by_key:
            return self.by_key[key]
        found = [
            d
            for parts, d in self.by_seq.get(seq, [])
            if number_matches(parts, seq, year, code, key)
        ]
        return sorted(set(found))

    def citing(self, seq: str, year: str = "", code: str = "", key: str = "") -> list[Citation]:
        """The documents that mention the number typed, indexed or not ("which plans
        implement 1658/QĐ-TTg?"): one citation per document, in id order."""
        found = [
            c
            for parts, c in self.mentions.get(seq, [])
            if number_matches(parts, seq, year, code, key)
        ]
        unique = {c.doc_id: c for c in reversed(found)}
        return [unique[d] for d in sorted(unique)]

    def law_names(self) -> list[str]:
        """The law keys of this version, longest first (so the longest name matches)."""
        return sorted(self.laws, key=len, reverse=True)


def law_of(doc: StoredDocument) -> tuple[str, str] | None:
    """(law_key, article) of a law's document: a one-article file gives its article, a
    whole law "" for it; None for anything else."""
    found = law_article(doc.title)
    if found is not None:
        return law_key(found[0]), found[1]
    header = doc.header or {}
    doc_type = str(header.get("document_type", ""))
    if doc_type in _LAW_TYPES and header.get("title"):
        return law_key(f"{doc_type} {header['title']}"), ""
    return None


def build_table(documents: list[StoredDocument]) -> ReferenceTable:
    table = ReferenceTable()
    by_key: dict[str, list[str]] = defaultdict(list)
    by_seq: dict[str, list[tuple[NumberParts, str]]] = defaultdict(list)
    laws: dict[str, list[str]] = defaultdict(list)
    for doc in sorted(documents, key=lambda d: d.doc_id):
        number = str((doc.header or {}).get("number", ""))
        parts = number_parts(number) if number else None
        if parts is not None:
            by_key[parts.key].append(doc.doc_id)
            by_seq[parts.seq].append((parts, doc.doc_id))
        law = law_of(doc)
        if law is not None and law[0]:
            laws[law[0]].append(doc.doc_id)
            if law[1]:
                table.article_of[doc.doc_id] = law[1]
    table.by_key, table.by_seq, table.laws = dict(by_key), dict(by_seq), dict(laws)

    cited_by: dict[str, list[Citation]] = defaultdict(list)
    mentions: dict[str, list[tuple[NumberParts, Citation]]] = defaultdict(list)
    for doc in documents:
        resolved = []
        seen: set[str] = set()
        for ref in (doc.header or {}).get("references", []) or []:
            target = _resolve(table, ref, doc.doc_id)
            resolved.append({**ref, "doc_id": target})
            citation = Citation(doc.doc_id, str(ref.get("text", "")), str(ref.get("number", "")))
            if target is not None and target not in seen:
                seen.add(target)
                cited_by[target].append(citation)
            parts = number_parts(citation.number) if citation.number else None
            if parts is not None:
                mentions[parts.seq].append((parts, citation))
        table.references[doc.doc_id] = resolved
    table.cited_by = {k: sorted(v, key=lambda c: c.doc_id) for k, v in cited_by.items()}
    table.mentions = dict(mentions)
    return table


def _resolve(table: ReferenceTable, ref: dict[str, Any], own: str) -> str | None:
    """The document of the version that ``ref`` cites, or None (absent, or a law name
    that more than one document has)."""
    number = str(ref.get("number", ""))
    if number:
        found = table.by_key.get(number_key(number), [])
    else:
        # A law cited by its name: only a whole law is the document cited (its article
        # files are many documents).
        found = [
            d
            for d in table.laws.get(law_key(str(ref.get("text", ""))), [])
            if d not in table.article_of
        ]
    found = [d for d in found if d != own]
    if number:
        # Two documents with one number are copies of one document (two sources).
        return found[0] if found else None
    return found[0] if len(found) == 1 else None


def reference_table(records: Records) -> ReferenceTable:
    """The table of ``records``' version, built on first use and kept with the version."""

    def load(s: Snapshot) -> ReferenceTable:
        documents: list[StoredDocument] = s.derived("documents", lambda x: x.documents())
        return build_table(documents)

    table: ReferenceTable = records.derived("references", load)
    return table
