"""Related documents: agreements and plans like a given one.

Ranked by what the documents say (the mean of their passage vectors) and by
what they share: parties (partner countries, corporations), places
(provinces), topics (a fixed list of policy topics) and document type. Each
result says why, so a reader can judge the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.store import Snapshot, StoredDocument
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
}
# Weights of the score parts; content similarity is rescaled to 0..1 first.
W_CONTENT, W_PARTIES, W_PLACES, W_TOPICS, W_TYPE = 0.4, 0.2, 0.1, 0.2, 0.1
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
    en = lang == "en"
    out = []
    for other_id, p in profiles.items():
        content = (sims[other_id] - lo) / (hi - lo) if hi > lo else 1.0
        parties = set(me.parties) & set(p.parties)
        topics = set(me.topics) & set(p.topics)
        places = me.places & p.places
        same_type = bool(me.doc.doc_type) and me.doc.doc_type == p.doc.doc_type
        score = (
            W_CONTENT * content
            + W_PARTIES * _jaccard(set(me.parties), set(p.parties))
            + W_PLACES * _jaccard(me.places, p.places)
            + W_TOPICS * _jaccard(set(me.topics), set(p.topics))
            + W_TYPE * same_type
        )
        reasons = []
        if same_type:
            vi_label, en_label = _TYPE_LABELS.get(p.doc.doc_type, (p.doc.doc_type,) * 2)
            reasons.append(f"same type: {en_label}" if en else f"cùng loại: {vi_label}")
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
