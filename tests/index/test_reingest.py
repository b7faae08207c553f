"""Incremental re-ingest: a version written from the previous one (changed, added and
removed documents; unchanged ones copied with their vectors, postings, accent counts and
assignment records, the approximate FAISS indexes carried over) holds what a build from
scratch of the same files holds. Real FAISS (HNSW graphs over a few hundred vectors),
real files; the bench's hash embedder stands in for the model, whose vectors are not
what is tested here."""

from __future__ import annotations

import json
import random
from pathlib import Path

import faiss
import numpy as np

from bench.bench_ingest_lawqa import HashEmbedder
from index.accents import AccentModel
from index.ann import AnnConfig, LabelledIndex, exact_neighbours
from index.assignments import load_table
from index.build import build_index
from index.lexical import FIELDS, LexicalIndex, analyze
from index.store import Snapshot, open_current
from index.windows import WindowIndex

# Small enough for HNSW on a few hundred vectors: the carried path, not the exact one.
ANN = AnnConfig(exact_below=16, recall_sample=50)
WORDS = [
    *[
        "kế",
        "hoạch",
        "triển",
        "khai",
        "nhiệm",
        "vụ",
        "phát",
        "triển",
        "kinh",
        "tế",
        "xã",
        "hội",
        "nông",
        "nghiệp",
        "giáo",
        "dục",
    ],
    *[
        "y",
        "tế",
        "chuyển",
        "đổi",
        "số",
        "hạ",
        "tầng",
        "giao",
        "thông",
        "môi",
        "trường",
        "du",
        "lịch",
        "văn",
        "hóa",
        "an",
        "ninh",
    ],
    *[
        "quốc",
        "phòng",
        "ngân",
        "sách",
        "đầu",
        "tư",
        "công",
        "nghệ",
        "doanh",
        "nghiệp",
        "hợp",
        "tác",
        "lao",
        "động",
        "việc",
        "làm",
    ],
]
AGENCIES = ["Sở Tài chính", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Nông nghiệp và Môi trường"]


def _write(folder: Path, i: int, seed: int = 0) -> None:
    rng = random.Random(i * 1000 + seed)
    lines = [f"KẾ HOẠCH\nThực hiện nhiệm vụ năm 2026 số {i}/KH-UBND", ""]
    for part, heading in enumerate(["I. MỤC TIÊU", "II. NHIỆM VỤ", "III. TỔ CHỨC THỰC HIỆN"]):
        lines.append(heading)
        for _ in range(3):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60)))
            lines.append(f"{words[0].upper()}{words[1:]}. {rng.choice(WORDS).capitalize()} {i}.")
        if part == 2:
            agency = AGENCIES[i % len(AGENCIES)]
            lines.append(f"1. {agency} chủ trì, phối hợp với các đơn vị triển khai {WORDS[i]}.")
        lines.append("")
    (folder / f"ke-hoach-{i:02d}.txt").write_text("\n".join(lines), encoding="utf-8")


def _ingest(docs: Path, index: Path):
    return build_index([docs], index, HashEmbedder(), ann=ANN, window_method="separate")


def _by_key(snap: Snapshot) -> dict[tuple[str, int], int]:
    return {(c.doc_id, c.ordinal): c.id for c in snap.all_chunks()}


def test_reingest_holds_what_a_build_from_scratch_holds(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(24):
        _write(docs, i)
    carried, scratch = tmp_path / "carried", tmp_path / "scratch"
    _ingest(docs, carried)
    # One document changed, one added, one removed.
    _write(docs, 5, seed=1)
    _write(docs, 30)
    (docs / "ke-hoach-11.txt").unlink()
    report = _ingest(docs, carried)
    assert (report.updated, report.added, report.removed) == (
        ["ke-hoach-05"],
        ["ke-hoach-30"],
        ["ke-hoach-11"],
    )
    assert report.embedded_chunks < report.chunks // 5
    _ingest(docs, scratch)
    a, b = open_current(carried), open_current(scratch)
    # Both dense indexes approximate; the re-ingest's carried over (labels beside it).
    assert a.manifest["dense_index"]["type"] == b.manifest["dense_index"]["type"] == "hnsw-sq8"
    assert a.manifest["dense_index"]["labels"]["gone"] > 0
    assert (a.path / "dense.labels.npy").exists() and (a.path / "windows.labels.npy").exists()

    ka, kb = _by_key(a), _by_key(b)
    assert ka.keys() == kb.keys() and len(a) == len(b)
    docs_a = {d.doc_id: d for d in a.documents()}
    docs_b = {d.doc_id: d for d in b.documents()}
    assert docs_a.keys() == docs_b.keys()
    for doc_id, d in docs_a.items():
        assert (d.blocks, d.content_hash, d.n_chunks) == (
            docs_b[doc_id].blocks,
            docs_b[doc_id].content_hash,
            docs_b[doc_id].n_chunks,
        )
    chunks_a = {(c.doc_id, c.ordinal): c for c in a.all_chunks()}
    for c in b.all_chunks():
        mine = chunks_a[(c.doc_id, c.ordinal)]
        assert (mine.text, mine.embed_text, mine.section) == (c.text, c.embed_text, c.section)
        assert np.array_equal(a.vectors[mine.id], b.vectors[c.id])

    # Sentence windows: the same vectors for every chunk.
    wa, wb = WindowIndex.load(a.path, len(a)), WindowIndex.load(b.path, len(b))
    assert wa is not None and wb is not None and len(wa) == len(wb)
    for key, i in kb.items():
        assert np.array_equal(wa.vectors[wa.rows_of(ka[key])], wb.vectors[wb.rows_of(i)])

    # BM25: every chunk scores the same for terms of changed, added and kept documents.
    la, lb = LexicalIndex.load(a.path), LexicalIndex.load(b.path)
    assert la is not None and lb is not None and la.n == lb.n
    order_a = np.array([ka[key] for key in kb], dtype=np.int64)
    order_b = np.array([kb[key] for key in kb], dtype=np.int64)
    for text in ["kế hoạch số 30", "nhiệm vụ 5", "Sở Tài chính chủ trì", "ke hoach so 11"]:
        best = 0.0
        for field in FIELDS:
            terms = analyze(text, field)
            sa, sb = la.scores(field, terms), lb.scores(field, terms)
            assert np.allclose(sa[order_a], sb[order_b], atol=1e-6), (text, field)
            best = max(best, float(sb.max()))
        assert best > 0
    for field in FIELDS:
        vocab_a = json.loads((a.path / f"lexical.{field}.vocab.json").read_text())
        vocab_b = json.loads((b.path / f"lexical.{field}.vocab.json").read_text())
        assert vocab_a.keys() == vocab_b.keys()  # terms only the removed document had went

    # Accent counts: the same words, unigram and bigram counts.
    ma, mb = AccentModel.load(a.path), AccentModel.load(b.path)
    assert ma is not None and mb is not None
    assert ma.vocab == mb.vocab and np.array_equal(ma.unigrams, mb.unigrams)
    assert np.array_equal(ma.keys, mb.keys) and np.array_equal(ma.counts, mb.counts)

    # Assignments: each document's records, in its order, with the same task vectors
    # (documents come in version order: kept ones first in a re-ingest), and abbreviations.
    def records(path: Path) -> dict[str, list[tuple[str, bytes]]]:
        table = load_table(path)
        vectors = np.load(path / "assignments.npy")
        out: dict[str, list[tuple[str, bytes]]] = {}
        for r, v in zip(table.records, vectors, strict=True):
            out.setdefault(r.doc_id, []).append((json.dumps(r.to_json()), v.tobytes()))
        return out

    assert records(a.path) == records(b.path) and "ke-hoach-30" in records(a.path)
    assert load_table(a.path).abbreviations == load_table(b.path).abbreviations

    # Dense search through the carried graph: gone rows never come back, every chunk
    # finds itself first, and the top 10 agree with exact search.
    vectors = np.asarray(a.vectors, dtype=np.float32)
    exact = exact_neighbours(vectors, vectors, 10)
    found = 0
    for i in range(len(a)):
        hits = [j for j, _ in a.search_dense(vectors[i], 10)]
        assert hits[0] == i and all(0 <= j < len(a) for j in hits)
        found += len(set(hits) & set(exact[i].tolist()))
    assert found / (10 * len(a)) >= 0.95
    assert wa.search(vectors[0], 5).max() < len(a)


def test_a_second_reingest_carries_the_carried_index(tmp_path):
    """Labels compose: a version carried from a carried version maps its rows right."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(24):
        _write(docs, i)
    index = tmp_path / "index"
    _ingest(docs, index)
    _write(docs, 3, seed=1)
    _ingest(docs, index)
    _write(docs, 17, seed=2)
    (docs / "ke-hoach-09.txt").unlink()
    _ingest(docs, index)
    snap = open_current(index)
    assert snap.manifest["dense_index"]["labels"]["added_since_build"] > 0
    for c in snap.all_chunks():
        hits = snap.search_dense(np.asarray(snap.vectors[c.id], dtype=np.float32), 3)
        assert hits[0][0] == c.id
    assert not snap.doc_chunks("ke-hoach-09")


def test_many_changes_build_the_indexes_again(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(24):
        _write(docs, i)
    index = tmp_path / "index"
    _ingest(docs, index)
    for i in range(12):
        _write(docs, i, seed=3)
    _ingest(docs, index)
    snap = open_current(index)
    assert "labels" not in snap.manifest["dense_index"]
    assert not (snap.path / "dense.labels.npy").exists()


def test_records_made_by_other_extractor_code_are_extracted_again(tmp_path):
    """An upgrade changes the extractor: a re-ingest then reads every document's blocks
    again (none are copied), and no unchanged document loses its records."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(8):
        _write(docs, i)
    index = tmp_path / "index"
    _ingest(docs, index)
    before = {r.doc_id for r in load_table(open_current(index).path).records}
    assert len(before) == 8
    # The previous version's file as an older extractor wrote it.
    path = open_current(index).path / "assignments.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["extractor"] = "older-code"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    _write(docs, 2, seed=1)
    report = _ingest(docs, index)
    assert report.updated == ["ke-hoach-02"]
    after = load_table(open_current(index).path)
    assert {r.doc_id for r in after.records} == before


def test_labelled_index_skips_gone_rows_and_widens_its_fetch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    graph = faiss.IndexHNSWFlat(32, 16, faiss.METRIC_INNER_PRODUCT)
    graph.add(x)
    graph.hnsw.efSearch = 400
    # The 60 nearest neighbours of row 0 are gone: a fixed margin would find none live.
    near = exact_neighbours(x, x[:1], 61)[0][1:]
    rows = np.arange(400, dtype=np.int64)
    rows[near] = -1
    live = np.flatnonzero(rows >= 0)
    rows[live] = np.arange(len(live))
    index = LabelledIndex(graph, rows)
    assert index.ntotal == 340
    _, ids = index.search(x[:1], 10)
    expected = exact_neighbours(x[live], x[:1], 10)[0]
    assert ids[0].tolist() == expected.tolist()
