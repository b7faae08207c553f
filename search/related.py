"""Related documents: agreements, plans and official documents like a given one.

Ranked by what the documents say (the mean of their passage vectors) and by
what they share: parties (partner countries, corporations), places
(provinces), topics (a fixed list of policy topics), document type, and
references (:mod:`index.references`): one cites the other, or both cite the
same documents ("both implement Quyết định 1658/QĐ-TTg"). Each result says
why, so a reader can judge the link.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.references import reference_table
from index.store import Snapshot, StoredDocument
from ingest.header import law_key, number_key
from ingest.text import fold

# (Vietnamese label, English label, folded phrases that signal the topic)
TOPICS: list[tuple[str, str, tuple[str, ...]]] = [
    ("tăng trưởng xanh", "green growth", ("tang truong xanh",)),
    ("chuyển đổi xanh", "green transition", ("chuyen doi xanh",)),
    ("chuyển đổi số", "digital transformation", ("chuyen doi so",)),
    ("môi trường", "environment", ("moi truong",)),
    ("năng lượng", "energy", ("nang luong",)),
    ("biến đổi khí hậu", "climate change", ("bien doi khi hau",)),
    ("phát thải", "emissions", ("phat thai", "giam phat thai")),
    ("chất thải", "waste", ("chat thai", "rac thai", "nuoc thai")),
    ("đầu tư", "investment", ("dau tu",)),
    ("du lịch", "tourism", ("du lich",)),
    ("nông nghiệp", "agriculture", ("nong nghiep",)),
    ("công nghiệp", "industry", ("cong nghiep",)),
    ("giao thông", "transport", ("giao thong", "xe dien")),
    ("đô thị", "urban development", ("do thi",)),
    ("nguồn nhân lực", "human resources", ("nhan luc", "dao tao")),
    ("khoa học công nghệ", "science and technology", ("khoa hoc", "cong nghe")),
]
# Partner countries, as news about agreements names them. Words that are also
# common given names or words ("Đức", "Anh", "Mỹ") are left out; "Lào" is not "Lào Cai".
COUNTRIES: list[tuple[str, str]] = [
    ("Nhật Bản", "Japan"), ("Hàn Quốc", "South Korea"), ("Trung Quốc", "China"),
    ("Lào", "Laos"), ("Campuchia", "Cambodia"), ("Thái Lan", "Thailand"),
    ("Singapore", "Singapore"), ("Hoa Kỳ", "United States"), ("Úc", "Australia"),
    ("Ấn Độ", "India"), ("Đan Mạch", "Denmark"), ("Hà Lan", "Netherlands"),
    ("Cộng hòa Pháp", "France"), ("Cộng hòa Liên bang Đức", "Germany"),
]  # fmt: skip
_COUNTRY_RES = [
    (vi, en, re.compile(rf"(?<!\w){re.escape(vi)}(?!\w)(?!\s+Cai)")) for vi, en in COUNTRIES
]
_CORPORATION = re.compile(r"\bTập đoàn\s+([A-ZĐ][\w-]+(?:\s+[A-ZĐ][\w-]+)*)")
_TYPE_LABELS = {
    "plan": ("kế hoạch", "plan"),
    "agreement": ("thỏa thuận hợp tác", "cooperation agreement"),
    "news": ("tin tức", "news"),
    "official": ("văn bản", "official document"),
}
# Weights of the score parts; content similarity is rescaled to 0..1 first.
W_CONTENT, W_PARTIES, W_PLACES, W_TOPICS, W_TYPE = 0.4, 0.2, 0.1, 0.2, 0.1
# References: 1 when one document cites the other, else the cosine of the two sets of
# documents they cite, each cited document weighted by its rarity (BM25's idf over the
# version's documents: a decision two plans implement counts, a law every provincial
# document cites as its basis nearly not). A citation is a link the authors made
# themselves, as strong a sign as similar content, so it weighs as much as content.
# Added to the other parts rather than taking a share of them: for documents that cite
# nothing (news, agreements) the part is 0 and their ranking is what it was.
W_REFERENCES = 0.4
# Shared references named in one `why`, the rarest first.
_MAX_SHARED_NAMED = 3
_TOPIC_MIN_MENTIONS = 2


@dataclass
class Related:
    doc_id: str
    title: str
    score: float
    why: str


@dataclass
class _Profile:
    doc: StoredDocument
    vector: np.ndarray
    parties: dict[str, str]  # Vietnamese name -> English name
    topics: dict[str, str]
    places: set[str]


def _text(doc: StoredDocument) -> str:
    return "\n".join(str(b[0]) for b in doc.blocks)


def profile(doc: StoredDocument, vectors: np.ndarray) -> _Profile:
    text = _text(doc)
    folded = fold(text)
    parties = {vi: en for vi, en, rx in _COUNTRY_RES if rx.search(text)}
    parties.update({f"Tập đoàn {m}": f"{m} Group" for m in _CORPORATION.findall(text)})
    topics = {
        vi: en
        for vi, en, phrases in TOPICS
        if sum(folded.count(p) for p in phrases) >= _TOPIC_MIN_MENTIONS
    }
    vector = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], np.float32)
    norm = float(np.linalg.norm(vector))
    return _Profile(doc, vector / norm if norm else vector, parties, topics, set(doc.provinces))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


@dataclass(frozen=True)
class _Cited:
    label: str  # "Quyết định 1658/QĐ-TTg", or a law's name
    basis: bool  # one of the citing document's "Căn cứ"


@dataclass
class _Citations:
    """What each document of a version cites, by a key that is the same whichever
    document cites it, and how rare each cited document is."""

    cited: dict[str, dict[str, _Cited]]
    weight: dict[str, float]

    def score(self, a: str, b: str) -> float:
        if f"doc:{b}" in self.cited.get(a, {}) or f"doc:{a}" in self.cited.get(b, {}):
            return 1.0
        mine, theirs = self.cited.get(a, {}), self.cited.get(b, {})
        shared = mine.keys() & theirs.keys()
        if not shared:
            return 0.0
        norm = math.sqrt(sum(self.weight[k] ** 2 for k in mine)) * math.sqrt(
            sum(self.weight[k] ** 2 for k in theirs)
        )
        return sum(self.weight[k] ** 2 for k in shared) / norm if norm else 0.0


def _cited_key(ref: dict[str, Any]) -> str:
    # The document itself when this version holds it; else its number, or a law's name.
    if ref.get("doc_id"):
        return f"doc:{ref['doc_id']}"
    if ref.get("number"):
        return f"number:{number_key(str(ref['number']))}"
    return f"law:{law_key(str(ref.get('text', '')))}"


def _citations(snap: Snapshot) -> _Citations:
    def load(s: Snapshot) -> _Citations:
        table = reference_table(s)
        docs: list[StoredDocument] = s.derived("documents", lambda x: x.documents())
        cited: dict[str, dict[str, _Cited]] = {}
        for doc in docs:
            bases = [" ".join(b.split()) for b in (doc.header or {}).get("bases", []) or []]
            own: dict[str, _Cited] = {}
            for ref in table.references.get(doc.doc_id, []):
                text = " ".join(str(ref.get("text", "")).split())
                number = str(ref.get("number", ""))
                label = f"{ref.get('document_type', '')} {number}".strip() if number else text
                basis = bool(text) and any(text in b for b in bases)
                key = _cited_key(ref)
                if key not in own or basis:
                    own[key] = _Cited(label, basis)
            if own:
                cited[doc.doc_id] = own
        counts = Counter(k for own in cited.values() for k in own)
        n = len(docs)
        weight = {k: math.log(1 + (n - df + 0.5) / (df + 0.5)) for k, df in counts.items()}
        return _Citations(cited, weight)

    found: _Citations = snap.derived("related:citations", load)
    return found


# The link as the `why` says it, by (in a "Căn cứ", English): a document citing this one,
# and one this document cites.
_CITES_THIS = {
    (True, True): "implements this document",
    (False, True): "cites this document",
    (True, False): "thực hiện văn bản này",
    (False, False): "viện dẫn văn bản này",
}
_CITED_HERE = {
    (True, True): "a basis of this document",
    (False, True): "cited by this document",
    (True, False): "là căn cứ của văn bản này",
    (False, False): "được văn bản này viện dẫn",
}


def _reference_reasons(citations: _Citations, me: str, other: str, en: bool) -> list[str]:
    mine, theirs = citations.cited.get(me, {}), citations.cited.get(other, {})
    reasons = [
        phrases[cited[key].basis, en]
        for key, cited, phrases in (
            (f"doc:{me}", theirs, _CITES_THIS),
            (f"doc:{other}", mine, _CITED_HERE),
        )
        if key in cited
    ]
    shared = sorted(
        mine.keys() & theirs.keys(), key=lambda k: (-citations.weight[k], mine[k].label)
    )[:_MAX_SHARED_NAMED]
    implemented = [mine[k].label for k in shared if mine[k].basis and theirs[k].basis]
    cited = [mine[k].label for k in shared if not (mine[k].basis and theirs[k].basis)]
    if implemented:
        reasons.append(("both implement " if en else "cùng thực hiện ") + ", ".join(implemented))
    if cited:
        reasons.append(("both cite " if en else "cùng viện dẫn ") + ", ".join(cited))
    return reasons


def related_documents(snap: Snapshot, doc_id: str, k: int = 5, lang: str = "vi") -> list[Related]:
    """Documents most like ``doc_id``, best first (``KeyError`` when it is not indexed)."""
    docs = snap.documents()
    if doc_id not in {d.doc_id for d in docs}:
        raise KeyError(doc_id)
    rows_by_doc: dict[str, list[int]] = {}
    for row, owner in enumerate(snap.chunk_doc_ids()):
        rows_by_doc.setdefault(owner, []).append(row)
    dim = snap.vectors.shape[1]
    profiles = {
        d.doc_id: profile(
            d,
            np.asarray(snap.vectors[rows_by_doc[d.doc_id]])
            if d.doc_id in rows_by_doc
            else np.zeros((0, dim), np.float32),
        )
        for d in docs
    }
    me = profiles.pop(doc_id)
    if not profiles:
        return []
    sims = {i: float(p.vector @ me.vector) for i, p in profiles.items()}
    lo, hi = min(sims.values()), max(sims.values())
    citations = _citations(snap)
    en = lang == "en"
    out = []
    for other_id, p in profiles.items():
        content = (sims[other_id] - lo) / (hi - lo) if hi > lo else 1.0
        parties = set(me.parties) & set(p.parties)
        topics = set(me.topics) & set(p.topics)
        places = me.places & p.places
        # Two official documents compare the type they print ("Quyết định"): the coarse
        # type reads most short decisions as news.
        printed = str((me.doc.header or {}).get("document_type", ""))
        other_printed = str((p.doc.header or {}).get("document_type", ""))
        if printed and other_printed:
            same_type = printed == other_printed
            labels = (printed, printed)
        else:
            same_type = bool(me.doc.doc_type) and me.doc.doc_type == p.doc.doc_type
            labels = _TYPE_LABELS.get(p.doc.doc_type, (p.doc.doc_type,) * 2)
        score = (
            W_CONTENT * content
            + W_PARTIES * _jaccard(set(me.parties), set(p.parties))
            + W_PLACES * _jaccard(me.places, p.places)
            + W_TOPICS * _jaccard(set(me.topics), set(p.topics))
            + W_TYPE * same_type
            + W_REFERENCES * citations.score(doc_id, other_id)
        )
        # A reference is the most specific link: named first.
        reasons = _reference_reasons(citations, doc_id, other_id, en)
        if same_type:
            reasons.append(f"same type: {labels[1]}" if en else f"cùng loại: {labels[0]}")
        if parties:
            names = sorted(me.parties[x] for x in parties) if en else sorted(parties)
            reasons.append(("shared parties: " if en else "cùng đối tác: ") + ", ".join(names))
        if places:
            reasons.append(
                ("shared places: " if en else "cùng địa phương: ") + ", ".join(sorted(places))
            )
        if topics:
            names = sorted(me.topics[x] for x in topics) if en else sorted(topics)
            reasons.append(("shared topics: " if en else "cùng chủ đề: ") + ", ".join(names))
        if content >= 0.5:
            reasons.append("similar content" if en else "nội dung tương tự")
        out.append(Related(other_id, p.doc.title, round(score, 4), "; ".join(reasons)))
    out.sort(key=lambda r: (-r.score, r.doc_id))
    return out[:k]
