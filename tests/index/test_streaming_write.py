"""The streaming write: records and vectors reach disk as documents are embedded, the dense
indexes are built from the files, a kill mid-write leaves the previous version serving, and a
re-ingest with one document changed embeds that document alone. Real FAISS, real files, a
real ``policy-search ingest`` process killed with SIGKILL."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.build import build_index
from index.lexical import FIELDS, K1, B, LexicalBuilder, LexicalIndex, _terms, syllables
from index.store import (
    NPY_HEADER,
    NewVersion,
    NpyAppender,
    Snapshot,
    StoredChunk,
    StoredDocument,
    VersionWriter,
    current_path,
    open_current,
    write_version,
)
from index.windows import WindowIndex, chunk_sentences

REPO = Path(__file__).resolve().parents[2]
DIM = 32


def _doc(doc_id: str, n_chunks: int) -> StoredDocument:
    return StoredDocument(
        doc_id,
        f"Văn bản {doc_id}",
        "src",
        f"/x/{doc_id}.txt",
        "/x",
        "",
        "",
        [],
        doc_id,
        [],
        n_chunks,
    )


def _chunks(doc_id: str, n: int) -> list[StoredChunk]:
    return [
        StoredChunk(-1, doc_id, i, "", None, f"{doc_id} {i}", f"{doc_id} {i}") for i in range(n)
    ]


def _unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_npy_appender_writes_a_file_numpy_reads(tmp_path):
    out = NpyAppender(tmp_path / "v.npy", np.float32, DIM)
    parts = [_unit(300, 1), _unit(5, 2)]
    for part in parts:
        out.append(part)
    mapped = out.close()
    assert np.array_equal(np.load(tmp_path / "v.npy"), np.concatenate(parts))
    assert isinstance(mapped, np.memmap) and mapped.shape == (305, DIM)
    ids = NpyAppender(tmp_path / "i.npy", np.int32)
    ids.append(np.arange(7))
    ids.close()
    assert np.load(tmp_path / "i.npy").tolist() == list(range(7))
    empty = NpyAppender(tmp_path / "e.npy", np.float32, DIM)
    assert empty.close().shape == (0, DIM) and np.load(tmp_path / "e.npy").shape == (0, DIM)
    with pytest.raises(ValueError):
        NpyAppender(tmp_path / "w.npy", np.float32, DIM).append(np.zeros((2, DIM + 1)))


def test_version_writer_puts_rows_on_disk_before_the_version_exists(tmp_path):
    index = tmp_path / "index"
    first = write_version(
        index,
        NewVersion({"embedder": "t", "dim": DIM}, [_doc("a", 2)], _chunks("a", 2), _unit(2, 0)),
    )
    groups = [("b", 400, 3), ("c", 1, 4), ("d", 250, 5)]
    with VersionWriter(index, DIM) as writer:
        for doc_id, n, seed in groups:
            writer.add(_doc(doc_id, n), _chunks(doc_id, n), _unit(n, seed))
            # Written as it comes: the file holds the rows before the version is finished.
            assert (writer.folder / "vectors.npy").stat().st_size >= NPY_HEADER + 4 * DIM * (
                writer.chunks - 256
            )
        assert current_path(index) == first  # nothing switched yet
        final = writer.finish({"embedder": "t", "dim": DIM})
    assert current_path(index) == final and not list((index / "versions").glob(".tmp-*"))
    snap = Snapshot(final)  # verify(): counts, ids 0..n-1, FAISS row i == vectors.npy row i
    expected = np.concatenate([_unit(n, seed) for _, n, seed in groups])
    assert np.array_equal(np.asarray(snap.vectors), expected)
    assert [c.doc_id for c in snap.chunks([0, 399, 400, 401, 650])] == ["b", "b", "c", "d", "d"]
    for i in (0, 400, 650):
        assert np.allclose(snap.faiss_index.reconstruct(i), expected[i], atol=1e-6)
        assert snap.search_dense(expected[i], 1)[0][0] == i


def test_a_failed_write_leaves_the_previous_version_and_no_folder(tmp_path):
    index = tmp_path / "index"
    first = write_version(
        index,
        NewVersion({"embedder": "t", "dim": DIM}, [_doc("a", 2)], _chunks("a", 2), _unit(2, 0)),
    )
    with pytest.raises(RuntimeError), VersionWriter(index, DIM) as writer:
        writer.add(_doc("b", 3), _chunks("b", 3), _unit(3, 1))
        raise RuntimeError("disk full")
    assert current_path(index) == first
    assert not list((index / "versions").glob(".tmp-*"))
    assert [d.doc_id for d in open_current(index).documents()] == ["a"]


def test_lexical_builder_scores_as_bm25s_does(tmp_path):
    texts = [
        "Ủy ban nhân dân tỉnh Sơn La ban hành kế hoạch",
        "kế hoạch nuôi ong lấy mật ở Mộc Châu, kế hoạch năm 2026",
        "",
        "ong ong ong mật",
        "Điều 5. Quyết định 876/QĐ-TTg của Thủ tướng Chính phủ",
    ] * 3
    tokens = [syllables(t) for t in texts]
    built = LexicalBuilder(tmp_path)
    for t in tokens:
        built.add(t)
    built.write(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded is not None
    for field in FIELDS:
        ref = bm25s.BM25(k1=K1, b=B, method="lucene")
        ref.index([_terms(t, field) for t in tokens], show_progress=False)
        mine = loaded.models[field]
        assert set(mine.vocab_dict) == set(ref.vocab_dict)
        for query in (["ong"], ["kế hoạch", "mật"], ["ke", "hoach"], ["876/qđ-ttg"]):
            want, got = ref.get_tokens_ids(query), mine.get_tokens_ids(query)
            assert bool(want) == bool(got)
            if want:
                assert np.allclose(
                    ref.get_scores_from_ids(want), mine.get_scores_from_ids(got), rtol=1e-6
                )


def _write_docs(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"ke-hoach-{i}.txt").write_text(
            f"KẾ HOẠCH số {i}/KH-UBND\n\nPhát triển nuôi ong lấy mật ở xã {i}, tỉnh Sơn La. "
            f"Ủy ban nhân dân huyện {i} chủ trì thực hiện. Sở Nông nghiệp phối hợp hướng dẫn.\n",
            encoding="utf-8",
        )


@pytest.mark.slow
def test_reingest_with_one_changed_document_embeds_it_alone(tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    _write_docs(docs, 6)
    lines: list[str] = []

    def progress(label: str, total: int):
        def tick(n: int) -> None:
            pass

        tick.describe = lines.append  # type: ignore[attr-defined]
        return tick

    first = build_index([docs], index, embedder, progress=progress)
    assert first.embedded_chunks == first.chunks and first.embedded_windows > 0
    assert lines and "docs/min" in lines[-1] and "left" in lines[-1]
    before = open_current(index)
    old = {(c.doc_id, c.ordinal): np.asarray(before.vectors[c.id]) for c in before.all_chunks()}
    old_windows = WindowIndex.load(before.path)
    assert old_windows is not None
    old_rows = {
        (c.doc_id, c.ordinal): np.asarray(old_windows.vectors[old_windows.rows_of(c.id)])
        for c in before.all_chunks()
    }

    changed = docs / "ke-hoach-3.txt"
    changed.write_text(changed.read_text() + "\nBổ sung kinh phí năm 2027.\n", encoding="utf-8")
    again = build_index([docs], index, embedder)
    snap = open_current(index)
    assert again.updated == ["ke-hoach-3"] and len(again.unchanged) == 5
    assert again.embedded_chunks == len(snap.doc_chunks("ke-hoach-3"))
    windows = WindowIndex.load(snap.path, len(snap))
    assert windows is not None
    assert windows.chunk_ids.tolist() == [
        c.id for c in snap.all_chunks() for _ in chunk_sentences(c)
    ]
    for c in snap.all_chunks():
        if c.doc_id != "ke-hoach-3":  # kept: the previous version's vectors, unchanged
            assert np.array_equal(np.asarray(snap.vectors[c.id]), old[(c.doc_id, c.ordinal)])
            rows = np.asarray(windows.vectors[windows.rows_of(c.id)])
            assert np.array_equal(rows, old_rows[(c.doc_id, c.ordinal)])
    lexical = LexicalIndex.load(snap.path)
    assert lexical is not None and lexical.n == len(snap)
    scores = lexical.scores("syllable", ["2027"])
    hit = int(np.argmax(scores))
    assert scores[hit] > 0 and snap.chunks([hit])[0].doc_id == "ke-hoach-3"


def _ingest(path: Path, index: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "POLICY_SEARCH_CRASH_AT"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if crash_at:
        env["POLICY_SEARCH_CRASH_AT"] = crash_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "policy_search.cli",
            "ingest",
            str(path),
            "--index",
            str(index),
            "--quiet",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_sigkill_after_a_group_is_on_disk_leaves_the_previous_version(tmp_path, embedder):
    docs, index = tmp_path / "docs", tmp_path / "index"
    _write_docs(docs, 2)
    build_index([docs], index, embedder)
    before = current_path(index)
    before_docs = {d.doc_id for d in open_current(index).documents()}
    _write_docs(docs, 5)

    proc = _ingest(docs, index, crash_at="group_written")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # The killed build had written its new documents' rows into its temporary folder...
    [tmp] = list((index / "versions").glob(".tmp-*"))
    assert (tmp / "vectors.npy").stat().st_size > NPY_HEADER
    assert (tmp / "windows.vectors.npy").stat().st_size > NPY_HEADER
    # ...and the previous version serves, whole.
    assert current_path(index) == before
    snap = open_current(index)
    assert {d.doc_id for d in snap.documents()} == before_docs

    proc = _ingest(docs, index)
    assert proc.returncode == 0, proc.stderr
    assert not list((index / "versions").glob(".tmp-*"))
    assert len(open_current(index).documents()) == 5
