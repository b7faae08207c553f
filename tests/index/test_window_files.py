"""Sentence windows: splitting, the files written at ingest, reuse by incremental builds."""

import json
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embed_base import SENTENCE_PASS
from index.store import IndexUnavailable, StoredChunk, open_current
from index.windows import (
    WindowIndex,
    chunk_header,
    chunk_sentences,
    chunk_windows,
    passage_pass,
    sentence_spans,
    split_sentences,
)


def test_split_sentences_vietnamese():
    text = (
        "Sáng 27/2, UBND tỉnh Lào Cai ký kết biên bản ghi nhớ. Đại biểu tham dự đông đủ. "
        "Ở đó có 18,5 ngàn ha đất? 39 khu công nghiệp đã được quy hoạch!"
    )
    assert split_sentences(text) == [
        "Sáng 27/2, UBND tỉnh Lào Cai ký kết biên bản ghi nhớ.",
        "Đại biểu tham dự đông đủ.",
        "Ở đó có 18,5 ngàn ha đất?",
        "39 khu công nghiệp đã được quy hoạch!",
    ]


def test_split_sentences_keeps_abbreviations_initials_and_quotes():
    text = 'Tại TP. Hồ Chí Minh, ThS. Lê Văn A. Nguyễn phát biểu: "Rất tốt." Sau đó họ về.'
    assert split_sentences(text) == [
        'Tại TP. Hồ Chí Minh, ThS. Lê Văn A. Nguyễn phát biểu: "Rất tốt."',
        "Sau đó họ về.",
    ]


def test_split_sentences_lines_and_lower_case():
    # A full stop before a lower-case word is no boundary; a line break always is.
    text = "Tỷ lệ đạt 60%. của toàn tỉnh\n- Giảm phát thải\n\n- Trồng rừng ở."
    assert split_sentences(text) == [
        "Tỷ lệ đạt 60%. của toàn tỉnh",
        "- Giảm phát thải",
        "- Trồng rừng ở.",
    ]


def _chunk(text: str, header: str = "") -> StoredChunk:
    embed_text = f"{header}\n{text}" if header else text
    return StoredChunk(-1, "d", 0, "", None, text, embed_text)


def test_chunk_windows_carry_the_header():
    chunk = _chunk("Câu một. Câu hai.", header="Kế hoạch\nII. Mục tiêu")
    assert chunk_windows(chunk) == [
        "Kế hoạch\nII. Mục tiêu\nCâu một.",
        "Kế hoạch\nII. Mục tiêu\nCâu hai.",
    ]
    assert chunk_windows(_chunk("Câu hai.")) == []  # one sentence: the chunk itself
    assert chunk_windows(_chunk("Một. Hai. Ba."), size=2) == ["Một. Hai.", "Hai. Ba."]


def test_window_files_map_sentences_to_chunks(tmp_path: Path, embedder):
    corpus = Path(__file__).resolve().parents[2] / "corpus"
    build_index([corpus], tmp_path / "idx", embedder, window_method="late")
    snap = open_current(tmp_path / "idx")
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None
    meta = json.loads((snap.path / "windows.json").read_text())
    assert meta["n"] == len(windows) == windows.faiss_index.ntotal
    assert meta["embedder"] == snap.embedder
    # Sentences pooled from their chunk's own pass, recorded as such.
    assert meta["method"] == windows.method == "late"
    assert meta["sentence_pass"]["label"] == windows.sentence_pass == SENTENCE_PASS.label()
    assert snap.manifest["passages"] == passage_pass("late")
    chunks = list(snap.all_chunks())
    expected = [c.id for c in chunks for _ in chunk_windows(c)]
    assert windows.chunk_ids.tolist() == expected
    assert len(windows) > len(chunks)  # most chunks hold several sentences
    # A window row is its sentence's vector from the chunk's pass; the chunk's vector
    # comes from that same pass.
    chunk = next(c for c in chunks if len(chunk_windows(c)) >= 3 and "\n" in c.embed_text)
    vector, fresh = embedder.embed_passages_and_sentences(
        [chunk.embed_text], [chunk_sentences(chunk)]
    )
    stored = np.asarray(windows.vectors[windows.rows_of(chunk.id)])
    assert stored.shape == fresh.shape == (len(chunk_windows(chunk)), embedder.dim)
    # bf16 batches of other shapes are not bit-reproducible: compare by cosine.
    assert np.all(np.sum(stored * fresh, axis=1) > 0.999)
    assert float(np.asarray(snap.vectors[chunk.id]) @ vector[0]) > 0.999
    # Each row is nearest to its own sentence's vector among the chunk's sentences.
    assert np.argmax(stored @ fresh.T, axis=0).tolist() == list(range(len(fresh)))
    # What windows are for: asked with a sentence's own words, the chunk's best window is
    # that sentence's, though every window also carries the chunk around it.
    asked = embedder.embed_queries(split_sentences(chunk.text))
    assert np.argmax(asked @ stored.T, axis=1).tolist() == list(range(len(fresh)))
    assert np.max(stored @ np.asarray(snap.vectors[chunk.id])) < 0.999
    # The FAISS index finds a window's own chunk from the window's vector.
    assert windows.search(fresh[1], 1).tolist() == [chunk.id]


def _write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


DOCS = {
    "lao-cai.md": "# Kế hoạch tăng trưởng xanh tỉnh Lào Cai\n\n## Tổ chức thực hiện\n\n"
    "Sở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn. "
    "Sở Giao thông vận tải mở thêm các tuyến xe buýt điện. "
    "Sở Công Thương phát triển năng lượng tái tạo.\n",
    "tra-vinh.txt": "Trà Vinh phát triển du lịch sinh thái\n\n"
    "Tỉnh Trà Vinh tổ chức hội thảo về du lịch sinh thái. "
    "Người dân được hướng dẫn trồng rừng ngập mặn.\n",
}


def test_separate_windows_embed_each_sentence_with_its_header(tmp_path, embedder):
    folder = _write_docs(tmp_path / "docs", DOCS)
    build_index([folder], tmp_path / "idx", embedder, window_method="separate")
    snap = open_current(tmp_path / "idx")
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None and windows.method == "separate"
    assert snap.manifest["passages"] == "plain"
    chunk = next(c for c in snap.all_chunks() if len(chunk_windows(c)) >= 3)
    texts = chunk_windows(chunk)
    assert texts[0].startswith(chunk_header(chunk) + "\n")
    fresh = embedder.embed_passages(texts)
    stored = np.asarray(windows.vectors[windows.rows_of(chunk.id)])
    assert np.all(np.sum(stored * fresh, axis=1) > 0.999)
    # Plain chunk vectors: what embed_passages gives for the chunk's text.
    assert (
        float(np.asarray(snap.vectors[chunk.id]) @ embedder.embed_passages([chunk.embed_text])[0])
        > 0.999
    )


def test_incremental_build_reuses_window_vectors(tmp_path, embedder):
    folder = _write_docs(tmp_path / "docs", DOCS)
    index_dir = tmp_path / "idx"
    first = build_index([folder], index_dir, embedder)
    assert first.embedded_windows == 5
    before = open_current(index_dir)
    old = WindowIndex.load(before.path, len(before))
    assert old is not None

    (folder / "a-first.txt").write_text(
        "Bình Định ký kết hợp tác\n\nHai bên ký kết. Rồi ăn mừng.\n"
    )
    (folder / "lao-cai.md").write_text(
        DOCS["lao-cai.md"] + "\nSở Nông nghiệp phát triển rừng. Sở Xây dựng quản lý đô thị.\n"
    )
    report = build_index([folder], index_dir, embedder)
    after = open_current(index_dir)
    new = WindowIndex.load(after.path, len(after))
    assert new is not None
    changed = after.doc_chunks("lao-cai") + after.doc_chunks("a-first")
    assert report.embedded_windows == sum(len(chunk_windows(c)) for c in changed) == 7
    assert new.chunk_ids.tolist() == [c.id for c in after.all_chunks() for _ in chunk_windows(c)]
    # The kept document's chunk has a new id; its window vectors followed it unchanged.
    [kept_old] = before.doc_chunks("tra-vinh")
    [kept_new] = after.doc_chunks("tra-vinh")
    assert kept_old.id != kept_new.id
    assert np.array_equal(
        new.vectors[new.rows_of(kept_new.id)], old.vectors[old.rows_of(kept_old.id)]
    )
    assert new.search(np.asarray(old.vectors[old.rows_of(kept_old.id)])[1], 1).tolist() == [
        kept_new.id
    ]


def test_build_without_windows_then_with(tmp_path, embedder):
    folder = _write_docs(tmp_path / "docs", DOCS)
    index_dir = tmp_path / "idx"
    report = build_index([folder], index_dir, embedder, windows=False)
    assert report.embedded_windows == 0
    snap = open_current(index_dir)
    assert WindowIndex.load(snap.path, len(snap)) is None
    assert not list(snap.path.glob("windows.*"))
    n_chunks = len(snap)
    # Separate windows: the sentences of every chunk are embedded, and no chunk again.
    report = build_index([folder], index_dir, embedder, window_method="separate")
    assert report.embedded_chunks == 0
    assert report.embedded_windows == 5
    # Late windows come with chunk vectors of their own pass: every chunk is embedded
    # again, once, windows included; vectors of two kinds are never mixed.
    report = build_index([folder], index_dir, embedder, window_method="late")
    assert "window method changed" in report.full_rebuild_reason
    assert report.embedded_chunks == n_chunks and report.embedded_windows == 5
    assert open_current(index_dir).manifest["passages"] == passage_pass("late")


def test_inconsistent_windows_are_refused(tmp_path, corpus_index: Path):
    import shutil

    version = tmp_path / "version"
    shutil.copytree(open_current(corpus_index).path, version)
    ids = np.load(version / "windows.chunks.npy")
    np.save(version / "windows.chunks.npy", ids[:-1])
    with pytest.raises(IndexUnavailable, match="inconsistent windows"):
        WindowIndex.load(version)


def test_windows_above_the_exact_threshold_get_a_calibrated_ann_index(
    corpus_index: Path, embedder, tmp_path: Path
):
    from index.ann import AnnConfig
    from index.windows import build_window_files

    snap = open_current(corpus_index)
    exact = WindowIndex.load(snap.path, len(snap))
    assert exact is not None
    assert json.loads((snap.path / "windows.json").read_text())["index"]["exact"] is True
    chunks = list(snap.all_chunks())
    # Every chunk keeps its id, so the vectors are reused and nothing is embedded.
    files, embedded = build_window_files(
        chunks, {}, embedder, exact.method, exact, ann=AnnConfig(exact_below=50, recall_sample=100)
    )
    assert embedded == 0
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    info = json.loads(files["windows.json"])["index"]
    assert info["type"] == "hnsw-sq8" and not info["exact"]
    assert info["recall_at_10"] >= 0.95 and info["efSearch"] >= 1
    approx = WindowIndex.load(tmp_path, len(snap))
    assert approx is not None and len(approx) == len(exact)

    query = embedder.embed_queries(["ai chủ trì quản lý chất thải đô thị"])[0]
    # Candidates (the retriever reads 400): the approximate index finds the exact best.
    top_exact = set(exact.search(query, 10).tolist())
    assert top_exact <= set(approx.search(query, 40).tolist())
    # Scores: exact, from the stored rows, whatever the index; -inf without windows.
    ids = np.unique(np.asarray([c.id for c in chunks[::3]], dtype=np.int64))
    brute = np.full(len(ids), -np.inf, dtype=np.float32)
    for j, cid in enumerate(ids):
        rows = np.flatnonzero(exact.chunk_ids == cid)
        if len(rows):
            brute[j] = float(np.max(np.asarray(exact.vectors[rows]) @ query))
    np.testing.assert_allclose(approx.best(query, ids), brute, rtol=1e-5)
    np.testing.assert_allclose(exact.best(query, ids), brute, rtol=1e-5)
    assert np.isinf(brute).any() and np.isfinite(brute).any()


def test_windows_of_another_pass_are_embedded_again(corpus_index: Path, embedder):
    from dataclasses import replace

    from index.windows import build_window_files, recorded_pass

    snap = open_current(corpus_index)
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None and windows.method == "late"
    assert windows.sentence_pass == SENTENCE_PASS.label()
    chunks = [c for c in snap.all_chunks() if chunk_sentences(c)][:3]
    _, embedded = build_window_files(chunks, {}, embedder, "late", windows)
    assert embedded == 0  # kept chunks keep their windows
    # Windows the first late pass made (every layer damped; windows.json without the pass
    # written out) are not mixed with this pass's: they are embedded again.
    legacy = recorded_pass({"method": "late", "sentence_bias": 1.0})
    assert legacy == "sentence-bias-1-all-layers" != SENTENCE_PASS.label()
    _, embedded = build_window_files(
        chunks, {}, embedder, "late", replace(windows, sentence_pass=legacy)
    )
    assert embedded == sum(len(chunk_sentences(c)) for c in chunks)


def test_sentence_spans_are_the_split_sentences():
    texts = [
        "Sáng 27/2, UBND tỉnh ký kết. Đại biểu dự đông đủ.\r\n  - Giảm phát thải\n\nỞ đó? Có!",
        "  Một câu thôi  ",
        "Tại TP. Hồ Chí Minh, ThS. Lê Văn A. Nguyễn phát biểu.\u2028Dòng mới. Hết.",
        "",
    ]
    for text in texts:
        spans = sentence_spans(text)
        assert [text[a:b] for a, b in spans] == split_sentences(text)
        assert all(a < b for a, b in spans) and spans == sorted(spans)


def test_chunk_sentences_point_into_the_embedded_text():
    chunk = _chunk("Câu một. Câu hai rất dài.", header="Kế hoạch\nII. Mục tiêu")
    spans = chunk_sentences(chunk)
    assert [chunk.embed_text[a:b] for a, b in spans] == ["Câu một.", "Câu hai rất dài."]
    assert chunk_sentences(_chunk("Chỉ một câu.")) == []


def test_a_server_refuses_windows_made_the_other_way(tmp_path, embedder):
    from index.stores import LocalStore
    from search.hybrid import HybridRetriever
    from search.windows import WindowRetriever, check_method, dense_retriever

    folder = _write_docs(tmp_path / "docs", DOCS)
    build_index([folder], tmp_path / "idx", embedder, window_method="separate")
    snap = LocalStore(open_current(tmp_path / "idx"))
    with pytest.raises(IndexUnavailable) as refused:
        dense_retriever(snap, embedder, method="late")
    message = str(refused.value)
    assert "each sentence on its own (separate)" in message
    assert "from each chunk's own pass (late)" in message
    assert "policy-search ingest" in message and "POLICY_SEARCH_WINDOW_METHOD=separate" in message
    with pytest.raises(IndexUnavailable):
        HybridRetriever(snap, embedder, method="late")
    check_method(snap, "separate")  # what it was built with is searched as it is
    assert isinstance(dense_retriever(snap, embedder, method="separate"), WindowRetriever)
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None and windows.method == "separate"
    # Windows off at search: nothing to refuse.
    dense_retriever(snap, embedder, windows=False, method="late")
